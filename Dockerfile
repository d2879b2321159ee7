# The props-backfill worker. Build: `docker build -t props-backfill .` (or `docker compose build`).

FROM node:20-bookworm AS build
WORKDIR /app
# Dependencies first, so editing the sources does not reinstall them. Scripts are skipped here
# because the project's own `prepare` (the TypeScript build) needs the sources, copied below;
# `npm rebuild` then runs the dependencies' install scripts.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts && npm rebuild
COPY . .
RUN npm run build && npm prune --omit=dev

# Debian (glibc) rather than Alpine: the Temporal core bridge and DuckDB ship glibc binaries.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
CMD ["node", "dist/src/worker.js"]

# The props-backfill worker image: `docker build -t props-backfill .` (or `docker compose build`).
#
# Two stages. `build` installs every dependency, compiles TypeScript and prebuilds the workflow
# bundle (dist/src/workflows.bundle.js, which the worker loads instead of bundling at start-up).
# `runtime` installs production dependencies only and copies the compiled code: no compiler, test
# tools or sources, and it runs as the unprivileged `node` user. Nothing secret is copied in
# (.dockerignore): credentials are mounted at run time.
#
# Debian (glibc) rather than Alpine: the Temporal core bridge and DuckDB ship glibc binaries. Both
# stages use the same exact Node.js release (24, the active LTS line; the project supports >= 20).

FROM node:24.21.0-bookworm AS build
WORKDIR /app
# Dependencies first, so editing the sources does not reinstall them. Install scripts are skipped
# because the project's own `prepare` (the build) needs the sources; `npm rebuild` runs the
# dependencies' scripts once they are copied.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm rebuild && npm run build && node dist/src/workflow-bundle.js

FROM node:24.21.0-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only. No install script is needed at run time: the Temporal core bridge
# and DuckDB come as prebuilt binaries, and the prebuilt bundle means the bundler is never started.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
COPY bin ./bin
# Heap limits: WORKER_NODE_OPTIONS in src/node-options.ts (test/unit/compose.test.ts keeps them equal).
ENV NODE_OPTIONS="--max-old-space-size=320 --max-semi-space-size=8"
# Defaults for a container: everything the worker writes lives under /data (a volume).
ENV BACKFILL_DATA_DIR=/data \
    DUCKDB_PATH=/data/warehouse.duckdb \
    EXPORT_DIR=/data/exports
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
CMD ["node", "dist/src/worker.js"]

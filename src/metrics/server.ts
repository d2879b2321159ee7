/**
 * The worker's Prometheus endpoint: `GET /metrics` on METRICS_ADDRESS.
 *
 * Why one port serving two sources: the Temporal runtime's exporter (Core, in Rust) binds its own
 * HTTP listener and cannot serve a prom-client registry, and prom-client cannot read Core's
 * metrics; two listeners cannot share a port. So the worker binds Core's exporter to a free port on
 * 127.0.0.1 (never reachable from outside) and this endpoint, on the one documented address,
 * answers each scrape with our registry followed by the runtime's text, fetched on the spot. The
 * two never collide: Core's metrics are all `temporal_*`, ours `backfill_*`. When the runtime's
 * exporter cannot be read, the scrape still succeeds with ours and
 * `backfill_temporal_runtime_metrics_up 0`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger as PinoLogger } from 'pino';
import type { BackfillMetrics } from './registry';

/** How long a scrape waits for the runtime's exporter (loopback: milliseconds when healthy). */
const RUNTIME_FETCH_TIMEOUT_MS = 5_000;

export interface MetricsServerOptions {
  /** `host:port` (`[::1]:9464`, `:9464` for every interface); port 0 picks a free one. */
  address: string;
  metrics: BackfillMetrics;
  /** `host:port` of the Temporal runtime's own exporter, merged into each scrape. */
  runtimeAddress?: string;
  logger?: PinoLogger;
}

export interface MetricsServer {
  /** `http://host:port/metrics`, with the port actually bound. */
  readonly url: string;
  close(): Promise<void>;
}

export class MetricsAddressError extends Error {
  override name = 'MetricsAddressError';
}

/** `host:port` → its parts; an empty host means every interface. */
export function parseHostPort(address: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]*)):(\d{1,5})$/.exec(address.trim());
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port > 65535) {
    throw new MetricsAddressError(`metrics address "${address}" is not host:port (e.g. 0.0.0.0:9464)`);
  }
  const host = m[1] ?? m[2];
  return { host: host === '' ? undefined : host, port };
}

/** The runtime exporter's text, or undefined when it does not answer. */
function fetchRuntimeMetrics(address: string): Promise<string | undefined> {
  const { host, port } = parseHostPort(address);
  return new Promise((resolve) => {
    const req = http.get(
      { host: host ?? '127.0.0.1', port, path: '/metrics', agent: false, timeout: RUNTIME_FETCH_TIMEOUT_MS },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(res.statusCode === 200 ? Buffer.concat(chunks).toString('utf8') : undefined));
        res.on('error', () => resolve(undefined));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { host, port } = parseHostPort(options.address);
  const { registry, temporalRuntimeUp } = options.metrics;

  const scrape = async (): Promise<string> => {
    const runtime = options.runtimeAddress ? await fetchRuntimeMetrics(options.runtimeAddress) : undefined;
    temporalRuntimeUp.set(runtime === undefined ? 0 : 1);
    const ours = await registry.metrics();
    if (runtime === undefined) return ours;
    // Text format 0.0.4 is a plain sequence of families: appending is a valid merge (an OpenMetrics `# EOF` would not be).
    return `${ours.endsWith('\n') ? ours : `${ours}\n`}${runtime.replace(/^# EOF\s*$/m, '')}`;
  };

  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('metrics are at /metrics\n');
      return;
    }
    scrape().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (err: unknown) => {
        options.logger?.warn({ err }, 'metrics scrape failed');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new MetricsAddressError(`cannot serve metrics on ${options.address}: ${err.code ?? err.message}`)),
    );
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  const shownHost = host === undefined ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${bound.port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

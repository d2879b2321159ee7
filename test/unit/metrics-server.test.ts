/**
 * The metrics endpoint on its own: METRICS_ADDRESS forms, one-line failures for a bad or taken
 * address, /metrics only, and a scrape that still answers (with `..._up 0`) when the Temporal
 * runtime's exporter does not.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { findFreePort } from '../../src/devserver';
import { createBackfillMetrics, METRIC_NAMES, MetricsAddressError, parseHostPort, startMetricsServer } from '../../src/metrics';
import { scrape, total } from '../helpers/prometheus';

test('METRICS_ADDRESS forms: host:port, [v6]:port, :port (every interface); anything else is one line', () => {
  expect(parseHostPort('0.0.0.0:9464')).toEqual({ host: '0.0.0.0', port: 9464 });
  expect(parseHostPort('[::1]:9464')).toEqual({ host: '::1', port: 9464 });
  expect(parseHostPort(':9464')).toEqual({ host: undefined, port: 9464 });
  expect(parseHostPort('metrics.internal:0')).toEqual({ host: 'metrics.internal', port: 0 });
  for (const bad of ['9464', 'localhost', 'localhost:http', 'localhost:70000', 'a b:1']) {
    expect(() => parseHostPort(bad)).toThrow(MetricsAddressError);
  }
  expect(() => parseHostPort('9464')).toThrow('metrics address "9464" is not host:port (e.g. 0.0.0.0:9464)');
});

test('a taken port fails with one line naming the address', async () => {
  const blocker = http.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const { port } = blocker.address() as AddressInfo;
  try {
    await expect(startMetricsServer({ address: `127.0.0.1:${port}`, metrics: createBackfillMetrics() })).rejects.toThrow(
      `cannot serve metrics on 127.0.0.1:${port}: EADDRINUSE`,
    );
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
});

test('serves /metrics only; without the runtime exporter the scrape still answers, saying so', async () => {
  const metrics = createBackfillMetrics();
  metrics.processorDates.inc({ processor: 'p', phase: '3', result: 'done' }, 2);
  // An address where nothing listens stands for a runtime exporter that is down.
  const server = await startMetricsServer({ address: '127.0.0.1:0', metrics, runtimeAddress: `127.0.0.1:${await findFreePort()}` });
  try {
    const ok = await scrape(server.url);
    expect(ok.status).toBe(200);
    expect(total(ok.body, METRIC_NAMES.processorDates, { processor: 'p', result: 'done' })).toBe(2);
    expect(total(ok.body, METRIC_NAMES.temporalRuntimeUp)).toBe(0);
    expect((await scrape(server.url.replace(/\/metrics$/, '/'))).status).toBe(404);
  } finally {
    await server.close();
  }
});

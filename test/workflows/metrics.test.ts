/**
 * The worker's Prometheus endpoint during a real run on the dev server and a seeded DuckDB file,
 * scraped over HTTP. The run is chosen to produce every result: Phase 3's player_game_summary writes
 * every date (done); Phase 4's player_daily_cache skips its bootstrap days (skipped) and fails the
 * rest, whose input table nobody wrote (failed: missing input, not retried). The counters must
 * equal what the workflows themselves report, the duration histogram must have seen every call
 * the warehouse received (counted independently underneath the worker), slot waits every
 * slot-taking activity, and the Temporal runtime's own metrics must be in the same scrape.
 * Per-date log lines carry backfill, phase, processor and date.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { BackfillActivities } from '../../src/activities';
import { startBackfill } from '../../src/client/backfill-client';
import { findFreePort } from '../../src/devserver';
import { createLogger, installTemporalRuntime } from '../../src/logger';
import { METRIC_NAMES } from '../../src/metrics';
import { backfillProgressQuery } from '../../src/shared/messages';
import type { BackfillProgress, BackfillRequest } from '../../src/shared/types';
import type { DuckDbWarehouse, Warehouse } from '../../src/warehouse';
import { createBackfillWorker } from '../../src/worker';
import { eventually, seededWarehouse, terminateQueue, testConfig, testEnv, testLogger } from '../helpers/harness';
import { labelValues, scrape, total } from '../helpers/prometheus';
import { bundle } from '../helpers/temporal-env';

/** Warehouse method → the operation label the decorator records it under. */
const OPERATIONS: Record<string, string> = {
  query: 'query',
  execute: 'execute',
  ensureTable: 'ensure_table',
  tableExists: 'table_exists',
  replacePartition: 'replace_partition',
  deduplicate: 'deduplicate',
  appendRows: 'append_rows',
};

/** The real warehouse, counting the calls it receives (an engine's calls to itself are not counted). */
function countingWarehouse(inner: DuckDbWarehouse): { warehouse: Warehouse; calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const warehouse = new Proxy(inner, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      const operation = typeof prop === 'string' ? OPERATIONS[prop] : undefined;
      if (operation === undefined || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls[operation] = (calls[operation] ?? 0) + 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { warehouse, calls };
}

const SLOT_ACTIVITIES = ['runProcessorForDate', 'planProcessorDates', 'validatePhase', 'deduplicateTable'];

describe('worker metrics on a real run', () => {
  let env: TestWorkflowEnvironment;
  let seeded: DuckDbWarehouse;
  let runtimeAddress: string;

  beforeAll(async () => {
    // Our runtime, with Core's exporter on a private port, before the test environment installs one.
    runtimeAddress = `127.0.0.1:${await findFreePort()}`;
    installTemporalRuntime(testLogger, { prometheusBindAddress: runtimeAddress });
    env = await testEnv();
    seeded = await seededWarehouse('tiny');
  });
  afterAll(async () => {
    await seeded?.close();
    await env?.teardown();
  });

  test('counters equal what the run did, the histogram saw every warehouse call, runtime metrics are merged', async () => {
    const { warehouse, calls } = countingWarehouse(seeded);
    const activityCalls: Record<string, number> = {};
    let logged = '';
    const logger = createLogger({ level: 'info', pretty: false, destination: { write: (s: string) => void (logged += s) } });
    const config = testConfig({ duckdbPath: seeded.path, metricsAddress: '127.0.0.1:0' });
    const worker = await createBackfillWorker({
      config,
      logger,
      connection: env.nativeConnection,
      client: env.client,
      warehouse,
      workflowBundle: await bundle(),
      wrapActivities: (activities: BackfillActivities) =>
        Object.fromEntries(
          Object.entries(activities).map(([name, fn]) => [
            name,
            (...args: never[]) => {
              activityCalls[name] = (activityCalls[name] ?? 0) + 1;
              return (fn as (...a: never[]) => Promise<unknown>)(...args);
            },
          ]),
        ),
    });
    const running = worker.run();
    const url = worker.metricsUrl as string;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    try {
      const request: BackfillRequest = {
        from: '2024-10-22',
        to: '2024-11-12',
        phases: [3, 4],
        processors: ['player_game_summary', 'player_daily_cache'],
        concurrency: 3,
        gatePolicy: 'wait',
        // Every date of player_daily_cache fails here (its inputs are not in the request), and the
        // test counts them all: the failure budget would pause the run after three.
        failureBudget: null,
      };
      const { handle } = await startBackfill(env.client, config.taskQueue, request);

      // During the run: the endpoint answers and the first dates show up.
      await eventually(async () => total((await scrape(url)).body, METRIC_NAMES.processorDates, { result: 'done' }) > 0);

      // Phase 4's gate fails on the failed dates and waits: the run is over, nothing in flight.
      const progress: BackfillProgress = await eventually(async () => {
        const p = await handle.query(backfillProgressQuery);
        return p.stage.kind === 'gate_failed' ? p : undefined;
      });
      expect(progress.stage).toEqual({ kind: 'gate_failed', phase: 4 });
      const pgs = progress.processors.find((p) => p.processor === 'player_game_summary');
      const pdc = progress.processors.find((p) => p.processor === 'player_daily_cache');
      expect(pgs && pgs.done > 0 && pgs.failed === 0 && pgs.skipped === 0).toBe(true);
      expect(pdc && pdc.done === 0 && pdc.failed > 0 && pdc.skipped > 0).toBe(true);

      const { status, contentType, body } = await scrape(url);
      expect(status).toBe(200);
      expect(contentType).toMatch(/^text\/plain/);
      const dates = (processor: string, phase: string, result: string): number =>
        total(body, METRIC_NAMES.processorDates, { processor, phase, result });
      expect(dates('player_game_summary', '3', 'done')).toBe(pgs?.done);
      expect(dates('player_game_summary', '3', 'failed')).toBe(0);
      expect(dates('player_game_summary', '3', 'skipped')).toBe(0);
      expect(dates('player_daily_cache', '4', 'done')).toBe(0);
      expect(dates('player_daily_cache', '4', 'failed')).toBe(pdc?.failed);
      expect(dates('player_daily_cache', '4', 'skipped')).toBe(pdc?.skipped);
      expect(total(body, METRIC_NAMES.rowsWritten, { processor: 'player_game_summary' })).toBe(pgs?.rowsWritten);

      // Every call the warehouse received is in the histogram, under its operation; none is in flight.
      const histogramCount = `${METRIC_NAMES.warehouseDuration}_count`;
      expect(Object.keys(calls).length).toBeGreaterThan(2);
      for (const [operation, n] of Object.entries(calls)) expect([operation, total(body, histogramCount, { operation })]).toEqual([operation, n]);
      expect(labelValues(body, histogramCount, 'operation')).toEqual(Object.keys(calls).sort());
      expect(total(body, METRIC_NAMES.warehouseInFlight)).toBe(0);

      // One slot waited for per slot-taking activity call.
      const slotActivityCalls = SLOT_ACTIVITIES.reduce((n, name) => n + (activityCalls[name] ?? 0), 0);
      expect(total(body, `${METRIC_NAMES.slotWait}_count`)).toBe(slotActivityCalls);
      expect(total(body, `${METRIC_NAMES.slotWait}_count`, { activity: 'write' })).toBe(activityCalls.runProcessorForDate);

      // DuckDB bills nothing.
      expect(total(body, METRIC_NAMES.bytesBilled)).toBe(0);

      // The Temporal runtime's own metrics, from Core's exporter, in the same scrape.
      expect(total(body, METRIC_NAMES.temporalRuntimeUp)).toBe(1);
      expect(body).toMatch(/^temporal_\w+/m);

      // Per-date log lines name the backfill, phase, processor and date.
      const lines = logged.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      const written = lines.filter((l) => l.msg === 'date written');
      expect(written.length).toBe(pgs?.done);
      for (const l of written) expect(l).toMatchObject({ backfill: handle.workflowId, phase: 3, processor: 'player_game_summary' });
      expect(written.every((l) => typeof l.date === 'string')).toBe(true);
      const failedLines = lines.filter((l) => l.msg === 'date failed');
      expect(failedLines.length).toBe(pdc?.failed);
      for (const l of failedLines) expect(l).toMatchObject({ backfill: handle.workflowId, phase: 4, processor: 'player_daily_cache' });
    } finally {
      await terminateQueue(env, config.taskQueue);
      await terminateQueue(env, config.slotsTaskQueue);
      worker.shutdown();
      await running;
    }
    // The endpoint stops with the worker.
    await expect(scrape(url)).rejects.toThrow();
  });
});

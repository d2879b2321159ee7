/**
 * One place that gives a test a real dev server connection, a seeded DuckDB warehouse in a temp
 * folder and a real worker running our workflows and activities — so test bodies stay short.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pino from 'pino';
import type { BackfillActivities } from '../../src/activities';
import type { WarehouseSlots } from '../../src/activities/warehouse-slots';
import { startBackfill } from '../../src/client/backfill-client';
import { loadConfig, type Config, type ConfigOverrides } from '../../src/config';
import { installTemporalRuntime } from '../../src/logger';
import { seedDemoData } from '../../src/pipeline/demo';
import type { BackfillRequest, BackfillResult } from '../../src/shared/types';
import { ensureWarehouseTables } from '../../src/pipeline/tables';
import { createBackfillWorker, type BackfillWorker } from '../../src/worker';
import { DuckDbWarehouse } from '../../src/warehouse';
import type { Warehouse } from '../../src/warehouse/types';
import { bundle, getTestEnv, testServerAddress, uniqueTaskQueue } from './temporal-env';

export const testLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

let runtimeReady = false;
/** Our runtime (pino bridge) must be installed before the SDK's test environment creates one. */
export async function testEnv(): Promise<TestWorkflowEnvironment> {
  if (!runtimeReady) {
    installTemporalRuntime(testLogger);
    runtimeReady = true;
  }
  return getTestEnv();
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `props-backfill-${prefix}-`));
}

/** A DuckDB file in a temp folder with the demo preset loaded and every table created. */
export async function seededWarehouse(
  preset: 'tiny' | 'small' = 'tiny',
  options: { from?: string; to?: string; dir?: string } = {},
): Promise<DuckDbWarehouse> {
  const dir = options.dir ?? tempDir('wh');
  const warehouse = new DuckDbWarehouse({ path: path.join(dir, 'warehouse.duckdb') });
  await ensureWarehouseTables(warehouse);
  await seedDemoData(warehouse, { preset, ...(options.from ? { from: options.from } : {}), ...(options.to ? { to: options.to } : {}) });
  return warehouse;
}

export function testConfig(overrides: ConfigOverrides = {}): Config {
  return loadConfig({}, {
    temporalAddress: testServerAddress(),
    taskQueue: uniqueTaskQueue('test'),
    slotsTaskQueue: uniqueTaskQueue('slots'),
    ...overrides,
  });
}

export interface RunningWorker {
  worker: BackfillWorker;
  config: Config;
  /** Resolves when the worker has shut down. */
  stop(): Promise<void>;
}

export async function startWorker(
  env: TestWorkflowEnvironment,
  warehouse: DuckDbWarehouse,
  options: {
    config?: ConfigOverrides;
    wrap?: (a: BackfillActivities) => Record<string, (...args: never[]) => Promise<unknown>>;
    slots?: WarehouseSlots;
    /** False for a second worker in this process sharing another's slots task queue. */
    slotsWorker?: boolean;
    /** Wraps the warehouse the worker uses (fault injection, measuring calls: test/helpers/faulty-warehouse.ts). */
    wrapWarehouse?: (w: Warehouse) => Warehouse;
  } = {},
): Promise<RunningWorker> {
  const config = testConfig({ duckdbPath: warehouse.path, ...options.config });
  const worker = await createBackfillWorker({
    config,
    logger: testLogger,
    connection: env.nativeConnection,
    client: env.client,
    warehouse: options.wrapWarehouse ? options.wrapWarehouse(warehouse) : warehouse,
    workflowBundle: await bundle(),
    ...(options.wrap ? { wrapActivities: options.wrap } : {}),
    ...(options.slots ? { slots: options.slots } : {}),
    ...(options.slotsWorker === false ? { slotsWorker: false } : {}),
  });
  const running = worker.run();
  return {
    worker,
    config,
    async stop() {
      // Leave nothing running on this queue (the slots workflow included): otherwise activities'
      // pending client calls would outlive the test's connection.
      await terminateQueue(env, config.taskQueue);
      if (options.slotsWorker !== false) await terminateQueue(env, config.slotsTaskQueue);
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}

/**
 * Polls `probe` until it returns a truthy value — bounded by the test's own time-out, or by
 * `giveUpAfterMs` when given, after which it resolves to undefined so the test can say what it saw.
 */
export function eventually<T>(probe: () => Promise<T | undefined | false | null>, intervalMs?: number): Promise<T>;
export function eventually<T>(probe: () => Promise<T | undefined | false | null>, intervalMs: number, giveUpAfterMs: number): Promise<T | undefined>;
export async function eventually<T>(probe: () => Promise<T | undefined | false | null>, intervalMs = 100, giveUpAfterMs?: number): Promise<T | undefined> {
  const deadline = giveUpAfterMs === undefined ? Infinity : Date.now() + giveUpAfterMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() >= deadline) return undefined;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Every row of a processor table, tracking columns excluded, in a stable order; with
 * `significantDigits`, non-integer numbers rounded to that many (two runs of the same SQL can
 * differ in a double's last bits: DuckDB's parallel aggregates sum in no fixed order).
 */
export async function tableSnapshot(warehouse: DuckDbWarehouse, table: string, keys: readonly string[], significantDigits?: number): Promise<string[]> {
  const rows = await warehouse.query(
    `SELECT * EXCLUDE (source_backfill_id, processed_at) FROM ${table} ORDER BY ${keys.join(', ')}`,
  );
  const round = (_k: string, v: unknown): unknown =>
    significantDigits !== undefined && typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(significantDigits)) : v;
  return rows.map((r) => JSON.stringify(r, round));
}

export async function terminateQueue(env: TestWorkflowEnvironment, taskQueue: string): Promise<void> {
  for await (const wf of env.client.workflow.list({ query: `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'` })) {
    await env.client.workflow
      .getHandle(wf.workflowId, wf.runId)
      .terminate('test finished')
      .catch(() => undefined);
  }
}

/** Keys that appear more than once in a processor table. */
export async function duplicateKeys(warehouse: DuckDbWarehouse, table: string, keys: readonly string[]): Promise<number> {
  const [row] = await warehouse.query(
    `SELECT count(*) AS n FROM (SELECT ${keys.join(', ')} FROM ${table} GROUP BY ${keys.join(', ')} HAVING count(*) > 1) AS d`,
  );
  return Number(row?.n);
}

/**
 * Every processor table of `actual` holds exactly the rows of `reference` (an uninterrupted run of
 * the same request), is not empty, and has no duplicate key.
 */
export async function expectSameTables(
  reference: DuckDbWarehouse,
  actual: DuckDbWarehouse,
  defs: ReadonlyArray<{ target: { dataset: string; table: string }; keyColumns: readonly string[] }>,
): Promise<void> {
  for (const def of defs) {
    const table = `${def.target.dataset}.${def.target.table}`;
    const [expected, got] = await Promise.all([tableSnapshot(reference, table, def.keyColumns), tableSnapshot(actual, table, def.keyColumns)]);
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBe(expected.length);
    expect(got).toEqual(expected);
    expect(await duplicateKeys(actual, table, def.keyColumns)).toBe(0);
  }
}

/** Runs `request` to completion on a fresh in-process worker over a fresh tiny warehouse: the reference for a fault test. */
export async function referenceRun(
  env: TestWorkflowEnvironment,
  request: BackfillRequest,
): Promise<{ warehouse: DuckDbWarehouse; result: BackfillResult }> {
  const warehouse = await seededWarehouse('tiny');
  const worker = await startWorker(env, warehouse);
  try {
    const { handle } = await startBackfill(env.client, worker.config.taskQueue, request);
    return { warehouse, result: await handle.result() };
  } finally {
    await worker.stop();
  }
}

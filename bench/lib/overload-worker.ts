/**
 * The worker process of bench:scale's overload section: the production worker (createBackfillWorker)
 * over DuckDB, its warehouse wrapped twice — the OverloadWarehouse (latency model plus overload
 * model) inside the BenchWarehouse (calls in flight, which must never exceed the cap) — and
 * adaptive warehouse load switched on or off through the worker's configuration
 * (warehouseAdaptive / warehouseMinInFlight, as WAREHOUSE_ADAPTIVE / WAREHOUSE_MIN_IN_FLIGHT set
 * them for a production worker).
 *
 * Driven over the IPC channel of child_process.fork, like bench-worker.ts:
 *   parent → { type: 'start', options }  child → { type: 'ready', pid } (or { type: 'failed', message })
 *   child → { type: 'over-cap', inFlight } the first time the warehouse sees more calls than the cap
 *   parent → { type: 'stop' }             child → { type: 'stopped', stats, overload }, then exits
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../../src/config';
import { createLogger, installTemporalRuntime } from '../../src/logger';
import { DuckDbWarehouse } from '../../src/warehouse';
import { createBackfillWorker } from '../../src/worker';
import { BenchWarehouse, type BenchWarehouseStats } from './bench-warehouse';
import type { OverloadModel } from './latency-model';
import { OverloadWarehouse, type OverloadStats } from './overload-warehouse';

export interface OverloadWorkerOptions {
  temporalAddress: string;
  taskQueue: string;
  slotsTaskQueue: string;
  duckdbPath: string;
  exportDir: string;
  /** The deployment-wide cap (config.warehouseMaxInFlight): adaptive load's ceiling. */
  cap: number;
  adaptive: 'on' | 'off';
  /** Adaptive load's floor (config.warehouseMinInFlight). */
  floor: number;
  logLevel: string;
  workflowBundlePath: string;
  dateLatencyMs: Record<string, number>;
  model: OverloadModel;
}

export type OverloadParentMessage = { type: 'start'; options: OverloadWorkerOptions } | { type: 'stop' };
export type OverloadChildMessage =
  | { type: 'ready'; pid: number }
  | { type: 'failed'; message: string }
  | { type: 'over-cap'; inFlight: number }
  | { type: 'stopped'; stats: BenchWarehouseStats; overload: OverloadStats };

function send(message: OverloadChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) resolve();
    else process.send(message, undefined, {}, () => resolve());
  });
}

/** The worker's configuration: what a production worker with these settings would load. */
function overloadWorkerConfig(options: Pick<OverloadWorkerOptions, 'temporalAddress' | 'taskQueue' | 'slotsTaskQueue' | 'duckdbPath' | 'exportDir' | 'cap' | 'adaptive' | 'floor' | 'logLevel'>) {
  return loadConfig(
    {},
    {
      warehouse: 'duckdb',
      temporalAddress: options.temporalAddress,
      taskQueue: options.taskQueue,
      slotsTaskQueue: options.slotsTaskQueue,
      duckdbPath: options.duckdbPath,
      exportDir: options.exportDir,
      warehouseMaxInFlight: options.cap,
      warehouseAdaptive: options.adaptive,
      warehouseMinInFlight: options.floor,
      logLevel: options.logLevel as 'warn',
    },
  );
}

async function start(options: OverloadWorkerOptions): Promise<void> {
  const logger = createLogger({ level: options.logLevel });
  installTemporalRuntime(logger);
  const config = overloadWorkerConfig(options);
  const connection = await NativeConnection.connect({ address: options.temporalAddress });
  const clientConnection = await Connection.connect({ address: options.temporalAddress });
  const client = new Client({ connection: clientConnection });
  const overloaded = new OverloadWarehouse(new DuckDbWarehouse({ path: options.duckdbPath }), { dateLatencyMs: options.dateLatencyMs, model: options.model });
  const warehouse = new BenchWarehouse(overloaded, { cap: options.cap, onOverCap: (inFlight) => void send({ type: 'over-cap', inFlight }) });
  const worker = await createBackfillWorker({ config, logger, connection, client, warehouse, workflowBundle: { codePath: options.workflowBundlePath } });
  const running = worker.run();
  process.on('message', (m: OverloadParentMessage) => {
    if (m.type !== 'stop') return;
    void (async () => {
      worker.shutdown();
      await running.catch((err: unknown) => logger.error({ err }, 'worker ended with an error'));
      await warehouse.close();
      await clientConnection.close();
      await connection.close();
      await send({ type: 'stopped', stats: warehouse.snapshot(), overload: overloaded.snapshot() });
      process.exit(0);
    })();
  });
  await send({ type: 'ready', pid: process.pid });
}

process.once('message', (m: OverloadParentMessage) => {
  if (m.type !== 'start') return;
  start(m.options).catch(async (err: unknown) => {
    await send({ type: 'failed', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    process.exit(1);
  });
});

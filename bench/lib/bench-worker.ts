/**
 * The orchestrated run's worker, in a process of its own so the bench can read the worker's CPU
 * seconds and peak RSS alone (from /proc), apart from the bench's client and the Temporal server.
 * It is the production worker (createBackfillWorker) over DuckDB, its warehouse wrapped in the
 * BenchWarehouse (calls in flight, call intervals, optionally the latency model).
 *
 * Driven over the IPC channel of child_process.fork:
 *   parent → { type: 'start', options }   child → { type: 'ready', pid } (or { type: 'failed', message })
 *   child → { type: 'over-cap', inFlight } the first time the warehouse sees more calls than the cap
 *   parent → { type: 'stop' }              child → { type: 'stopped', stats } after writing the call
 *                                          intervals to options.intervalsFile, then exits
 */
import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig, type ConfigOverrides } from '../../src/config';
import { createLogger, installTemporalRuntime } from '../../src/logger';
import { createWarehouse } from '../../src/warehouse';
import { createBackfillWorker, type BackfillWorkerOptions } from '../../src/worker';
import { BenchWarehouse, type BenchWarehouseStats } from './bench-warehouse';

export interface BenchWorkerOptions {
  temporalAddress: string;
  taskQueue: string;
  slotsTaskQueue: string;
  duckdbPath: string;
  exportDir: string;
  /** The deployment-wide cap (config.warehouseMaxInFlight). */
  cap: number;
  /** DuckDB's buffer-pool limit (config.duckdbMemoryLimit), the same as the plain loop's; the engine's default when absent. */
  duckdbMemoryLimit?: string;
  /** DuckDB's threads (config.duckdbThreads), the same as the plain loop's; the engine's default when absent. */
  duckdbThreads?: number;
  logLevel: string;
  /** The workflow bundle the parent built once (bundling in here would inflate the worker's peak RSS). */
  workflowBundlePath: string;
  /** A variant's extra worker options, passed through as given (e.g. slotLeasing). */
  workerOptions: Record<string, unknown>;
  /** A variant's settings, as the environment would give them (e.g. workflowStackTraces). */
  configOverrides?: ConfigOverrides;
  /** The latency model (bench:scale): processor → ms per date. */
  dateLatencyMs?: Record<string, number>;
  /** Where the call intervals are written on stop (JSON). */
  intervalsFile: string;
}

export type ParentMessage = { type: 'start'; options: BenchWorkerOptions } | { type: 'stop' };
export type ChildMessage =
  | { type: 'ready'; pid: number }
  | { type: 'failed'; message: string }
  | { type: 'over-cap'; inFlight: number }
  | { type: 'stopped'; stats: BenchWarehouseStats; memory: WorkerMemory };

/** Peaks of the worker's memory by kind (MiB, sampled every 250 ms): what its RSS is made of. */
export interface WorkerMemory {
  rssMiB: number;
  /** The V8 heap of the main thread (JavaScript objects). */
  heapUsedMiB: number;
  /** Memory of C++ objects bound to JavaScript ones, Buffers included. */
  externalMiB: number;
  arrayBuffersMiB: number;
  /**
   * At the RSS peak, from /proc/self/status (Linux): private memory (heaps of every kind: V8,
   * DuckDB, Temporal's core) and pages of files mapped in (the node binary and the native
   * libraries' code, shared with every process using them).
   */
  atPeak?: { rssAnonMiB: number; rssFileMiB: number };
  /** DuckDB's own accounting (duckdb_memory(): buffer pool and other tags), its peak over the run. */
  duckdbMiB?: number;
}

/** RssAnon / RssFile of this process (kB lines of /proc/self/status); undefined off Linux. */
function rssKinds(): { rssAnonMiB: number; rssFileMiB: number } | undefined {
  try {
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    const anon = kb('RssAnon');
    const file = kb('RssFile');
    return Number.isFinite(anon) && Number.isFinite(file) ? { rssAnonMiB: Math.round(anon / 1024), rssFileMiB: Math.round(file / 1024) } : undefined;
  } catch {
    return undefined;
  }
}

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) resolve();
    else process.send(message, undefined, {}, () => resolve());
  });
}

async function start(options: BenchWorkerOptions): Promise<void> {
  const logger = createLogger({ level: options.logLevel });
  installTemporalRuntime(logger);
  const config = loadConfig(
    {},
    {
      warehouse: 'duckdb',
      temporalAddress: options.temporalAddress,
      taskQueue: options.taskQueue,
      slotsTaskQueue: options.slotsTaskQueue,
      duckdbPath: options.duckdbPath,
      exportDir: options.exportDir,
      warehouseMaxInFlight: options.cap,
      ...(options.duckdbMemoryLimit ? { duckdbMemoryLimit: options.duckdbMemoryLimit } : {}),
      ...(options.duckdbThreads ? { duckdbThreads: options.duckdbThreads } : {}),
      logLevel: options.logLevel as 'warn',
      ...options.configOverrides,
    },
  );
  const connection = await NativeConnection.connect({ address: options.temporalAddress });
  const clientConnection = await Connection.connect({ address: options.temporalAddress });
  const client = new Client({ connection: clientConnection });
  // The engine a deployed worker builds from its config (DuckDB's settings included), wrapped to count calls.
  const duckdb = createWarehouse(config);
  const warehouse = new BenchWarehouse(duckdb, {
    cap: options.cap,
    ...(options.dateLatencyMs ? { dateLatencyMs: options.dateLatencyMs } : {}),
    onOverCap: (inFlight) => void send({ type: 'over-cap', inFlight }),
  });
  const base: BackfillWorkerOptions = {
    config,
    logger,
    connection,
    client,
    warehouse,
    workflowBundle: { codePath: options.workflowBundlePath },
  };
  // Options another change may not have added yet (slotLeasing) pass through untyped.
  const worker = await createBackfillWorker({ ...base, ...(options.workerOptions as Partial<BackfillWorkerOptions>) });
  const running = worker.run();
  const memory: WorkerMemory = { rssMiB: 0, heapUsedMiB: 0, externalMiB: 0, arrayBuffersMiB: 0 };
  const mib = (n: number): number => Math.round(n / 2 ** 20);
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    if (mib(m.rss) > memory.rssMiB) {
      const kinds = rssKinds();
      if (kinds) memory.atPeak = kinds;
    }
    memory.rssMiB = Math.max(memory.rssMiB, mib(m.rss));
    memory.heapUsedMiB = Math.max(memory.heapUsedMiB, mib(m.heapUsed));
    memory.externalMiB = Math.max(memory.externalMiB, mib(m.external));
    memory.arrayBuffersMiB = Math.max(memory.arrayBuffersMiB, mib(m.arrayBuffers));
  }, 250);
  sampler.unref();
  // Straight to the engine, not through the counting wrapper: not a backfill's call.
  const duckdbSampler = setInterval(() => {
    duckdb
      .query<{ bytes: number | null }>('SELECT sum(memory_usage_bytes) AS bytes FROM duckdb_memory()')
      .then(([row]) => {
        const used = mib(Number(row?.bytes ?? 0));
        memory.duckdbMiB = Math.max(memory.duckdbMiB ?? 0, used);
      })
      .catch(() => undefined);
  }, 2_000);
  duckdbSampler.unref();
  process.on('message', (m: ParentMessage) => {
    if (m.type !== 'stop') return;
    void (async () => {
      clearInterval(duckdbSampler);
      worker.shutdown();
      await running.catch((err: unknown) => logger.error({ err }, 'worker ended with an error'));
      await warehouse.close();
      await clientConnection.close();
      await connection.close();
      fs.writeFileSync(options.intervalsFile, JSON.stringify(warehouse.intervals));
      clearInterval(sampler);
      await send({ type: 'stopped', stats: warehouse.snapshot(), memory });
      process.exit(0);
    })();
  });
  await send({ type: 'ready', pid: process.pid });
}

process.once('message', (m: ParentMessage) => {
  if (m.type !== 'start') return;
  start(m.options).catch(async (err: unknown) => {
    await send({ type: 'failed', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    process.exit(1);
  });
});

/**
 * The worker: config → warehouse → activities → Worker. Run it as `backfill worker` (or
 * `node dist/src/worker.js`); as many as you like on the same task queue.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type BackfillActivities } from './activities';
import { LeasedWarehouseSlots } from './activities/leased-slots';
import { TemporalWarehouseSlots } from './activities/temporal-slots';
import type { WarehouseSlots } from './activities/warehouse-slots';
import { loadConfig, warehouseKey, workflowStackTracesOf, type Config } from './config';
import { findFreePort } from './devserver';
import { createExportSink } from './exports';
import { createLogger, installTemporalRuntime, temporalRuntimeMetricsAddress, type PinoLogger } from './logger';
import { createBackfillMetrics, instrumentWarehouse, startMetricsServer, type BackfillMetrics, type MetricsServer } from './metrics';
import { ensureWarehouseTables } from './pipeline/tables';
import { describeTemporalConnection, ensureSearchAttributes, temporalConnectionOptions } from './temporal';
import { createWarehouse, describeWarehouse, type Warehouse } from './warehouse';
import { workflowSource } from './workflow-bundle';
import { workerClassRunningWorkflowsInProcess } from './workflow-runtime';

/**
 * How long a stopping worker lets running activities finish before cancelling them. Short: a date
 * cancelled by shutdown fails its attempt, so Temporal retries it on another worker at once.
 */
export const WORKER_SHUTDOWN_GRACE_MS = 10_000;
/**
 * A worker process asked to stop (SIGTERM, SIGINT) exits this long after the request even if work
 * is still running. Needed for local activities (DuckDB's dispatch): the SDK lets them run on past
 * the grace time (measured: a worker with 60 s writes in flight took 269 s to stop), and its own
 * forced shutdown (`shutdownForceTime`) failed the worker with an internal error. Their dates are
 * not in the history yet, so they run again on the next worker after the workflow task's time-out
 * — written idempotently, as after a crash.
 */
export const WORKER_SHUTDOWN_FORCE_AFTER_MS = WORKER_SHUTDOWN_GRACE_MS + 5_000;

export interface BackfillWorkerOptions {
  config: Config;
  logger: PinoLogger;
  connection: NativeConnection;
  /** Client used by activities to take deployment-wide warehouse slots. */
  client: Client;
  warehouse: Warehouse;
  /** Defaults to the deployment-wide cap of config.warehouseMaxInFlight, leased as `slotLeasing` says. */
  slots?: WarehouseSlots;
  /**
   * How the worker takes part in the deployment-wide cap: `process` (default) leases a share of it
   * for the whole process and hands slots out locally; `per-date` asks the slots workflow for every
   * date (the earlier protocol, two Temporal round trips per date; kept for comparison in the bench).
   */
  slotLeasing?: 'process' | 'per-date';
  /**
   * Where workflow code runs: `in-process` (default) in this process's main thread, one context for
   * both Workers, under the stall watchdog (src/workflow-runtime.ts); `sdk-threads` the SDK's default,
   * a thread per Worker with a vm time-out on every call (kept for comparison in the bench).
   */
  workflowRuntime?: 'in-process' | 'sdk-threads';
  /** Pre-bundled workflow code (tests bundle once and share it). */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Lets tests wrap activities (fault injection, measuring concurrency) around the real ones. */
  wrapActivities?: (activities: BackfillActivities) => Record<string, (...args: never[]) => Promise<unknown>>;
  maxConcurrentActivityTaskExecutions?: number;
  /**
   * Also poll the slots task queue (default true). One process may poll a queue once, so a
   * second backfill worker in the same process sets this to false.
   */
  slotsWorker?: boolean;
  /** Our Prometheus registry; a fresh one by default. Served on config.metricsAddress when set. */
  metrics?: BackfillMetrics;
  /**
   * host:port of the Temporal runtime's own Prometheus exporter, merged into our endpoint; defaults
   * to the one installTemporalRuntime bound, if any.
   */
  runtimeMetricsAddress?: string;
}

/** The backfill worker plus the worker for the warehouse-slots workflow, run and stopped together. */
export interface BackfillWorker {
  run(): Promise<void>;
  shutdown(): void;
  getState(): ReturnType<Worker['getState']>;
  readonly metrics: BackfillMetrics;
  /** `http://host:port/metrics` while the worker serves metrics (config.metricsAddress set). */
  readonly metricsUrl: string | undefined;
}

export async function createBackfillWorker(options: BackfillWorkerOptions): Promise<BackfillWorker> {
  const { config, logger, connection } = options;
  const metrics = options.metrics ?? createBackfillMetrics();
  // Every warehouse call of this worker goes through the decorator, so the metrics see all of them.
  const warehouse = instrumentWarehouse(options.warehouse, metrics);
  await ensureSearchAttributes(connection, config.temporalNamespace, logger);
  await ensureWarehouseTables(warehouse);
  const slots: WarehouseSlots =
    options.slots ??
    (options.slotLeasing === 'per-date'
      ? new TemporalWarehouseSlots(options.client, config.slotsTaskQueue, warehouseKey(config), config.warehouseMaxInFlight)
      : new LeasedWarehouseSlots(options.client, config.slotsTaskQueue, warehouseKey(config), config.warehouseMaxInFlight, {
          adaptive: { enabled: config.warehouseAdaptive === 'on', floor: config.warehouseMinInFlight },
          onLimit: ({ limit, ceiling }) => {
            metrics.warehouseAdmitted.set(limit);
            metrics.warehouseCeiling.set(ceiling);
          },
        }));
  const activities = createActivities({
    warehouse,
    logger: logger.child({ component: 'activity' }),
    slots,
    exportSink: createExportSink({ exportDir: config.exportDir, gcsApiEndpoint: config.gcsApiEndpoint }),
    gateThresholds: config.gateThresholds,
    metrics,
  });
  const source = options.workflowBundle ? { workflowBundle: options.workflowBundle } : workflowSource();
  // Bound first, so a bad or taken METRICS_ADDRESS fails before any worker polls; closed when run() ends.
  let endpoint: MetricsServer | undefined;
  if (config.metricsAddress) {
    const runtimeAddress = options.runtimeMetricsAddress ?? temporalRuntimeMetricsAddress();
    endpoint = await startMetricsServer({ address: config.metricsAddress, metrics, logger, ...(runtimeAddress ? { runtimeAddress } : {}) });
    logger.info({ url: endpoint.url, temporalRuntimeMetrics: runtimeAddress !== undefined }, 'serving Prometheus metrics');
  }
  let workers: Worker[];
  try {
    // Both Workers run their workflows in this process's main thread, in one context, under the
    // stall watchdog (src/workflow-runtime.ts); the one with activities first.
    const WorkerClass =
      options.workflowRuntime === 'sdk-threads' ? Worker : workerClassRunningWorkflowsInProcess({ stackTraces: workflowStackTracesOf(config) });
    const main = await WorkerClass.create({
      connection,
      namespace: config.temporalNamespace,
      taskQueue: config.taskQueue,
      ...source,
      activities: options.wrapActivities ? options.wrapActivities(activities) : activities,
      maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions ?? 32,
      // Stop promptly on shutdown: running dates are retried elsewhere, never lost.
      shutdownGraceTime: WORKER_SHUTDOWN_GRACE_MS,
    });
    const slotsWorker =
      options.slotsWorker === false
        ? undefined
        : await WorkerClass.create({ connection, namespace: config.temporalNamespace, taskQueue: config.slotsTaskQueue, ...source });
    workers = slotsWorker ? [main, slotsWorker] : [main];
  } catch (err) {
    await endpoint?.close();
    throw err;
  }
  const main = workers[0] as Worker;
  return {
    async run() {
      try {
        // If one stops (fatal error or shutdown), stop the other too.
        await Promise.all(
          workers.map((w) =>
            w.run().finally(() => {
              for (const other of workers) if (other.getState() === 'RUNNING') other.shutdown();
            }),
          ),
        );
      } finally {
        // Our share of the cap goes back now rather than lapsing a lease later.
        await slots.close?.().catch(() => undefined);
        await endpoint?.close();
      }
    },
    shutdown() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    },
    getState: () => main.getState(),
    metrics,
    metricsUrl: endpoint?.url,
  };
}

/** What a process running `runWorker` may change besides its configuration (the fault tests' worker processes). */
export interface RunWorkerOptions {
  /** Wraps the configured warehouse, e.g. to inject faults or measure calls in flight. */
  wrapWarehouse?: (warehouse: Warehouse) => Warehouse;
  /** Pre-bundled workflow code, instead of the prebuilt file or bundling at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

export async function runWorker(
  config: Config = loadConfig(),
  logger: PinoLogger = createLogger({ level: config.logLevel }),
  options: RunWorkerOptions = {},
): Promise<void> {
  // Core's exporter listens on a private loopback port; ours serves both on METRICS_ADDRESS (see src/metrics/server.ts).
  installTemporalRuntime(logger, config.metricsAddress ? { prometheusBindAddress: `127.0.0.1:${await findFreePort()}` } : {});
  const connectionOptions = temporalConnectionOptions(config);
  const connection = await NativeConnection.connect(connectionOptions);
  const clientConnection = await Connection.connect(connectionOptions);
  const client = new Client({ connection: clientConnection, namespace: config.temporalNamespace });
  const warehouse = createWarehouse(config);
  try {
    const worker = await createBackfillWorker({
      config,
      logger,
      connection,
      client,
      warehouse: options.wrapWarehouse ? options.wrapWarehouse(warehouse) : warehouse,
      ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : {}),
    });
    logger.info(
      {
        address: config.temporalAddress,
        connection: describeTemporalConnection(config),
        namespace: config.temporalNamespace,
        taskQueue: config.taskQueue,
        ...describeWarehouse(config),
        warehouseMaxInFlight: config.warehouseMaxInFlight,
        warehouseAdaptive: config.warehouseAdaptive,
      },
      'worker started',
    );
    // The SDK's runtime turns these signals into a shutdown; past WORKER_SHUTDOWN_FORCE_AFTER_MS the process goes.
    const forceExit = (): void => {
      setTimeout(() => {
        logger.warn(
          { graceMs: WORKER_SHUTDOWN_GRACE_MS, forceAfterMs: WORKER_SHUTDOWN_FORCE_AFTER_MS },
          'worker exiting with work still running past its grace time; dates not yet recorded run again on the next worker',
        );
        process.exit(0);
      }, WORKER_SHUTDOWN_FORCE_AFTER_MS).unref();
    };
    process.once('SIGTERM', forceExit);
    process.once('SIGINT', forceExit);
    try {
      await worker.run();
      logger.info('worker stopped');
    } finally {
      process.off('SIGTERM', forceExit);
      process.off('SIGINT', forceExit);
    }
  } finally {
    await warehouse.close();
    await clientConnection.close();
    await connection.close();
  }
}

if (require.main === module) {
  runWorker().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`worker failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}

/**
 * The entry point of a worker process in the fault tests (started by worker-process.ts, never by
 * jest): the production `runWorker` — configuration from the environment, the Temporal runtime,
 * SIGINT/SIGTERM handling, closing on the way out — with the warehouse wrapped in FaultyWarehouse
 * as FAULT_WORKER_OPTIONS (JSON) asks, and the test run's workflow bundle instead of a new one.
 */
import fs from 'node:fs';
import { runWorker } from '../../src/worker';
import { FaultyWarehouse, type WarehouseFaults } from './faulty-warehouse';

export interface FaultWorkerOptions {
  /** The workflow bundle written by the test (bundling in every process would take seconds each). */
  workflowBundlePath?: string;
  transient?: WarehouseFaults['transient'];
  /** A permanent error on one date while this file exists (the test deletes it to "fix the cause"). */
  poison?: { date: string; processor?: string; message: string; whileFileExists: string };
  holdWritesMs?: number;
  /** Each new peak of warehouse calls in flight is appended to this file, one number a line. */
  peakFile?: string;
}

function main(): Promise<void> {
  const options = JSON.parse(process.env.FAULT_WORKER_OPTIONS ?? '{}') as FaultWorkerOptions;
  const { poison, peakFile } = options;
  const faults: WarehouseFaults = {
    ...(options.transient ? { transient: options.transient } : {}),
    ...(options.holdWritesMs ? { holdWritesMs: options.holdWritesMs } : {}),
    ...(poison ? { poison: { ...poison, active: () => fs.existsSync(poison.whileFileExists) } } : {}),
    // Written synchronously: the process may be killed with SIGKILL at any moment.
    ...(peakFile ? { onPeak: (n: number) => fs.appendFileSync(peakFile, `${n}\n`) } : {}),
  };
  return runWorker(undefined, undefined, {
    wrapWarehouse: (warehouse) => new FaultyWarehouse(warehouse, faults),
    ...(options.workflowBundlePath ? { workflowBundle: { codePath: options.workflowBundlePath } } : {}),
  });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`worker failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);

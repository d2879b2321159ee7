/**
 * One run of bench:scale's overload section: a fresh Temporal dev server, a fresh copy of the
 * seeded DuckDB file, the production worker in a child process (overload-worker.ts) over the
 * overloaded warehouse with adaptive load on or off, and the backfill started and awaited. Every
 * `sampleMs` it queries the warehouse-slots workflow (slotsStateQuery) for the admitted limit,
 * the slots held and the limit's last change. Returns the makespan, what the warehouse saw
 * (transient errors, retries, calls in flight) and the samples.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Logger } from 'pino';
import { slotsWorkflowId } from '../../src/activities/temporal-slots';
import { startBackfill } from '../../src/client/backfill-client';
import { loadConfig, warehouseKey } from '../../src/config';
import { admittedLimit, slotsHeld, slotsStateQuery } from '../../src/shared/messages';
import type { BackfillRequest, BackfillResult } from '../../src/shared/types';
import { epochMs, type BenchWarehouseStats } from './bench-warehouse';
import type { OverloadModel } from './latency-model';
import type { LimitSample } from './overload-figures';
import type { OverloadStats } from './overload-warehouse';
import type { OverloadChildMessage, OverloadParentMessage, OverloadWorkerOptions } from './overload-worker';
import { processCpuSeconds } from './procfs';
import { startRunServer } from './setup';
import { sleep, waitForChildMessage } from './child-messages';
const waitFor = <T extends OverloadChildMessage['type']>(child: ChildProcess, type: T, timeoutMs: number): Promise<Extract<OverloadChildMessage, { type: T }>> =>
  waitForChildMessage<OverloadChildMessage, T>(child, type, timeoutMs, 'overload worker');


export interface OverloadRunOptions {
  name: string;
  cliPath: string;
  dir: string;
  templateDuckdb: string;
  workflowBundlePath: string;
  request: BackfillRequest;
  cap: number;
  adaptive: 'on' | 'off';
  floor: number;
  dateLatencyMs: Record<string, number>;
  model: OverloadModel;
  sampleMs: number;
  /** Give up (terminate the backfill) after this long. */
  timeoutMs: number;
  logger: Logger;
}

export interface OverloadRun {
  name: string;
  backfillId: string;
  startMs: number;
  endMs: number;
  seconds: number;
  /** Null when the backfill did not finish within the time-out (it was terminated). */
  result: BackfillResult | null;
  warehouse: BenchWarehouseStats;
  overload: OverloadStats;
  samples: LimitSample[];
  workerCpuSeconds: number | null;
}



export async function runOverload(options: OverloadRunOptions): Promise<OverloadRun> {
  const { dir, logger } = options;
  fs.mkdirSync(dir, { recursive: true });
  const duckdbPath = path.join(dir, 'warehouse.duckdb');
  fs.copyFileSync(options.templateDuckdb, duckdbPath);
  const server = await startRunServer(options.cliPath, dir);
  const logFd = fs.openSync(path.join(dir, 'worker.log'), 'a');
  const child = fork(path.join(__dirname, 'overload-worker.js'), [], { stdio: ['ignore', logFd, logFd, 'ipc'] });
  fs.closeSync(logFd);
  const clientConnection = await Connection.connect({ address: server.address });
  const client = new Client({ connection: clientConnection });
  try {
    const taskQueue = `bench-overload-${options.name}`;
    const workerOptions: OverloadWorkerOptions = {
      temporalAddress: server.address,
      taskQueue,
      slotsTaskQueue: `${taskQueue}-slots`,
      duckdbPath,
      exportDir: path.join(dir, 'exports'),
      cap: options.cap,
      adaptive: options.adaptive,
      floor: options.floor,
      // 'error', not 'warn': at warn the worker dies on the SDK's first "activity failed" log line —
      // src/logger.ts scrubSecrets assigns `name` on a copy of an ApplicationFailure, whose prototype
      // defines it read-only (TypeError: Cannot assign to read only property 'name').
      logLevel: 'error',
      workflowBundlePath: options.workflowBundlePath,
      dateLatencyMs: options.dateLatencyMs,
      model: options.model,
    };
    const ready = waitFor(child, 'ready', 120_000);
    child.send({ type: 'start', options: workerOptions } satisfies OverloadParentMessage);
    const { pid: workerPid } = await ready;
    child.on('message', (m: OverloadChildMessage) => {
      if (m.type === 'over-cap') {
        logger.error({ run: options.name, inFlight: m.inFlight, cap: options.cap }, 'WAREHOUSE CAP EXCEEDED');
        process.stdout.write(`\n!!! overload ${options.name}: ${m.inFlight} warehouse operations in flight, above the cap of ${options.cap} !!!\n\n`);
      }
    });
    // The slots workflow the worker's LeasedWarehouseSlots talks to: one per warehouse.
    const slotsHandle = client.workflow.getHandle(slotsWorkflowId(warehouseKey(loadConfig({}, { warehouse: 'duckdb', duckdbPath }))));

    const workerCpu0 = processCpuSeconds(workerPid);
    const startMs = epochMs();
    const { backfillId, handle } = await startBackfill(client, taskQueue, options.request);
    const samples: LimitSample[] = [];
    let finished = false;
    const sampler = (async () => {
      while (!finished) {
        await sleep(options.sampleMs);
        if (finished) break;
        try {
          const state = await slotsHandle.query(slotsStateQuery);
          samples.push({
            atMs: epochMs(),
            limit: admittedLimit(state),
            held: slotsHeld(state),
            ...(state.adaptive?.lastChange ? { lastChange: state.adaptive.lastChange } : {}),
          });
        } catch (err) {
          // Not started yet, or rolling over (continue-as-new): the next sample will do.
          logger.debug({ err }, 'slots state query failed');
        }
      }
    })();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), options.timeoutMs);
    });
    let onExit: ((code: number | null) => void) | undefined;
    const workerDied = new Promise<never>((_, reject) => {
      onExit = (code) => reject(new Error(`overload worker exited (code ${String(code)}) during the run; see its log in ${dir}/worker.log`));
      child.once('exit', onExit);
    });
    const result = await Promise.race([handle.result(), timedOut, workerDied]).finally(() => {
      clearTimeout(timer);
      finished = true;
    });
    if (onExit) child.off('exit', onExit);
    const endMs = epochMs();
    finished = true;
    await sampler;
    if (result === null) {
      process.stdout.write(`[overload ${options.name}] did not finish within ${options.timeoutMs / 1000} s: terminated\n`);
      await handle.terminate('bench:scale overload run timed out').catch(() => undefined);
    }
    const workerCpu1 = processCpuSeconds(workerPid);
    const stopped = waitFor(child, 'stopped', 60_000);
    child.send({ type: 'stop' } satisfies OverloadParentMessage);
    const { stats, overload } = await stopped;
    return {
      name: options.name,
      backfillId,
      startMs,
      endMs,
      seconds: (endMs - startMs) / 1000,
      result,
      warehouse: stats,
      overload,
      samples,
      workerCpuSeconds: workerCpu0 === null || workerCpu1 === null ? null : workerCpu1 - workerCpu0,
    };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await clientConnection.close();
    await server.stop();
  }
}

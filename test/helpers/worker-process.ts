/**
 * Real worker processes for the fault tests: spawn one (test/helpers/fault-worker.ts, i.e. the
 * production runWorker with optional faults), signal it, wait for it to exit, and read what it did
 * from its JSON log. Each process gets the same environment a deployed worker would.
 *
 * The entry is TypeScript; the child compiles each file as it loads it with the project's own
 * `typescript` (transpile only — `isolatedModules` makes that exact), so no build step is needed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { processorProgressQuery } from '../../src/shared/messages';
import type { FaultWorkerOptions } from './fault-worker';
import { bundle, testServerAddress } from './temporal-env';

const ROOT = path.resolve(__dirname, '../..');
const ENTRY = path.join(__dirname, 'fault-worker.ts');

/** Registers a require hook for .ts files, then loads the entry named by the first argument. */
export const TS_LOADER = `
const fs = require('node:fs');
const ts = require('typescript');
require.extensions['.ts'] = (module, filename) => {
  const { outputText } = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, inlineSourceMap: true },
  });
  module._compile(outputText, filename);
};
require(process.argv[1]);
`;

export interface WorkerProcessOptions {
  taskQueue: string;
  /** Default: `<taskQueue>-slots`. */
  slotsTaskQueue?: string;
  duckdbPath: string;
  logFile: string;
  /** Default: the shared test server. */
  temporalAddress?: string;
  /** More environment, e.g. WAREHOUSE_MAX_IN_FLIGHT. */
  env?: Record<string, string>;
  faults?: Omit<FaultWorkerOptions, 'workflowBundlePath'>;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Date.now() when the process exited. */
  atMs: number;
}

export interface DateWrite {
  /** processor@date */
  key: string;
  /** When the worker logged it (its clock is ours). */
  timeMs: number;
}

export class WorkerProcess {
  readonly exited: Promise<Exit>;
  private exit: Exit | undefined;

  constructor(
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal, atMs: Date.now() };
        resolve(this.exit);
      });
    });
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** Sends `signal` and returns when it was sent (Date.now()). */
  kill(signal: NodeJS.Signals): number {
    const at = Date.now();
    this.child.kill(signal);
    return at;
  }

  /** The (processor, date) writes this worker logged as done, in order. */
  writes(): DateWrite[] {
    return logLines(this.logFile)
      .filter((l) => l.msg === 'date written')
      .map((l) => ({ key: `${String(l.processor)}@${String(l.date)}`, timeMs: Number(l.time) }));
  }

  /** Whether the worker has logged that it polls (created its workers and started). */
  started(): boolean {
    return logLines(this.logFile).some((l) => l.msg === 'worker started');
  }
}

function logLines(file: string): Array<Record<string, unknown>> {
  if (!fs.existsSync(file)) return [];
  const out: Array<Record<string, unknown>> = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line cut short by SIGKILL
    }
  }
  return out;
}

const bundleFiles = new Map<string, Promise<string>>();

/** The test run's workflow bundle as a file the worker processes load (written once per folder). */
export function workflowBundleFile(dir: string): Promise<string> {
  let pending = bundleFiles.get(dir);
  if (pending === undefined) {
    pending = bundle().then((b) => {
      const file = path.join(dir, 'workflows.bundle.js');
      fs.writeFileSync(file, b.code);
      return file;
    });
    bundleFiles.set(dir, pending);
  }
  return pending;
}

/** Starts a worker process; remember to kill it (`killAll`) in afterAll. */
export async function spawnWorkerProcess(options: WorkerProcessOptions): Promise<WorkerProcess> {
  const bundlePath = await workflowBundleFile(path.dirname(options.logFile));
  const log = fs.openSync(options.logFile, 'a');
  try {
    const faults: FaultWorkerOptions = { ...options.faults, workflowBundlePath: bundlePath };
    const child = spawn(process.execPath, ['-e', TS_LOADER, ENTRY], {
      cwd: ROOT,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: options.temporalAddress ?? testServerAddress(),
        BACKFILL_TASK_QUEUE: options.taskQueue,
        WAREHOUSE_SLOTS_TASK_QUEUE: options.slotsTaskQueue ?? `${options.taskQueue}-slots`,
        DUCKDB_PATH: options.duckdbPath,
        LOG_LEVEL: 'info',
        LOG_FORMAT: 'json',
        FAULT_WORKER_OPTIONS: JSON.stringify(faults),
        ...options.env,
      },
      stdio: ['ignore', log, log],
    });
    return new WorkerProcess(child, options.logFile);
  } finally {
    fs.closeSync(log);
  }
}

/**
 * Starts the n-th worker process of a kill test (log `worker-<n>.log`, peak file `worker-<n>.peak`
 * in `dir`, the cap, writes held `holdWritesMs`) and adds it to `workers` (kill them in afterAll).
 */
export function killTestWorkers(options: { dir: string; taskQueue: string; duckdbPath: string; cap: number; holdWritesMs: number; workers: WorkerProcess[] }) {
  return async (n: number): Promise<WorkerProcess> => {
    const w = await spawnWorkerProcess({
      taskQueue: options.taskQueue,
      duckdbPath: options.duckdbPath,
      logFile: path.join(options.dir, `worker-${n}.log`),
      env: { WAREHOUSE_MAX_IN_FLIGHT: String(options.cap) },
      faults: { peakFile: path.join(options.dir, `worker-${n}.peak`), holdWritesMs: options.holdWritesMs },
    });
    options.workers.push(w);
    return w;
  };
}

/** SIGKILLs every process of the list still running and waits for them (afterAll). */
export async function killAll(processes: readonly WorkerProcess[]): Promise<void> {
  for (const p of processes) if (p.running) p.kill('SIGKILL');
  await Promise.all(processes.map((p) => p.exited));
}

/** (processor, date) pairs whose runProcessorForDate activity completed (regular or local), read from the processor workflows' histories. */
export async function completedInHistory(client: Client, backfillId: string, processors: readonly string[]): Promise<Set<string>> {
  const done = new Set<string>();
  for (const processor of processors) {
    const history = await client.workflow.getHandle(`${backfillId}/${processor}`).fetchHistory().catch(() => undefined);
    const scheduled = new Map<string, string>();
    for (const e of history?.events ?? []) {
      const attrs = e.activityTaskScheduledEventAttributes;
      const data = attrs?.input?.payloads?.[0]?.data;
      if (attrs && data && attrs.activityType?.name === 'runProcessorForDate') {
        const input = JSON.parse(Buffer.from(data).toString('utf8')) as { processor: string; date: string };
        scheduled.set(String(e.eventId), `${input.processor}@${input.date}`);
      }
      const key = e.activityTaskCompletedEventAttributes && scheduled.get(String(e.activityTaskCompletedEventAttributes.scheduledEventId));
      if (key) done.add(key);
      // A local activity's date (DateDispatch 'local'): its marker's result echoes processor and date.
      const marker = e.markerRecordedEventAttributes;
      const result = marker?.markerName === 'core_local_activity' ? marker.details?.result?.payloads?.[0]?.data : undefined;
      if (result && !marker?.failure) {
        const r = JSON.parse(Buffer.from(result).toString('utf8')) as { processor?: string; date?: string };
        if (r.processor && r.date) done.add(`${r.processor}@${r.date}`);
      }
    }
  }
  return done;
}

/** processor@date of every date the backfill's processors have in flight now (their progress queries). */
export async function inFlightDates(env: TestWorkflowEnvironment, backfillId: string, processors: readonly string[]): Promise<string[]> {
  const progress = await Promise.all(
    processors.map((name) => env.client.workflow.getHandle(`${backfillId}/${name}`).query(processorProgressQuery).catch(() => undefined)),
  );
  return progress.flatMap((p) => (p ? p.inFlight.map((date) => `${p.processor}@${date}`) : []));
}

/** The numbers a worker process appended to its peak file (see FaultWorkerOptions.peakFile); 0 when none. */
export function peakInFlight(peakFile: string): number {
  if (!fs.existsSync(peakFile)) return 0;
  return Math.max(0, ...fs.readFileSync(peakFile, 'utf8').split('\n').filter(Boolean).map(Number));
}

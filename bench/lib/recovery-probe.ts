/**
 * What `npm run bench:recovery` reads from the running system: worker processes (bench-worker.ts,
 * the production worker) started and killed, the dates each one wrote (its JSON log), the dates in
 * flight and completed (the processor workflows' progress queries and histories, every run of a
 * continued-as-new chain), the warehouse-slots workflow's state, and the finished warehouse's
 * duplicate keys.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { processorProgressQuery, slotsStateQuery, type SlotsState } from '../../src/shared/messages';
import { DuckDbWarehouse } from '../../src/warehouse';
import { epochMs } from './bench-warehouse';
import type { BenchWorkerOptions, ChildMessage, ParentMessage } from './bench-worker';
import { duplicateCheckSql, parseDateWrites, type DateWrite } from './recovery-figures';
import { waitForChildMessage } from './child-messages';
const waitForMessage = <T extends ChildMessage['type']>(child: ChildProcess, type: T, timeoutMs: number): Promise<Extract<ChildMessage, { type: T }>> =>
  waitForChildMessage<ChildMessage, T>(child, type, timeoutMs, 'bench worker');


export interface RunningWorker {
  /** 0 for the first worker, k for the one started after the k-th kill. */
  n: number;
  child: ChildProcess;
  logFile: string;
  forkedAtMs: number;
  /** Resolves with the worker's pid and when it said it polls. */
  ready: Promise<{ pid: number; readyAtMs: number }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; atMs: number }>;
  /** The first message saying the warehouse saw more calls in flight than the cap, if any. */
  overCap: number[];
}


/** Forks a production worker (bench-worker.js next to this file) logging to `logFile` at info, so it logs every date written. */
export function startWorker(n: number, dir: string, options: Omit<BenchWorkerOptions, 'logLevel' | 'intervalsFile'>): RunningWorker {
  const logFile = path.join(dir, `worker-${n}.log`);
  const fd = fs.openSync(logFile, 'a');
  const forkedAtMs = epochMs();
  const child = fork(path.join(__dirname, 'bench-worker.js'), [], { stdio: ['ignore', fd, fd, 'ipc'], env: { ...process.env, LOG_FORMAT: 'json' } });
  fs.closeSync(fd);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; atMs: number }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, atMs: epochMs() }));
  });
  const overCap: number[] = [];
  child.on('message', (m: ChildMessage) => {
    if (m.type === 'over-cap') overCap.push(m.inFlight);
  });
  const ready = waitForMessage(child, 'ready', 120_000).then((m) => ({ pid: m.pid, readyAtMs: epochMs() }));
  const full: BenchWorkerOptions = { ...options, logLevel: 'info', intervalsFile: path.join(dir, `intervals-${n}.json`) };
  child.send({ type: 'start', options: full } satisfies ParentMessage);
  return { n, child, logFile, forkedAtMs, ready, exited, overCap };
}

/** Stops a worker the graceful way and returns its warehouse figures. */
export async function stopWorker(w: RunningWorker): Promise<{ calls: number; maxInFlight: number; overCapCalls: number } | null> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return null;
  const stopped = waitForMessage(w.child, 'stopped', 60_000);
  w.child.send({ type: 'stop' } satisfies ParentMessage);
  try {
    return (await stopped).stats;
  } catch {
    w.child.kill('SIGKILL');
    return null;
  }
}

/** Every date every worker of the list has logged as written. */
export function writesOf(workers: readonly RunningWorker[]): DateWrite[] {
  return workers.flatMap((w) => (fs.existsSync(w.logFile) ? parseDateWrites(fs.readFileSync(w.logFile, 'utf8'), w.n) : []));
}

/** A query, or undefined when no worker answers within `timeoutMs` (e.g. while the only worker is dead). */
export async function withTimeout<T>(p: Promise<T>, timeoutMs: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
  try {
    return await Promise.race([p.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** processor@date of every date the backfill's processors have in flight now. */
export async function inFlightDates(client: Client, backfillId: string, processors: readonly string[]): Promise<string[]> {
  const progress = await Promise.all(
    processors.map((name) => withTimeout(client.workflow.getHandle(`${backfillId}/${name}`).query(processorProgressQuery), 5_000)),
  );
  return progress.flatMap((p) => (p ? p.inFlight.map((date) => `${p.processor}@${date}`) : []));
}

/**
 * (processor, date) pairs whose runProcessorForDate activity completed, read from every run of each
 * processor workflow (following continued-as-new runs back to the first).
 */
export async function completedDates(client: Client, backfillId: string, processors: readonly string[]): Promise<Set<string>> {
  const done = new Set<string>();
  for (const processor of processors) {
    let runId: string | undefined;
    for (let guard = 0; guard < 1_000; guard++) {
      const history = await client.workflow
        .getHandle(`${backfillId}/${processor}`, runId)
        .fetchHistory()
        .catch(() => undefined);
      if (!history) break;
      const scheduled = new Map<string, string>();
      let previousRun: string | undefined;
      for (const e of history.events ?? []) {
        const prior = e.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
        if (prior) previousRun = prior;
        const attrs = e.activityTaskScheduledEventAttributes;
        const data = attrs?.input?.payloads?.[0]?.data;
        if (attrs && data && attrs.activityType?.name === 'runProcessorForDate') {
          const input = JSON.parse(Buffer.from(data).toString('utf8')) as { processor: string; date: string };
          scheduled.set(String(e.eventId), `${input.processor}@${input.date}`);
        }
        const key = e.activityTaskCompletedEventAttributes && scheduled.get(String(e.activityTaskCompletedEventAttributes.scheduledEventId));
        if (key) done.add(key);
      }
      if (!previousRun) break;
      runId = previousRun;
    }
  }
  return done;
}

/** The warehouse-slots workflow's state, or undefined when no worker answers in time. */
export function slotsState(client: Client, workflowId: string, timeoutMs = 3_000): Promise<SlotsState | undefined> {
  return withTimeout(client.workflow.getHandle(workflowId).query(slotsStateQuery), timeoutMs);
}

/**
 * Slots the process with this pid holds in the state (its lease's granted − returned), 0 when it has
 * none; with `nowMs`, a lease that has expired by then counts as none (the workflow drops it at its next timer).
 */
export function slotsHeldByPid(state: SlotsState, pid: number, nowMs?: number): number {
  return (state.processes ?? [])
    .filter((p) => p.process.includes(`/${pid}/`) && (nowMs === undefined || p.expiresAtMs > nowMs))
    .reduce((n, p) => n + p.grantedTotal - p.returnedTotal, 0);
}

export interface TableDuplicates {
  processor: string;
  table: string;
  keyColumns: readonly string[];
  rows: number;
  distinctKeys: number;
  duplicates: number;
}

/** Rows and distinct keys of each processor table of the finished warehouse. */
export async function duplicateReport(
  duckdbPath: string,
  defs: ReadonlyArray<{ name: string; target: { dataset: string; table: string }; keyColumns: readonly string[] }>,
): Promise<TableDuplicates[]> {
  const w = new DuckDbWarehouse({ path: duckdbPath });
  try {
    const out: TableDuplicates[] = [];
    for (const def of defs) {
      const table = `${def.target.dataset}.${def.target.table}`;
      const [row] = await w.query(duplicateCheckSql(table, def.keyColumns));
      const rows = Number(row?.row_count);
      const distinctKeys = Number(row?.distinct_keys);
      out.push({ processor: def.name, table, keyColumns: def.keyColumns, rows, distinctKeys, duplicates: rows - distinctKeys });
    }
    return out;
  } finally {
    await w.close();
  }
}

/**
 * `npm run bench:recovery`: how promptly work resumes after a worker is SIGKILLed mid-run, on a
 * fresh Temporal dev server with real worker processes (bench/lib/bench-worker.ts: the production
 * createBackfillWorker with the default settings, over DuckDB).
 *
 * A demo warehouse is seeded (the small preset by default) and a Phase 3–4 backfill started. Every
 * date holds its warehouse slot a little longer than DuckDB alone would (BENCH_DATE_DELAY_MS, at
 * the date's first warehouse call), so the run lasts well past the kills and the slots stay busy.
 * Three times, at seeded-random points (BENCH_SEED), once all warehouse slots are held, the worker
 * is SIGKILLed and a fresh worker process started at once. Per kill it records the time from the
 * kill to the first date the new worker writes, to the moment every date that was in flight at
 * the kill is written, and the longest stretch with no date written — each against the bound the
 * design promises (the date activity's heartbeat time-out plus a few seconds) — and when the slots
 * workflow stopped counting the dead worker's share. Afterwards: the backfill completed, no
 * processor table has a duplicate key, no date that had completed before a kill ran again, the
 * slots workflow never granted more than the cap. Prints a table; writes bench/results/.
 * Benchmarks report; they never pass or fail on time.
 *
 *   npm run bench:recovery
 *   BENCH_SEED=3 npm run bench:recovery
 *   BENCH_PRESET=small BENCH_PHASES=3 BENCH_KILLS=2 npm run bench:recovery
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { slotsWorkflowId } from '../src/activities/temporal-slots';
import { startBackfill } from '../src/client/backfill-client';
import { loadConfig, warehouseKey } from '../src/config';
import { locateTemporalCli, type DevServerHandle } from '../src/devserver';
import { Rng } from '../src/pipeline/demo/random';
import { ALL_PROCESSORS, tableProcessors } from '../src/pipeline/registry';
import { SLOT_LEASE_MS, slotsHeld } from '../src/shared/messages';
import { DEFAULT_RETRY, type BackfillRequest, type BackfillResult } from '../src/shared/types';
import { DATE_HEARTBEAT_TIMEOUT_MS } from '../src/workflows/processor-backfill';
import { epochMs } from './lib/bench-warehouse';
import { firstKillAfter, killFigures, longestGap, rerunAfterCompletion, type KillFigures } from './lib/recovery-figures';
import {
  completedDates,
  duplicateReport,
  inFlightDates,
  slotsHeldByPid,
  slotsState,
  startWorker,
  stopWorker,
  writesOf,
  type RunningWorker,
} from './lib/recovery-probe';
import { BenchSettingError, benchPreset, fmt, formatTable, gitCommit, machine, numberListSetting, positiveIntSetting, prepareTemplate, prepareWorkflowBundle, runBench, startRunServer, writeResults } from './lib/setup';

/** "A few seconds" of the promise: worker start-up, the first retry's dispatch, scheduling. */
const FEW_SECONDS_MS = 5_000;
const PROMISED_BOUND_MS = DATE_HEARTBEAT_TIMEOUT_MS + FEW_SECONDS_MS;
/** How long the bench waits for a recovery before it records it as not recovered and goes on. */
const RECOVERY_WAIT_MS = PROMISED_BOUND_MS + SLOT_LEASE_MS + 60_000;

const say = (s = ''): void => {
  process.stdout.write(`${s}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface KillRecord {
  kill: number;
  killedAt: string;
  killedAtRunSeconds: number;
  /** Dates written (all workers) when the kill was decided. */
  writtenBeforeKill: number;
  /** Dates whose activity had completed at the server when the worker was dead. */
  completedBeforeKill: number;
  slotsHeldAtKill: number | null;
  slotsHeldByKilledWorker: number | null;
  inFlightAtKill: number;
  /** In flight at the kill and not completed before the signal landed: the dates the next worker must write. */
  pendingAfterKill: number;
  killedPid: number;
  newWorkerPid: number | null;
  /** Kill → the new worker said it polls. */
  newWorkerReadyMs: number | null;
  /** Kill → the first slots-state reading without the dead worker's share (polled every ~0.5 s; null: not seen). */
  deadShareReleasedMs: number | null;
  /** Dates that had completed before this kill and were written again afterwards (must be none). */
  rerunAfterCompletion: string[];
  figures?: KillFigures;
}

async function main(): Promise<void> {
  const preset = benchPreset(process.env.BENCH_PRESET, 'small');
  const maxDates = positiveIntSetting('BENCH_MAX_DATES', process.env.BENCH_MAX_DATES);
  const phases = numberListSetting('BENCH_PHASES', process.env.BENCH_PHASES, [3, 4]);
  const seed = Number(process.env.BENCH_SEED ?? 8);
  if (!Number.isInteger(seed)) throw new BenchSettingError(`BENCH_SEED must be an integer, got "${process.env.BENCH_SEED}"`);
  const kills = positiveIntSetting('BENCH_KILLS', process.env.BENCH_KILLS) ?? 3;
  const dateDelayMs = Number(process.env.BENCH_DATE_DELAY_MS ?? 400);
  if (!(Number.isInteger(dateDelayMs) && dateDelayMs >= 0)) throw new BenchSettingError(`BENCH_DATE_DELAY_MS must be an integer ≥ 0, got "${process.env.BENCH_DATE_DELAY_MS}"`);
  // The deployment's defaults (or what the environment sets), on the embedded engine.
  const envConfig = loadConfig(process.env, { warehouse: 'duckdb' });
  const cap = envConfig.warehouseMaxInFlight;
  const concurrency = envConfig.defaultConcurrency;
  const processors = ALL_PROCESSORS.filter((p) => phases.includes(p.phase)).map((p) => p.name);
  const tables = tableProcessors().filter((p) => phases.includes(p.phase));
  const dateLatencyMs = Object.fromEntries(processors.map((name) => [name, dateDelayMs]));

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'props-backfill-bench-recovery-'));
  const workers: RunningWorker[] = [];
  let server: DevServerHandle | undefined;
  let clientConnection: Connection | undefined;
  try {
    const range = await prepareTemplate(dir, preset, maxDates);
    const bundle = await prepareWorkflowBundle(dir);
    const cliPath = await locateTemporalCli({ allowBuild: true });
    const duckdbPath = path.join(dir, 'warehouse.duckdb');
    fs.copyFileSync(range.templateDuckdb, duckdbPath);
    server = await startRunServer(cliPath, dir);
    clientConnection = await Connection.connect({ address: server.address });
    const client = new Client({ connection: clientConnection });
    const taskQueue = 'bench-recovery';
    const workerOptions = {
      temporalAddress: server.address,
      taskQueue,
      slotsTaskQueue: `${taskQueue}-slots`,
      duckdbPath,
      exportDir: path.join(dir, 'exports'),
      cap,
      workflowBundlePath: bundle,
      workerOptions: {},
      dateLatencyMs,
    };
    // The slots workflow the workers lease from: keyed by the warehouse, as the worker computes it.
    const slotsId = slotsWorkflowId(warehouseKey(loadConfig({}, { warehouse: 'duckdb', duckdbPath, warehouseMaxInFlight: cap })));
    const request: BackfillRequest = {
      from: range.from,
      to: range.to,
      phases,
      concurrency,
      gatePolicy: 'wait',
      bootstrapDays: envConfig.bootstrapDays,
      // The heartbeat-bounded recovery of regular activities (BigQuery's dispatch) is what this measures.
      dateDispatch: 'activity',
      ...(Object.keys(envConfig.gateThresholds).length > 0 ? { gateThresholds: envConfig.gateThresholds } : {}),
    };
    const m = machine();
    say(`Recovery bench: preset ${preset}, ${range.from} → ${range.to} (${range.gameDates.length} game dates), phases ${phases.join(',')}, seed ${seed}`);
    say(`window ${concurrency} dates per processor, warehouse cap ${cap}, ${dateDelayMs} ms added per date; ${kills} SIGKILLs; machine: ${m.cores} cores`);
    say(`promised bound: heartbeat time-out ${DATE_HEARTBEAT_TIMEOUT_MS} ms + ${FEW_SECONDS_MS} ms = ${PROMISED_BOUND_MS} ms (slot lease ${SLOT_LEASE_MS} ms)`);

    let current = startWorker(0, dir, workerOptions);
    workers.push(current);
    let currentPid = (await current.ready).pid;
    const startMs = epochMs();
    const { backfillId, handle } = await startBackfill(client, taskQueue, request);
    let result: BackfillResult | undefined;
    let failure: unknown;
    const finished = handle.result().then(
      (r) => (result = r),
      (err: unknown) => (failure = err),
    );
    const isFinished = (): boolean => result !== undefined || failure !== undefined;
    const written = (): number => writesOf(workers).length;

    // Kill points: the first after a seeded-random 10–25 % of the date tasks (game dates × processors,
    // an upper bound: Phase 4+ skip their bootstrap days), each later one a seeded-random 3–10 dates
    // after the previous kill's in-flight dates have all been written.
    const rng = Rng.of(seed, 'recovery-kill-points');
    const estimate = range.gameDates.length * processors.length;
    let killAfter = firstKillAfter(estimate, rng.next());
    say(`at most ${estimate} date tasks; first kill after ${killAfter} dates written\n`);

    const records: KillRecord[] = [];
    const pendingByKill = new Map<number, { killedAtMs: number; pending: string[] }>();
    const completedAtKill: Array<Set<string>> = [];
    for (let k = 1; k <= kills; k++) {
      while (!isFinished() && written() < killAfter) await sleep(100);
      if (isFinished()) {
        say(`the backfill finished before kill ${k}`);
        break;
      }
      // All slots busy: the slots workflow has granted the whole cap (to this worker, the only one).
      let state = await slotsState(client, slotsId);
      for (let i = 0; i < 100 && !isFinished() && (state === undefined || slotsHeld(state) < cap); i++) {
        await sleep(100);
        state = await slotsState(client, slotsId);
      }
      const inFlight = await inFlightDates(client, backfillId, processors);
      const writtenBeforeKill = written();
      const killedPid = currentPid;
      const killedAtMs = epochMs();
      current.child.kill('SIGKILL');
      const exit = await current.exited;
      if (exit.signal !== 'SIGKILL') say(`!!! worker ${current.n} ended with ${String(exit.signal ?? exit.code)} instead of SIGKILL`);
      // A fresh worker at once; what the dead one finished is read meanwhile.
      const next = startWorker(k, dir, workerOptions);
      workers.push(next);
      const completed = await completedDates(client, backfillId, processors);
      completedAtKill.push(completed);
      const pending = inFlight.filter((key) => !completed.has(key));
      const readyOrNull = next.ready.then(
        (r) => r,
        (err: unknown) => {
          say(`!!! worker ${k} did not start: ${err instanceof Error ? err.message : String(err)}`);
          return null;
        },
      );

      // Until every pending date is written (or the wait runs out): when the dead share leaves the slots state.
      let deadShareReleasedMs: number | null = null;
      const deadline = killedAtMs + RECOVERY_WAIT_MS;
      for (;;) {
        const writes = writesOf(workers).filter((w) => w.worker >= k);
        const pendingDone = pending.every((key) => writes.some((w) => w.key === key));
        if (deadShareReleasedMs === null) {
          const s = await slotsState(client, slotsId, 500);
          if (s !== undefined && slotsHeldByPid(s, killedPid, Date.now()) === 0) deadShareReleasedMs = epochMs() - killedAtMs;
        }
        if ((pendingDone && writes.length > 0 && deadShareReleasedMs !== null) || isFinished() || epochMs() > deadline) break;
        await sleep(pendingDone && writes.length > 0 ? 250 : 100);
      }
      const ready = await readyOrNull;
      if (ready) currentPid = ready.pid;
      current = next;
      records.push({
        kill: k,
        killedAt: new Date(killedAtMs).toISOString(),
        killedAtRunSeconds: Number(((killedAtMs - startMs) / 1000).toFixed(1)),
        writtenBeforeKill,
        completedBeforeKill: completed.size,
        slotsHeldAtKill: state === undefined ? null : slotsHeld(state),
        slotsHeldByKilledWorker: state === undefined ? null : slotsHeldByPid(state, killedPid),
        inFlightAtKill: inFlight.length,
        pendingAfterKill: pending.length,
        killedPid,
        newWorkerPid: ready?.pid ?? null,
        newWorkerReadyMs: ready ? Math.round(ready.readyAtMs - killedAtMs) : null,
        deadShareReleasedMs: deadShareReleasedMs === null ? null : Math.round(deadShareReleasedMs),
        rerunAfterCompletion: [],
      });
      // Pending keys kept for the figures below.
      pendingByKill.set(k, { killedAtMs, pending });
      say(
        `kill ${k} at ${records[records.length - 1]!.killedAtRunSeconds} s: ${completed.size} dates done, ` +
          `${state === undefined ? '?' : slotsHeld(state)}/${cap} slots held, ${pending.length} dates in flight; new worker ready after ${fmt(ready ? (ready.readyAtMs - killedAtMs) / 1000 : null)} s`,
      );
      if (!ready) break;
      killAfter = written() + rng.int(3, 10);
    }

    await finished;
    const endMs = epochMs();
    if (failure !== undefined) throw failure instanceof Error ? failure : new Error(`backfill failed: ${JSON.stringify(failure)}`);
    const finalState = await slotsState(client, slotsId, 10_000);
    const finalStats = await stopWorker(current);
    const writes = writesOf(workers);

    // The figures of each kill, its segment ending at the next kill or the end of the backfill.
    for (const [i, r] of records.entries()) {
      const p = pendingByKill.get(r.kill)!;
      const nextKill = pendingByKill.get(r.kill + 1)?.killedAtMs ?? endMs;
      r.figures = killFigures({ killedAtMs: p.killedAtMs, nextWorker: r.kill, pending: p.pending, segmentEndMs: nextKill }, writes, PROMISED_BOUND_MS);
      r.rerunAfterCompletion = rerunAfterCompletion(completedAtKill[i]!, r.kill, writes);
    }
    const wholeRunGap = longestGap(
      writes.map((w) => w.timeMs),
      startMs,
      endMs,
    );
    const duplicates = await duplicateReport(duckdbPath, tables);
    const res = result!;
    const failedDates = res.processors.reduce((n, p) => n + Object.keys(p.failed).length, 0);
    const doneDates = res.processors.reduce((n, p) => n + p.done, 0);
    const overCap = workers.flatMap((w) => w.overCap);
    const r0 = (x: number | null | undefined): number | null => (x === null || x === undefined ? null : Math.round(x));

    const at = new Date().toISOString();
    const results = {
      name: 'recovery',
      at,
      commit: gitCommit(),
      machine: m,
      preset,
      from: range.from,
      to: range.to,
      phases,
      dates: range.gameDates.length,
      seed,
      cap,
      concurrency,
      dateDelayMs,
      heartbeatTimeoutMs: DATE_HEARTBEAT_TIMEOUT_MS,
      slotLeaseMs: SLOT_LEASE_MS,
      firstRetryAfterMs: DEFAULT_RETRY.initialIntervalMs,
      promisedBoundMs: PROMISED_BOUND_MS,
      promisedBound: `heartbeat time-out ${DATE_HEARTBEAT_TIMEOUT_MS} ms + ${FEW_SECONDS_MS} ms`,
      kills: records.length,
      runSeconds: Number(((endMs - startMs) / 1000).toFixed(1)),
      maxFirstWriteMs: maxOf(records.map((r) => r.figures?.firstWriteMs)),
      maxInFlightDoneMs: maxOf(records.map((r) => r.figures?.inFlightDoneMs)),
      maxGapAfterKillMs: maxOf(records.map((r) => r.figures?.longestGap.ms)),
      allWithinBound: records.every((r) => r.figures && r.figures.withinBound.firstWrite && r.figures.withinBound.inFlightDone && r.figures.withinBound.longestGap),
      longestGapWholeRun: { ms: Math.round(wholeRunGap.ms), startsAtRunSeconds: Number(((wholeRunGap.fromMs - startMs) / 1000).toFixed(1)) },
      perKill: records.map((r) => ({
        ...r,
        figures: r.figures && {
          ...r.figures,
          firstWriteMs: r0(r.figures.firstWriteMs),
          firstInFlightWriteMs: r0(r.figures.firstInFlightWriteMs),
          inFlightDoneMs: r0(r.figures.inFlightDoneMs),
          longestGap: { ms: Math.round(r.figures.longestGap.ms), startsAfterKillMs: Math.round(r.figures.longestGap.startsAfterKillMs) },
          firstWriteVsBoundMs: r0(r.figures.firstWriteVsBoundMs),
          inFlightDoneVsBoundMs: r0(r.figures.inFlightDoneVsBoundMs),
          longestGapVsBoundMs: Math.round(r.figures.longestGapVsBoundMs),
        },
      })),
      completed: {
        status: res.status,
        dateTasksDone: doneDates,
        failedDates,
        gatesOk: res.gates.every((g) => g.ok),
        perProcessor: res.processors.map((p) => ({ processor: p.processor, done: p.done, failed: Object.keys(p.failed).length })),
      },
      noDuplicates: duplicates.every((d) => d.duplicates === 0),
      duplicates,
      rerunAfterCompletion: records.reduce((n, r) => n + r.rerunAfterCompletion.length, 0),
      capCheck: {
        maxHeldObservedBySlotsWorkflow: finalState?.maxHeldObserved ?? null,
        capHeldBySlotsWorkflow: finalState === undefined ? null : finalState.maxHeldObserved <= cap,
        overCapReportsFromWorkers: overCap,
        lastWorkerMaxInFlight: finalStats?.maxInFlight ?? null,
      },
      workerProcesses: workers.length,
      writesLogged: writes.length,
      notes: [
        'A date counts as written when its worker logs "date written" (after its warehouse write, before the activity completes at the server); times are wall clock of one machine.',
        `Each kill waits until the slots workflow shows the whole cap granted, then SIGKILLs the worker and forks a fresh one at once; start-up of the new process (newWorkerReadyMs) is part of every figure.`,
        'inFlightDoneMs includes draining the dead worker’s in-flight dates through the cap after they are retried (about pending ÷ cap × the time a date holds its slot).',
        'longestGap is measured from the kill to the next kill (or the end of the backfill), over the dates written by every worker.',
        'deadShareReleasedMs: the first reading of the slots workflow’s state (polled about every half second once a worker answers) without the killed process’s share.',
        'Benchmarks report; they never pass or fail on time.',
      ],
    };
    const file = writeResults('recovery', at, results);

    say('\nRecovery after each SIGKILL (ms after the kill; bound ' + PROMISED_BOUND_MS + ' ms)');
    say(
      formatTable(
        ['kill', 'at s', 'slots held', 'in flight', 'worker ready', 'dead share gone', 'first write', 'first in flight', 'all in flight', 'longest gap', 'within bound'],
        records.map((r) => [
          String(r.kill),
          fmt(r.killedAtRunSeconds),
          `${r.slotsHeldAtKill ?? '?'}/${cap}`,
          String(r.pendingAfterKill),
          fmt(r.newWorkerReadyMs, 0),
          fmt(r.deadShareReleasedMs, 0),
          fmt(r.figures?.firstWriteMs, 0),
          fmt(r.figures?.firstInFlightWriteMs, 0),
          fmt(r.figures?.inFlightDoneMs, 0),
          fmt(r.figures?.longestGap.ms, 0),
          r.figures ? `${yes(r.figures.withinBound.firstWrite)}/${yes(r.figures.withinBound.inFlightDone)}/${yes(r.figures.withinBound.longestGap)}` : 'n/a',
        ]),
      ),
    );
    say('(in flight: dates in flight at the kill, not completed; first/all in flight: when the first/last of them was written again; within bound: first write / all in flight / longest gap)');
    say(
      `\nbackfill ${res.status} in ${results.runSeconds} s: ${doneDates} date tasks, ${failedDates} failed, gates ${results.completed.gatesOk ? 'ok' : 'NOT ok'}; ` +
        `longest gap of the whole run ${fmt(wholeRunGap.ms / 1000)} s at ${results.longestGapWholeRun.startsAtRunSeconds} s`,
    );
    say(
      `duplicates: ${duplicates.map((d) => `${d.table.split('.').pop()} ${d.rows}/${d.distinctKeys}`).join(', ')} (rows/distinct keys) → ` +
        `${results.noDuplicates ? 'none' : '!!! DUPLICATE KEYS !!!'}; completed dates written again after a kill: ${results.rerunAfterCompletion}`,
    );
    say(
      `cap ${cap}: most slots the slots workflow ever granted ${fmt(results.capCheck.maxHeldObservedBySlotsWorkflow, 0)}; ` +
        `${overCap.length === 0 ? 'no worker saw more calls in flight than the cap' : `!!! over the cap in a worker: ${overCap.join(', ')} !!!`}`,
    );
    say(`results: ${path.relative(process.cwd(), file)}`);
  } finally {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await clientConnection?.close();
    await server?.stop();
    if (process.env.BENCH_KEEP_DIR === undefined) fs.rmSync(dir, { recursive: true, force: true });
    else say(`kept ${dir}`);
  }
}

function yes(b: boolean): string {
  return b ? 'yes' : 'NO';
}

function maxOf(xs: ReadonlyArray<number | null | undefined>): number | null {
  const ok = xs.filter((x): x is number => typeof x === 'number');
  return ok.length === 0 || ok.length < xs.length ? null : Math.round(Math.max(...ok));
}

runBench('bench:recovery', main);

/**
 * Progress arithmetic shared by the workflows and the CLI: pure functions over plain data (no
 * Temporal API, no clock), unit-tested without a server.
 *
 * A processor's numbers are derived from date *sets*, never added up across runs: the plan fixes
 * which dates a processor runs and which it skips (with reasons); each run — the first one, then
 * any retry of some of those dates — moves dates between "not run yet", "failed" and done. So a
 * retry can never make `done` exceed `total`, and the skip reasons survive every retry.
 */
import type { DatePlan, ProcessorProgress, ProcessorResult } from './types';

/** What the parent knows of one processor across all its runs. */
export interface ProcessorLedger {
  processor: string;
  phase: number;
  /** Dates the plan runs, ascending. */
  planned: string[];
  skipped: number;
  /** reason → number of dates skipped for it. */
  skipReasons: Record<string, number>;
  /** Planned dates no run has finished yet. */
  notRun: string[];
  /** date → error, for planned dates whose latest run failed. */
  failed: Record<string, string>;
  rowsWritten: number;
  /** Bytes billed by the dates of its finished runs. */
  bytesBilled: number;
  /** Dates of the run in flight (empty when none). */
  running: string[];
  /** Runs started so far (1 for the first, 2+ for retries). */
  runs: number;
  /** The last rate a run of this processor reported, dates per minute. */
  lastRatePerMinute: number | null;
  /** The last mean warehouse time per date a run reported, ms (absent in older ledgers). */
  lastWarehouseMsPerDate?: number | null;
}

export function ledgerFromPlan(phase: number, plan: DatePlan): ProcessorLedger {
  const skipReasons: Record<string, number> = {};
  for (const s of plan.skipped) skipReasons[s.reason] = (skipReasons[s.reason] ?? 0) + 1;
  const planned = [...plan.dates].sort();
  return {
    processor: plan.processor,
    phase,
    planned,
    skipped: plan.skipped.length,
    skipReasons,
    notRun: planned,
    failed: {},
    rowsWritten: 0,
    bytesBilled: 0,
    running: [],
    runs: 0,
    lastRatePerMinute: null,
  };
}

/**
 * A follow-up's ledger of a processor: its whole plan (so totals and skip reasons read as the
 * original's), with only `rerun` still to run — the original settled the other planned dates.
 * Dates outside the plan are dropped.
 */
export function ledgerForFollowUp(phase: number, plan: DatePlan, rerun: readonly string[]): ProcessorLedger {
  const ledger = ledgerFromPlan(phase, plan);
  const planned = new Set(ledger.planned);
  return { ...ledger, notRun: [...new Set(rerun)].filter((d) => planned.has(d)).sort() };
}

/** A run of `dates` (all planned dates, or a retry's) has started. */
export function startRun(ledger: ProcessorLedger, dates: readonly string[]): ProcessorLedger {
  return { ...ledger, running: [...dates].sort(), runs: ledger.runs + 1 };
}

/**
 * A run of `dates` finished with `result`: its dates leave "not run" and "failed", and the ones the
 * run reports failed become failed again. Dates outside the plan are ignored.
 */
export function completeRun(ledger: ProcessorLedger, dates: readonly string[], result: ProcessorResult, ratePerMinute?: number | null): ProcessorLedger {
  const ran = new Set(dates);
  const planned = new Set(ledger.planned);
  const failed: Record<string, string> = {};
  for (const [date, error] of Object.entries(ledger.failed)) if (!ran.has(date)) failed[date] = error;
  for (const [date, error] of Object.entries(result.failed)) if (planned.has(date) && ran.has(date)) failed[date] = error;
  return {
    ...ledger,
    notRun: ledger.notRun.filter((d) => !ran.has(d)),
    failed,
    rowsWritten: ledger.rowsWritten + result.rowsWritten,
    bytesBilled: (ledger.bytesBilled ?? 0) + (result.bytesBilled ?? 0),
    running: [],
    lastRatePerMinute: ratePerMinute ?? ledger.lastRatePerMinute,
  };
}

/** The ledger's rate, updated from a live report of the run in flight. */
export function observeRate(ledger: ProcessorLedger, live: ProcessorProgress): ProcessorLedger {
  let next = ledger;
  if (live.ratePerMinute !== null) next = { ...next, lastRatePerMinute: live.ratePerMinute };
  if (live.warehouseMsPerDate != null) next = { ...next, lastWarehouseMsPerDate: live.warehouseMsPerDate };
  return next;
}

/**
 * The processor's progress across all its runs: the ledger's settled dates plus, while a run is in
 * flight, that run's own report (`live`) for its dates.
 */
export function ledgerProgress(ledger: ProcessorLedger, live?: ProcessorProgress): ProcessorProgress {
  const running = new Set(ledger.running);
  const notRun = new Set(ledger.notRun);
  const settledFailures = Object.entries(ledger.failed)
    .filter(([date]) => !running.has(date))
    .map(([date, error]) => ({ date, error }));
  const settledFailed = new Set(settledFailures.map((f) => f.date));
  const settledDone = ledger.planned.filter((d) => !running.has(d) && !notRun.has(d) && !settledFailed.has(d)).length;
  const inRun = running.size > 0 && live !== undefined;
  const done = settledDone + (inRun ? Math.min(live.done, running.size) : 0);
  const failures = [...settledFailures, ...(inRun ? live.failures.filter((f) => running.has(f.date)) : [])].sort((a, b) =>
    a.date < b.date ? -1 : a.date > b.date ? 1 : 0,
  );
  const runnable = ledger.planned.length;
  const remaining = Math.max(0, runnable - done - failures.length);
  const status: ProcessorProgress['status'] =
    running.size > 0 ? (inRun ? live.status : 'running') : ledger.runs === 0 ? 'pending' : ledger.notRun.length === 0 ? 'completed' : 'running';
  const rate = inRun ? live.ratePerMinute : ledger.lastRatePerMinute;
  const warehouseMsPerDate = (inRun ? live.warehouseMsPerDate : undefined) ?? ledger.lastWarehouseMsPerDate ?? null;
  return {
    processor: ledger.processor,
    phase: ledger.phase,
    // A retry's own run completing is not the processor completing until the parent settles it.
    status: status === 'completed' && running.size > 0 ? 'running' : status,
    total: runnable + ledger.skipped,
    done,
    skipped: ledger.skipped,
    failed: failures.length,
    inFlight: inRun ? live.inFlight : [],
    concurrency: inRun ? live.concurrency : 0,
    rowsWritten: ledger.rowsWritten + (inRun ? live.rowsWritten : 0),
    ratePerMinute: rate,
    etaSeconds: remaining === 0 ? 0 : rate && rate > 0 ? Math.round((remaining / rate) * 60) : null,
    failures,
    skipReasons: ledger.skipReasons,
    runNumber: Math.max(1, ledger.runs),
    bytesBilled: (ledger.bytesBilled ?? 0) + (inRun ? (live.bytesBilled ?? 0) : 0),
    warehouseMsPerDate,
    ...(inRun && live.budgetTrip ? { budgetTrip: live.budgetTrip } : {}),
  };
}

/** Dates still to finish (neither done nor failed). */
export function remainingDates(p: Pick<ProcessorProgress, 'total' | 'skipped' | 'done' | 'failed'>): number {
  return Math.max(0, p.total - p.skipped - p.done - p.failed);
}

/** Percent of runnable dates finished (done or failed), 100 when there is nothing to run. */
export function percentFinished(processors: ReadonlyArray<Pick<ProcessorProgress, 'total' | 'skipped' | 'done' | 'failed'>>): number {
  const runnable = processors.reduce((n, p) => n + p.total - p.skipped, 0);
  const finished = processors.reduce((n, p) => n + p.done + p.failed, 0);
  return runnable === 0 ? 100 : Math.min(100, Math.floor((finished / runnable) * 100));
}

export interface EtaInput {
  /** Phases in order, each its groups in order, each group's processors (run concurrently). */
  phases: ReadonlyArray<{ phase: number; groups: ReadonlyArray<readonly string[]> }>;
  /** Current progress of every processor known so far (planned or running or done). */
  progress: ReadonlyMap<string, ProcessorProgress>;
  /**
   * Dates per minute to assume for a processor that has no rate of its own yet: e.g. from earlier
   * runs of the same processor, or a dry-run estimate. Without one, the mean of the rates observed
   * in this backfill is used.
   */
  referenceRatePerMinute?: (processor: string) => number | null;
}

/**
 * One ETA for the whole backfill, in seconds: groups run one after the other, the processors of a
 * group side by side.
 *
 * Work model (when dates report how long they held a warehouse slot): a processor's remaining work
 * is its remaining dates × its mean slot time per date (or, before it has one, the mean of the
 * others'); a group takes its work ÷ the warehouse parallelism, or its longest processor's work ÷
 * what one window can use, or a running processor's remaining dates at its own observed rate,
 * whichever is longest. The parallelism is the most warehouse slots any
 * group has kept busy so far (Σ rate × slot time). So a processor that will run alone later is not
 * assumed to crawl at the rate it would have had sharing the cap with four others — the rate
 * model's error, which made the bench's forecasts 2–3× too long.
 *
 * Rate model (before any slot time is known, and for runs of older workers): each processor's
 * remaining dates at its own observed rate — or its reference rate, or the mean rate observed so
 * far; a group takes as long as its slowest processor. Null while nothing has a rate to go by.
 * Gates are not counted (seconds each).
 */
export function backfillEtaSeconds(input: EtaInput): number | null {
  return workModelEtaSeconds(input) ?? rateModelEtaSeconds(input);
}

function positive(x: number | null | undefined): number | null {
  return x !== null && x !== undefined && x > 0 ? x : null;
}

function workModelEtaSeconds(input: EtaInput): number | null {
  const all = [...input.progress.values()];
  const slotTimes = all.map((p) => positive(p.warehouseMsPerDate)).filter((x): x is number => x !== null);
  if (slotTimes.length === 0) return null;
  const meanSlotMs = slotTimes.reduce((a, b) => a + b, 0) / slotTimes.length;
  // Slots kept busy by each group while it ran (or runs): Σ dates per ms × ms per date.
  let parallelism = 0;
  for (const phase of input.phases) {
    for (const group of phase.groups) {
      let busy = 0;
      for (const name of group) {
        const p = input.progress.get(name);
        const rate = positive(p?.ratePerMinute);
        const ms = positive(p?.warehouseMsPerDate);
        if (rate !== null && ms !== null) busy += (rate / 60_000) * ms;
      }
      parallelism = Math.max(parallelism, busy);
    }
  }
  if (parallelism <= 0) return null;
  let totalMs = 0;
  for (const phase of input.phases) {
    for (const group of phase.groups) {
      let work = 0;
      let longest = 0;
      for (const name of group) {
        const p = input.progress.get(name);
        if (p === undefined) return null;
        const remaining = remainingDates(p);
        if (remaining === 0) continue;
        const processorWork = remaining * (positive(p.warehouseMsPerDate) ?? meanSlotMs);
        work += processorWork;
        const window = p.concurrency > 0 ? Math.min(p.concurrency, parallelism) : parallelism;
        longest = Math.max(longest, processorWork / window);
        // A processor with a rate of its own goes no faster than it does: what the slot time does
        // not see (dispatch, retries, waits) is in its rate.
        const rate = positive(p.ratePerMinute);
        if (rate !== null) longest = Math.max(longest, (remaining / rate) * 60_000);
      }
      totalMs += Math.max(work / parallelism, longest);
    }
  }
  return Math.round(totalMs / 1_000);
}

function rateModelEtaSeconds(input: EtaInput): number | null {
  const observed = [...input.progress.values()].map((p) => p.ratePerMinute).filter((r): r is number => r !== null && r > 0);
  const meanRate = observed.length > 0 ? observed.reduce((a, b) => a + b, 0) / observed.length : null;
  let total = 0;
  for (const phase of input.phases) {
    for (const group of phase.groups) {
      let slowest = 0;
      for (const name of group) {
        const p = input.progress.get(name);
        if (p === undefined) {
          // Not planned yet: nothing is known of its dates; the caller plans up front to avoid this.
          return null;
        }
        const remaining = remainingDates(p);
        if (remaining === 0) continue;
        const rate = (p.ratePerMinute !== null && p.ratePerMinute > 0 ? p.ratePerMinute : null) ?? input.referenceRatePerMinute?.(name) ?? meanRate;
        if (rate === null || rate <= 0) return null;
        slowest = Math.max(slowest, (remaining / rate) * 60);
      }
      total += slowest;
    }
  }
  return Math.round(total);
}

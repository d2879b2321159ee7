/**
 * The failure budget: when a processor's dates keep failing, the backfill pauses itself instead of
 * burning through the remaining dates the same way. Pure functions over plain data (no Temporal
 * API, no clock), shared by the processor workflow, the CLI's flag parser and the tests.
 *
 * Two trips, either is enough:
 * - **window**: at least `maxFailed` of the processor's last `window` finished dates failed;
 * - **in a row**: the last `consecutive` finished dates all failed with the same error class (the
 *   failure's type, e.g. `MissingInputError`) — a run of identical failures is a cause, not noise.
 */

export interface FailureBudget {
  /** Failed dates among the last `window` finished ones that pause the backfill. */
  maxFailed: number;
  window: number;
  /** This many finished dates in a row failing with the same error class pause it (0: never). */
  consecutive: number;
}

/** 5 of the last 20 finished dates, or 3 in a row with the same error class. */
export const DEFAULT_FAILURE_BUDGET: FailureBudget = { maxFailed: 5, window: 20, consecutive: 3 };

/** Upper bound of `window` (the outcomes a processor carries across continue-as-new). */
export const MAX_FAILURE_WINDOW = 1_000;

/** The outcome of one finished date: null when it was done, its error class when it failed. */
export type DateOutcome = string | null;

export interface FailureBudgetTrip {
  kind: 'window' | 'in_a_row';
  processor: string;
  /** Failed dates counted by the trip (in the window, or in the row). */
  failed: number;
  /** Dates the trip looked at (the window's finished dates, or the row's length). */
  of: number;
  /** The most frequent error class among the failures counted (the row's class for in_a_row). */
  errorClass: string;
  /** The latest failure of that class, verbatim. */
  example: { date: string; error: string };
  /** One line for humans: what tripped, and the common error. */
  reason: string;
  /** Numbers the trips of one processor run (set by the workflow), so a late report is not a new trip. */
  seq?: number;
}

/**
 * The error class of a failure message as `failureMessage` writes it (`Type: message`); a message
 * without a type prefix is its own class ("Error").
 */
export function errorClassOf(message: string): string {
  const m = /^([A-Za-z_][A-Za-z0-9_]*(?:Error|Failure|Exception)): /.exec(message);
  return m?.[1] ?? 'Error';
}

/** The last outcomes kept: enough for both trips. */
export function outcomesKept(budget: FailureBudget): number {
  return Math.max(budget.window, budget.consecutive);
}

/** Appends an outcome, keeping only the last `outcomesKept(budget)`. */
export function recordOutcome(recent: readonly DateOutcome[], outcome: DateOutcome, budget: FailureBudget | null): DateOutcome[] {
  const keep = budget ? outcomesKept(budget) : 0;
  const next = [...recent, outcome];
  return next.length > keep ? next.slice(next.length - keep) : next;
}

/**
 * Whether the processor's recent outcomes (oldest first) pass the budget; `lastFailureByClass`
 * holds the latest failed date and message of each error class, shown as the example. Null: under
 * budget (or no budget).
 */
export function checkFailureBudget(
  processor: string,
  recent: readonly DateOutcome[],
  budget: FailureBudget | null,
  lastFailureByClass: Readonly<Record<string, { date: string; error: string }>>,
): FailureBudgetTrip | null {
  if (!budget) return null;
  if (budget.consecutive > 0 && recent.length >= budget.consecutive) {
    const row = recent.slice(recent.length - budget.consecutive);
    const first = row[0];
    if (first !== null && first !== undefined && row.every((o) => o === first)) {
      return trip('in_a_row', processor, budget.consecutive, budget.consecutive, first, lastFailureByClass[first]);
    }
  }
  if (budget.maxFailed > 0) {
    const window = recent.slice(Math.max(0, recent.length - budget.window));
    const failures = window.filter((o): o is string => o !== null);
    if (failures.length >= budget.maxFailed) {
      const counts = new Map<string, number>();
      for (const c of failures) counts.set(c, (counts.get(c) ?? 0) + 1);
      // Most frequent class; ties go to the most recent one.
      let common = failures[failures.length - 1]!;
      for (const c of [...failures].reverse()) if ((counts.get(c) ?? 0) > (counts.get(common) ?? 0)) common = c;
      return trip('window', processor, failures.length, window.length, common, lastFailureByClass[common]);
    }
  }
  return null;
}

function trip(
  kind: FailureBudgetTrip['kind'],
  processor: string,
  failed: number,
  of: number,
  errorClass: string,
  example: { date: string; error: string } | undefined,
): FailureBudgetTrip {
  const what = kind === 'in_a_row' ? `${failed} dates in a row failed with ${errorClass}` : `${failed} of its last ${of} finished dates failed, mostly ${errorClass}`;
  const shown = example ?? { date: '?', error: errorClass };
  return {
    kind,
    processor,
    failed,
    of,
    errorClass,
    example: shown,
    reason: `failure budget passed by ${processor}: ${what} (e.g. ${shown.date}: ${oneLine(shown.error)})`,
  };
}

function oneLine(s: string, max = 200): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Checks a budget's numbers; throws with one line naming what is wrong. */
export function validateFailureBudget(b: unknown): asserts b is FailureBudget | null {
  if (b === null) return;
  const x = b as Partial<FailureBudget> | undefined | null;
  const int = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
  if (!x || !int(x.maxFailed) || !int(x.window) || !int(x.consecutive)) {
    throw new Error('failure budget must be {maxFailed, window, consecutive} integers, or off');
  }
  if (x.window < 1 || x.window > MAX_FAILURE_WINDOW) throw new Error(`failure budget window must be from 1 to ${MAX_FAILURE_WINDOW}, got ${x.window}`);
  if (x.maxFailed < 0 || x.maxFailed > x.window) throw new Error(`failure budget: ${x.maxFailed} failed of the last ${x.window} is not possible (0 to ${x.window})`);
  if (x.consecutive < 0 || x.consecutive > MAX_FAILURE_WINDOW) throw new Error(`failure budget: in a row must be from 0 to ${MAX_FAILURE_WINDOW}, got ${x.consecutive}`);
  if (x.maxFailed === 0 && x.consecutive === 0) throw new Error('failure budget 0/N,0 never trips: say off');
}

/**
 * `--failure-budget`: `off`; `F/W` (F failed of the last W finished dates, with the default in-a-row
 * trip); `F/W,R` (and R in a row with the same error class). A 0 turns that trip off: `0/20,3`
 * trips only in a row, `5/20,0` only on the window.
 */
export function parseFailureBudget(text: string): FailureBudget | null {
  const s = text.trim().toLowerCase();
  if (s === 'off' || s === 'none') return null;
  const m = /^(\d+)\/(\d+)(?:,(\d+))?$/.exec(s);
  if (!m) throw new Error(`expected off, F/W or F/W,R (e.g. 5/20,3: 5 failed of the last 20 dates, or 3 in a row with the same error), got "${text}"`);
  const budget: FailureBudget = {
    maxFailed: Number(m[1]),
    window: Number(m[2]),
    consecutive: m[3] === undefined ? DEFAULT_FAILURE_BUDGET.consecutive : Number(m[3]),
  };
  validateFailureBudget(budget);
  return budget;
}

/** "5/20,3" / "off": the budget as the flag writes it. */
export function formatFailureBudget(b: FailureBudget | null): string {
  return b ? `${b.maxFailed}/${b.window},${b.consecutive}` : 'off';
}

/**
 * Contracts shared by workflows, activities and the CLI. Sandbox-safe: types and constants only.
 */
import type { DateOutcome, FailureBudget, FailureBudgetTrip } from './failure-budget';

export type { FailureBudget, FailureBudgetTrip } from './failure-budget';

export const DEFAULT_TASK_QUEUE = 'props-backfill';

/** Hard upper bound for a processor's window; the warehouse cap is the real limit on work. */
export const MAX_PROCESSOR_CONCURRENCY = 64;

export type GatePolicy = 'wait' | 'remediate';

export interface RetrySettings {
  /** Attempts per date, the first included. */
  maximumAttempts: number;
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
}

export const DEFAULT_RETRY: RetrySettings = {
  maximumAttempts: 5,
  initialIntervalMs: 2_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 60_000,
};

export interface SkippedDate {
  date: string;
  reason: string;
}

export interface DatePlan {
  processor: string;
  /** Dates to run, ascending. */
  dates: string[];
  /** Dates deliberately not run, each with its reason (bootstrap, declared needs). */
  skipped: SkippedDate[];
}

/** What one run of a processor workflow carries into the next (continue-as-new). */
export interface ProcessorCarriedState {
  /** Index into `dates` of the next date to launch; everything before it is done or failed. */
  cursor: number;
  done: number;
  rowsWritten: number;
  /** date → last error message, for dates that exhausted their retries. */
  failed: Record<string, string>;
  paused: boolean;
  concurrency: number;
  /** Workflow time of the first run's start. */
  startedAtMs: number;
  /** Completion times of the most recent dates (bounded), for the rate and ETA. */
  recentCompletionsMs: number[];
  /** How long each of the most recent dates held its warehouse slot, ms (bounded; absent in older runs). */
  recentWarehouseMs?: number[];
  runNumber: number;
  /** Outcomes of the last finished dates, oldest first (the failure budget's window). */
  recentOutcomes?: DateOutcome[];
  /** error class → its latest failed date and message (the budget's example). */
  lastFailureByClass?: Record<string, { date: string; error: string }>;
  /** Set while paused because the failure budget was passed; cleared by resume. */
  budgetTrip?: FailureBudgetTrip;
  /** Trips so far (numbers each trip). */
  budgetTrips?: number;
  /** Failed dates put back to run again (retry-failed while paused), launched before the cursor's. */
  requeued?: string[];
  /** Bytes billed by this processor's dates so far (all runs of this workflow). */
  bytesBilled?: number;
  /** The largest bill of one date so far: the estimate of the next one's. */
  maxDateBytes?: number;
  /** Cost control: cumulative bytes this workflow may spend (granted by the parent). */
  bytesAllowance?: number;
}

/**
 * How a processor's per-date activities are dispatched. Either way one date is one activity, one
 * retry unit and one checkpoint in the history.
 * - `activity`: a regular activity. Any worker may pick it up; it heartbeats, so a dead worker's
 *   date is retried elsewhere after the heartbeat time-out. Costs a few Temporal round trips per
 *   date — nothing next to a BigQuery date of seconds to minutes.
 * - `local`: a local activity, run by the worker holding the processor's workflow; its result is
 *   recorded as a marker with the workflow's next task (at the latest every
 *   LOCAL_DISPATCH_CHECKPOINT_MS). No round trip per date: the choice for an engine whose dates take
 *   milliseconds and that one process holds anyway (a DuckDB file). A worker killed mid-run loses
 *   the dates since the last checkpoint; they run again (every write is idempotent on its key).
 */
export type DateDispatch = 'activity' | 'local';
export const DATE_DISPATCHES: readonly DateDispatch[] = ['activity', 'local'];

/**
 * With local dispatch, the processor workflow's task time-out. The SDK completes a workflow task
 * that has local activities outstanding at 80% of it, so this bounds how often dates are
 * checkpointed, how stale the parent's view gets and how late a pause or a query is answered.
 */
export const LOCAL_DISPATCH_TASK_TIMEOUT_MS = 5_000;
export const LOCAL_DISPATCH_CHECKPOINT_MS = Math.floor(LOCAL_DISPATCH_TASK_TIMEOUT_MS * 0.8);

export interface ProcessorWorkflowInput {
  backfillId: string;
  processor: string;
  phase: number;
  dates: string[];
  skipped: SkippedDate[];
  concurrency: number;
  /** Start with no dates launched until resumed (the parent was paused when it started us). */
  startPaused?: boolean;
  retry?: RetrySettings;
  /**
   * Continue as new once this run's history reaches this many events (or the server suggests it
   * earlier). Tests force a small value.
   */
  historyEventLimit?: number;
  /** Start-to-close time-out of one date, ms. */
  dateTimeoutMs?: number;
  /** The BackfillId search attribute when not `backfillId`: a follow-up's processors list under the original. */
  listedUnder?: string;
  /** Pause when failures pass this budget; null: never; absent: DEFAULT_FAILURE_BUDGET. */
  failureBudget?: FailureBudget | null;
  /**
   * Set when the backfill has a cost budget: no date starts unless the bytes granted by the parent
   * cover it (src/shared/cost-budget.ts); the child asks the parent for more.
   */
  costControl?: { initialAllowance: number };
  /** Absent: `activity` (runs started before local dispatch existed). */
  dateDispatch?: DateDispatch;
  state?: ProcessorCarriedState;
}

export interface ProcessorProgress {
  processor: string;
  phase: number;
  /** pending: planned, its group not started yet. */
  status: 'pending' | 'running' | 'paused' | 'completed' | 'continuing';
  total: number;
  done: number;
  skipped: number;
  failed: number;
  inFlight: string[];
  concurrency: number;
  rowsWritten: number;
  /** Dates per minute over the recent window; null until two dates have finished. */
  ratePerMinute: number | null;
  etaSeconds: number | null;
  failures: Array<{ date: string; error: string }>;
  /** reason → number of dates skipped for it. */
  skipReasons: Record<string, number>;
  runNumber: number;
  /** Set while this processor is paused because its failures passed the budget. */
  budgetTrip?: FailureBudgetTrip;
  /** Bytes billed by its dates (BigQuery; 0 on DuckDB). */
  bytesBilled?: number;
  /** Mean time its recent dates held a warehouse slot, ms: the ETA's measure of a date's work. */
  warehouseMsPerDate?: number | null;
}

export interface ProcessorResult {
  processor: string;
  total: number;
  done: number;
  skipped: number;
  failed: Record<string, string>;
  rowsWritten: number;
  bytesBilled?: number;
}

export interface RunDateInput {
  backfillId: string;
  processor: string;
  date: string;
}

export interface RunDateResult {
  /**
   * The processor and date written, echoed: a local activity's marker in the history (and the Web
   * UI) shows its result but not its input. Absent from results recorded before.
   */
  processor?: string;
  date?: string;
  rowsWritten: number;
  /** Bytes billed by the date's jobs (the engine's job statistics; 0 where nothing is billed). */
  bytesBilled?: number;
  /** How long the date held its warehouse slot, ms. */
  warehouseMs?: number;
}

export interface BackfillRequest {
  from: string;
  to: string;
  phases: number[];
  /** Restrict to these processors (names); all of the phases' processors when absent. */
  processors?: string[];
  concurrency: number;
  gatePolicy: GatePolicy;
  retry?: RetrySettings;
  historyEventLimit?: number;
  bootstrapDays?: number;
  /**
   * Field-coverage minimums overriding the processors' defaults ("table.column" → 0..1), checked
   * at start. They travel with the request, so every worker judges the gates alike and the history
   * records what they were.
   */
  gateThresholds?: Record<string, number>;
  /** The failure budget of every processor: absent → DEFAULT_FAILURE_BUDGET, null → off. */
  failureBudget?: FailureBudget | null;
  /** Pause before the bytes billed by the backfill's dates would pass this many (absent: no budget). */
  maxBytesBilledTotal?: number;
  /** How each date's activity is dispatched (see DateDispatch); absent: `activity`. */
  dateDispatch?: DateDispatch;
}

/**
 * A follow-up: a later execution of backfillWorkflow, linked to an earlier backfill (`of`, always
 * the original, never another follow-up), that re-runs some of its dates and validates again. It
 * runs the original's request (range, phases, processors, gate policy, thresholds) with these dates.
 */
export type FollowUpSpec = {
  of: string;
  /** processor → dates to re-run, as the original's history recorded them (failed, or not run). */
  dates: Record<string, string[]>;
} & (
  | { kind: 'retry-failed' }
  /** Validates the phase first and re-runs what that gate finds too: the tables may have changed since. */
  | { kind: 'retry-phase'; phase: number }
);

/**
 * The workflow's input: the request plus its ID. A follow-up's `followUp` is not part of the
 * operator's request (it would change what `backfillIdFor` means); it is added when one is started.
 */
export interface BackfillInput extends BackfillRequest {
  backfillId: string;
  followUp?: FollowUpSpec;
}

export interface FieldCoverageResult {
  column: string;
  coverage: number | null;
  min: number;
  ok: boolean;
  note?: string;
}

export interface TableGateResult {
  processor: string;
  table: string;
  expectedDates: number;
  actualDates: number;
  /** Expected dates with no rows and no failure recorded. */
  missingDates: string[];
  /** Dates with rows that the plan skipped (should be none). */
  unexpectedDates: string[];
  skippedDates: number;
  skipReasons: Record<string, number>;
  duplicateKeys: number;
  /** Dates holding duplicate keys: re-running them (delete + insert) repairs them. */
  duplicateDates: string[];
  rows: number;
  fieldCoverage: FieldCoverageResult[];
  failedDates: Array<{ date: string; error: string }>;
  ok: boolean;
  problems: string[];
}

export interface PhaseGateReport {
  phase: number;
  from: string;
  to: string;
  checkedAt: string;
  ok: boolean;
  tables: TableGateResult[];
  /** One line per problem, for humans. */
  problems: string[];
}

export type BackfillStage =
  | { kind: 'planning' }
  | { kind: 'running'; phase: number; group: number }
  | { kind: 'validating'; phase: number }
  | { kind: 'gate_failed'; phase: number }
  | { kind: 'remediating'; phase: number }
  | { kind: 'completed' };

export interface BackfillProgress {
  backfillId: string;
  from: string;
  to: string;
  phases: number[];
  paused: boolean;
  concurrency: number;
  gatePolicy: GatePolicy;
  stage: BackfillStage;
  processors: ProcessorProgress[];
  gates: PhaseGateReport[];
  /** Seconds until the whole backfill ends (all phases), null until a rate is known. */
  etaSeconds: number | null;
  /** The threshold overrides the gates judge by (the processors' defaults for the rest). */
  gateThresholds?: Record<string, number>;
  /** The request's phases and groups in order (for recomputing the ETA from fresher numbers). */
  pipeline?: Array<{ phase: number; groups: string[][] }>;
  /** Set on a follow-up: what it re-runs, and of which backfill. */
  followUp?: FollowUpSpec;
  /** Why it is paused, when it paused itself (absent: running, or paused by an operator). */
  pauseReason?: PauseReason;
  /** The failure budget in force (null: off). */
  failureBudget?: FailureBudget | null;
  /** How the dates' activities are dispatched (absent: `activity`). */
  dateDispatch?: DateDispatch;
  /** Bytes billed so far and the budget, when known. */
  cost?: CostStatus;
}

/** The BackfillStatus search attribute of a backfill (or processor) that paused itself. */
export type SelfPauseStatus = 'paused_failures' | 'paused_cost';

export type PauseReason =
  | { kind: 'failures'; status: 'paused_failures'; trip: FailureBudgetTrip }
  | { kind: 'cost'; status: 'paused_cost'; reason: string; cost: CostStatus };

export interface CostStatus {
  /** Bytes billed by the backfill's dates so far (finished runs plus the latest reports of running ones). */
  spentBytes: number;
  /** The budget; null when none is set. */
  budgetBytes: number | null;
  /** Dates that billed, and the mean bill per date. */
  datesBilled: number;
  avgBytesPerDate: number | null;
  /** Dates not run yet, and what they should bill at the mean. */
  remainingDates: number;
  remainingEstimateBytes: number | null;
}

export interface BackfillResult {
  backfillId: string;
  /** A backfill that fails ends as a failed workflow (its result() throws), never as a result. */
  status: 'completed';
  processors: ProcessorResult[];
  gates: PhaseGateReport[];
  /** Set on a follow-up: its spec and the dates it re-ran per processor (within the plan). */
  followUp?: FollowUpSpec & { rerun: Record<string, string[]> };
}

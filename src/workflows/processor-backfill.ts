/**
 * processorBackfillWorkflow — one processor over a list of dates.
 *
 * Durability: every per-date write is an activity with its own retry policy, and the workflow's
 * only state is a cursor into the date list plus compact counters and the failed dates' messages.
 * A worker killed mid-run loses nothing: Temporal replays this history on another worker, the
 * in-flight activities time out or finish there, and completed dates are never run again.
 *
 * History size: each date costs a handful of events. Before the history nears the server's
 * continue-as-new suggestion (or `historyEventLimit`), the workflow stops launching, drains the
 * window (activities cannot outlive their run) and continues as new carrying only
 * ProcessorCarriedState. No run grows past a few thousand events, however many dates there are.
 *
 * Steering itself: when its failures pass the failure budget (src/shared/failure-budget.ts) it
 * pauses and tells the parent at once, which pauses the whole backfill; with a cost budget it
 * launches a date only when the bytes the parent granted cover it (src/shared/cost-budget.ts).
 */
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import {
  childProgressSignal,
  costAllowanceSignal,
  costRequestSignal,
  pauseSignal,
  requeueFailedSignal,
  processorProgressQuery,
  resumeSignal,
  setConcurrencySignal,
  setConcurrencyUpdate,
} from '../shared/messages';
import {
  BACKFILL_ID,
  BACKFILL_PHASE,
  BACKFILL_PROCESSOR,
  BACKFILL_PROGRESS,
  BACKFILL_STATUS,
} from '../shared/search-attributes';
import {
  DEFAULT_RETRY,
  MAX_PROCESSOR_CONCURRENCY,
  type ProcessorCarriedState,
  type ProcessorProgress,
  type ProcessorResult,
  type ProcessorWorkflowInput,
} from '../shared/types';
import { NON_RETRYABLE_ERROR_TYPES } from '../shared/errors';
import { checkFailureBudget, DEFAULT_FAILURE_BUDGET, recordOutcome, type FailureBudgetTrip } from '../shared/failure-budget';
import { mayLaunchDate, shortfall, type ChildCostState } from '../shared/cost-budget';

/**
 * A date's activity heartbeats every 5 s (the SDK passes one on to the server at most every 80 % of
 * this, 12 s); a worker that died mid-date is noticed within this, and the date retried elsewhere.
 * The same as SLOT_LEASE_MS, so the dead worker's warehouse slots are free by then too.
 */
export const DATE_HEARTBEAT_TIMEOUT_MS = 15_000;

/** Runs started before this patch complete or continue as new without waiting for their reports' delivery. */
export const REPORTS_DELIVERED_PATCH = 'await-parent-reports';

/** Well under the server's ~4k-event suggestion and far from its 10k warning. */
export const DEFAULT_HISTORY_EVENT_LIMIT = 3_000;
const RECENT_COMPLETIONS_KEPT = 50;

export function validateConcurrency(n: unknown): void {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_PROCESSOR_CONCURRENCY) {
    throw new Error(`concurrency must be an integer from 1 to ${MAX_PROCESSOR_CONCURRENCY}, got ${String(n)}`);
  }
}

export async function processorBackfillWorkflow(input: ProcessorWorkflowInput): Promise<ProcessorResult> {
  const retry = input.retry ?? DEFAULT_RETRY;
  const historyLimit = input.historyEventLimit ?? DEFAULT_HISTORY_EVENT_LIMIT;
  const state: ProcessorCarriedState = input.state ?? {
    cursor: 0,
    done: 0,
    rowsWritten: 0,
    failed: {},
    paused: input.startPaused ?? false,
    concurrency: input.concurrency,
    startedAtMs: Date.now(),
    recentCompletionsMs: [],
    runNumber: 1,
  };
  const inFlight = new Set<string>();
  let draining = false;
  let lastReportedPct = -1;
  const failureBudget = input.failureBudget === undefined ? DEFAULT_FAILURE_BUDGET : input.failureBudget;
  const costControl = input.costControl;
  if (costControl && state.bytesAllowance === undefined) state.bytesAllowance = costControl.initialAllowance;
  /** A cost request is out and no grant has answered it yet. */
  let costAsked = false;

  const dateRetry = {
    maximumAttempts: retry.maximumAttempts,
    initialInterval: retry.initialIntervalMs,
    backoffCoefficient: retry.backoffCoefficient,
    maximumInterval: retry.maximumIntervalMs,
    nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
  };
  const startToCloseTimeout = input.dateTimeoutMs ?? 30 * 60_000;
  // One date, one activity either way (see DateDispatch): a regular one, or a local one run by
  // this workflow's worker with no round trip to the server per date.
  const { runProcessorForDate } =
    input.dateDispatch === 'local'
      ? proxyLocalActivities<ReturnType<typeof createActivities>>({ startToCloseTimeout, retry: dateRetry })
      : proxyActivities<ReturnType<typeof createActivities>>({ startToCloseTimeout, heartbeatTimeout: DATE_HEARTBEAT_TIMEOUT_MS, retry: dateRetry });

  const total = input.dates.length;
  const finishedCount = (): number => state.done + Object.keys(state.failed).length;
  const requeued = (): string[] => state.requeued ?? [];
  const allLaunched = (): boolean => state.cursor >= total && requeued().length === 0;
  const finished = (): boolean => allLaunched() && inFlight.size === 0;
  const historyNearLimit = (): boolean => {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength >= historyLimit;
  };

  const progress = (): ProcessorProgress => {
    const remaining = total - finishedCount();
    const ratePerMinute = rateOf(state.recentCompletionsMs);
    const skipReasons: Record<string, number> = {};
    for (const s of input.skipped) skipReasons[s.reason] = (skipReasons[s.reason] ?? 0) + 1;
    return {
      processor: input.processor,
      phase: input.phase,
      status: finished() ? 'completed' : draining ? 'continuing' : state.paused ? 'paused' : 'running',
      total: total + input.skipped.length,
      done: state.done,
      skipped: input.skipped.length,
      failed: Object.keys(state.failed).length,
      inFlight: [...inFlight].sort(),
      concurrency: state.concurrency,
      rowsWritten: state.rowsWritten,
      ratePerMinute,
      etaSeconds: ratePerMinute && ratePerMinute > 0 ? Math.round((remaining / ratePerMinute) * 60) : null,
      failures: Object.entries(state.failed).map(([date, error]) => ({ date, error })),
      skipReasons,
      runNumber: state.runNumber,
      bytesBilled: state.bytesBilled ?? 0,
      warehouseMsPerDate: meanOf(state.recentWarehouseMs ?? []),
      ...(state.budgetTrip ? { budgetTrip: state.budgetTrip } : {}),
    };
  };

  const costState = (): ChildCostState => ({
    spentBytes: state.bytesBilled ?? 0,
    allowanceBytes: state.bytesAllowance ?? 0,
    maxDateBytes: state.maxDateBytes,
    inFlight: inFlight.size,
  });
  const costAllows = (): boolean => !costControl || mayLaunchDate(costState());
  /** Blocked by its allowance alone (not by the first date's probe running alone): ask the parent. */
  const needsCostGrant = (): boolean =>
    costControl !== undefined &&
    !costAsked &&
    !state.paused &&
    !allLaunched() &&
    inFlight.size < state.concurrency &&
    !(state.maxDateBytes === undefined && inFlight.size > 0) &&
    shortfall(costState()) > 0;

  const describeNow = (): void => {
    const p = progress();
    const pct = total === 0 ? 100 : Math.floor((finishedCount() / total) * 100);
    setCurrentDetails(
      `**${input.processor}** (phase ${input.phase}) — ${p.status}: ${p.done}/${total} dates done, ` +
        `${p.failed} failed, ${p.skipped} skipped, ${inFlight.size}/${state.concurrency} in flight` +
        (p.etaSeconds !== null ? `, ETA ${Math.round(p.etaSeconds / 60)} min` : '') +
        ` (run ${state.runNumber})` +
        (state.budgetTrip ? `\n\nPAUSED — ${state.budgetTrip.reason}. Fix the cause, then retry-failed and resume.` : ''),
    );
    // Each upsert and each report to the parent is a history event: 5% steps only.
    if (pct >= lastReportedPct + 5 || (pct === 100 && lastReportedPct !== 100)) {
      lastReportedPct = pct;
      upsertSearchAttributes([{ key: BACKFILL_PROGRESS, value: pct }]);
      reportToParent(p);
    }
  };

  /** Reports to the parent sent but not yet recorded as delivered (ExternalWorkflowExecutionSignaled). */
  let reportsInFlight = 0;
  const reportToParent = (p: ProcessorProgress): void => {
    const parent = workflowInfo().parent;
    if (!parent) return;
    // Fire and forget: a lost report only makes the parent's view a little stale.
    reportsInFlight += 1;
    void getExternalWorkflowHandle(parent.workflowId)
      .signal(childProgressSignal, p)
      .catch((err: unknown) => log.debug('progress report to parent failed', { error: String(err) }))
      .finally(() => (reportsInFlight -= 1));
  };
  /**
   * Before the run completes or continues as new, wait until every report's delivery is in the
   * history. A delivery recorded while the run's last task is open makes the server reject the
   * completion (UnhandledCommand: a new event arrived) — and with it every date recorded since the
   * last checkpoint, which the replay then runs again: 1,020 of the full bench's 11,333 dates ran
   * twice that way, every processor losing the last seconds of its run.
   */
  const reportsDelivered = async (): Promise<void> => {
    if (patched(REPORTS_DELIVERED_PATCH)) await condition(() => reportsInFlight === 0);
  };

  const setStatus = (status: string): void => {
    upsertSearchAttributes([{ key: BACKFILL_STATUS, value: status }]);
  };

  setHandler(processorProgressQuery, progress);
  setHandler(pauseSignal, () => {
    if (!state.paused) {
      state.paused = true;
      log.info('paused: no new dates will start', { backfill: input.backfillId, processor: input.processor });
      setStatus('paused');
      describeNow();
      if (costControl && inFlight.size === 0) reportToParent(progress());
    }
  });
  setHandler(resumeSignal, () => {
    if (state.paused) {
      state.paused = false;
      if (state.budgetTrip) {
        // The operator has judged the failures: the budget counts afresh from here.
        delete state.budgetTrip;
        state.recentOutcomes = [];
      }
      log.info('resumed', { backfill: input.backfillId, processor: input.processor });
      setStatus('running');
      describeNow();
    }
  });
  const changeConcurrency = (n: number): number => {
    const previous = state.concurrency;
    state.concurrency = n;
    log.info('concurrency changed', { backfill: input.backfillId, processor: input.processor, previous, n });
    describeNow();
    return previous;
  };
  setHandler(setConcurrencyUpdate, changeConcurrency, { validator: validateConcurrency });
  setHandler(requeueFailedSignal, () => {
    const dates = Object.keys(state.failed).sort();
    if (dates.length === 0) return;
    state.requeued = [...requeued(), ...dates];
    for (const d of dates) delete state.failed[d];
    log.info('failed dates put back to run', { backfill: input.backfillId, processor: input.processor, dates: dates.length });
    describeNow();
    reportToParent(progress());
  });
  setHandler(costAllowanceSignal, (allowance: number) => {
    if (typeof allowance !== 'number' || !(allowance > (state.bytesAllowance ?? 0))) return;
    state.bytesAllowance = allowance;
    costAsked = false;
  });
  // Forwarded by the parent, which validated the value in its own update.
  setHandler(setConcurrencySignal, (n: number) => {
    if (Number.isInteger(n) && n >= 1 && n <= MAX_PROCESSOR_CONCURRENCY) changeConcurrency(n);
  });

  if (state.runNumber === 1) {
    upsertSearchAttributes([
      { key: BACKFILL_ID, value: input.listedUnder ?? input.backfillId },
      { key: BACKFILL_PROCESSOR, value: input.processor },
      { key: BACKFILL_PHASE, value: input.phase },
      { key: BACKFILL_STATUS, value: state.paused ? 'paused' : 'running' },
    ]);
  }
  describeNow();

  /** The failure budget is passed: no new date starts here, and the parent hears of it now. */
  const tripFailureBudget = (trip: FailureBudgetTrip): void => {
    state.paused = true;
    state.budgetTrips = (state.budgetTrips ?? 0) + 1;
    state.budgetTrip = { ...trip, seq: state.budgetTrips };
    log.warn('failure budget passed: paused', { backfill: input.backfillId, processor: input.processor, reason: trip.reason });
    setStatus('paused_failures');
    reportToParent(progress());
  };

  const runDate = async (date: string): Promise<void> => {
    try {
      const result = await runProcessorForDate({ backfillId: input.backfillId, processor: input.processor, date });
      state.done += 1;
      state.rowsWritten += result.rowsWritten;
      const billed = result.bytesBilled ?? 0;
      if (billed > 0 || costControl) {
        state.bytesBilled = (state.bytesBilled ?? 0) + billed;
        state.maxDateBytes = Math.max(state.maxDateBytes ?? 0, billed);
      }
      state.recentCompletionsMs.push(Date.now());
      if (state.recentCompletionsMs.length > RECENT_COMPLETIONS_KEPT) state.recentCompletionsMs.shift();
      if (result.warehouseMs !== undefined) {
        state.recentWarehouseMs = [...(state.recentWarehouseMs ?? []), result.warehouseMs].slice(-RECENT_COMPLETIONS_KEPT);
      }
      state.recentOutcomes = recordOutcome(state.recentOutcomes ?? [], null, failureBudget);
    } catch (err) {
      if (isCancellation(err)) throw err;
      const message = failureMessage(err);
      state.failed[date] = message;
      log.warn('date failed after retries; the rest go on', {
        backfill: input.backfillId,
        processor: input.processor,
        date,
        error: message,
      });
      const errorClass = failureType(err);
      state.recentOutcomes = recordOutcome(state.recentOutcomes ?? [], errorClass, failureBudget);
      state.lastFailureByClass = { ...state.lastFailureByClass, [errorClass]: { date, error: message } };
      if (!state.paused && !state.budgetTrip) {
        const trip = checkFailureBudget(input.processor, state.recentOutcomes, failureBudget, state.lastFailureByClass);
        // Histories from before the budget existed went on launching here.
        if (trip && patched('failure-budget')) tripFailureBudget(trip);
      }
    } finally {
      inFlight.delete(date);
      describeNow();
      // Held (paused, or waiting for bytes) with a cost budget: once the window has drained, the
      // parent's figures get the final bill.
      if (costControl && (state.paused || costAsked) && inFlight.size === 0) reportToParent(progress());
    }
  };

  for (;;) {
    await condition(
      () =>
        finished() ||
        historyNearLimit() ||
        needsCostGrant() ||
        (!state.paused && !allLaunched() && inFlight.size < state.concurrency && costAllows()),
    );
    if (finished()) break;
    if (!historyNearLimit() && needsCostGrant()) {
      const parent = workflowInfo().parent;
      if (!parent) {
        // Run on its own (no parent to grant bytes): its allowance is all it has.
        costAsked = true;
        continue;
      }
      costAsked = true;
      const c = costState();
      log.info('asking the backfill for bytes to bill', { backfill: input.backfillId, processor: input.processor, spent: c.spentBytes, allowance: c.allowanceBytes });
      await getExternalWorkflowHandle(parent.workflowId)
        .signal(costRequestSignal, {
          processor: input.processor,
          childId: workflowInfo().workflowId,
          spentBytes: c.spentBytes,
          allowanceBytes: c.allowanceBytes,
          estimatePerDate: state.maxDateBytes ?? 0,
          inFlight: c.inFlight,
          remainingDates: total - state.cursor + requeued().length,
        })
        .catch((err: unknown) => log.warn('cost request to parent failed', { backfill: input.backfillId, processor: input.processor, error: String(err) }));
      continue;
    }
    if (historyNearLimit()) {
      // Activities belong to this run: drain the window before handing over to the next one.
      draining = true;
      describeNow();
      await condition(() => inFlight.size === 0);
      if (finished()) break;
      await condition(allHandlersFinished);
      await reportsDelivered();
      log.info('continuing as new', {
        backfill: input.backfillId,
        processor: input.processor,
        cursor: state.cursor,
        historyLength: workflowInfo().historyLength,
      });
      await continueAsNew<typeof processorBackfillWorkflow>({
        ...input,
        state: { ...state, runNumber: state.runNumber + 1 },
      });
    }
    // Dates put back by retry-failed go first.
    const again = requeued();
    const date = again.length > 0 ? again[0] : input.dates[state.cursor];
    if (again.length > 0) state.requeued = again.slice(1);
    else state.cursor += 1;
    if (date === undefined) continue;
    inFlight.add(date);
    // A cancelled date rejects with the cancellation (runDate records every other error); the
    // workflow's own wait ends with it too, so here it is dropped, not left unhandled — an
    // unhandled rejection fails the workflow task ("Unhandled Promise rejection").
    void runDate(date).catch((err: unknown) => {
      if (!isCancellation(err)) throw err;
    });
  }

  await condition(allHandlersFinished);
  setStatus(Object.keys(state.failed).length > 0 ? 'completed_with_failures' : 'completed');
  describeNow();
  await reportsDelivered();
  return {
    processor: input.processor,
    total: total + input.skipped.length,
    done: state.done,
    skipped: input.skipped.length,
    failed: state.failed,
    rowsWritten: state.rowsWritten,
    ...(state.bytesBilled !== undefined ? { bytesBilled: state.bytesBilled } : {}),
  };
}

function meanOf(xs: readonly number[]): number | null {
  return xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;
}

function rateOf(completions: readonly number[]): number | null {
  const first = completions[0];
  const last = completions[completions.length - 1];
  if (completions.length < 2 || first === undefined || last === undefined || last <= first) return null;
  return ((completions.length - 1) / (last - first)) * 60_000;
}

/** The failure's type (its error class, e.g. MissingInputError), as the retry policy sees it. */
export function failureType(err: unknown): string {
  let e: unknown = err;
  while (e instanceof ActivityFailure && e.cause) e = e.cause;
  if (e instanceof ApplicationFailure && e.type) return e.type;
  return e instanceof Error ? e.name : 'Error';
}

/** The innermost message: "activity failed" wrappers say nothing an operator can act on. */
export function failureMessage(err: unknown): string {
  let e: unknown = err;
  while (e instanceof ActivityFailure && e.cause) e = e.cause;
  if (e instanceof ApplicationFailure) return e.type ? `${e.type}: ${e.message}` : e.message;
  return e instanceof Error ? e.message : String(e);
}

/**
 * backfillWorkflow — the whole request: phases in order, groups in order inside a phase, the
 * processors of a group concurrently as child workflows (`<backfill-id>/<processor>`), and after
 * each phase a gate (a validation activity) that must pass before the next phase starts by itself.
 *
 * History size: the parent records a few events per processor (plan, child start, child result,
 * 5% progress reports) and a few per gate, so it stays small however many dates there are — the
 * per-date work lives in the children, which continue as new on their own.
 *
 * Restarts: nothing here depends on a process staying alive. A worker restart replays this history;
 * children keep running (or resume on another worker); a waiting gate keeps waiting for its signal.
 */
import {
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  executeChild,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import {
  approveGateSignal,
  backfillProgressQuery,
  childProgressSignal,
  gateReportsQuery,
  pauseSignal,
  resumeSignal,
  retryFailedSignal,
  retryPhaseSignal,
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
import type {
  BackfillInput,
  BackfillProgress,
  BackfillResult,
  BackfillStage,
  DatePlan,
  PhaseGateReport,
  ProcessorProgress,
  ProcessorResult,
} from '../shared/types';
import { processorBackfillWorkflow, validateConcurrency } from './processor-backfill';

export async function backfillWorkflow(input: BackfillInput): Promise<BackfillResult> {
  const backfillId = input.backfillId;
  const bootstrapDays = input.bootstrapDays ?? 14;
  let paused = false;
  let concurrency = input.concurrency;
  let stage: BackfillStage = { kind: 'planning' };
  const gates: PhaseGateReport[] = [];
  /** processor → latest progress (child reports, then the final result). */
  const progressByProcessor = new Map<string, ProcessorProgress>();
  /** processor → merged result of its runs (first run and retries). */
  const results = new Map<string, ProcessorResult>();
  const runningChildren = new Set<string>();
  let gateDecision: 'approve' | 'retry-phase' | 'retry-failed' | undefined;
  let retryRound = 0;

  const { describePipeline } = proxyActivities<ReturnType<typeof createActivities>>({
    startToCloseTimeout: '1 minute',
    retry: { maximumAttempts: 3 },
  });
  const { planProcessorDates, validatePhase, deduplicateTable } = proxyActivities<ReturnType<typeof createActivities>>({
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '1 minute',
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
  });

  const progress = (): BackfillProgress => {
    const processors = [...progressByProcessor.values()];
    const etas = processors.filter((p) => p.status !== 'completed').map((p) => p.etaSeconds);
    return {
      backfillId,
      from: input.from,
      to: input.to,
      phases: input.phases,
      paused,
      concurrency,
      gatePolicy: input.gatePolicy,
      stage,
      processors,
      gates,
      etaSeconds: etas.length > 0 && etas.every((e) => e !== null) ? Math.max(...(etas)) : null,
    };
  };

  const setStage = (next: BackfillStage): void => {
    stage = next;
    const status = next.kind === 'running' && paused ? 'paused' : next.kind;
    const attrs: Parameters<typeof upsertSearchAttributes>[0] = [{ key: BACKFILL_STATUS, value: status }];
    if ('phase' in next) attrs.push({ key: BACKFILL_PHASE, value: next.phase });
    upsertSearchAttributes(attrs);
    describe();
  };

  const describe = (): void => {
    const lines = [...progressByProcessor.values()].map(
      (p) => `- ${p.processor}: ${p.done}/${p.total - p.skipped} done, ${p.failed} failed, ${p.skipped} skipped (${p.status})`,
    );
    const head =
      stage.kind === 'running'
        ? `Phase ${stage.phase}, group ${stage.group}${paused ? ' — PAUSED' : ''}`
        : stage.kind === 'gate_failed'
          ? `Phase ${stage.phase} gate FAILED — waiting for approve-gate / retry-phase / cancel`
          : stage.kind.replace('_', ' ');
    setCurrentDetails(`**${backfillId}** ${input.from} → ${input.to}: ${head}\n\n${lines.join('\n')}`);
  };

  const forward = async (send: (childId: string) => Promise<void>): Promise<void> => {
    await Promise.all(
      [...runningChildren].map((id) =>
        send(id).catch((err: unknown) => log.warn('could not forward signal to child', { childId: id, error: String(err) })),
      ),
    );
  };

  setHandler(backfillProgressQuery, progress);
  setHandler(gateReportsQuery, () => gates);
  setHandler(childProgressSignal, (p: ProcessorProgress) => {
    progressByProcessor.set(p.processor, p);
    const all = [...progressByProcessor.values()];
    const total = all.reduce((n, x) => n + x.total - x.skipped, 0);
    const finished = all.reduce((n, x) => n + x.done + x.failed, 0);
    if (total > 0) upsertSearchAttributes([{ key: BACKFILL_PROGRESS, value: Math.floor((finished / total) * 100) }]);
    describe();
  });
  setHandler(pauseSignal, async () => {
    if (paused) return;
    paused = true;
    describe();
    await forward((id) => getExternalWorkflowHandle(id).signal(pauseSignal));
  });
  setHandler(resumeSignal, async () => {
    if (!paused) return;
    paused = false;
    describe();
    await forward((id) => getExternalWorkflowHandle(id).signal(resumeSignal));
  });
  setHandler(
    setConcurrencyUpdate,
    async (n: number) => {
      const previous = concurrency;
      concurrency = n;
      await forward((id) => getExternalWorkflowHandle(id).signal(setConcurrencySignal, n));
      describe();
      return previous;
    },
    { validator: validateConcurrency },
  );
  const decide = (decision: NonNullable<typeof gateDecision>) => (): void => {
    if (stage.kind === 'gate_failed') gateDecision = decision;
    else log.warn('gate decision ignored: no gate is waiting', { backfill: backfillId, decision, stage: stage.kind });
  };
  setHandler(approveGateSignal, decide('approve'));
  setHandler(retryPhaseSignal, decide('retry-phase'));
  setHandler(retryFailedSignal, decide('retry-failed'));

  upsertSearchAttributes([
    { key: BACKFILL_ID, value: backfillId },
    { key: BACKFILL_STATUS, value: 'planning' },
  ]);

  /** Runs one processor over `dates` as a child workflow and merges its outcome into `results`. */
  const runProcessor = async (phase: number, processor: string, plan: DatePlan, childSuffix: string): Promise<void> => {
    const childId = `${backfillId}/${processor}${childSuffix}`;
    runningChildren.add(childId);
    try {
      const result = await executeChild(processorBackfillWorkflow, {
        workflowId: childId,
        args: [
          {
            backfillId,
            processor,
            phase,
            dates: plan.dates,
            skipped: plan.skipped,
            concurrency,
            startPaused: paused,
            retry: input.retry,
            historyEventLimit: input.historyEventLimit,
          },
        ],
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        typedSearchAttributes: [
          { key: BACKFILL_ID, value: backfillId },
          { key: BACKFILL_PROCESSOR, value: processor },
          { key: BACKFILL_PHASE, value: phase },
          { key: BACKFILL_STATUS, value: 'running' },
        ],
        staticSummary: `${processor} (phase ${phase}) for ${backfillId}: ${plan.dates.length} dates, ${plan.skipped.length} skipped`,
      });
      const previous = results.get(processor);
      results.set(processor, previous ? mergeRetry(previous, result) : result);
      const merged = results.get(processor) as ProcessorResult;
      progressByProcessor.set(processor, finalProgress(phase, merged, plan, progressByProcessor.get(processor)));
    } finally {
      runningChildren.delete(childId);
      describe();
    }
  };

  const pipeline = await describePipeline({ phases: input.phases, processors: input.processors });

  for (const phasePlan of pipeline) {
    const phase = phasePlan.phase;
    for (const [gi, group] of phasePlan.groups.entries()) {
      await condition(() => !paused);
      setStage({ kind: 'running', phase, group: gi + 1 });
      await Promise.all(
        group.map(async (processor) => {
          const plan = await planProcessorDates({ processor, from: input.from, to: input.to, bootstrapDays });
          progressByProcessor.set(processor, initialProgress(phase, plan));
          await runProcessor(phase, processor, plan, '');
        }),
      );
    }

    // The gate: validate, and on failure remediate or wait for an operator, until it passes or is approved.
    const processorsOfPhase = phasePlan.groups.flat();
    let remediated = false;
    for (;;) {
      setStage({ kind: 'validating', phase });
      const failed: Record<string, Record<string, string>> = {};
      for (const p of processorsOfPhase) failed[p] = results.get(p)?.failed ?? {};
      const report = await validatePhase({
        phase,
        from: input.from,
        to: input.to,
        processors: processorsOfPhase,
        failedDates: failed,
        bootstrapDays,
      });
      gates.push(report);
      if (report.ok) break;

      if (input.gatePolicy === 'remediate' && !remediated) {
        remediated = true;
        setStage({ kind: 'remediating', phase });
        for (const t of report.tables.filter((x) => x.duplicateKeys > 0)) {
          await deduplicateTable({ processor: t.processor, from: input.from, to: input.to });
        }
        await rerun(phase, report, 'missing-and-failed');
        continue;
      }

      gateDecision = undefined;
      setStage({ kind: 'gate_failed', phase });
      log.warn('phase gate failed; waiting for an operator', { backfill: backfillId, phase, problems: report.problems });
      await condition(() => gateDecision !== undefined);
      const decision = gateDecision;
      gateDecision = undefined;
      if (decision === 'approve') {
        log.info('gate approved by operator', { backfill: backfillId, phase });
        break;
      }
      await rerun(phase, report, decision === 'retry-failed' ? 'failed' : 'missing-and-failed');
    }
  }

  async function rerun(phase: number, report: PhaseGateReport, which: 'failed' | 'missing-and-failed'): Promise<void> {
    retryRound += 1;
    setStage({ kind: 'running', phase, group: 0 });
    await Promise.all(
      report.tables.map(async (t) => {
        const dates = new Set(t.failedDates.map((f) => f.date));
        if (which === 'missing-and-failed') {
          for (const d of t.missingDates) dates.add(d);
          // Re-running a date replaces its rows, which also clears its duplicate keys.
          for (const d of t.duplicateDates ?? []) dates.add(d);
        }
        if (dates.size === 0) return;
        const previous = results.get(t.processor);
        if (previous) {
          // Dates being re-run are no longer failures unless they fail again.
          const stillFailed = { ...previous.failed };
          for (const d of dates) delete stillFailed[d];
          results.set(t.processor, { ...previous, failed: stillFailed });
        }
        await runProcessor(
          phase,
          t.processor,
          { processor: t.processor, dates: [...dates].sort(), skipped: [] },
          `/retry-${retryRound}`,
        );
      }),
    );
  }

  setStage({ kind: 'completed' });
  upsertSearchAttributes([{ key: BACKFILL_PROGRESS, value: 100 }]);
  await condition(allHandlersFinished);
  return { backfillId, status: 'completed', processors: [...results.values()], gates };
}

function initialProgress(phase: number, plan: DatePlan): ProcessorProgress {
  const skipReasons: Record<string, number> = {};
  for (const s of plan.skipped) skipReasons[s.reason] = (skipReasons[s.reason] ?? 0) + 1;
  return {
    processor: plan.processor,
    phase,
    status: 'running',
    total: plan.dates.length + plan.skipped.length,
    done: 0,
    skipped: plan.skipped.length,
    failed: 0,
    inFlight: [],
    concurrency: 0,
    rowsWritten: 0,
    ratePerMinute: null,
    etaSeconds: null,
    failures: [],
    skipReasons,
    runNumber: 1,
  };
}

function finalProgress(
  phase: number,
  result: ProcessorResult,
  plan: DatePlan,
  last: ProcessorProgress | undefined,
): ProcessorProgress {
  const failures = Object.entries(result.failed).map(([date, error]) => ({ date, error }));
  return {
    processor: result.processor,
    phase,
    status: 'completed',
    total: result.total,
    done: result.done,
    skipped: result.skipped,
    failed: failures.length,
    inFlight: [],
    concurrency: last?.concurrency ?? 0,
    rowsWritten: result.rowsWritten,
    ratePerMinute: last?.ratePerMinute ?? null,
    etaSeconds: 0,
    failures,
    skipReasons: last?.skipReasons ?? initialProgress(phase, plan).skipReasons,
    runNumber: last?.runNumber ?? 1,
  };
}

/** A retry run covers only some dates: its successes move them from failed to done. */
function mergeRetry(previous: ProcessorResult, retry: ProcessorResult): ProcessorResult {
  return {
    processor: previous.processor,
    total: previous.total,
    done: previous.done + retry.done,
    skipped: previous.skipped,
    failed: { ...previous.failed, ...retry.failed },
    rowsWritten: previous.rowsWritten + retry.rowsWritten,
  };
}


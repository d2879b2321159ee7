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
 *
 * Follow-ups: an execution whose input carries `followUp` re-runs some dates of an earlier backfill
 * (`backfill retry-failed|retry-phase` once it has ended) — planned like the original, run
 * processor by processor in the same phase and group order, then gated the same way. It carries the
 * original's BackfillId search attribute, so the two are listed together.
 */
import {
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  executeChild,
  getExternalWorkflowHandle,
  log,
  patched,
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
  backfillEtaSeconds,
  completeRun,
  ledgerForFollowUp,
  ledgerFromPlan,
  ledgerProgress,
  observeRate,
  percentFinished,
  startRun,
  type ProcessorLedger,
} from '../shared/progress';
import {
  BACKFILL_ETA_MINUTES,
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
  FollowUpSpec,
  PhaseGateReport,
  ProcessorProgress,
  ProcessorResult,
} from '../shared/types';
import { processorBackfillWorkflow, validateConcurrency } from './processor-backfill';

export async function backfillWorkflow(input: BackfillInput): Promise<BackfillResult> {
  const backfillId = input.backfillId;
  /** The BackfillId search attribute: a follow-up is listed with the backfill it follows up. */
  const listedUnder = input.followUp?.of ?? backfillId;
  const bootstrapDays = input.bootstrapDays ?? 14;
  let paused = false;
  let concurrency = input.concurrency;
  let stage: BackfillStage = { kind: 'planning' };
  const gates: PhaseGateReport[] = [];
  /** processor → what its runs settled, by date (see src/shared/progress.ts). */
  const ledgers = new Map<string, ProcessorLedger>();
  /** processor → the latest report of its run in flight. */
  const live = new Map<string, ProcessorProgress>();
  /** The request's phases and groups, once described. */
  let pipelinePlan: Array<{ phase: number; groups: string[][] }> = [];
  const runningChildren = new Set<string>();
  /** Set once the pipeline is described: this run plans up front and keeps the ETA attribute. */
  let etaAttribute = false;
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

  const processorProgress = (): Map<string, ProcessorProgress> =>
    new Map([...ledgers.values()].map((l) => [l.processor, ledgerProgress(l, live.get(l.processor))]));
  const etaSeconds = (byProcessor: Map<string, ProcessorProgress>): number | null =>
    stage.kind === 'completed' ? 0 : pipelinePlan.length === 0 ? null : backfillEtaSeconds({ phases: pipelinePlan, progress: byProcessor });

  const progress = (): BackfillProgress => {
    const byProcessor = processorProgress();
    const processors = [...byProcessor.values()];
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
      etaSeconds: etaSeconds(byProcessor),
      pipeline: pipelinePlan,
      gateThresholds: input.gateThresholds ?? {},
      ...(input.followUp ? { followUp: input.followUp } : {}),
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
    const byProcessor = processorProgress();
    const processors = [...byProcessor.values()];
    const lines = processors.map(
      (p) => `- ${p.processor}: ${p.done}/${p.total - p.skipped} done, ${p.failed} failed, ${p.skipped} skipped (${p.status})`,
    );
    const head =
      stage.kind === 'running'
        ? `Phase ${stage.phase}, group ${stage.group}${paused ? ' — PAUSED' : ''}`
        : stage.kind === 'gate_failed'
          ? `Phase ${stage.phase} gate FAILED — waiting for approve-gate / retry-phase / cancel`
          : stage.kind.replace('_', ' ');
    // The slowest running processor decides when the group ends: name it.
    const slowest = processors
      .filter((p) => p.status !== 'completed' && p.status !== 'pending' && p.etaSeconds !== null)
      .sort((a, b) => (b.etaSeconds ?? 0) - (a.etaSeconds ?? 0))[0];
    const eta = etaSeconds(byProcessor);
    const tail =
      `${percentFinished(processors)}% of processor-dates finished` +
      (eta !== null && stage.kind !== 'completed' ? `, backfill ETA ${minutes(eta)}` : '') +
      (slowest ? `; slowest: ${slowest.processor} (${minutes(slowest.etaSeconds ?? 0)} left)` : '');
    const title = input.followUp ? `**${backfillId}** (follow-up of ${input.followUp.of}, ${followUpWhat(input.followUp)})` : `**${backfillId}**`;
    setCurrentDetails(`${title} ${input.from} → ${input.to}: ${head} — ${tail}\n\n${lines.join('\n')}`);
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
    const ledger = ledgers.get(p.processor);
    // A report from a run that already settled (a late signal) must not reopen it.
    if (!ledger || ledger.running.length === 0) return;
    live.set(p.processor, p);
    ledgers.set(p.processor, observeRate(ledger, p));
    const byProcessor = processorProgress();
    const attrs: Parameters<typeof upsertSearchAttributes>[0] = [{ key: BACKFILL_PROGRESS, value: percentFinished([...byProcessor.values()]) }];
    const eta = etaSeconds(byProcessor);
    if (eta !== null && etaAttribute) attrs.push({ key: BACKFILL_ETA_MINUTES, value: Math.ceil(eta / 60) });
    upsertSearchAttributes(attrs);
    describe();
  });
  /** The Web UI's BackfillStatus follows pause and resume (histories from before replay without it). */
  const showPauseInStatus = (): void => {
    if (!patched('pause-status-attribute')) return;
    upsertSearchAttributes([{ key: BACKFILL_STATUS, value: stage.kind === 'running' && paused ? 'paused' : stage.kind }]);
  };
  setHandler(pauseSignal, async () => {
    if (paused) return;
    paused = true;
    showPauseInStatus();
    describe();
    await forward((id) => getExternalWorkflowHandle(id).signal(pauseSignal));
  });
  setHandler(resumeSignal, async () => {
    if (!paused) return;
    paused = false;
    showPauseInStatus();
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
    { key: BACKFILL_ID, value: listedUnder },
    { key: BACKFILL_STATUS, value: 'planning' },
  ]);

  /** Runs one processor over `plan.dates` as a child workflow and settles its outcome in the ledger. */
  const runProcessor = async (phase: number, processor: string, plan: DatePlan, childSuffix: string): Promise<void> => {
    const childId = `${backfillId}/${processor}${childSuffix}`;
    runningChildren.add(childId);
    ledgers.set(processor, startRun(ledgerOf(phase, processor), plan.dates));
    live.delete(processor);
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
            ...(input.followUp ? { listedUnder } : {}),
          },
        ],
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        typedSearchAttributes: [
          { key: BACKFILL_ID, value: listedUnder },
          { key: BACKFILL_PROCESSOR, value: processor },
          { key: BACKFILL_PHASE, value: phase },
          { key: BACKFILL_STATUS, value: 'running' },
        ],
        staticSummary: `${processor} (phase ${phase}) for ${backfillId}: ${plan.dates.length} dates, ${plan.skipped.length} skipped`,
      });
      const rate = live.get(processor)?.ratePerMinute ?? null;
      ledgers.set(processor, completeRun(ledgerOf(phase, processor), plan.dates, result, rate));
    } finally {
      live.delete(processor);
      runningChildren.delete(childId);
      describe();
    }
  };

  const ledgerOf = (phase: number, processor: string): ProcessorLedger =>
    ledgers.get(processor) ??
    // A follow-up's gate may re-run a processor that had nothing to re-run at first: its plan stands.
    (input.followUp ? ledgerForFollowUp(phase, plans.get(processor) ?? { processor, dates: [], skipped: [] }, []) : undefined) ??
    ledgerFromPlan(phase, { processor, dates: [], skipped: [] });

  const plans = new Map<string, DatePlan>();
  const planOf = async (phase: number, processor: string): Promise<DatePlan> => {
    let plan = plans.get(processor);
    if (!plan) {
      plan = await planProcessorDates({ processor, from: input.from, to: input.to, bootstrapDays });
      plans.set(processor, plan);
      ledgers.set(processor, ledgerFromPlan(phase, plan));
    }
    return plan;
  };

  const pipeline = await describePipeline({ phases: input.phases, processors: input.processors });
  pipelinePlan = pipeline;
  /** processor → the dates a follow-up re-ran (the first run of each; gate re-runs come on top). */
  const rerunByFollowUp: Record<string, string[]> = {};
  if (input.followUp) {
    await runFollowUp(input.followUp, pipeline);
  } else {
    // Planning every processor before the first date runs lets the backfill give one ETA for the whole
    // run (later phases' dates are known) and report expected coverage from the start. Histories
    // recorded before this planned group by group, and replay that way.
    etaAttribute = patched('plan-up-front-with-eta');
    if (etaAttribute) {
      setStage({ kind: 'planning' });
      await Promise.all(pipeline.flatMap((pp) => pp.groups.flat().map((processor) => planOf(pp.phase, processor))));
    }

    for (const phasePlan of pipeline) {
      const phase = phasePlan.phase;
      for (const [gi, group] of phasePlan.groups.entries()) {
        await condition(() => !paused);
        setStage({ kind: 'running', phase, group: gi + 1 });
        await Promise.all(
          group.map(async (processor) => {
            const plan = await planOf(phase, processor);
            await runProcessor(phase, processor, plan, '');
          }),
        );
      }
      await passGate(phase, phasePlan.groups.flat());
    }
  }

  /** One validation of a phase against the plan, with the failed dates the ledgers hold. */
  async function validate(phase: number, processorsOfPhase: string[]): Promise<PhaseGateReport> {
    setStage({ kind: 'validating', phase });
    const failed: Record<string, Record<string, string>> = {};
    for (const p of processorsOfPhase) failed[p] = ledgers.get(p)?.failed ?? {};
    const report = await validatePhase({
      phase,
      from: input.from,
      to: input.to,
      processors: processorsOfPhase,
      failedDates: failed,
      bootstrapDays,
      ...(input.gateThresholds ? { thresholds: input.gateThresholds } : {}),
    });
    gates.push(report);
    return report;
  }

  /**
   * The gate: validate, and on failure remediate or wait for an operator, until it passes or is
   * approved. `checked` is a validation already made of the phase as it stands.
   */
  async function passGate(phase: number, processorsOfPhase: string[], checked?: PhaseGateReport): Promise<void> {
    let remediated = false;
    let report = checked;
    for (;;) {
      report ??= await validate(phase, processorsOfPhase);
      if (report.ok) return;

      if (input.gatePolicy === 'remediate' && !remediated) {
        remediated = true;
        setStage({ kind: 'remediating', phase });
        for (const t of report.tables.filter((x) => x.duplicateKeys > 0)) {
          await deduplicateTable({ processor: t.processor, from: input.from, to: input.to });
        }
        await rerun(phase, report, 'missing-and-failed');
        report = undefined;
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
        return;
      }
      await rerun(phase, report, decision === 'retry-failed' ? 'failed' : 'missing-and-failed');
      report = undefined;
    }
  }

  /**
   * A follow-up: the phases with dates to re-run (retry-failed) or the one phase asked for
   * (retry-phase), in pipeline order; in each, every processor planned as the original planned it,
   * then group by group only the processors with dates to re-run, each over exactly those dates
   * (within its plan), then the phase's gate.
   */
  async function runFollowUp(spec: FollowUpSpec, all: Array<{ phase: number; groups: string[][] }>): Promise<void> {
    const affected = all.filter((pp) =>
      spec.kind === 'retry-phase' ? pp.phase === spec.phase : pp.groups.flat().some((p) => (spec.dates[p]?.length ?? 0) > 0),
    );
    setStage({ kind: 'planning' });
    await Promise.all(
      affected.flatMap((pp) =>
        pp.groups.flat().map(async (processor) => {
          plans.set(processor, await planProcessorDates({ processor, from: input.from, to: input.to, bootstrapDays }));
        }),
      ),
    );
    // Only what the follow-up runs counts towards its ETA; it grows as each phase's dates are known.
    pipelinePlan = [];
    for (const pp of affected) {
      const phase = pp.phase;
      const processorsOfPhase = pp.groups.flat();
      const wanted = new Map(processorsOfPhase.map((p) => [p, new Set(spec.dates[p] ?? [])]));
      let checked: PhaseGateReport | undefined;
      if (spec.kind === 'retry-phase') {
        // The tables may have changed since the original's gate (rows deleted, duplicated): what the
        // gate finds now is re-run too.
        checked = await validate(phase, processorsOfPhase);
        for (const t of checked.tables) {
          const dates = wanted.get(t.processor);
          for (const d of [...t.missingDates, ...(t.duplicateDates ?? []), ...t.failedDates.map((f) => f.date)]) dates?.add(d);
        }
      }
      const toRun = new Map<string, string[]>();
      for (const processor of processorsOfPhase) {
        const plan = plans.get(processor) ?? { processor, dates: [], skipped: [] };
        const dates = plan.dates.filter((d) => wanted.get(processor)?.has(d));
        if (dates.length === 0) continue;
        toRun.set(processor, dates);
        rerunByFollowUp[processor] = dates;
        ledgers.set(processor, ledgerForFollowUp(phase, plan, dates));
      }
      const groups = pp.groups.map((g) => g.filter((p) => toRun.has(p))).filter((g) => g.length > 0);
      if (groups.length > 0) pipelinePlan = [...pipelinePlan, { phase, groups }];
      describe();

      for (const [gi, group] of pp.groups.entries()) {
        const members = group.filter((p) => toRun.has(p));
        if (members.length === 0) continue;
        await condition(() => !paused);
        setStage({ kind: 'running', phase, group: gi + 1 });
        await Promise.all(
          members.map((processor) => runProcessor(phase, processor, { processor, dates: toRun.get(processor) ?? [], skipped: [] }, '')),
        );
      }
      // Nothing re-run: the validation just made is the gate's.
      await passGate(phase, processorsOfPhase, toRun.size === 0 ? checked : undefined);
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
  upsertSearchAttributes(
    etaAttribute ? [{ key: BACKFILL_PROGRESS, value: 100 }, { key: BACKFILL_ETA_MINUTES, value: 0 }] : [{ key: BACKFILL_PROGRESS, value: 100 }],
  );
  await condition(allHandlersFinished);
  const processors: ProcessorResult[] = [...ledgers.values()].map((l) => {
    const p = ledgerProgress(l);
    return { processor: l.processor, total: p.total, done: p.done, skipped: p.skipped, failed: l.failed, rowsWritten: l.rowsWritten };
  });
  return {
    backfillId,
    status: 'completed',
    processors,
    gates,
    ...(input.followUp ? { followUp: { ...input.followUp, rerun: rerunByFollowUp } } : {}),
  };
}

/** "retry-failed", "retry-phase 4": what a follow-up was started for. */
function followUpWhat(spec: FollowUpSpec): string {
  return spec.kind === 'retry-phase' ? `retry-phase ${spec.phase}` : spec.kind;
}

function minutes(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  // Round the total first, so 7,170 s reads "2 h 0 min", never "1 h 60 min".
  const total = Math.round(seconds / 60);
  if (total < 90) return `${total} min`;
  return `${Math.floor(total / 60)} h ${total % 60} min`;
}

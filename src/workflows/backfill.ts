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
 *
 * Pausing itself: a child whose failures pass the failure budget reports at once, and the whole
 * backfill pauses (`paused_failures`: every running processor stops launching, dates in flight
 * finish). With a bytes-billed budget the parent hands the budget out to its children as
 * allowances and pauses the whole backfill (`paused_cost`) when what is left cannot cover a
 * child's next date (src/shared/cost-budget.ts states the overshoot bound).
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
  costAllowanceSignal,
  costRequestSignal,
  requeueFailedSignal,
  setCostBudgetUpdate,
  type CostRequest,
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
  remainingDates,
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
import { formatBytes, grant, grantChunk, shortfall, validateCostBudget } from '../shared/cost-budget';
import type {
  BackfillInput,
  BackfillProgress,
  CostStatus,
  PauseReason,
  BackfillResult,
  BackfillStage,
  DatePlan,
  FollowUpSpec,
  PhaseGateReport,
  ProcessorProgress,
  ProcessorResult,
} from '../shared/types';
import { LOCAL_DISPATCH_TASK_TIMEOUT_MS } from '../shared/types';
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
  /** Set when the backfill paused itself (failure or cost budget); cleared by resume. */
  let pauseReason: PauseReason | undefined;
  /** Bytes-billed budget of the whole backfill (null: none); an update may change it. */
  let costBudget: number | null = input.maxBytesBilledTotal ?? null;
  /** childId → cumulative bytes it may bill (running children of a backfill with a cost budget). */
  const allowances = new Map<string, number>();
  /** processor → the latest known bill of its running child (reports and requests), for the figures. */
  const childSpent = new Map<string, number>();
  /** childId → its cost request that could not be granted (answered on resume). */
  const costPending = new Map<string, CostRequest>();
  /** Failure-budget trips already acted on (processor/run/trip number). */
  const handledTrips = new Set<string>();

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
      ...(pauseReason ? { pauseReason } : {}),
      ...(input.failureBudget !== undefined ? { failureBudget: input.failureBudget } : {}),
      ...(costBudget !== null || spentBytes() > 0 ? { cost: costStatus() } : {}),
      ...(input.dateDispatch ? { dateDispatch: input.dateDispatch } : {}),
    };
  };

  /** Bytes billed so far: finished runs (ledgers) plus the latest known bill of each running child. */
  const spentBytes = (): number => {
    let n = 0;
    for (const l of ledgers.values()) n += l.bytesBilled ?? 0;
    for (const b of childSpent.values()) n += b;
    return n;
  };
  const costStatus = (): CostStatus => {
    const processors = [...processorProgress().values()];
    const spent = spentBytes();
    const datesBilled = processors.reduce((n, p) => n + p.done, 0);
    const remaining = processors.reduce((n, p) => n + remainingDates(p), 0);
    const avg = datesBilled > 0 ? spent / datesBilled : null;
    return {
      spentBytes: spent,
      budgetBytes: costBudget,
      datesBilled,
      avgBytesPerDate: avg,
      remainingDates: remaining,
      remainingEstimateBytes: avg === null ? null : Math.round(avg * remaining),
    };
  };
  /** Bills of finished runs plus what running children may bill: never more than the budget. */
  const committedBytes = (): number => {
    let n = 0;
    for (const l of ledgers.values()) n += l.bytesBilled ?? 0;
    for (const a of allowances.values()) n += a;
    return n;
  };

  /** The BackfillStatus while running: paused_failures / paused_cost when it paused itself. */
  const runningStatus = (): string => (paused ? (pauseReason?.status ?? 'paused') : 'running');

  const setStage = (next: BackfillStage): void => {
    stage = next;
    const status = next.kind === 'running' && paused ? runningStatus() : next.kind;
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
    const why =
      pauseReason?.kind === 'failures'
        ? `\n\nPAUSED by the failure budget — ${pauseReason.trip.reason}. Fix the cause, then \`backfill retry-failed\` and \`backfill resume\`.`
        : pauseReason?.kind === 'cost'
          ? `\n\nPAUSED by the cost budget — ${pauseReason.reason}. Raise it (\`backfill set-cost-budget\`), then \`backfill resume\`.`
          : '';
    const costLine =
      costBudget !== null ? `\n\nBytes billed: ${formatBytes(spentBytes())} of ${formatBytes(costBudget)} budget.` : '';
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
    setCurrentDetails(`${title} ${input.from} → ${input.to}: ${head} — ${tail}${why}${costLine}\n\n${lines.join('\n')}`);
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
  setHandler(childProgressSignal, async (p: ProcessorProgress) => {
    const ledger = ledgers.get(p.processor);
    // A report from a run that already settled (a late signal) must not reopen it.
    if (!ledger || ledger.running.length === 0) return;
    live.set(p.processor, p);
    if (p.bytesBilled) childSpent.set(p.processor, Math.max(childSpent.get(p.processor) ?? 0, p.bytesBilled));
    ledgers.set(p.processor, observeRate(ledger, p));
    const byProcessor = processorProgress();
    const attrs: Parameters<typeof upsertSearchAttributes>[0] = [{ key: BACKFILL_PROGRESS, value: percentFinished([...byProcessor.values()]) }];
    const eta = etaSeconds(byProcessor);
    if (eta !== null && etaAttribute) attrs.push({ key: BACKFILL_ETA_MINUTES, value: Math.ceil(eta / 60) });
    upsertSearchAttributes(attrs);
    describe();
    // A child past its failure budget reports at once: the whole backfill pauses, not only that child.
    // Each trip pauses once: a report of it arriving after a resume (signals race) does not re-pause.
    const tripKey = p.budgetTrip ? `${p.processor}/${ledger.runs}/${p.budgetTrip.seq ?? 0}` : undefined;
    if (p.budgetTrip && tripKey !== undefined && !handledTrips.has(tripKey) && patched('failure-budget')) {
      handledTrips.add(tripKey);
      await pauseItself({ kind: 'failures', status: 'paused_failures', trip: p.budgetTrip });
    }
  });
  /** The Web UI's BackfillStatus follows pause and resume (histories from before replay without it). */
  const showPauseInStatus = (): void => {
    if (!patched('pause-status-attribute')) return;
    upsertSearchAttributes([{ key: BACKFILL_STATUS, value: stage.kind === 'running' && paused ? runningStatus() : stage.kind }]);
  };
  /** The backfill pauses itself: every running processor stops launching; dates in flight finish. */
  const pauseItself = async (reason: PauseReason): Promise<void> => {
    const wasPaused = paused;
    pauseReason = reason;
    paused = true;
    log.warn('backfill paused itself', { backfill: backfillId, status: reason.status, reason: reason.kind === 'failures' ? reason.trip.reason : reason.reason });
    showPauseInStatus();
    describe();
    if (!wasPaused) await forward((id) => getExternalWorkflowHandle(id).signal(pauseSignal));
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
    pauseReason = undefined;
    showPauseInStatus();
    describe();
    await forward((id) => getExternalWorkflowHandle(id).signal(resumeSignal));
    // Requests the budget could not cover are answered again (the budget may have been raised).
    for (const request of [...costPending.values()]) await answerCostRequest(request);
  });

  /** A child's allowance does not cover its next date: grant more from what no one holds, or pause. */
  const answerCostRequest = async (r: CostRequest): Promise<void> => {
    if (!runningChildren.has(r.childId)) return;
    childSpent.set(r.processor, Math.max(childSpent.get(r.processor) ?? 0, r.spentBytes));
    const allowance = Math.max(allowances.get(r.childId) ?? 0, r.allowanceBytes);
    const need = shortfall({ spentBytes: r.spentBytes, allowanceBytes: allowance, maxDateBytes: r.estimatePerDate, inFlight: r.inFlight });
    const granted =
      costBudget === null
        ? Number.MAX_SAFE_INTEGER
        : grant({ budgetBytes: costBudget, committedBytes: committedBytes(), allowanceBytes: allowance, need, chunk: grantChunk(costBudget, r.estimatePerDate, concurrency) });
    if (granted === null) {
      costPending.set(r.childId, r);
      if (pauseReason?.kind === 'cost' && paused) return;
      const c = costStatus();
      const budget = costBudget ?? 0;
      await pauseItself({
        kind: 'cost',
        status: 'paused_cost',
        cost: c,
        reason:
          `${formatBytes(c.spentBytes)} billed of a ${formatBytes(budget)} budget; ${r.processor}'s next date (~${formatBytes(Math.max(r.estimatePerDate, 1))}) ` +
          `would pass it` +
          (c.avgBytesPerDate !== null ? ` — ${formatBytes(c.avgBytesPerDate)}/date on average, ~${formatBytes(c.remainingEstimateBytes ?? 0)} for the ${c.remainingDates} dates left` : ''),
      });
      return;
    }
    costPending.delete(r.childId);
    allowances.set(r.childId, granted);
    await getExternalWorkflowHandle(r.childId)
      .signal(costAllowanceSignal, granted)
      .catch((err: unknown) => log.warn('could not grant bytes to child', { backfill: backfillId, childId: r.childId, error: String(err) }));
  };
  setHandler(costRequestSignal, answerCostRequest);
  setHandler(
    setCostBudgetUpdate,
    (n: number) => {
      const previous = costBudget;
      costBudget = n;
      log.info('cost budget changed', { backfill: backfillId, previous, budget: n });
      describe();
      return previous;
    },
    {
      validator: (n: number) => {
        if (n === null) throw new Error('the bytes-billed budget cannot be removed, only changed');
        validateCostBudget(n);
        if (input.maxBytesBilledTotal === undefined) throw new Error('this backfill was started without a cost budget: its processors do not ask for bytes');
      },
    },
  );
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
    else if (decision === 'retry-failed' && stage.kind === 'running' && pauseReason?.kind === 'failures') {
      // Paused by the failure budget: the running processors put their failed dates back to run
      // first once resumed (finished processors' failed dates are the phase gate's, as ever).
      log.info('retry-failed while paused by the failure budget: failed dates put back to run', { backfill: backfillId });
      void forward((id) => getExternalWorkflowHandle(id).signal(requeueFailedSignal));
    }
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
    let costControl: { initialAllowance: number } | undefined;
    if (input.maxBytesBilledTotal !== undefined) {
      // A first grant with the start, so a child asks only once that is spent.
      const first =
        costBudget === null
          ? Number.MAX_SAFE_INTEGER
          : (grant({ budgetBytes: costBudget, committedBytes: committedBytes(), allowanceBytes: 0, need: 1, chunk: grantChunk(costBudget, 0, concurrency) }) ?? 0);
      allowances.set(childId, first);
      costControl = { initialAllowance: first };
    }
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
            ...(input.failureBudget !== undefined ? { failureBudget: input.failureBudget } : {}),
            ...(costControl ? { costControl } : {}),
            ...(input.dateDispatch ? { dateDispatch: input.dateDispatch } : {}),
          },
        ],
        // Local dispatch checkpoints its dates with each workflow task, at the latest at 80% of this.
        ...(input.dateDispatch === 'local' ? { workflowTaskTimeout: LOCAL_DISPATCH_TASK_TIMEOUT_MS } : {}),
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
      allowances.delete(childId);
      childSpent.delete(processor);
      costPending.delete(childId);
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
    return {
      processor: l.processor,
      total: p.total,
      done: p.done,
      skipped: p.skipped,
      failed: l.failed,
      rowsWritten: l.rowsWritten,
      ...(l.bytesBilled ? { bytesBilled: l.bytesBilled } : {}),
    };
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

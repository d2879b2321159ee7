/**
 * Retries at any time (`backfill retry-failed|retry-phase <id>`). While the backfill waits at a
 * failed gate, the retry is the gate signal it always was. Once it has ended — completed, failed,
 * cancelled or terminated — the retry is a *follow-up*: a new backfillWorkflow execution,
 * `<id>/followup-<n>`, with the original's request and search attribute `BackfillId = <id>`, that
 * re-runs exactly the dates the history records as failed (retry-failed), or validates one phase
 * and re-runs its missing and duplicated dates as the tables stand plus its recorded failed dates
 * (retry-phase), then gates them again.
 * While it runs anything else, the retry is refused with one line naming what it is doing.
 *
 * What a backfill did is read from the histories alone — the original's and its follow-ups', in
 * order — never from a query: that works with no worker running, and on a backfill that failed or
 * was cancelled or terminated, whose result does not exist. The histories hold the request (the
 * start input), each processor's plan (activity results), each run of a processor with its dates
 * (child workflow input) and what it settled (child result) — or, for a run cut short, the failures
 * of its last progress report (the child's progress signals) — and every gate report.
 */
import {
  type Client,
  type WorkflowExecutionDescription,
  WorkflowExecutionAlreadyStartedError,
  type WorkflowHandle,
} from '@temporalio/client';
import { arrayFromPayloads, defaultPayloadConverter } from '@temporalio/common';
import { planPhases } from '../pipeline/registry';
import { backfillProgressQuery, childProgressSignal, retryFailedSignal, retryPhaseSignal } from '../shared/messages';
import { completeRun, ledgerFromPlan, startRun, type ProcessorLedger } from '../shared/progress';
import { BACKFILL_ID, BACKFILL_PHASE, BACKFILL_STATUS } from '../shared/search-attributes';
import type {
  BackfillInput,
  BackfillStage,
  DatePlan,
  FollowUpSpec,
  PhaseGateReport,
  ProcessorProgress,
  ProcessorResult,
  ProcessorWorkflowInput,
} from '../shared/types';
import type { backfillWorkflow } from '../workflows';
import { followUpIdFor, listFollowUps, listedUnder } from './backfill-client';

export type RetryKind = FollowUpSpec['kind'];

/** A retry that cannot apply now; `badInput` when the request itself is wrong (exit 2, not 1). */
export class RetryRefused extends Error {
  constructor(
    message: string,
    readonly badInput = false,
  ) {
    super(message);
    this.name = 'RetryRefused';
  }
}

export type RetryOutcome =
  /** The backfill (or its running follow-up) waited at a failed gate and was signalled. */
  | { action: 'signalled'; id: string; phase: number }
  /** A follow-up was started. */
  | { action: 'started'; id: string; of: string; spec: FollowUpSpec; handle: WorkflowHandle<typeof backfillWorkflow>; summary: string };

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
type HistoryEvent = NonNullable<History['events']>[number];

/** One run of a processor (a child workflow) as its parent's history records it. */
export interface RecordedRun {
  processor: string;
  phase: number;
  dates: string[];
  /** What it settled; null when it ended without a result (failed, cancelled, terminated) or still runs. */
  result: ProcessorResult | null;
  /** Its last progress report to the parent (5% steps): the failures known of a run cut short. */
  lastReport: ProcessorProgress | null;
}

/** What one backfill execution's history says it was asked and did. */
export interface BackfillRecord {
  input: BackfillInput;
  /** The phases and groups it described; null if it ended before. */
  pipeline: Array<{ phase: number; groups: string[][] }> | null;
  plans: DatePlan[];
  runs: RecordedRun[];
  gates: PhaseGateReport[];
}

const decode = (payloads: Parameters<typeof arrayFromPayloads>[1]): unknown => arrayFromPayloads(defaultPayloadConverter, payloads)[0];
const key = (id: unknown): string => String(id);

/** Reads a backfillWorkflow history (see the file's comment); throws on one that is not a backfill's. */
export function recordFromHistory(id: string, history: History): BackfillRecord {
  const events: HistoryEvent[] = history.events ?? [];
  const input = decode(events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads) as Partial<BackfillInput> | undefined;
  if (!input || typeof input.from !== 'string' || typeof input.to !== 'string' || !Array.isArray(input.phases)) {
    throw new RetryRefused(`${id} is not a backfill started by this tool: its start input is not a backfill request`);
  }
  const activityTypes = new Map<string, string>();
  const record: BackfillRecord = { input: input as BackfillInput, pipeline: null, plans: [], runs: [], gates: [] };
  const runsByInitiated = new Map<string, RecordedRun>();
  for (const e of events) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) activityTypes.set(key(e.eventId), scheduled.activityType?.name ?? '');
    const completed = e.activityTaskCompletedEventAttributes;
    if (completed) {
      const type = activityTypes.get(key(completed.scheduledEventId));
      const result = decode(completed.result?.payloads);
      if (type === 'describePipeline') record.pipeline = result as BackfillRecord['pipeline'];
      else if (type === 'planProcessorDates') record.plans.push(result as DatePlan);
      else if (type === 'validatePhase') record.gates.push(result as PhaseGateReport);
    }
    const initiated = e.startChildWorkflowExecutionInitiatedEventAttributes;
    if (initiated && initiated.workflowType?.name === 'processorBackfillWorkflow') {
      const child = decode(initiated.input?.payloads) as ProcessorWorkflowInput;
      const run: RecordedRun = { processor: child.processor, phase: child.phase, dates: child.dates, result: null, lastReport: null };
      runsByInitiated.set(key(e.eventId), run);
      record.runs.push(run);
    }
    const childDone = e.childWorkflowExecutionCompletedEventAttributes;
    if (childDone) {
      const run = runsByInitiated.get(key(childDone.initiatedEventId));
      if (run) run.result = decode(childDone.result?.payloads) as ProcessorResult;
    }
    const signal = e.workflowExecutionSignaledEventAttributes;
    if (signal?.signalName === childProgressSignal.name) {
      const report = decode(signal.input?.payloads) as ProcessorProgress;
      const run = record.runs.filter((r) => r.processor === report.processor && r.result === null).pop();
      if (run) run.lastReport = report;
    }
  }
  return record;
}

export async function readBackfillRecord(client: Client, id: string): Promise<BackfillRecord> {
  return recordFromHistory(id, await client.workflow.getHandle(id).fetchHistory());
}

/**
 * Each processor's dates as the records settle them, the original's first and then each follow-up's
 * in order: a later run of a date replaces what an earlier one settled (src/shared/progress.ts).
 * A run that ended without a result settles nothing: its dates stay as they were.
 */
export function settledLedgers(records: readonly BackfillRecord[]): Map<string, ProcessorLedger> {
  const ledgers = new Map<string, ProcessorLedger>();
  for (const record of records) {
    const phaseOf = new Map<string, number>();
    for (const pp of record.pipeline ?? []) for (const p of pp.groups.flat()) phaseOf.set(p, pp.phase);
    for (const run of record.runs) phaseOf.set(run.processor, run.phase);
    // A follow-up plans as its original did: its plans never reset what the original settled.
    for (const plan of record.plans) {
      if (!ledgers.has(plan.processor)) ledgers.set(plan.processor, ledgerFromPlan(phaseOf.get(plan.processor) ?? 0, plan));
    }
    for (const run of record.runs) {
      const ledger = ledgers.get(run.processor) ?? ledgerFromPlan(run.phase, { processor: run.processor, dates: run.dates, skipped: [] });
      if (run.result) {
        ledgers.set(run.processor, completeRun(startRun(ledger, run.dates), run.dates, run.result));
      } else if (run.lastReport) {
        // Cut short: which dates it finished is unknown here, but the failures it reported are known.
        const ran = new Set(run.dates);
        const failed = { ...ledger.failed };
        for (const f of run.lastReport.failures) if (ran.has(f.date)) failed[f.date] = f.error;
        ledgers.set(run.processor, { ...ledger, failed });
      }
    }
  }
  return ledgers;
}

/** processor → its failed dates, ascending (processors with none left out). */
export function failedDatesOf(ledgers: ReadonlyMap<string, ProcessorLedger>, processors?: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const l of ledgers.values()) {
    if (processors && !processors.includes(l.processor)) continue;
    const dates = Object.keys(l.failed).sort();
    if (dates.length > 0) out[l.processor] = dates;
  }
  return out;
}

export function countDates(dates: Record<string, string[]>): number {
  return Object.values(dates).reduce((n, d) => n + d.length, 0);
}

/** A stage as the refusal names it: "running phase 4 (group 2)", "validating phase 3", … */
export function stageWords(stage: BackfillStage | { kind: string; phase?: number }, paused = false): string {
  const phase = 'phase' in stage && stage.phase !== undefined ? ` phase ${stage.phase}` : '';
  switch (stage.kind) {
    case 'running': {
      const group = 'group' in stage && typeof stage.group === 'number' ? (stage.group === 0 ? ' (re-running dates)' : ` (group ${stage.group})`) : '';
      return `${paused ? 'paused in' : 'running'}${phase}${group}`;
    }
    case 'paused':
      return `paused in${phase}`;
    case 'gate_failed':
      return `waiting at the${phase} gate`;
    case 'planning':
      return 'planning';
    default:
      return `${stage.kind.replace('_', ' ')}${phase}`;
  }
}

/** A worker answers a query in milliseconds; without one, the search attributes tell the stage. */
const STAGE_QUERY_DEADLINE_MS = 5_000;

/** The stage of a running backfill: its live query if a worker answers, else its search attributes. */
async function stageOf(
  client: Client,
  id: string,
  description: WorkflowExecutionDescription,
): Promise<{ kind: string; phase?: number; group?: number; paused: boolean; pausedFor?: 'failures' | 'cost' }> {
  try {
    const p = await client.withDeadline(Date.now() + STAGE_QUERY_DEADLINE_MS, () => client.workflow.getHandle(id).query(backfillProgressQuery));
    return { ...p.stage, paused: p.paused, ...(p.pauseReason ? { pausedFor: p.pauseReason.kind } : {}) };
  } catch {
    const kind = description.typedSearchAttributes.get(BACKFILL_STATUS) ?? 'running';
    const phase = description.typedSearchAttributes.get(BACKFILL_PHASE);
    const paused = kind === 'paused' || kind === 'paused_failures' || kind === 'paused_cost';
    return {
      kind: paused ? 'running' : kind,
      ...(phase !== undefined ? { phase } : {}),
      paused,
      ...(kind === 'paused_failures' ? { pausedFor: 'failures' as const } : kind === 'paused_cost' ? { pausedFor: 'cost' as const } : {}),
    };
  }
}

/**
 * Applies `retry-failed` / `retry-phase` to a backfill (or a follow-up of one, which means its
 * original) whatever state it is in; see the file's comment. Throws WorkflowNotFoundError for an
 * unknown id and RetryRefused with one line when the retry cannot apply now.
 */
export async function retryBackfill(client: Client, id: string, request: { kind: RetryKind; phase?: number }): Promise<RetryOutcome> {
  const described = await client.workflow.getHandle(id).describe();
  const original = listedUnder(id, described);
  if (described.type !== 'backfillWorkflow') {
    throw new RetryRefused(`${id} is a ${described.type}, not a backfill: retry its backfill ${original}`, true);
  }
  const originalDescription = original === id ? described : await client.workflow.getHandle(original).describe();
  const { existing, ofRun: followUps } = await listFollowUps(client, original, originalDescription.startTime);
  const executions = [{ id: original, status: originalDescription.status.name }, ...followUps];

  // Something still runs: at a failed gate, the signal; anything else, a refusal naming it.
  const running = executions.filter((e) => e.status === 'RUNNING').pop();
  if (running) {
    const description = running.id === id ? described : await client.workflow.getHandle(running.id).describe();
    const stage = await stageOf(client, running.id, description);
    const who = running.id === original ? `backfill ${original}` : `backfill ${original}'s follow-up ${running.id}`;
    if (request.kind === 'retry-failed' && stage.kind === 'running' && stage.pausedFor === 'failures' && stage.phase !== undefined) {
      // Paused by its failure budget: the running processors put their failed dates back to run
      // first, once resumed; what finished processors failed waits for the phase gate, as ever.
      await client.workflow.getHandle(running.id).signal(retryFailedSignal);
      return { action: 'signalled', id: running.id, phase: stage.phase };
    }
    if (stage.kind !== 'gate_failed' || stage.phase === undefined) {
      throw new RetryRefused(`${who} is ${stageWords(stage, stage.paused)}: ${request.kind} applies at its gate or after it ends`);
    }
    if (request.phase !== undefined && request.phase !== stage.phase) {
      throw new RetryRefused(`${who} is waiting at its phase ${stage.phase} gate: retry-phase there retries phase ${stage.phase}, not ${request.phase}`, true);
    }
    await client.workflow.getHandle(running.id).signal(request.kind === 'retry-failed' ? retryFailedSignal : retryPhaseSignal);
    return { action: 'signalled', id: running.id, phase: stage.phase };
  }

  // Everything has ended: what is left to do, from the histories.
  const records = [await readBackfillRecord(client, original)];
  for (const f of followUps) records.push(await readBackfillRecord(client, f.id));
  const input = records[0]!.input;
  const ledgers = settledLedgers(records);
  const since = followUps.length > 0 ? ` (with its follow-ups ${followUps.map((f) => f.id).join(', ')})` : '';

  let spec: FollowUpSpec;
  if (request.kind === 'retry-failed') {
    const dates = failedDatesOf(ledgers);
    if (countDates(dates) === 0) throw new RetryRefused(`no failed dates in ${original}${since}: nothing to retry`);
    spec = { of: original, kind: 'retry-failed', dates };
  } else {
    if (request.phase === undefined) {
      throw new RetryRefused(`backfill ${original} has ended ${originalDescription.status.name}: say which phase to retry with --phase (its phases: ${input.phases.join(', ')})`, true);
    }
    if (!input.phases.includes(request.phase)) {
      throw new RetryRefused(`backfill ${original} has no phase ${request.phase} (its phases: ${input.phases.join(', ')})`, true);
    }
    const phase = request.phase;
    const pipeline = records[0]!.pipeline ?? planPhases(input.phases, input.processors);
    const processorsOfPhase = pipeline.find((pp) => pp.phase === phase)?.groups.flat() ?? [];
    // Missing and duplicated dates are the tables' to tell, as they stand: the follow-up validates
    // the phase before it runs. Failed dates may hold an older run's rows, so the records name them.
    spec = { of: original, kind: 'retry-phase', phase, dates: failedDatesOf(ledgers, processorsOfPhase) };
  }

  const summary = followUpSummary(spec);
  const followUpId = followUpIdFor(original, existing + 1);
  const followUpInput: BackfillInput = { ...input, backfillId: followUpId, followUp: spec };
  try {
    const handle = await client.workflow.start('backfillWorkflow', {
      workflowId: followUpId,
      taskQueue: originalDescription.taskQueue,
      args: [followUpInput],
      // Numbered after the follow-ups found: a twin retry that took the number first wins, and
      // this one is refused rather than re-running the same dates beside it.
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [
        { key: BACKFILL_ID, value: original },
        { key: BACKFILL_STATUS, value: 'planning' },
      ],
      staticSummary: summary,
      staticDetails: followUpDetails(spec),
    });
    return { action: 'started', id: followUpId, of: original, spec, handle: handle as WorkflowHandle<typeof backfillWorkflow>, summary };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new RetryRefused(`another retry has just started ${followUpId} for backfill ${original}: follow it with \`backfill status ${followUpId}\``);
    }
    throw err;
  }
}

/** One line for the Web UI and the CLI: "follow-up of X: re-runs 3 failed dates of a (2), b (1)". */
export function followUpSummary(spec: FollowUpSpec): string {
  const n = countDates(spec.dates);
  const processors = Object.entries(spec.dates).map(([p, d]) => `${p} (${d.length})`);
  const of = processors.length > 3 ? `${processors.slice(0, 3).join(', ')}, … +${processors.length - 3}` : processors.join(', ');
  if (spec.kind === 'retry-failed') return `follow-up of ${spec.of}: re-runs ${n} failed date${n === 1 ? '' : 's'} of ${of}`;
  return (
    `follow-up of ${spec.of}: re-validates phase ${spec.phase} and re-runs the dates its gate finds missing or duplicated` +
    (n > 0 ? `, and ${n} failed date${n === 1 ? '' : 's'} of ${of}` : '')
  );
}

function followUpDetails(spec: FollowUpSpec): string {
  const shown = 40;
  const lines = Object.entries(spec.dates).map(
    ([p, d]) => `- ${p}: ${d.slice(0, shown).join(', ')}${d.length > shown ? `, … +${d.length - shown}` : ''}`,
  );
  return (
    `Follow-up (${spec.kind}${spec.kind === 'retry-phase' ? ` ${spec.phase}` : ''}) of ${spec.of}, with its request.\n\n` +
    (lines.length > 0 ? `Failed dates to re-run:\n${lines.join('\n')}` : 'No failed dates recorded: the phase gate finds what to re-run.') +
    '\n\nSignals: pause, resume, approve-gate, retry-phase, retry-failed. Update: set-concurrency.'
  );
}

/**
 * Client-side operations on backfills, shared by the CLI and `npm start`: derive the ID from the
 * request, start or attach, read status (live query while running, the result once closed).
 */
import { isIsoDate } from '../pipeline/dates';
import { backfillEtaSeconds } from '../shared/progress';
import { createHash } from 'node:crypto';
import { type Client, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { backfillProgressQuery, processorProgressQuery, type WarehouseLoadMemo } from '../shared/messages';
import { BACKFILL_ID, BACKFILL_STATUS } from '../shared/search-attributes';
import { DATE_DISPATCHES, type BackfillProgress, type BackfillRequest, type BackfillResult, type ProcessorProgress } from '../shared/types';
import type { backfillWorkflow } from '../workflows';
import { formatFailureBudget, validateFailureBudget } from '../shared/failure-budget';
import { formatBytes, validateCostBudget } from '../shared/cost-budget';

/**
 * Readable and derived from what the request would compute: the same range, phases and processors
 * give the same ID, so starting it twice attaches instead of starting a twin.
 */
export function backfillIdFor(request: Pick<BackfillRequest, 'from' | 'to' | 'phases' | 'processors'>): string {
  const phases = [...request.phases].sort((a, b) => a - b).join('');
  let id = `backfill-${request.from}-${request.to}-p${phases}`;
  if (request.processors && request.processors.length > 0) {
    const sorted = [...request.processors].sort().join(',');
    id += `-${createHash('sha256').update(sorted).digest('hex').slice(0, 8)}`;
  }
  return id;
}

/** How long `status` waits for a running child's own numbers before using the parent's (5 % steps). */
export const CHILD_QUERY_WAIT_MS = 1_000;
/**
 * How long `status` waits for a worker to answer the backfill's progress query before saying none
 * did (the server's own limit is 30 s, which `status --watch` paid on every poll while no worker ran).
 */
export const PROGRESS_QUERY_WAIT_MS = 10_000;

export interface StartOutcome {
  backfillId: string;
  handle: WorkflowHandle<typeof backfillWorkflow>;
  /** True when a backfill with this ID was already running and we attached to it. */
  attached: boolean;
}

export async function startBackfill(client: Client, taskQueue: string, request: BackfillRequest): Promise<StartOutcome> {
  // The CLI checks these too; a program calling this directly must not start a backfill that can
  // only fail in its first activity (a 2024-10-32 would reach the warehouse as a DATE).
  for (const [name, value] of [['from', request.from], ['to', request.to]] as const) {
    if (!isIsoDate(value)) throw new TypeError(`request.${name} must be a real date written YYYY-MM-DD, got ${JSON.stringify(value)}`);
  }
  if (request.from > request.to) throw new TypeError(`request.from ${request.from} is after request.to ${request.to}`);
  try {
    if (request.failureBudget !== undefined) validateFailureBudget(request.failureBudget);
    if (request.maxBytesBilledTotal !== undefined) validateCostBudget(request.maxBytesBilledTotal);
    if (request.dateDispatch !== undefined && !DATE_DISPATCHES.includes(request.dateDispatch)) {
      throw new Error(`dateDispatch must be one of ${DATE_DISPATCHES.join(', ')}, got ${JSON.stringify(request.dateDispatch)}`);
    }
  } catch (err) {
    throw new TypeError(`request: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const backfillId = backfillIdFor(request);
  const existing = client.workflow.getHandle<typeof backfillWorkflow>(backfillId);
  try {
    const description = await existing.describe();
    if (description.status.name === 'RUNNING') return { backfillId, handle: existing, attached: true };
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  const handle = await client.workflow.start('backfillWorkflow', {
    workflowId: backfillId,
    taskQueue,
    args: [{ ...request, backfillId }],
    // A concurrent twin start lands on the running workflow instead of failing or duplicating it.
    workflowIdConflictPolicy: 'USE_EXISTING',
    typedSearchAttributes: [
      { key: BACKFILL_ID, value: backfillId },
      { key: BACKFILL_STATUS, value: 'planning' },
    ],
    staticSummary: `Backfill ${request.from} → ${request.to}, phases ${request.phases.join(', ')}`,
    staticDetails:
      `Processors: ${request.processors?.join(', ') ?? 'all of the phases'}\n\n` +
      `Window per processor: ${request.concurrency}; gate policy: ${request.gatePolicy}; ` +
      `failure budget: ${request.failureBudget === undefined ? 'default 5/20,3' : formatFailureBudget(request.failureBudget)}` +
      (request.maxBytesBilledTotal !== undefined ? `; bytes-billed budget: ${formatBytes(request.maxBytesBilledTotal)}` : '') +
      '.\n\n' +
      'Signals: pause, resume, approve-gate, retry-phase, retry-failed. Updates: set-concurrency, set-cost-budget.',
  });
  return { backfillId, handle: handle as WorkflowHandle<typeof backfillWorkflow>, attached: false };
}

export interface BackfillStatus {
  id: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, … */
  status: string;
  progress: BackfillProgress | null;
  result: BackfillResult | null;
  /** Why live progress is not available (e.g. no worker running), when it is not. */
  note?: string;
  /** On a follow-up: the backfill it follows up. */
  followUpOf?: string;
  /** On an original that has follow-ups: each, oldest first. */
  followUps?: FollowUpSummary[];
  /** The warehouse load admitted deployment-wide now (adaptive load), when the caller read it. */
  warehouseLoad?: WarehouseLoadMemo;
}

export interface FollowUpSummary {
  id: string;
  status: string;
}

/** A follow-up's ID: numbered from 1 under its original, so the IDs sort and read as a chain. */
export function followUpIdFor(originalId: string, n: number): string {
  return `${originalId}/followup-${n}`;
}

/**
 * The follow-ups of a backfill, oldest first, found by describing `<id>/followup-1`, `-2`, … until
 * one does not exist: unlike a visibility listing, this sees a follow-up started a moment ago.
 * `existing` counts them all (the next one's number follows it); `ofRun` keeps those started
 * since `originalStart`: the same request started again is a new run, which earlier follow-ups did
 * not follow up.
 */
export async function listFollowUps(
  client: Client,
  originalId: string,
  originalStart: Date,
): Promise<{ existing: number; ofRun: Array<FollowUpSummary & { taskQueue: string }> }> {
  const ofRun: Array<FollowUpSummary & { taskQueue: string }> = [];
  for (let n = 1; ; n++) {
    const id = followUpIdFor(originalId, n);
    try {
      const d = await client.workflow.getHandle(id).describe();
      if (d.startTime >= originalStart) ofRun.push({ id, status: d.status.name, taskQueue: d.taskQueue });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return { existing: n - 1, ofRun };
      throw err;
    }
  }
}

/** The original a backfill execution is listed under (its BackfillId), itself for an original. */
export function listedUnder(id: string, description: { typedSearchAttributes: { get(key: typeof BACKFILL_ID): string | undefined } }): string {
  return description.typedSearchAttributes.get(BACKFILL_ID) ?? id;
}

/**
 * Live progress while running (the parent's query, refreshed with each running child's own query),
 * the stored result once closed.
 */
export interface StatusWaits {
  /** How long to wait for a worker to answer the progress query (a caller with a tighter budget passes its own). */
  progressWaitMs?: number;
  /** How long to wait for each running child's own numbers before using the parent's. */
  childWaitMs?: number;
}

export async function getBackfillStatus(
  client: Client,
  backfillId: string,
  { progressWaitMs = PROGRESS_QUERY_WAIT_MS, childWaitMs = CHILD_QUERY_WAIT_MS }: StatusWaits = {},
): Promise<BackfillStatus> {
  const handle = client.workflow.getHandle<typeof backfillWorkflow>(backfillId);
  const description = await handle.describe();
  const status = description.status.name;
  const original = listedUnder(backfillId, description);
  let links: Pick<BackfillStatus, 'followUpOf' | 'followUps'> = {};
  if (original !== backfillId) links = { followUpOf: original };
  else {
    const { ofRun } = await listFollowUps(client, backfillId, description.startTime);
    if (ofRun.length > 0) links = { followUps: ofRun.map((f) => ({ id: f.id, status: f.status })) };
  }
  if (status === 'COMPLETED') {
    const result = (await handle.result());
    return { id: backfillId, status, progress: await queryOrNull(client, handle, progressWaitMs), result, ...links };
  }
  if (status !== 'RUNNING') return { id: backfillId, status, progress: null, result: null, ...links };
  const progress = await queryOrNull(client, handle, progressWaitMs);
  if (!progress) {
    return { id: backfillId, status, progress: null, result: null, note: `no worker answered the progress query within ${progressWaitMs / 1_000} s`, ...links };
  }
  // The parent hears from its children in 5% steps; a first run's child answers with its live
  // numbers (in flight, rate). A retry's child knows only its retried dates, so the parent's merged
  // view stands for it.
  const processors = await Promise.all(
    progress.processors.map(async (p): Promise<ProcessorProgress> => {
      if (p.status === 'completed' || p.status === 'pending' || p.runNumber > 1) return p;
      const child = client.workflow.getHandle(`${backfillId}/${p.processor}`);
      // A child running its dates as local activities answers at its next checkpoint (up to
      // LOCAL_DISPATCH_CHECKPOINT_MS): past childWaitMs the parent's view stands. A deadline,
      // not a race: an abandoned query would go on retrying after its caller closed the connection.
      try {
        const fresh = await client.withDeadline(Date.now() + childWaitMs, () => child.query(processorProgressQuery));
        return fresh.processor === p.processor && fresh.total === p.total ? { ...fresh, skipReasons: p.skipReasons } : p;
      } catch {
        return p;
      }
    }),
  );
  const byName = new Map(processors.map((p) => [p.processor, p]));
  const etaSeconds = progress.pipeline ? (backfillEtaSeconds({ phases: progress.pipeline, progress: byName }) ?? progress.etaSeconds) : progress.etaSeconds;
  return { id: backfillId, status, progress: { ...progress, processors, etaSeconds }, result: null, ...links };
}

async function queryOrNull(client: Client, handle: WorkflowHandle<typeof backfillWorkflow>, waitMs: number): Promise<BackfillProgress | null> {
  try {
    return await client.withDeadline(Date.now() + waitMs, () => handle.query(backfillProgressQuery));
  } catch {
    return null;
  }
}

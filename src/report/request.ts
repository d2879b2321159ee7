/**
 * What the report needs from Temporal, read so that it works with or without a worker: the
 * backfill's request (its start input, from the first event of its history) and its status.
 *
 * A query needs a worker to answer it; with none polling, the server holds the query until its
 * own deadline (about half a minute). The report is meant to run with the worker stopped (DuckDB
 * lets one process hold the file), so it asks for live progress only when a worker polls the
 * backfill's task queue, and then with a short deadline.
 */
import type { Client } from '@temporalio/client';
import { arrayFromPayloads, defaultPayloadConverter } from '@temporalio/common';
import { z } from 'zod';
import { type BackfillStatus, getBackfillStatus } from '../client/backfill-client';
import type { BackfillResult } from '../shared/types';
import type { ReportRequest } from './build';

/** backfillWorkflow plans with this many bootstrap days when its input names none. */
const WORKFLOW_DEFAULT_BOOTSTRAP_DAYS = 14;

/** A worker answers a query in milliseconds; this only bounds the wait for one that just stopped. */
const LIVE_QUERY_DEADLINE_MS = 5_000;

const startInputSchema = z.object({
  from: z.iso.date(),
  to: z.iso.date(),
  phases: z.array(z.number().int()).min(1),
  processors: z.array(z.string()).optional(),
  bootstrapDays: z.number().int().nonnegative().optional(),
});

/** Throws WorkflowNotFoundError for an unknown id, and a one-line Error for an unreadable input. */
export async function backfillRequestOf(client: Client, backfillId: string): Promise<ReportRequest> {
  const history = await client.workflow.getHandle(backfillId).fetchHistory();
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const [input] = arrayFromPayloads(defaultPayloadConverter, started?.input?.payloads);
  const parsed = startInputSchema.safeParse(input);
  if (!parsed.success) throw new Error(`${backfillId} is not a backfill started by this tool: its start input is not a backfill request`);
  const { from, to, phases, processors, bootstrapDays } = parsed.data;
  return { from, to, phases, ...(processors ? { processors } : {}), bootstrapDays: bootstrapDays ?? WORKFLOW_DEFAULT_BOOTSTRAP_DAYS };
}

/** Whether any worker has polled the queue for workflow tasks recently (the server's view). */
async function workflowPollers(client: Client, taskQueue: string): Promise<number> {
  const response = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    // The task queue type left unset means workflow tasks: the pollers that answer queries.
    taskQueue: { name: taskQueue },
  });
  return response.pollers?.length ?? 0;
}

/**
 * The backfill's status for the report: getBackfillStatus (live progress) when a worker polls its
 * task queue, otherwise what the server alone knows — the stored result of a completed backfill.
 * Throws WorkflowNotFoundError for an unknown id.
 */
export async function reportStatus(client: Client, backfillId: string): Promise<BackfillStatus> {
  const handle = client.workflow.getHandle(backfillId);
  const description = await handle.describe();
  const status = description.status.name;
  if ((await workflowPollers(client, description.taskQueue)) > 0) {
    return client.withDeadline(Date.now() + LIVE_QUERY_DEADLINE_MS, () => getBackfillStatus(client, backfillId, { progressWaitMs: LIVE_QUERY_DEADLINE_MS }));
  }
  const note = `no worker polls task queue ${description.taskQueue}: no live progress`;
  if (status === 'COMPLETED') return { id: backfillId, status, progress: null, result: (await handle.result()) as BackfillResult, note };
  return { id: backfillId, status, progress: null, result: null, note };
}

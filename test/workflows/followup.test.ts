/**
 * Retries at any time, on the real dev server through the CLI: at a failed gate `retry-failed` /
 * `retry-phase` signal the backfill as before; once it has ended they start a follow-up
 * (`<id>/followup-<n>`) that re-runs exactly the failed or missing dates and validates again; while
 * it runs anything else they are refused with one line and nothing is started.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { runCli } from '../../src/cli';
import { backfillIdFor, startBackfill } from '../../src/client/backfill-client';
import { backfillProgressQuery } from '../../src/shared/messages';
import { BACKFILL_ID } from '../../src/shared/search-attributes';
import type { BackfillRequest, BackfillResult, RunDateInput } from '../../src/shared/types';
import type { DuckDbWarehouse } from '../../src/warehouse';
import { eventually, seededWarehouse, startWorker, testEnv, type RunningWorker } from '../helpers/harness';
import { testServerAddress } from '../helpers/temporal-env';

async function cli(argv: string[], env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (s) => (out += s), err: (s) => (err += s), env: { TEMPORAL_ADDRESS: testServerAddress(), ...env } });
  return { code, out, err };
}

interface Call {
  workflowId: string;
  processor: string;
  date: string;
}

describe('retries at any time: follow-ups', () => {
  let env: TestWorkflowEnvironment;
  let warehouse: DuckDbWarehouse;
  let worker: RunningWorker;
  let vars: Record<string, string>;
  /** Every date activity, with the workflow that ran it. */
  const calls: Call[] = [];
  /** backfill ID → dates that fail (non-retryably) in its first runs; a gate's re-run or a follow-up succeeds. */
  const failing = new Map<string, Set<string>>();
  /** backfill IDs whose dates take a while, so they can be caught running. */
  const slow = new Set<string>();

  beforeAll(async () => {
    env = await testEnv();
    warehouse = await seededWarehouse('tiny');
    worker = await startWorker(env, warehouse, {
      wrap: (acts) => ({
        ...acts,
        async runProcessorForDate(input: RunDateInput) {
          const workflowId = Context.current().info.workflowExecution?.workflowId ?? '';
          calls.push({ workflowId, processor: input.processor, date: input.date });
          if (slow.has(input.backfillId)) await new Promise((r) => setTimeout(r, 300));
          if (failing.get(input.backfillId)?.has(input.date) && !workflowId.includes('/retry-')) {
            throw ApplicationFailure.nonRetryable('schema drift in the feed', 'SchemaError');
          }
          return acts.runProcessorForDate(input);
        },
      }),
    });
    vars = { BACKFILL_TASK_QUEUE: worker.config.taskQueue };
  });
  afterAll(async () => {
    await worker?.stop();
    await warehouse?.close();
    await env?.teardown();
  });

  const callsOf = (workflowIdPrefix: string): Array<Omit<Call, 'workflowId'>> =>
    calls.filter((c) => c.workflowId.startsWith(workflowIdPrefix)).map(({ processor, date }) => ({ processor, date }));

  const expectNoFollowUp = async (id: string): Promise<void> => {
    await expect(env.client.workflow.getHandle(`${id}/followup-1`).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  };

  const oneLine = (text: string): string => {
    expect(text.trim().split('\n')).toHaveLength(1);
    return text.trim();
  };

  test('completed with a failed date (gate approved): retry-failed starts a follow-up that re-runs exactly it, validates, and is linked both ways', async () => {
    const failedDate = '2024-10-24';
    const request: BackfillRequest = { from: '2024-10-23', to: '2024-10-27', phases: [3], processors: ['player_game_summary'], concurrency: 2, gatePolicy: 'wait' };
    const id = backfillIdFor(request);
    failing.set(id, new Set([failedDate]));
    const { handle } = await startBackfill(env.client, worker.config.taskQueue, request);
    await eventually(async () => (await handle.query(backfillProgressQuery)).stage.kind === 'gate_failed');

    // At the gate, retry-phase retries the gate's phase: another phase is bad input, nothing sent.
    const wrongPhase = await cli(['retry-phase', id, '--phase', '4'], vars);
    expect(wrongPhase.code).toBe(2);
    expect(oneLine(wrongPhase.err)).toBe(`backfill: backfill ${id} is waiting at its phase 3 gate: retry-phase there retries phase 3, not 4`);
    expect((await cli(['approve-gate', id], vars)).code).toBe(0);
    const original = await handle.result();
    expect(original.processors[0]?.failed).toEqual({ [failedDate]: 'SchemaError: schema drift in the feed' });

    const retried = await cli(['retry-failed', id], vars);
    expect(retried.code).toBe(0);
    const followUpId = `${id}/followup-1`;
    expect(retried.out).toBe(`${followUpId}\n`);
    expect(oneLine(retried.err)).toBe(`started ${followUpId}: follow-up of ${id}: re-runs 1 failed date of player_game_summary (1)`);

    const followUp = env.client.workflow.getHandle(followUpId);
    const result = (await followUp.result()) as BackfillResult;
    expect(result.followUp).toMatchObject({ of: id, kind: 'retry-failed', rerun: { player_game_summary: [failedDate] } });
    expect(result.gates.map((g) => g.ok)).toEqual([true]);
    // The plan's totals, every date done now.
    expect(result.processors).toEqual([expect.objectContaining({ processor: 'player_game_summary', total: original.processors[0]!.total, done: original.processors[0]!.total, failed: {} })]);
    // Exactly the failed date was re-run, once.
    expect(callsOf(`${followUpId}/`)).toEqual([{ processor: 'player_game_summary', date: failedDate }]);
    // Listed under the original.
    expect((await followUp.describe()).typedSearchAttributes.get(BACKFILL_ID)).toBe(id);

    const status = await cli(['status', id], vars);
    expect(status.out).toContain(`  follow-ups: ${followUpId} COMPLETED`);
    const json = JSON.parse((await cli(['status', id, '--json'], vars)).out) as { followUps: unknown };
    expect(json.followUps).toEqual([{ id: followUpId, status: 'COMPLETED' }]);
    const ofFollowUp = await cli(['status', followUpId], vars);
    expect(ofFollowUp.out).toContain(`  follow-up of ${id} (retry-failed)`);
    expect(ofFollowUp.out).toContain(`  re-ran 1 date: player_game_summary ${failedDate}`);
    const listed = (await cli(['list'], vars)).out.split('\n');
    const at = listed.findIndex((l) => l.startsWith(`${id}  COMPLETED`));
    expect(at).toBeGreaterThanOrEqual(0);
    expect(listed[at + 1]).toMatch(new RegExp(`^  ↳ ${followUpId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}  COMPLETED`));

    // The follow-up settled the failure: nothing is left to retry, and nothing more is started.
    const again = await cli(['retry-failed', followUpId], vars);
    expect(again.code).toBe(1);
    expect(oneLine(again.err)).toBe(`backfill: no failed dates in ${id} (with its follow-ups ${followUpId}): nothing to retry`);
    await expect(env.client.workflow.getHandle(`${id}/followup-2`).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  test('completed cleanly: nothing failed is refused; retry-phase re-runs a date whose rows went missing since, and validates', async () => {
    const request: BackfillRequest = { from: '2024-10-23', to: '2024-10-28', phases: [3], processors: ['player_game_summary'], concurrency: 2, gatePolicy: 'wait' };
    const { handle, backfillId: id } = await startBackfill(env.client, worker.config.taskQueue, request);
    expect((await handle.result()).gates.map((g) => g.ok)).toEqual([true]);

    const nothing = await cli(['retry-failed', id], vars);
    expect(nothing.code).toBe(1);
    expect(oneLine(nothing.err)).toBe(`backfill: no failed dates in ${id}: nothing to retry`);
    for (const [argv, message] of [
      [['retry-phase', id, '--phase', '9'], 'backfill: --phase: unknown phase "9"; known phases: 3, 4, 5, 6'],
      [['retry-phase', id, '--phase', '4'], `backfill: backfill ${id} has no phase 4 (its phases: 3)`],
      [['retry-phase', id], `backfill: backfill ${id} has ended COMPLETED: say which phase to retry with --phase (its phases: 3)`],
    ] as const) {
      const r = await cli([...argv], vars);
      expect(r.code).toBe(2);
      expect(oneLine(r.err)).toBe(message);
      expect(r.out).toBe('');
    }
    await expectNoFollowUp(id);

    const gone = '2024-10-25';
    await warehouse.execute(`DELETE FROM nba_analytics.player_game_summary WHERE game_date = DATE '${gone}'`);
    const retried = await cli(['retry-phase', id, '--phase', '3', '--wait'], vars);
    expect(retried.code).toBe(0);
    const followUpId = `${id}/followup-1`;
    expect(retried.out.split('\n')[0]).toBe(followUpId);
    expect(retried.out).toMatch(new RegExp(`^${followUpId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: COMPLETED`, 'm'));
    expect(retried.err).toContain(`follow-up of ${id}: re-validates phase 3 and re-runs the dates its gate finds missing or duplicated`);

    const result = (await env.client.workflow.getHandle(followUpId).result()) as BackfillResult;
    // Validated first (the date missing), re-ran it, validated again.
    expect(result.gates.map((g) => g.ok)).toEqual([false, true]);
    expect(result.gates[0]?.tables[0]?.missingDates).toEqual([gone]);
    expect(result.followUp).toMatchObject({ kind: 'retry-phase', phase: 3, rerun: { player_game_summary: [gone] } });
    expect(callsOf(`${followUpId}/`)).toEqual([{ processor: 'player_game_summary', date: gone }]);
    const [row] = await warehouse.query(`SELECT count(*) AS n FROM nba_analytics.player_game_summary WHERE game_date = DATE '${gone}'`);
    expect(Number(row?.n)).toBeGreaterThan(0);

    // Whether a phase lacks anything now only a validation can tell: a second retry-phase checks,
    // finds nothing to re-run, runs nothing, and says so.
    const clean = await cli(['retry-phase', id, '--phase', '3', '--wait'], vars);
    expect(clean.code).toBe(0);
    expect(clean.out.split('\n')[0]).toBe(`${id}/followup-2`);
    expect(clean.err).toContain(`nothing was re-run: the tables pass ${id}/followup-2's gate as they stand`);
    expect(callsOf(`${id}/followup-2/`)).toEqual([]);
    expect(((await env.client.workflow.getHandle(`${id}/followup-2`).result()) as BackfillResult).gates.map((g) => g.ok)).toEqual([true]);
    expect((await cli(['status', id], vars)).out).toContain(`  follow-ups: ${followUpId} COMPLETED, ${id}/followup-2 COMPLETED`);
  });

  test('running: refused with its stage and nothing started; cancelled: retry-failed re-runs the failure its history recorded, and the follow-up takes gate decisions as any backfill', async () => {
    const failedDate = '2024-10-23';
    const processor = 'team_offense_game_summary';
    const request: BackfillRequest = { from: '2024-10-22', to: '2024-11-05', phases: [3], processors: [processor], concurrency: 1, gatePolicy: 'wait' };
    const id = backfillIdFor(request);
    failing.set(id, new Set([failedDate]));
    slow.add(id);
    const { handle } = await startBackfill(env.client, worker.config.taskQueue, request);
    await eventually(async () => ((await handle.query(backfillProgressQuery)).processors[0]?.failed ?? 0) >= 1);

    for (const kind of ['retry-failed', 'retry-phase'] as const) {
      const early = await cli([kind, id], vars);
      expect(early.code).toBe(1);
      expect(oneLine(early.err)).toBe(`backfill: backfill ${id} is running phase 3 (group 1): ${kind} applies at its gate or after it ends`);
      expect(early.out).toBe('');
    }
    await expectNoFollowUp(id);
    await handle.cancel();
    await eventually(async () => (await handle.describe()).status.name === 'CANCELLED');
    const retried = await cli(['retry-failed', id], vars);
    expect(retried.code).toBe(0);
    const followUpId = `${id}/followup-1`;
    expect(retried.out).toBe(`${followUpId}\n`);
    const followUp = env.client.workflow.getHandle(followUpId);
    // It re-runs exactly the failed date; the dates the cancel left unrun fail its gate, which waits.
    await eventually(async () => (await followUp.query(backfillProgressQuery)).stage.kind === 'gate_failed');
    expect(callsOf(`${followUpId}/`)).toEqual([{ processor, date: failedDate }]);
    const held = await followUp.query(backfillProgressQuery);
    const missing = held.gates[0]!.tables[0]!.missingDates;
    expect(missing.length).toBeGreaterThan(0);
    expect(missing).not.toContain(failedDate);
    expect((await cli(['status', id], vars)).out).toContain(`  follow-ups: ${followUpId} RUNNING`);

    // While the follow-up waits at its gate, a retry of the original is that gate's decision.
    const atGate = await cli(['retry-phase', id], vars);
    expect(atGate.code).toBe(0);
    expect(atGate.out).toBe(`retrying the phase of ${followUpId}\n`);
    const result = (await followUp.result()) as BackfillResult;
    expect(result.gates.map((g) => g.ok)).toEqual([false, true]);
    expect(callsOf(`${followUpId}/${processor}/retry-1`).map((c) => c.date).sort()).toEqual([...missing].sort());
    await expect(env.client.workflow.getHandle(`${id}/followup-2`).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });
});

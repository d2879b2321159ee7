/**
 * Phase gates on the real dev server: duplicates written into a Phase 3 table (as the handoff's
 * pre-MERGE bug did) fail the gate; `wait` holds the pipeline for an operator, `remediate` repairs
 * it and goes on.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { BackfillActivities } from '../../src/activities';
import { startBackfill } from '../../src/client/backfill-client';
import { approveGateSignal, backfillProgressQuery, retryFailedSignal, retryPhaseSignal } from '../../src/shared/messages';
import type { BackfillProgress, BackfillRequest, BackfillResult, RunDateInput } from '../../src/shared/types';
import type { DuckDbWarehouse } from '../../src/warehouse';
import { eventually, seededWarehouse, startWorker, testEnv } from '../helpers/harness';

const TABLE = 'nba_analytics.player_game_summary';
const DUPLICATED_DATE = '2024-10-24';

/** After the first run's write of one date, copies its rows: a write that duplicated, as before the MERGE fix. */
function duplicatingWrites(warehouse: DuckDbWarehouse) {
  return (acts: BackfillActivities) => ({
    ...acts,
    async runProcessorForDate(input: RunDateInput) {
      const result = await acts.runProcessorForDate(input);
      const firstRun = !Context.current().info.workflowExecution?.workflowId.includes('/retry-');
      if (firstRun && input.processor === 'player_game_summary' && input.date === DUPLICATED_DATE) {
        await warehouse.execute(`INSERT INTO ${TABLE} SELECT * FROM ${TABLE} WHERE game_date = DATE '${DUPLICATED_DATE}'`);
      }
      return result;
    },
  });
}

async function duplicates(warehouse: DuckDbWarehouse): Promise<number> {
  const [row] = await warehouse.query(
    `SELECT count(*) AS n FROM (SELECT game_id, player_lookup FROM ${TABLE} GROUP BY 1, 2 HAVING count(*) > 1) AS d`,
  );
  return Number(row?.n);
}

/**
 * After a re-run of a date that had already been written, the parent's numbers are the plan's:
 * every runnable date done once — never the re-run counted again — and the totals unchanged.
 */
async function expectMergedNumbers(
  handle: { query: (q: typeof backfillProgressQuery) => Promise<BackfillProgress> },
  result: BackfillResult,
): Promise<void> {
  const progress = await handle.query(backfillProgressQuery);
  const p = progress.processors[0]!;
  const gate = result.gates[result.gates.length - 1]!.tables[0]!;
  expect(p.total - p.skipped).toBe(gate.expectedDates);
  expect(p).toMatchObject({ done: gate.expectedDates, failed: 0, status: 'completed' });
  expect(result.processors[0]).toMatchObject({ done: gate.expectedDates, total: p.total, failed: {} });
  expect(progress.etaSeconds).toBe(0);
}

describe('phase gates', () => {
  let env: TestWorkflowEnvironment;
  let warehouse: DuckDbWarehouse;
  let range = 0;

  beforeAll(async () => {
    env = await testEnv();
    warehouse = await seededWarehouse('tiny');
  });
  afterAll(async () => {
    await warehouse?.close();
    await env?.teardown();
  });

  // A distinct range per test gives each its own backfill ID.
  const request = (gatePolicy: 'wait' | 'remediate'): BackfillRequest => ({
    from: '2024-10-22',
    to: ['2024-10-28', '2024-10-29', '2024-10-30', '2024-10-31', '2024-11-01', '2024-11-02'][range++] as string,
    phases: [3],
    processors: ['player_game_summary'],
    concurrency: 3,
    gatePolicy,
  });

  test('wait: duplicates fail the gate and the pipeline holds until approve-gate', async () => {
    const worker = await startWorker(env, warehouse, { wrap: duplicatingWrites(warehouse) });
    try {
      const { handle } = await startBackfill(env.client, worker.config.taskQueue, request('wait'));
      const held = await eventually(async () => {
        const p = await handle.query(backfillProgressQuery);
        return p.stage.kind === 'gate_failed' ? p : undefined;
      });
      const report = held.gates[0];
      expect(report?.ok).toBe(false);
      expect(report?.tables[0]?.duplicateKeys).toBeGreaterThan(0);
      expect(report?.tables[0]?.duplicateDates).toEqual([DUPLICATED_DATE]);
      expect(report?.problems.join('\n')).toMatch(/duplicate key\(s\) \(must be 0\)/);
      // It really holds: still waiting a while later.
      await new Promise((r) => setTimeout(r, 1500));
      expect((await handle.query(backfillProgressQuery)).stage.kind).toBe('gate_failed');
      expect((await handle.describe()).status.name).toBe('RUNNING');

      await handle.signal(approveGateSignal);
      const result = (await handle.result());
      expect(result.status).toBe('completed');
      expect(result.gates).toHaveLength(1);
      expect(await duplicates(warehouse)).toBeGreaterThan(0);
    } finally {
      await worker.stop();
    }
  });

  test('wait: retry-phase re-runs the bad dates, re-validates and goes on', async () => {
    const worker = await startWorker(env, warehouse, { wrap: duplicatingWrites(warehouse) });
    try {
      const { handle, backfillId } = await startBackfill(env.client, worker.config.taskQueue, request('wait'));
      await eventually(async () => (await handle.query(backfillProgressQuery)).stage.kind === 'gate_failed');
      await handle.signal(retryPhaseSignal);
      const result = (await handle.result());
      expect(result.status).toBe('completed');
      expect(result.gates.map((g) => g.ok)).toEqual([false, true]);
      expect(await duplicates(warehouse)).toBe(0);
      // Only the bad date was re-run, in a child of its own.
      const retry = await env.client.workflow.getHandle(`${backfillId}/player_game_summary/retry-1`).result();
      expect(retry).toMatchObject({ done: 1 });
      await expectMergedNumbers(handle, result);
    } finally {
      await worker.stop();
    }
  });

  test('wait: a date that exhausted its retries fails the gate; retry-failed re-runs exactly it', async () => {
    const failingDate = '2024-10-23';
    const worker = await startWorker(env, warehouse, {
      wrap: (acts) => ({
        ...acts,
        async runProcessorForDate(input: RunDateInput) {
          const firstRun = !Context.current().info.workflowExecution?.workflowId.includes('/retry-');
          if (firstRun && input.date === failingDate) throw ApplicationFailure.nonRetryable('schema drift in the feed', 'SchemaError');
          return acts.runProcessorForDate(input);
        },
      }),
    });
    try {
      const { handle, backfillId } = await startBackfill(env.client, worker.config.taskQueue, request('wait'));
      const held = await eventually(async () => {
        const p = await handle.query(backfillProgressQuery);
        return p.stage.kind === 'gate_failed' ? p : undefined;
      });
      expect(held.gates[0]?.tables[0]?.failedDates).toEqual([{ date: failingDate, error: 'SchemaError: schema drift in the feed' }]);
      expect(held.processors[0]?.failed).toBe(1);
      await handle.signal(retryFailedSignal);
      const result = await handle.result();
      expect(result.gates.map((g) => g.ok)).toEqual([false, true]);
      expect(result.processors[0]?.failed).toEqual({});
      const retry = await env.client.workflow.getHandle(`${backfillId}/player_game_summary/retry-1`).result();
      expect(retry).toMatchObject({ done: 1, total: 1 });
    } finally {
      await worker.stop();
    }
  });

  test('thresholds travel with the request: the gate judges by them, whatever the worker was started with', async () => {
    // This worker has no GATE_THRESHOLDS; the request asks for every usage rate (~86% are present).
    const worker = await startWorker(env, warehouse);
    try {
      const { handle } = await startBackfill(env.client, worker.config.taskQueue, {
        ...request('wait'),
        gateThresholds: { 'player_game_summary.usage_rate': 1 },
      });
      const held = await eventually(async () => {
        const p = await handle.query(backfillProgressQuery);
        return p.stage.kind === 'gate_failed' ? p : undefined;
      });
      expect(held.gateThresholds).toEqual({ 'player_game_summary.usage_rate': 1 });
      const usage = held.gates[0]?.tables[0]?.fieldCoverage.find((f) => f.column === 'usage_rate');
      expect(usage).toMatchObject({ min: 1, ok: false });
      expect(held.gates[0]?.problems.join('\n')).toMatch(/usage_rate: coverage .* below the 100.0% threshold/);
      await handle.signal(approveGateSignal);
      await handle.result();
    } finally {
      await worker.stop();
    }
  });

  test('remediate: the pipeline deduplicates, re-validates and goes on by itself', async () => {
    const worker = await startWorker(env, warehouse, { wrap: duplicatingWrites(warehouse) });
    try {
      const { handle } = await startBackfill(env.client, worker.config.taskQueue, request('remediate'));
      const result = (await handle.result());
      expect(result.status).toBe('completed');
      expect(result.gates.map((g) => g.ok)).toEqual([false, true]);
      expect(result.gates[1]?.tables[0]?.duplicateKeys).toBe(0);
      expect(await duplicates(warehouse)).toBe(0);
      await expectMergedNumbers(handle, result);
    } finally {
      await worker.stop();
    }
  });
});

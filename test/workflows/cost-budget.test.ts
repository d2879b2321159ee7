/**
 * The cost budget on the real dev server: a DuckDB warehouse wrapped to report 1 MiB billed per
 * per-date statement through onJobStatistics (as BigQuery's job statistics do), so each date of
 * the processor bills 2 MiB (its input check and its write). With a 10 MiB budget for 22 dates the
 * backfill pauses itself (`paused_cost`) before the bytes billed pass the budget, with the figures
 * in `status`; raising the budget (`set-cost-budget`) and `resume` complete it.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { runCli } from '../../src/cli';
import { backfillProgressQuery, processorProgressQuery } from '../../src/shared/messages';
import { BACKFILL_STATUS } from '../../src/shared/search-attributes';
import type { backfillWorkflow } from '../../src/workflows';
import { eventually, seededWarehouse, startWorker, testEnv } from '../helpers/harness';
import { SteeringWarehouse } from '../helpers/steering-warehouse';
import { testServerAddress } from '../helpers/temporal-env';

const PROCESSOR = 'player_game_summary';
const MIB = 2 ** 20;

describe('cost budget', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await testEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  test('pauses with paused_cost before the bytes billed pass the budget; a raised budget and resume complete it', async () => {
    const warehouse = await seededWarehouse('tiny');
    let steering: SteeringWarehouse | undefined;
    const worker = await startWorker(env, warehouse, {
      wrapWarehouse: (w) => (steering = new SteeringWarehouse(w, { bytesPerStatement: MIB })),
    });
    const cli = async (...argv: string[]): Promise<{ code: number; out: string; err: string }> => {
      let out = '';
      let err = '';
      const code = await runCli(argv, {
        out: (s) => (out += s),
        err: (s) => (err += s),
        env: { TEMPORAL_ADDRESS: testServerAddress(), BACKFILL_TASK_QUEUE: worker.config.taskQueue, DUCKDB_PATH: warehouse.path },
      });
      return { code, out, err };
    };
    try {
      const budget = 10 * MIB;
      const started = await cli('start', '--from', '2024-10-22', '--to', '2024-11-12', '--phases', '3', '--processors', PROCESSOR, '--concurrency', '2', '--max-bytes-billed-total', '10MiB');
      expect(started.code).toBe(0);
      // DuckDB bills nothing of its own: the budget is accepted and noted as not applicable there.
      expect(started.err).toContain('not applicable on duckdb');
      const id = started.out.trim();
      const handle = env.client.workflow.getHandle<typeof backfillWorkflow>(id);

      // Paused, its window drained, and the child's final bill reported to the parent.
      const child = env.client.workflow.getHandle(`${id}/${PROCESSOR}`);
      const paused = await eventually(async () => {
        const p = await handle.query(backfillProgressQuery);
        if (p.pauseReason?.kind !== 'cost' || (await child.query(processorProgressQuery)).inFlight.length > 0) return undefined;
        return p.cost?.spentBytes === steering!.reportedBytes ? p : undefined;
      });
      expect(paused.pauseReason).toMatchObject({ kind: 'cost', status: 'paused_cost' });
      // Never past the budget — what the warehouse reported is the truth — and stopped before the end.
      const billed = steering!.reportedBytes;
      expect(billed).toBeLessThanOrEqual(budget);
      expect(billed).toBeGreaterThan(0);
      expect(paused.cost).toMatchObject({ spentBytes: billed, budgetBytes: budget, avgBytesPerDate: 2 * MIB });
      expect(paused.cost!.remainingDates).toBeGreaterThan(0);
      expect(paused.cost!.remainingEstimateBytes).toBe(paused.cost!.remainingDates * 2 * MIB);
      expect((await handle.describe()).typedSearchAttributes.get(BACKFILL_STATUS)).toBe('paused_cost');

      const status = await cli('status', id);
      expect(status.out).toContain('PAUSED by the cost budget');
      expect(status.out).toContain('bytes billed: ');
      expect(status.out).toMatch(/of a 10\.0 MiB budget/);

      // Nothing more is billed while paused; then the budget is raised and the backfill resumed.
      expect(steering!.reportedBytes).toBe(billed);
      const raised = await cli('set-cost-budget', id, '100MiB');
      expect(raised).toMatchObject({ code: 0 });
      expect(raised.out).toContain('10.0 MiB → 100.0 MiB');
      expect((await cli('resume', id)).code).toBe(0);

      const result = await handle.result();
      expect(result.status).toBe('completed');
      const run = result.processors.find((p) => p.processor === PROCESSOR)!;
      expect(run.failed).toEqual({});
      expect(run.bytesBilled).toBe(steering!.reportedBytes);
      expect(steering!.reportedBytes).toBe(run.done * 2 * MIB);
    } finally {
      await worker.stop();
      await warehouse.close();
    }
  });
});

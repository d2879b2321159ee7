/**
 * A flaky warehouse: 10% of the calls activities make fail with a transient error (seeded, so the
 * same calls fail on every run), injected at the warehouse interface. Temporal's retries absorb
 * them: the backfill completes with zero failed dates, its gate passes, and the tables equal an
 * uninterrupted run's.
 *
 * Two processors, because the gate is the fragile part: it runs about four queries per table in
 * one activity, so with all five Phase 3 tables an attempt succeeds about one time in ten at this
 * rate and only its retry policy (10 attempts, back-off from 2 s doubling) carries it — slow, and
 * for about a third of seeds not far enough. With two tables an attempt succeeds about four times
 * in ten. The test prints how many attempts the gate and planning took.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startBackfill } from '../../src/client/backfill-client';
import { phase3Processors } from '../../src/pipeline/phase3';
import type { BackfillRequest, BackfillResult } from '../../src/shared/types';
import { expectSameTables, referenceRun, seededWarehouse, startWorker, testEnv } from '../helpers/harness';
import { FaultyWarehouse } from '../helpers/faulty-warehouse';

const SEED = Number(process.env.FAULT_SEED ?? 10);
const RATE = 0.1;

describe('transient warehouse errors', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await testEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  test(`${RATE * 100}% of warehouse calls failing transiently: completes with zero failed dates`, async () => {
    // Short back-off keeps the test quick; attempts as many as it takes for a date to meet 10% failures.
    const request: BackfillRequest = {
      from: '2024-10-22',
      to: '2024-11-05',
      phases: [3],
      processors: ['player_game_summary', 'team_offense_game_summary'],
      concurrency: 3,
      gatePolicy: 'wait',
      retry: { maximumAttempts: 10, initialIntervalMs: 100, backoffCoefficient: 2, maximumIntervalMs: 1_000 },
    };
    const reference = await referenceRun(env, request);

    const warehouse = await seededWarehouse('tiny');
    let faulty: FaultyWarehouse | undefined;
    const worker = await startWorker(env, warehouse, {
      wrapWarehouse: (w) => (faulty = new FaultyWarehouse(w, { transient: { rate: RATE, seed: SEED } })),
    });
    try {
      const { handle } = await startBackfill(env.client, worker.config.taskQueue, request);
      const result = await handle.result();
      const counts = faulty!.counts;
      const attempts = (await handle.fetchHistory()).events?.map((e) => e.activityTaskStartedEventAttributes?.attempt ?? 0) ?? [];
      process.stdout.write(
        `transient-warehouse-errors: seed ${SEED}, ${counts.transient} of ${counts.calls} warehouse calls failed; ` +
          `the backfill's own activities (plan, gate) needed up to ${Math.max(...attempts)} attempts\n`,
      );

      expect(result.status).toBe('completed');
      const tally = (r: BackfillResult): Record<string, { done: number; failed: number }> =>
        Object.fromEntries(r.processors.map((p) => [p.processor, { done: p.done, failed: Object.keys(p.failed).length }]));
      expect(tally(result)).toEqual(tally(reference.result));
      expect(Object.values(tally(result)).every((t) => t.failed === 0 && t.done > 0)).toBe(true);
      expect(result.gates.map((g) => g.ok)).toEqual([true]);
      // The faults were real: about the rate asked for (a seeded draw, so a loose band).
      expect(counts.transient / counts.calls).toBeGreaterThan(RATE / 2);
      expect(counts.transient / counts.calls).toBeLessThan(RATE * 2);

      await expectSameTables(reference.warehouse, warehouse, phase3Processors.filter((p) => request.processors?.includes(p.name)));
    } finally {
      await worker.stop();
      await warehouse.close();
      await reference.warehouse.close();
    }
  });
});

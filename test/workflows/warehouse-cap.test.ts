/**
 * One cap on warehouse work in flight across the deployment: two backfills on two workers at once
 * never have more than the cap of warehouse statements running, measured at the warehouse itself.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { BackfillActivities } from '../../src/activities';
import { slotsWorkflowId } from '../../src/activities/temporal-slots';
import { warehouseKey } from '../../src/config';
import { startBackfill } from '../../src/client/backfill-client';
import { slotsHeld, slotsStateQuery } from '../../src/shared/messages';
import type { BackfillRequest, RunDateInput } from '../../src/shared/types';
import { type DuckDbWarehouse } from '../../src/warehouse';
import { eventually, seededWarehouse, startWorker, testEnv } from '../helpers/harness';
import { uniqueTaskQueue } from '../helpers/temporal-env';

const CAP = 2;

/** Counts warehouse calls running at once, across everything that shares this warehouse object. */
function meter(warehouse: DuckDbWarehouse) {
  let running = 0;
  let peak = 0;
  const methods = ['query', 'execute', 'replacePartition', 'deduplicate'] as const;
  for (const m of methods) {
    const original = (warehouse[m] as (...a: unknown[]) => Promise<unknown>).bind(warehouse);
    (warehouse as unknown as Record<string, unknown>)[m] = async (...args: unknown[]) => {
      running += 1;
      peak = Math.max(peak, running);
      try {
        // Hold each statement a little so overlapping demand is real, not luck of timing.
        await new Promise((r) => setTimeout(r, 15));
        return await original(...args);
      } finally {
        running -= 1;
      }
    };
  }
  return { peak: () => peak };
}

describe('the deployment-wide cap on warehouse work', () => {
  let env: TestWorkflowEnvironment;
  let warehouse: DuckDbWarehouse;

  beforeAll(async () => {
    env = await testEnv();
    warehouse = await seededWarehouse('tiny');
  });
  afterAll(async () => {
    await warehouse?.close();
    await env?.teardown();
  });

  test(`two backfills on two workers never exceed ${CAP} warehouse statements in flight`, async () => {
    const probe = meter(warehouse);
    const perWorker: [number, number] = [0, 0];
    const counting = (i: 0 | 1) => (acts: BackfillActivities) => ({
      ...acts,
      async runProcessorForDate(input: RunDateInput) {
        perWorker[i] += 1;
        return acts.runProcessorForDate(input);
      },
    });
    // Two workers on two task queues (the SDK allows one worker per queue per process; two
    // processes cannot share one DuckDB file), one warehouse, so one cap.
    const slotsTaskQueue = uniqueTaskQueue('slots');
    const queues = [uniqueTaskQueue('cap-a'), uniqueTaskQueue('cap-b')] as const;
    const workers = [
      await startWorker(env, warehouse, { config: { taskQueue: queues[0], slotsTaskQueue, warehouseMaxInFlight: CAP }, wrap: counting(0) }),
      await startWorker(env, warehouse, {
        config: { taskQueue: queues[1], slotsTaskQueue, warehouseMaxInFlight: CAP },
        wrap: counting(1),
        slotsWorker: false,
      }),
    ];
    try {
      // Demand far above the cap: 5 processors × a window of 6, twice.
      const requests: BackfillRequest[] = [
        { from: '2024-10-22', to: '2024-11-01', phases: [3], concurrency: 6, gatePolicy: 'wait' },
        { from: '2024-11-02', to: '2024-11-12', phases: [3], concurrency: 6, gatePolicy: 'wait' },
      ];
      const started = await Promise.all(requests.map((r, i) => startBackfill(env.client, queues[i === 0 ? 0 : 1], r)));
      const results = await Promise.all(started.map((s) => s.handle.result()));
      expect(results.map((r) => r.status)).toEqual(['completed', 'completed']);

      // Measured at the warehouse: the cap was reached and never exceeded.
      expect(probe.peak()).toBe(CAP);
      // Both workers did warehouse work, so the cap held across processes' worth of workers.
      expect(perWorker[0]).toBeGreaterThan(0);
      expect(perWorker[1]).toBeGreaterThan(0);
      const handle = env.client.workflow.getHandle(slotsWorkflowId(warehouseKey(workers[0]!.config)));
      const slots = await handle.query(slotsStateQuery);
      expect(slots.maxHeldObserved).toBe(CAP);
      // Both processes' shares go back once nothing uses them (after lingering a moment for the next date).
      const returned = await eventually(async () => slotsHeld(await handle.query(slotsStateQuery)) === 0, 100, 20_000);
      expect(returned).toBe(true);
    } finally {
      // The slots worker stops last: the other's activities may still hold slots until then.
      await workers[1]?.stop();
      await workers[0]?.stop();
    }
  });
});

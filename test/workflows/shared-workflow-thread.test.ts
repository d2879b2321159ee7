/**
 * A worker process runs its two Workers (backfill queue, warehouse-slots queue) on one workflow
 * thread (src/shared-workflow-thread.ts). Counted at the SDK's own hook: every workflow thread the
 * SDK starts goes through Worker.createWorkflowCreator, spied on and called through.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { startBackfill } from '../../src/client/backfill-client';
import { workerClassSharingWorkflowThread } from '../../src/shared-workflow-thread';
import { slotsStateQuery } from '../../src/shared/messages';
import type { BackfillRequest } from '../../src/shared/types';
import type { DuckDbWarehouse } from '../../src/warehouse';
import { seededWarehouse, startWorker, testEnv } from '../helpers/harness';
import { bundle, uniqueTaskQueue } from '../helpers/temporal-env';

type Hook = { createWorkflowCreator: (...args: unknown[]) => Promise<unknown> };

describe('one workflow thread per worker process', () => {
  let env: TestWorkflowEnvironment;
  let warehouse: DuckDbWarehouse;
  let threadsStarted: jest.SpyInstance;

  beforeAll(async () => {
    env = await testEnv();
    warehouse = await seededWarehouse('tiny');
  });
  beforeEach(() => {
    threadsStarted = jest.spyOn(Worker as unknown as Hook, 'createWorkflowCreator');
  });
  afterEach(() => threadsStarted.mockRestore());
  afterAll(async () => {
    await warehouse?.close();
    await env?.teardown();
  });

  test('a backfill worker starts one thread for both queues, and a backfill runs through both', async () => {
    const running = await startWorker(env, warehouse);
    try {
      expect(threadsStarted).toHaveBeenCalledTimes(1);
      // A range and processor of its own: the backfill's id comes from them.
      const request: BackfillRequest = {
        from: '2024-11-05',
        to: '2024-11-07',
        phases: [3],
        processors: ['team_offense_game_summary'],
        concurrency: 2,
        gatePolicy: 'wait',
      };
      const { handle } = await startBackfill(env.client, running.config.taskQueue, request);
      const result = await handle.result();
      expect(result.processors.length).toBeGreaterThan(0);
      for (const p of result.processors) expect(Object.keys(p.failed)).toEqual([]);
      // The slots workflow (the other queue) answered too: the dates took their slots from it.
      expect(threadsStarted).toHaveBeenCalledTimes(1);
    } finally {
      await running.stop();
    }
  });

  test('control: two plain Workers start two threads', async () => {
    const workflowBundle = await bundle();
    const workers = [
      await Worker.create({ connection: env.nativeConnection, taskQueue: uniqueTaskQueue('plain-a'), workflowBundle }),
      await Worker.create({ connection: env.nativeConnection, taskQueue: uniqueTaskQueue('plain-b'), workflowBundle }),
    ];
    expect(threadsStarted).toHaveBeenCalledTimes(2);
    await Promise.all(workers.map((w) => w.runUntil(Promise.resolve())));
  });

  test('the thread outlives the first Worker to stop and ends with the last', async () => {
    const workflowBundle = await bundle();
    const SharedThreadWorker = workerClassSharingWorkflowThread();
    const first = await SharedThreadWorker.create({ connection: env.nativeConnection, taskQueue: uniqueTaskQueue('shared-a'), workflowBundle });
    const secondQueue = uniqueTaskQueue('shared-b');
    const second = await SharedThreadWorker.create({ connection: env.nativeConnection, taskQueue: secondQueue, workflowBundle });
    expect(threadsStarted).toHaveBeenCalledTimes(1);

    await first.runUntil(Promise.resolve());
    const secondRun = second.run();
    const id = `shared-thread-slots-${Date.now()}`;
    try {
      // Workflow code still runs for the Worker left: a slots workflow starts and answers a query.
      const handle = await env.client.workflow.start('warehouseSlotsWorkflow', { taskQueue: secondQueue, workflowId: id, args: [{ capacity: 3 }] });
      const state = await handle.query(slotsStateQuery);
      expect(state.capacity).toBe(3);
      await handle.terminate('test over');
    } finally {
      second.shutdown();
      await secondRun;
    }
    // Both stopped: a new Worker of the same class starts a thread of its own.
    const third = await SharedThreadWorker.create({ connection: env.nativeConnection, taskQueue: uniqueTaskQueue('shared-c'), workflowBundle });
    expect(threadsStarted).toHaveBeenCalledTimes(2);
    await third.runUntil(Promise.resolve());
  });
});

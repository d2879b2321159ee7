/**
 * A query racing a workflow task to a fresh worker — the Temporal SDK defect the stale-activation
 * guard exists for (src/workflows/stale-activation.ts).
 *
 * The warehouse-slots workflow grants a process a short lease through worker A (a real worker
 * process); A is SIGKILLed; the lease's expiry timer fires while the workflow's next task waits on
 * A's dead sticky queue; worker B starts, and the workflow is queried over and over — as the
 * recovery bench's probe and the Web UI do — until B has taken the task over. B builds the
 * workflow from history to answer a query, and the events since the last task (the timer) are
 * applied with the time of the task before: the lease looks alive, and the workflow records a timer
 * that every later replay (which sees the right time, the lease expired) does not make.
 *
 * Without the guard (negative control) that history no longer replays: a non-determinism error,
 * and the workflow is stuck for good. With it, the queries in that moment fail with the guard's
 * message, the task is replayed with its own time, the history replays and the workflow answers
 * the next process. The guard's decision is covered case by case in test/unit/stale-activation.test.ts.
 */
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { slotsWorkflowId } from '../../src/activities/temporal-slots';
import { leaseSlotsUpdate, slotsStateQuery, type SlotLeaseRequest } from '../../src/shared/messages';
import type { WarehouseSlotsInput } from '../../src/workflows/warehouse-slots';
import { tempDir, testEnv } from '../helpers/harness';
import { bundle, uniqueTaskQueue } from '../helpers/temporal-env';
import { killAll, spawnWorkerProcess, type WorkerProcess } from '../helpers/worker-process';

const LEASE_MS = 2_000;

interface Round {
  /** Queries refused by the guard while B took the task over. */
  guardedQueries: number;
  /** Workflow tasks failed by the guard. */
  guardedTasks: number;
  /** 'ok', or the replay's error. */
  replay: string;
  /** The leaseId the workflow gave the next process, if it answered. */
  nextLease: string | undefined;
}

describe('a query racing a workflow task to a fresh worker', () => {
  let env: TestWorkflowEnvironment;
  const processes: WorkerProcess[] = [];
  const dir = tempDir('stale');

  beforeAll(async () => {
    env = await testEnv();
  });
  afterAll(async () => {
    await killAll(processes);
    await env?.teardown();
  });

  async function round(name: string, workerB: { guarded: boolean }): Promise<Round> {
    const taskQueue = uniqueTaskQueue('stale');
    const slotsTaskQueue = `${taskQueue}-slots`;
    const a = await spawnWorkerProcess({ taskQueue, slotsTaskQueue, duckdbPath: path.join(dir, `${name}.duckdb`), logFile: path.join(dir, `${name}-a.log`) });
    processes.push(a);
    const input: WarehouseSlotsInput = { capacity: 2, leaseMs: LEASE_MS };
    const workflowId = slotsWorkflowId(`stale-${randomBytes(4).toString('hex')}`);
    const handle = await env.client.workflow.start('warehouseSlotsWorkflow', { workflowId, taskQueue: slotsTaskQueue, args: [input] });
    const request = (process: string): SlotLeaseRequest => ({ process, capacity: 2, want: 1, returnedTotal: 0, knownTarget: 0, waitMs: 500 });
    // Worker A grants process p a lease: the workflow's timer now waits for its expiry.
    await handle.executeUpdate(leaseSlotsUpdate, { args: [request('p')] });
    a.kill('SIGKILL');
    await a.exited;

    const workflowBundle = await bundle(undefined, workerB.guarded ? undefined : []);
    const b = await Worker.create({ connection: env.nativeConnection, taskQueue: slotsTaskQueue, workflowBundle });
    const running = b.run();
    try {
      let guardedQueries = 0;
      const takenOver = async (): Promise<boolean> =>
        ((await handle.fetchHistory()).events ?? []).some(
          (e) => (e.workflowTaskCompletedEventAttributes ?? e.workflowTaskFailedEventAttributes)?.identity === b.options.identity,
        );
      // Each query waits at the server (up to 30 s) until some worker takes it: the ones sent while
      // the task sits on the dead sticky queue reach B together with the task.
      const queries: Array<Promise<unknown>> = [];
      do {
        queries.push(
          env.client
            .withDeadline(Date.now() + 30_000, () => handle.query(slotsStateQuery))
            .catch((err: Error) => {
              if (err.message.includes('stale workflow activation')) guardedQueries += 1;
            }),
        );
        await new Promise((r) => setTimeout(r, 300));
      } while (!(await takenOver()));
      await Promise.all(queries);

      // Give the workflow the time a healthy one needs to answer the next process.
      // A deadline, not a race: an abandoned call would go on retrying after the connection closes.
      const nextLease = await env.client
        .withDeadline(Date.now() + 15_000, () => handle.executeUpdate(leaseSlotsUpdate, { args: [request('q')] }))
        .then((r) => r.leaseId, () => undefined);
      const history = await handle.fetchHistory();
      const guardedTasks = (history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes?.failure?.message?.includes('stale workflow activation')).length;
      const replay = await Worker.runReplayHistory({ workflowBundle }, history).then(
        () => 'ok',
        (err: Error) => err.message,
      );
      return { guardedQueries, guardedTasks, replay, nextLease };
    } finally {
      await handle.terminate('round finished').catch(() => undefined);
      b.shutdown();
      await running;
    }
  }

  test('with the guard, the stale moment is refused and the workflow stays replayable and answers; without it, its history no longer replays', async () => {
    const guarded = await round('guarded', { guarded: true });
    const unguarded = await round('unguarded', { guarded: false });
    process.stdout.write(`stale-activation: guarded ${JSON.stringify(guarded)}; unguarded ${JSON.stringify({ ...unguarded, replay: unguarded.replay.slice(0, 160) })}\n`);

    // The race happened (the guard saw it), and the workflow came through it.
    expect(guarded.guardedQueries + guarded.guardedTasks).toBeGreaterThan(0);
    expect(guarded.replay).toBe('ok');
    expect(guarded.nextLease).toBeDefined();

    // Negative control: the same round without the guard records what no replay can reproduce.
    expect(unguarded.guardedQueries + unguarded.guardedTasks).toBe(0);
    expect(unguarded.replay).toMatch(/[Nn]ondeterminism/);
  });
});

/**
 * A worker stopped with SIGTERM mid-run (a deploy, a scale-down): it stops polling, gives the
 * dates it is running its shutdown grace time, then cancels them and exits by itself — within the
 * grace time plus a margin, derived from the setting. The dates it had in flight are finished by
 * the next worker: none lost, none written twice. Under local dispatch the SDK lets local
 * activities run past the grace time (without our forced exit this worker took 269 s to stop);
 * the process exits at WORKER_SHUTDOWN_FORCE_AFTER_MS, and its unrecorded dates come back with the
 * workflow task.
 */
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { slotsWorkflowId } from '../../src/activities/temporal-slots';
import { startBackfill } from '../../src/client/backfill-client';
import { warehouseKey } from '../../src/config';
import { phase3Processors } from '../../src/pipeline/phase3';
import { slotsHeld, slotsStateQuery } from '../../src/shared/messages';
import type { BackfillRequest } from '../../src/shared/types';
import { WORKER_SHUTDOWN_FORCE_AFTER_MS, WORKER_SHUTDOWN_GRACE_MS } from '../../src/worker';
import { eventually, seededWarehouse, tempDir, terminateQueue, testConfig, testEnv } from '../helpers/harness';
import { uniqueTaskQueue } from '../helpers/temporal-env';
import { completedInHistory, inFlightDates, killAll, spawnWorkerProcess, type WorkerProcess } from '../helpers/worker-process';

const CAP = 4;
/** Closing the warehouse and connections after the grace time: a few seconds, generously. */
const EXIT_MARGIN_MS = 10_000;

describe('a worker stopped with SIGTERM mid-run', () => {
  let env: TestWorkflowEnvironment;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    env = await testEnv();
  });
  afterAll(async () => {
    await killAll(workers);
    await env?.teardown();
  });

  // Regular activities (BigQuery's dispatch) and local activities (DuckDB's): under local dispatch
  // the dates in flight are not in the history yet, and come back with the workflow task.
  test.each([
    ['regular activities', 'activity'],
    ['local activities', 'local'],
  ] as const)('dates as %s: exits on its own within its grace time, and the next worker finishes its in-flight dates exactly once', async (_, dateDispatch) => {
    const request: BackfillRequest = { from: '2024-10-22', to: '2024-10-25', phases: [3], concurrency: 2, gatePolicy: 'wait', dateDispatch };
    const dir = tempDir(`sigterm-${dateDispatch}`);
    const seeded = await seededWarehouse('tiny', { dir });
    const dbPath = seeded.path;
    await seeded.close();
    const taskQueue = uniqueTaskQueue(`sigterm-${dateDispatch}`);
    /** This case's worker processes (`workers` holds every case's, for afterAll). */
    const mine: WorkerProcess[] = [];
    const spawn = async (n: number, holdWritesMs?: number): Promise<WorkerProcess> => {
      const w = await spawnWorkerProcess({
        taskQueue,
        duckdbPath: dbPath,
        logFile: path.join(dir, `worker-${n}.log`),
        env: { WAREHOUSE_MAX_IN_FLIGHT: String(CAP) },
        ...(holdWritesMs ? { faults: { holdWritesMs } } : {}),
      });
      workers.push(w);
      mine.push(w);
      return w;
    };

    // The first worker's writes outlast its grace time, so SIGTERM finds them running.
    const first = await spawn(0, 6 * WORKER_SHUTDOWN_GRACE_MS);
    const { backfillId, handle } = await startBackfill(env.client, taskQueue, request);
    const slots = env.client.workflow.getHandle(slotsWorkflowId(warehouseKey(testConfig({ duckdbPath: dbPath }))));
    // Every window full (more dates than slots), every slot held by a write.
    const windows = request.concurrency * phase3Processors.length;
    const inFlight = await eventually(async () => {
      const dates = await inFlightDates(env, backfillId, phase3Processors.map((p) => p.name));
      const held = await slots.query(slotsStateQuery).then(slotsHeld, () => undefined);
      return dates.length === windows && held === CAP ? dates : undefined;
    }, 50);

    const signalledAt = first.kill('SIGTERM');
    const exit = await first.exited;
    const exitMs = exit.atMs - signalledAt;
    // Regular activities are cancelled at the grace time; local ones run on, and the worker gives up
    // on them at WORKER_SHUTDOWN_FORCE_AFTER_MS (their dates are not recorded yet).
    const stopBy = dateDispatch === 'local' ? WORKER_SHUTDOWN_FORCE_AFTER_MS : WORKER_SHUTDOWN_GRACE_MS;
    process.stdout.write(
      `sigterm-worker (${dateDispatch}): exited ${exitMs} ms after SIGTERM (bound ${stopBy} ms + margin ${EXIT_MARGIN_MS} ms), ` +
        `${inFlight.length} dates in flight\n`,
    );
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exitMs).toBeLessThanOrEqual(stopBy + EXIT_MARGIN_MS);
    expect(first.writes()).toEqual([]);

    const second = await spawn(1);
    const result = await handle.result();
    expect(result.status).toBe('completed');
    expect(result.gates.map((g) => g.ok)).toEqual([true]);
    second.kill('SIGTERM');
    await second.exited;
    await terminateQueue(env, taskQueue);
    await terminateQueue(env, `${taskQueue}-slots`);

    // Every date written exactly once, by the second worker; the first's in-flight ones among them.
    const written = mine.flatMap((w) => w.writes().map((x) => x.key));
    const completed = await completedInHistory(env.client, backfillId, phase3Processors.map((p) => p.name));
    expect(written.length).toBe(new Set(written).size);
    expect(new Set(written)).toEqual(completed);
    expect(completed.size).toBe(result.processors.reduce((n, p) => n + p.done, 0));
    for (const key of inFlight) expect(completed.has(key)).toBe(true);
    expect(result.processors.every((p) => Object.keys(p.failed).length === 0)).toBe(true);
  });
});

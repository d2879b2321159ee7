/**
 * Local dispatch (DateDispatch 'local', the default on DuckDB) under SIGKILL: a date's result is
 * durable once its marker is in the history, which the worker writes with each workflow task (at
 * the latest every LOCAL_DISPATCH_CHECKPOINT_MS). Worker processes killed at two seeded-random
 * points and restarted: the backfill completes, the tables equal an uninterrupted run's with no
 * duplicate key, no date recorded before a kill is run after it (dates written but not yet recorded
 * run again, idempotently), and dates flow again within the workflow task time-out, the sticky
 * queue's hand-back and the dead process's slot lease.
 */
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startBackfill } from '../../src/client/backfill-client';
import { Rng } from '../../src/pipeline/demo/random';
import { phase3Processors } from '../../src/pipeline/phase3';
import { backfillProgressQuery } from '../../src/shared/messages';
import { LOCAL_DISPATCH_TASK_TIMEOUT_MS, type BackfillRequest } from '../../src/shared/types';
import { DuckDbWarehouse } from '../../src/warehouse';
import { SLOT_LEASE_MS } from '../../src/workflows/warehouse-slots';
import { eventually, expectSameTables, referenceRun, seededWarehouse, tempDir, terminateQueue, testEnv } from '../helpers/harness';
import { uniqueTaskQueue } from '../helpers/temporal-env';
import { completedInHistory, killAll, killTestWorkers, peakInFlight, type WorkerProcess } from '../helpers/worker-process';

const SEED = Number(process.env.FAULT_SEED ?? 8);
const KILLS = 2;
const CAP = 2;
/** The SDK's default sticky-queue schedule-to-start time-out: a dead worker's sticky task goes back to the queue after it. */
const STICKY_HAND_BACK_MS = 10_000;
const MARGIN_MS = 15_000;
const RECOVERY_BOUND_MS = LOCAL_DISPATCH_TASK_TIMEOUT_MS + STICKY_HAND_BACK_MS + SLOT_LEASE_MS + MARGIN_MS;

describe('local dispatch: worker processes killed with SIGKILL mid-run', () => {
  let env: TestWorkflowEnvironment;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    env = await testEnv();
  });
  afterAll(async () => {
    await killAll(workers);
    await env?.teardown();
  });

  test(`${KILLS} kills: completes as an uninterrupted run would, no duplicate key, nothing recorded run again, prompt recovery`, async () => {
    const base: BackfillRequest = { from: '2024-10-22', to: '2024-11-12', phases: [3], concurrency: 3, gatePolicy: 'wait' };
    // The same processors named explicitly: another backfill id than the reference's, so the
    // histories read below are this run's.
    const request: BackfillRequest = { ...base, processors: phase3Processors.map((p) => p.name), dateDispatch: 'local' };
    // The reference runs its dates as regular activities: both dispatches write the same tables.
    const reference = await referenceRun(env, base);
    const total = reference.result.processors.reduce((n, p) => n + p.done, 0);

    const dir = tempDir('kill-local');
    const seeded = await seededWarehouse('tiny', { dir });
    const dbPath = seeded.path;
    await seeded.close();
    const taskQueue = uniqueTaskQueue('kill-local');
    // Slow writes, so the run outlasts the kills and each kill finds dates not yet recorded.
    const spawn = killTestWorkers({ dir, taskQueue, duckdbPath: dbPath, cap: CAP, holdWritesMs: 150, workers });
    const rng = Rng.of(SEED, 'kill-local-points');
    const recorded = async (): Promise<Set<string>> => completedInHistory(env.client, backfillId, phase3Processors.map((p) => p.name));
    // Each kill once a seeded-random number of dates more is recorded, and the worker has written a
    // few past its last checkpoint: some dates are durable, some only in the warehouse.
    let recordedBefore = Math.round(total * (0.1 + 0.15 * rng.next()));

    let current = await spawn(0);
    const { backfillId, handle } = await startBackfill(env.client, taskQueue, request);
    const completedAtKill: Array<Set<string>> = [];
    const recoveries: Array<{ recorded: number; writtenByDead: number; firstWriteMs: number }> = [];

    for (let k = 0; k < KILLS; k++) {
      const reached = await eventually(async () => ((await recorded()).size >= recordedBefore ? true : undefined), 100, RECOVERY_BOUND_MS);
      expect({ kill: k + 1, reached: reached === true }).toEqual({ kill: k + 1, reached: true });
      const writes = current.writes().length;
      const live = current;
      await eventually(async () => (live.writes().length >= writes + 2 ? true : undefined), 10, RECOVERY_BOUND_MS);
      const killedAt = current.kill('SIGKILL');
      expect((await current.exited).signal).toBe('SIGKILL');
      const completed = await recorded();
      completedAtKill.push(completed);
      const writtenByDead = current.writes().length;

      current = await spawn(k + 1);
      const next = current;
      await eventually(async () => (next.writes().length > 0 ? true : undefined), 100, killedAt + RECOVERY_BOUND_MS + 5_000 - Date.now());
      recoveries.push({ recorded: completed.size, writtenByDead, firstWriteMs: (next.writes()[0]?.timeMs ?? Infinity) - killedAt });
      recordedBefore = completed.size + rng.int(3, 8);
    }

    process.stdout.write(
      `kill-worker-local: seed ${SEED}, ${total} dates; bound ${RECOVERY_BOUND_MS} ms:\n` +
        recoveries.map((r, i) => `  kill ${i + 1}: ${r.recorded} dates recorded, the dead worker had written ${r.writtenByDead}; first date written after ${r.firstWriteMs} ms`).join('\n') +
        '\n',
    );
    for (const r of recoveries) expect(r.firstWriteMs).toBeLessThanOrEqual(RECOVERY_BOUND_MS);

    const result = await handle.result();
    expect(result.status).toBe('completed');
    expect(result.processors.reduce((n, p) => n + p.done, 0)).toBe(total);
    // The dispatch the backfill ran with is visible to the operator.
    expect((await handle.query(backfillProgressQuery)).dateDispatch).toBe('local');
    current.kill('SIGTERM');
    await current.exited;
    await terminateQueue(env, taskQueue);
    await terminateQueue(env, `${taskQueue}-slots`);

    for (const [n] of workers.entries()) expect(peakInFlight(path.join(dir, `worker-${n}.peak`))).toBeLessThanOrEqual(CAP);
    // No date recorded before a kill was written after it; the first kill landed mid-run.
    for (const [k, completed] of completedAtKill.entries()) {
      const later = workers.slice(k + 1).flatMap((w) => w.writes().map((x) => x.key));
      expect(later.filter((key) => completed.has(key))).toEqual([]);
    }
    for (const [k, completed] of completedAtKill.entries()) {
      expect({ kill: k + 1, recordedSome: completed.size > 0, notAll: completed.size < total }).toEqual({ kill: k + 1, recordedSome: true, notAll: true });
    }

    const recovered = new DuckDbWarehouse({ path: dbPath });
    try {
      await expectSameTables(reference.warehouse, recovered, phase3Processors);
    } finally {
      await recovered.close();
      await reference.warehouse.close();
    }
  });
});

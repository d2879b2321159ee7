/**
 * The promise the whole design rests on: worker processes killed with SIGKILL mid-run lose
 * nothing. One backfill, its worker killed at three seeded-random points and restarted each time:
 * it completes, the tables equal an uninterrupted run's with no duplicate key, and no date that had
 * completed is run again.
 *
 * And work resumes promptly: each kill finds every warehouse slot held, and the restarted worker
 * must have written every date the dead one had in flight within the date's heartbeat time-out
 * plus one slot lease plus a margin — the configured values, not a number of our own — while the
 * cap is never exceeded, measured at the warehouse in every process.
 */
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { slotsWorkflowId } from '../../src/activities/temporal-slots';
import { startBackfill } from '../../src/client/backfill-client';
import { warehouseKey } from '../../src/config';
import { Rng } from '../../src/pipeline/demo/random';
import { phase3Processors } from '../../src/pipeline/phase3';
import { slotsHeld, slotsStateQuery } from '../../src/shared/messages';
import { DEFAULT_RETRY, type BackfillRequest } from '../../src/shared/types';
import { DuckDbWarehouse } from '../../src/warehouse';
import { DATE_HEARTBEAT_TIMEOUT_MS } from '../../src/workflows/processor-backfill';
import { SLOT_LEASE_MS } from '../../src/workflows/warehouse-slots';
import { eventually, expectSameTables, referenceRun, seededWarehouse, tempDir, terminateQueue, testConfig, testEnv } from '../helpers/harness';
import { uniqueTaskQueue } from '../helpers/temporal-env';
import { completedInHistory, inFlightDates, killAll, killTestWorkers, peakInFlight, type WorkerProcess } from '../helpers/worker-process';

const SEED = Number(process.env.FAULT_SEED ?? 8);
const KILLS = 3;
const CAP = 2;
/** Worker start-up, the first retry's back-off, scheduling: "a few seconds", generously. */
const MARGIN_MS = 15_000;
const RECOVERY_BOUND_MS = DATE_HEARTBEAT_TIMEOUT_MS + SLOT_LEASE_MS + MARGIN_MS;

describe('worker processes killed with SIGKILL mid-run', () => {
  let env: TestWorkflowEnvironment;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    env = await testEnv();
  });
  afterAll(async () => {
    await killAll(workers);
    await env?.teardown();
  });

  test(`${KILLS} kills at random points: completes as an uninterrupted run would, nothing run twice, and work resumes within the heartbeat time-out + a lease`, async () => {
    // Demand (5 processors × 3) far above the cap, so every kill finds all slots held.
    const request: BackfillRequest = { from: '2024-10-22', to: '2024-11-12', phases: [3], concurrency: 3, gatePolicy: 'wait' };
    const reference = await referenceRun(env, request);
    const total = reference.result.processors.reduce((n, p) => n + p.done, 0);

    const dir = tempDir('kill');
    const seeded = await seededWarehouse('tiny', { dir });
    const dbPath = seeded.path;
    await seeded.close();
    const taskQueue = uniqueTaskQueue('kill');
    const slots = env.client.workflow.getHandle(slotsWorkflowId(warehouseKey(testConfig({ duckdbPath: dbPath }))));
    // Writes of a quarter second, as a warehouse slower than a tiny DuckDB file would take: the
    // restarted worker does not finish the run while it catches up, so all three kills land mid-run.
    const spawn = killTestWorkers({ dir, taskQueue, duckdbPath: dbPath, cap: CAP, holdWritesMs: 250, workers });
    const written = (): number => workers.reduce((n, w) => n + w.writes().length, 0);

    // The first kill after a seeded-random 8–20 % of the dates, each later one a seeded-random 2–8
    // dates after the restarted worker has caught up, so all three land mid-run.
    const rng = Rng.of(SEED, 'kill-points');
    let killAfter = Math.round(total * (0.08 + 0.12 * rng.next()));

    let current = await spawn(0);
    const { backfillId, handle } = await startBackfill(env.client, taskQueue, request);
    const recoveries: Array<{ killedAfter: number; held: number; firstWriteMs: number; inFlightDoneMs: number; inFlight: number }> = [];
    const completedAtKill: Array<Set<string>> = [];

    for (let k = 0; k < KILLS; k++) {
      // The worker's own log is the fastest signal (a status query takes longer than a date).
      const reached = await eventually(async () => written() >= killAfter, 20, RECOVERY_BOUND_MS);
      expect({ kill: k + 1, reached: reached === true }).toEqual({ kill: k + 1, reached: true });
      const held = (await eventually(async () => {
        const n = await slots.query(slotsStateQuery).then(slotsHeld, () => undefined);
        return n === CAP ? n : undefined;
      }, 20, 5_000)) ?? slotsHeld(await slots.query(slotsStateQuery));
      const inFlight = await inFlightDates(env, backfillId, phase3Processors.map((p) => p.name));
      const killedAt = current.kill('SIGKILL');
      const exit = await current.exited;
      expect(exit.signal).toBe('SIGKILL');
      const completed = await completedInHistory(env.client, backfillId, phase3Processors.map((p) => p.name));
      completedAtKill.push(completed);
      // Dates the dead worker finished before the signal landed were not in flight after all.
      const pending = inFlight.filter((key) => !completed.has(key));

      current = await spawn(k + 1);
      const next = current;
      // Waits past the bound, so a slow recovery fails below with its numbers rather than by time-out.
      const resumed = await eventually(
        async () => {
          const writes = next.writes();
          const times = pending.map((key) => writes.find((w) => w.key === key)?.timeMs);
          return writes.length > 0 && times.every((t) => t !== undefined) ? { first: writes[0]!.timeMs, last: Math.max(writes[0]!.timeMs, ...times.map(Number)) } : undefined;
        },
        100,
        killedAt + RECOVERY_BOUND_MS + 5_000 - Date.now(),
      );
      const firstWrite = next.writes()[0]?.timeMs;
      recoveries.push({
        killedAfter: completed.size,
        held,
        firstWriteMs: (firstWrite ?? Infinity) - killedAt,
        inFlightDoneMs: (resumed?.last ?? Infinity) - killedAt,
        inFlight: pending.length,
      });
      if (!resumed) break;
      killAfter = written() + rng.int(2, 8);
    }

    process.stdout.write(
      `kill-worker: seed ${SEED}, ${total} dates; recovery after each kill (bound ${RECOVERY_BOUND_MS} ms = heartbeat time-out ` +
        `${DATE_HEARTBEAT_TIMEOUT_MS} + lease ${SLOT_LEASE_MS} + ${MARGIN_MS}; first retry after ${DEFAULT_RETRY.initialIntervalMs} ms):\n` +
        recoveries
          .map(
            (r, i) =>
              `  kill ${i + 1} after ${r.killedAfter} dates, ${r.held}/${CAP} slots held: first date written after ${r.firstWriteMs} ms, ` +
              `all ${r.inFlight} dates in flight after ${r.inFlightDoneMs} ms`,
          )
          .join('\n') +
        '\n',
    );
    expect(recoveries).toHaveLength(KILLS);
    for (const r of recoveries) {
      expect(r.held).toBe(CAP);
      expect(r.inFlight).toBeGreaterThan(0);
      expect(r.firstWriteMs).toBeLessThanOrEqual(RECOVERY_BOUND_MS);
      expect(r.inFlightDoneMs).toBeLessThanOrEqual(RECOVERY_BOUND_MS);
    }

    const result = await handle.result();
    expect(result.status).toBe('completed');
    const slotsState = await slots.query(slotsStateQuery);
    current.kill('SIGTERM');
    await current.exited;
    await terminateQueue(env, taskQueue);
    await terminateQueue(env, `${taskQueue}-slots`);

    // The cap held in every process, and in the slots workflow's own account.
    const peaks = workers.map((_, n) => peakInFlight(path.join(dir, `worker-${n}.peak`)));
    process.stdout.write(`kill-worker: most warehouse calls in flight per worker process: ${peaks.join(', ')} (cap ${CAP})\n`);
    for (const peak of peaks) expect(peak).toBeLessThanOrEqual(CAP);
    expect(slotsState.maxHeldObserved).toBeLessThanOrEqual(CAP);

    // Every worker did part of the work; no date that had completed before a kill was run after it.
    for (const w of workers) expect(w.writes().length).toBeGreaterThan(0);
    for (const [k, completed] of completedAtKill.entries()) {
      const later = workers.slice(k + 1).flatMap((w) => w.writes().map((x) => x.key));
      expect(later.filter((key) => completed.has(key))).toEqual([]);
    }
    expect(completedAtKill[0]!.size).toBeLessThan(total);

    const recovered = new DuckDbWarehouse({ path: dbPath });
    try {
      await expectSameTables(reference.warehouse, recovered, phase3Processors);
    } finally {
      await recovered.close();
      await reference.warehouse.close();
    }
  });
});

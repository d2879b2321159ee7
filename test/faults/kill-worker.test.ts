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
import { processorProgressQuery, slotsStateQuery } from '../../src/shared/messages';
import { DEFAULT_RETRY, type BackfillRequest } from '../../src/shared/types';
import { DuckDbWarehouse } from '../../src/warehouse';
import { DATE_HEARTBEAT_TIMEOUT_MS } from '../../src/workflows/processor-backfill';
import { SLOT_LEASE_MS } from '../../src/workflows/warehouse-slots';
import { eventually, expectSameTables, referenceRun, seededWarehouse, tempDir, terminateQueue, testConfig, testEnv } from '../helpers/harness';
import { uniqueTaskQueue } from '../helpers/temporal-env';
import { completedInHistory, killAll, peakInFlight, spawnWorkerProcess, type WorkerProcess } from '../helpers/worker-process';

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
    const spawn = async (n: number): Promise<WorkerProcess> => {
      const w = await spawnWorkerProcess({
        taskQueue,
        duckdbPath: dbPath,
        logFile: path.join(dir, `worker-${n}.log`),
        env: { WAREHOUSE_MAX_IN_FLIGHT: String(CAP) },
        faults: { peakFile: path.join(dir, `worker-${n}.peak`) },
      });
      workers.push(w);
      return w;
    };
    const written = (): number => workers.reduce((n, w) => n + w.writes().length, 0);

    // One kill in each third of the run's 10–85 %, at a seeded-random point.
    const rng = Rng.of(SEED, 'kill-points');
    const killAt = Array.from({ length: KILLS }, (_, k) => Math.round(total * (0.1 + (0.75 * (k + rng.next())) / KILLS)));
    process.stdout.write(`kill-worker: seed ${SEED}, ${total} dates, kills after ${killAt.join(', ')} written\n`);

    let current = await spawn(0);
    const { backfillId, handle } = await startBackfill(env.client, taskQueue, request);
    const recoveries: Array<{ firstWriteMs: number; inFlightDoneMs: number; inFlight: number }> = [];
    const completedAtKill: Array<Set<string>> = [];

    for (const [k, threshold] of killAt.entries()) {
      // The worker's own log is the fastest signal (a status query takes longer than a date).
      await eventually(async () => written() >= threshold, 20);
      await eventually(async () => (await slots.query(slotsStateQuery)).held.length === CAP, 20);
      const inFlight = await inFlightDates(env, backfillId);
      const killedAt = current.kill('SIGKILL');
      const exit = await current.exited;
      expect(exit.signal).toBe('SIGKILL');
      const dead = current;
      // Dates the dead worker finished before the signal landed were not in flight after all.
      const deadWrites = new Set(dead.writes().map((w) => w.key));
      const pending = inFlight.filter((key) => !deadWrites.has(key));
      completedAtKill.push(await completedInHistory(env, backfillId, phase3Processors.map((p) => p.name)));

      current = await spawn(k + 1);
      const next = current;
      const resumed = await eventually(async () => {
        const writes = next.writes();
        const times = pending.map((key) => writes.find((w) => w.key === key)?.timeMs);
        return writes.length > 0 && times.every((t) => t !== undefined) ? { first: writes[0]!.timeMs, last: Math.max(...times.map(Number)) } : undefined;
      }, 100);
      recoveries.push({ firstWriteMs: resumed.first - killedAt, inFlightDoneMs: (pending.length > 0 ? resumed.last : resumed.first) - killedAt, inFlight: pending.length });
    }

    const result = await handle.result();
    expect(result.status).toBe('completed');
    const slotsState = await slots.query(slotsStateQuery);
    current.kill('SIGTERM');
    await current.exited;
    await terminateQueue(env, taskQueue);
    await terminateQueue(env, `${taskQueue}-slots`);

    process.stdout.write(
      `kill-worker: recovery after each kill (bound ${RECOVERY_BOUND_MS} ms = heartbeat time-out ${DATE_HEARTBEAT_TIMEOUT_MS} + lease ${SLOT_LEASE_MS} + ${MARGIN_MS}; ` +
        `first retry after ${DEFAULT_RETRY.initialIntervalMs} ms): ` +
        recoveries.map((r) => `first date ${r.firstWriteMs} ms, all ${r.inFlight} in-flight dates ${r.inFlightDoneMs} ms`).join('; ') +
        '\n',
    );
    for (const r of recoveries) {
      expect(r.inFlight).toBeGreaterThan(0);
      expect(r.firstWriteMs).toBeLessThanOrEqual(RECOVERY_BOUND_MS);
      expect(r.inFlightDoneMs).toBeLessThanOrEqual(RECOVERY_BOUND_MS);
    }

    // The cap held in every process, and in the slots workflow's own account.
    for (const [n] of workers.entries()) expect(peakInFlight(path.join(dir, `worker-${n}.peak`))).toBeLessThanOrEqual(CAP);
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

/** processor@date of every date the backfill's processors have in flight now. */
async function inFlightDates(env: TestWorkflowEnvironment, backfillId: string): Promise<string[]> {
  const progress = await Promise.all(
    phase3Processors.map((p) => env.client.workflow.getHandle(`${backfillId}/${p.name}`).query(processorProgressQuery).catch(() => undefined)),
  );
  return progress.flatMap((p) => (p ? p.inFlight.map((date) => `${p.processor}@${date}`) : []));
}

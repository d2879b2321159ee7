/**
 * The promise the whole design rests on: a worker process killed with SIGKILL mid-run loses
 * nothing. A second worker finishes the backfill; the tables equal an uninterrupted run's, hold no
 * duplicate keys, and dates that had completed are not run again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startBackfill } from '../../src/client/backfill-client';
import { phase3Processors } from '../../src/pipeline/phase3';
import type { BackfillRequest } from '../../src/shared/types';
import { DuckDbWarehouse } from '../../src/warehouse';
import { eventually, seededWarehouse, startWorker, tableSnapshot, tempDir, terminateQueue, testEnv } from '../helpers/harness';
import { testServerAddress, uniqueTaskQueue } from '../helpers/temporal-env';

const WORKER_JS = path.resolve(__dirname, '../../dist/src/worker.js');

function spawnWorker(taskQueue: string, duckdbPath: string, logFile: string): ChildProcess {
  const log = fs.openSync(logFile, 'a');
  return spawn(process.execPath, [WORKER_JS], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: testServerAddress(),
      BACKFILL_TASK_QUEUE: taskQueue,
      WAREHOUSE_SLOTS_TASK_QUEUE: `${taskQueue}-slots`,
      DUCKDB_PATH: duckdbPath,
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
    },
    stdio: ['ignore', log, log],
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/** (processor, date) pairs a worker log says it wrote. */
function writtenIn(logFile: string): string[] {
  return fs
    .readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"date written"'))
    .map((l) => JSON.parse(l) as { processor: string; date: string })
    .map((e) => `${e.processor}@${e.date}`);
}

/** (processor, date) pairs whose activity completed in the processor workflows' histories. */
async function completedInHistory(env: TestWorkflowEnvironment, backfillId: string): Promise<Set<string>> {
  const done = new Set<string>();
  for (const def of phase3Processors) {
    const history = await env.client.workflow.getHandle(`${backfillId}/${def.name}`).fetchHistory().catch(() => undefined);
    const events = history?.events ?? [];
    const scheduled = new Map<string, string>();
    for (const e of events) {
      const attrs = e.activityTaskScheduledEventAttributes;
      const data = attrs?.input?.payloads?.[0]?.data;
      if (attrs && data && attrs.activityType?.name === 'runProcessorForDate') {
        const input = JSON.parse(Buffer.from(data).toString('utf8')) as { processor: string; date: string };
        scheduled.set(String(e.eventId), `${input.processor}@${input.date}`);
      }
      const completed = e.activityTaskCompletedEventAttributes;
      if (completed) {
        const key = scheduled.get(String(completed.scheduledEventId));
        if (key?.startsWith(def.name)) done.add(key);
      }
    }
  }
  return done;
}

describe('a worker killed with SIGKILL mid-run', () => {
  let env: TestWorkflowEnvironment;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    if (!fs.existsSync(WORKER_JS)) throw new Error(`${WORKER_JS} is missing: run \`npm run build\` (npm test does it first)`);
    env = await testEnv();
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await env?.teardown();
  });

  test('the backfill completes on a new worker with the same rows as an uninterrupted run, and completed dates are not re-run', async () => {
    const request: BackfillRequest = { from: '2024-10-22', to: '2024-11-12', phases: [3], concurrency: 1, gatePolicy: 'wait' };

    // Reference: the same backfill, uninterrupted, on an identical warehouse.
    const reference = await seededWarehouse('tiny');
    const refWorker = await startWorker(env, reference);
    try {
      const { handle } = await startBackfill(env.client, refWorker.config.taskQueue, request);
      const result = (await handle.result());
      expect(result.status).toBe('completed');
    } finally {
      await refWorker.stop();
    }

    // The run under test: a worker process we can kill.
    const dir = tempDir('kill');
    const seeded = await seededWarehouse('tiny', { dir });
    const dbPath = seeded.path;
    await seeded.close();
    const taskQueue = uniqueTaskQueue('kill');
    const firstLog = path.join(dir, 'worker-1.log');
    const secondLog = path.join(dir, 'worker-2.log');
    const first = spawnWorker(taskQueue, dbPath, firstLog);
    children.push(first);

    const { backfillId, handle } = await startBackfill(env.client, taskQueue, request);
    // Kill it once a good part, but not all, of Phase 3 is done.
    // The worker's own log is the fastest signal (a status query takes longer than a date).
    await eventually(async () => fs.existsSync(firstLog) && writtenIn(firstLog).length >= 15, 20);
    first.kill('SIGKILL');
    await exited(first);
    expect(first.signalCode).toBe('SIGKILL');

    const completedBeforeKill = await completedInHistory(env, backfillId);
    expect(writtenIn(firstLog).length).toBeGreaterThanOrEqual(15);
    expect(completedBeforeKill.size).toBeGreaterThanOrEqual(10);
    // Five processors over every game date of the range: far from all of it was done.
    const [games] = await reference.query(
      `SELECT count(DISTINCT game_date) AS n FROM nba_raw.schedule WHERE game_date BETWEEN DATE '${request.from}' AND DATE '${request.to}'`,
    );
    expect(completedBeforeKill.size).toBeLessThan(5 * Number(games?.n));

    const second = spawnWorker(taskQueue, dbPath, secondLog);
    children.push(second);
    const result = (await handle.result());
    expect(result.status).toBe('completed');
    second.kill('SIGTERM');
    await exited(second);
    await terminateQueue(env, taskQueue);
    await terminateQueue(env, `${taskQueue}-slots`);

    // Dates that had completed were not run again by the new worker.
    const rerun = writtenIn(secondLog).filter((k) => completedBeforeKill.has(k));
    expect(rerun).toEqual([]);
    expect(writtenIn(secondLog).length).toBeGreaterThan(0);

    // Every table equals the uninterrupted run's, and no key appears twice.
    const recovered = new DuckDbWarehouse({ path: dbPath });
    try {
      for (const def of phase3Processors) {
        const table = `${def.target.dataset}.${def.target.table}`;
        const [expected, actual] = await Promise.all([
          tableSnapshot(reference, table, def.keyColumns),
          tableSnapshot(recovered, table, def.keyColumns),
        ]);
        expect(actual.length).toBeGreaterThan(0);
        expect(actual.length).toBe(expected.length);
        expect(actual).toEqual(expected);
        const [dups] = await recovered.query(
          `SELECT count(*) AS n FROM (SELECT ${def.keyColumns.join(', ')} FROM ${table} GROUP BY ${def.keyColumns.join(', ')} HAVING count(*) > 1) AS d`,
        );
        expect(Number(dups?.n)).toBe(0);
      }
    } finally {
      await recovered.close();
      await reference.close();
    }
  });
});

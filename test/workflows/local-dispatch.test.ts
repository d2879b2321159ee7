/**
 * Dates dispatched as local activities (DateDispatch 'local', the default on DuckDB): the whole
 * pipeline on the tiny preset writes exactly the tables the regular-activity dispatch writes, every
 * gate passes, a re-run changes no row count, and the histories show what happened — one marker
 * per date (echoing its processor and date), no activity task per date, the processor workflows
 * started with the short task time-out that bounds a checkpoint.
 */
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startBackfill } from '../../src/client/backfill-client';
import { DEMO_PRESETS } from '../../src/pipeline/demo';
import { ALL_PROCESSORS } from '../../src/pipeline/registry';
import { backfillProgressQuery, pauseSignal, processorProgressQuery, resumeSignal } from '../../src/shared/messages';
import { LOCAL_DISPATCH_CHECKPOINT_MS, LOCAL_DISPATCH_TASK_TIMEOUT_MS, type BackfillRequest } from '../../src/shared/types';
import type { DuckDbWarehouse } from '../../src/warehouse';
import { duplicateKeys, eventually, seededWarehouse, startWorker, tableSnapshot, tempDir, testEnv } from '../helpers/harness';

const TABLES = ALL_PROCESSORS.filter((p) => p.kind === 'table');
/** The processor whose history is read. */
const NAME = 'player_game_summary';

describe('dates dispatched as local activities', () => {
  let env: TestWorkflowEnvironment;
  const warehouses: DuckDbWarehouse[] = [];

  beforeAll(async () => {
    env = await testEnv();
  });
  afterAll(async () => {
    for (const w of warehouses) await w.close();
    await env?.teardown();
  });

  async function run(request: BackfillRequest) {
    const warehouse = await seededWarehouse('tiny');
    warehouses.push(warehouse);
    const worker = await startWorker(env, warehouse, { config: { exportDir: tempDir('exports') } });
    try {
      const { handle, backfillId } = await startBackfill(env.client, worker.config.taskQueue, request);
      const result = await handle.result();
      const progress = await handle.query(backfillProgressQuery);
      // Read before the re-run, which starts new runs under the same workflow ids.
      const events = (await env.client.workflow.getHandle(`${backfillId}/${NAME}`).fetchHistory()).events ?? [];
      const counts = async (): Promise<Record<string, number>> => {
        const out: Record<string, number> = {};
        for (const def of TABLES) {
          const [row] = await warehouse.query(`SELECT count(*) AS n FROM ${def.target.dataset}.${def.target.table}`);
          out[def.name] = Number(row?.n);
        }
        return out;
      };
      const before = await counts();
      const rerun = await startBackfill(env.client, worker.config.taskQueue, request);
      const rerunStatus = (await rerun.handle.result()).status;
      return { warehouse, result, progress, events, before, after: await counts(), rerunStatus };
    } finally {
      await worker.stop();
    }
  }

  test('Phases 3–6 write what regular activities write, gates pass, a re-run changes nothing, one marker per date', async () => {
    const { from, to } = DEMO_PRESETS.tiny;
    const base: BackfillRequest = { from, to, phases: [3, 4, 5, 6], concurrency: 4, gatePolicy: 'wait' };
    const regular = await run(base);
    const local = await run({ ...base, dateDispatch: 'local' });

    expect(local.result.status).toBe('completed');
    expect(local.result.gates.map((g) => [g.phase, g.ok])).toEqual([
      [3, true],
      [4, true],
      [5, true],
      [6, true],
    ]);
    expect(local.progress.dateDispatch).toBe('local');
    expect(regular.progress.dateDispatch).toBeUndefined();
    const done = (r: typeof local) => Object.fromEntries(r.result.processors.map((p) => [p.processor, p.done]));
    expect(done(local)).toEqual(done(regular));
    // Tables with dates to write on the tiny preset (TDZA skips every one: too few prior games).
    const written = TABLES.filter((def) => (done(regular)[def.name] ?? 0) > 0);
    expect(written.length).toBeGreaterThanOrEqual(8);
    // Row for row, floats to 6 significant digits: DuckDB's parallel aggregates sum in no fixed
    // order, so two runs of the same SQL can differ in the last bits of a double.
    for (const def of written) {
      const table = `${def.target.dataset}.${def.target.table}`;
      const [want, got] = await Promise.all([tableSnapshot(regular.warehouse, table, def.keyColumns, 6), tableSnapshot(local.warehouse, table, def.keyColumns, 6)]);
      expect({ table, rows: got.length }).toEqual({ table, rows: want.length });
      expect(got).toEqual(want);
      expect(await duplicateKeys(local.warehouse, table, def.keyColumns)).toBe(0);
    }
    // Idempotent on every key: the re-run completes and changes no row count.
    expect(local.rerunStatus).toBe('completed');
    expect(local.after).toEqual(local.before);

    // The history of one processor: a marker per date naming it, no activity task for any date.
    const name = NAME;
    const events = local.events;
    const markerDates = events
      .map((e) => e.markerRecordedEventAttributes)
      .filter((m) => m?.markerName === 'core_local_activity')
      .map((m) => JSON.parse(Buffer.from(m!.details!.result!.payloads![0]!.data!).toString('utf8')) as { processor: string; date: string })
      .map((r) => `${r.processor}@${r.date}`);
    const expectedDates = local.result.processors.find((p) => p.processor === name)!.done;
    expect(new Set(markerDates).size).toBe(expectedDates);
    expect(markerDates.every((k) => k.startsWith(`${name}@`))).toBe(true);
    expect(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runProcessorForDate')).toHaveLength(0);
    // Started with the task time-out that bounds how long a date waits for its checkpoint.
    const started = events[0]?.workflowExecutionStartedEventAttributes;
    expect(Number(started?.workflowTaskTimeout?.seconds ?? 0) * 1000).toBe(LOCAL_DISPATCH_TASK_TIMEOUT_MS);

    // Negative control: the regular run's history has an activity task per date and no marker.
    const regularEvents = regular.events;
    expect(regularEvents.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')).toHaveLength(0);
    expect(regularEvents.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runProcessorForDate').length).toBe(expectedDates);
  });
  test('every date runs once: the run ends without a rejected completion (its last report to the parent is delivered first)', async () => {
    const warehouse = await seededWarehouse('tiny');
    warehouses.push(warehouse);
    // Dates of 400 ms, one at a time: the run outlasts a few checkpoints, and every date is a
    // progress step reported to the parent by signal, the last one just before the run completes.
    const runs = new Map<string, number>();
    const worker = await startWorker(env, warehouse, {
      wrap: (acts) => ({
        ...acts,
        async runProcessorForDate(input: Parameters<typeof acts.runProcessorForDate>[0]) {
          runs.set(input.date, (runs.get(input.date) ?? 0) + 1);
          await new Promise((r) => setTimeout(r, 400));
          return acts.runProcessorForDate(input);
        },
      }),
    });
    try {
      // Not the pause test's range: the same request would give the same workflow ids.
      const request: BackfillRequest = { from: '2024-10-22', to: '2024-11-11', phases: [3], processors: [NAME], concurrency: 1, gatePolicy: 'wait', dateDispatch: 'local' };
      const { handle, backfillId } = await startBackfill(env.client, worker.config.taskQueue, request);
      const result = await handle.result();
      expect(result.status).toBe('completed');
      const done = result.processors[0]?.done ?? 0;
      expect(done).toBeGreaterThan(10);
      const events = (await env.client.workflow.getHandle(`${backfillId}/${NAME}`).fetchHistory()).events ?? [];
      // A completion the server rejects (a report's delivery arrived meanwhile) loses every date
      // recorded since the last checkpoint; the replay then runs those dates again.
      const failedTasks = events
        .map((e) => e.workflowTaskFailedEventAttributes?.cause)
        .filter((cause) => cause != null)
        .map((cause) => temporal.api.enums.v1.WorkflowTaskFailedCause[cause]);
      const twice = [...runs].filter(([, n]) => n > 1).map(([date]) => date);
      expect({ failedTasks, dates: runs.size, twice }).toEqual({ failedTasks: [], dates: done, twice: [] });
    } finally {
      await worker.stop();
    }
  });
  test('pause lands at the next checkpoint: no date starts after it, the dates in flight finish, resume completes the run', async () => {
    const warehouse = await seededWarehouse('tiny');
    warehouses.push(warehouse);
    // Dates of half a second, so the run outlasts a few checkpoints.
    const worker = await startWorker(env, warehouse, {
      wrap: (acts) => ({
        ...acts,
        async runProcessorForDate(input: Parameters<typeof acts.runProcessorForDate>[0]) {
          await new Promise((r) => setTimeout(r, 500));
          return acts.runProcessorForDate(input);
        },
      }),
    });
    try {
      const request: BackfillRequest = { from: '2024-10-22', to: '2024-11-12', phases: [3], processors: [NAME], concurrency: 1, gatePolicy: 'wait', dateDispatch: 'local' };
      const { handle, backfillId } = await startBackfill(env.client, worker.config.taskQueue, request);
      const child = env.client.workflow.getHandle(`${backfillId}/${NAME}`);
      await eventually(async () => ((await child.query(processorProgressQuery).catch(() => undefined))?.done ?? 0) >= 1);
      const pausedAt = Date.now();
      await handle.signal(pauseSignal);
      const paused = await eventually(async () => {
        const p = await child.query(processorProgressQuery);
        return p.status === 'paused' && p.inFlight.length === 0 ? p : undefined;
      });
      const landedMs = Date.now() - pausedAt;
      process.stdout.write(`local-dispatch: pause landed after ${landedMs} ms (checkpoint every ${LOCAL_DISPATCH_CHECKPOINT_MS} ms)\n`);
      expect(paused.done).toBeLessThan(paused.total - paused.skipped);
      // Nothing starts while paused.
      await new Promise((r) => setTimeout(r, LOCAL_DISPATCH_CHECKPOINT_MS + 1_000));
      expect((await child.query(processorProgressQuery)).done).toBe(paused.done);
      await handle.signal(resumeSignal);
      const result = await handle.result();
      expect(result.status).toBe('completed');
      expect(result.processors[0]?.done).toBe(paused.total - paused.skipped);
    } finally {
      await worker.stop();
    }
  });
});

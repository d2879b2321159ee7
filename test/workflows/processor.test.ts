/**
 * The processor workflow on the real dev server with real activities on a seeded DuckDB file.
 * Behaviour is varied only by wrapping the registered activities (workflow code is a separate
 * bundle that jest.mock cannot reach).
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { BackfillActivities } from '../../src/activities';
import { planProcessorDates } from '../../src/pipeline/dates';
import { getProcessor } from '../../src/pipeline/registry';
import { pauseSignal, processorProgressQuery, resumeSignal, setConcurrencyUpdate } from '../../src/shared/messages';
import type { ProcessorResult, ProcessorWorkflowInput, RunDateInput } from '../../src/shared/types';
import type { DuckDbWarehouse } from '../../src/warehouse';
import type { processorBackfillWorkflow } from '../../src/workflows';
import { eventually, seededWarehouse, startWorker, testEnv, type RunningWorker } from '../helpers/harness';

const PROCESSOR = 'player_game_summary';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Wraps runProcessorForDate to record every call and the peak number running at once. */
function instrument(options: { delayMs?: number; before?: (input: RunDateInput, attempt: number) => void } = {}) {
  const calls: string[] = [];
  const starts: Array<{ date: string; at: number }> = [];
  let running = 0;
  let peak = 0;
  const wrap = (acts: BackfillActivities) => ({
    ...acts,
    async runProcessorForDate(input: RunDateInput) {
      const attempt = Context.current().info.attempt;
      calls.push(input.date);
      starts.push({ date: input.date, at: Date.now() });
      running += 1;
      peak = Math.max(peak, running);
      try {
        options.before?.(input, attempt);
        if (options.delayMs) await sleep(options.delayMs);
        return await acts.runProcessorForDate(input);
      } finally {
        running -= 1;
      }
    },
  });
  return { wrap, calls, starts, peak: () => peak, running: () => running };
}

describe('processorBackfillWorkflow', () => {
  let env: TestWorkflowEnvironment;
  let warehouse: DuckDbWarehouse;
  let dates: string[];

  beforeAll(async () => {
    env = await testEnv();
    warehouse = await seededWarehouse('tiny');
    const def = getProcessor(PROCESSOR);
    if (!def) throw new Error('no processor');
    dates = (await planProcessorDates(warehouse, def, '2024-10-01', '2024-12-31', 14)).dates;
  });

  afterAll(async () => {
    await warehouse?.close();
    await env?.teardown();
  });

  const input = (overrides: Partial<ProcessorWorkflowInput> = {}): ProcessorWorkflowInput => ({
    backfillId: `test-${Date.now()}`,
    processor: PROCESSOR,
    phase: 3,
    dates,
    skipped: [],
    concurrency: 3,
    retry: { maximumAttempts: 3, initialIntervalMs: 50, backoffCoefficient: 1, maximumIntervalMs: 50 },
    ...overrides,
  });

  async function run(worker: RunningWorker, wfInput: ProcessorWorkflowInput, id: string): Promise<ProcessorResult> {
    return env.client.workflow.execute<typeof processorBackfillWorkflow>('processorBackfillWorkflow', {
      workflowId: id,
      taskQueue: worker.config.taskQueue,
      args: [wfInput],
    });
  }

  test('every date is processed exactly once and the window is never exceeded', async () => {
    expect(dates.length).toBeGreaterThan(10);
    const probe = instrument({ delayMs: 60 });
    const worker = await startWorker(env, warehouse, { wrap: probe.wrap });
    try {
      const result = await run(worker, input({ concurrency: 3 }), `exactly-once-${Date.now()}`);
      expect(result.done).toBe(dates.length);
      expect(result.failed).toEqual({});
      expect([...probe.calls].sort()).toEqual([...dates].sort());
      expect(new Set(probe.calls).size).toBe(probe.calls.length);
      // Measured, not assumed: the window filled up and never overflowed.
      expect(probe.peak()).toBe(3);
      const [row] = await warehouse.query(
        `SELECT count(DISTINCT game_date) AS d FROM nba_analytics.${PROCESSOR} WHERE source_backfill_id LIKE 'test-%'`,
      );
      expect(Number(row?.d)).toBe(dates.length);
    } finally {
      await worker.stop();
    }
  });

  test('pause stops new dates while in-flight ones finish; resume completes the run', async () => {
    const probe = instrument({ delayMs: 300 });
    const worker = await startWorker(env, warehouse, { wrap: probe.wrap });
    try {
      const handle = await env.client.workflow.start('processorBackfillWorkflow', {
        workflowId: `pause-${Date.now()}`,
        taskQueue: worker.config.taskQueue,
        args: [input({ concurrency: 2 })],
      });
      await eventually(async () => probe.calls.length >= 3);
      await handle.signal(pauseSignal);
      const paused = await eventually(async () => {
        const p = await handle.query(processorProgressQuery);
        return p.status === 'paused' && p.inFlight.length === 0 ? p : undefined;
      });
      const startedWhenDrained = probe.calls.length;
      // While paused nothing new starts (give the workflow ample chance to misbehave).
      await sleep(1500);
      expect(probe.calls.length).toBe(startedWhenDrained);
      expect(paused.done).toBe(startedWhenDrained);
      expect(paused.done).toBeLessThan(dates.length);

      await handle.signal(resumeSignal);
      const result = (await handle.result()) as ProcessorResult;
      expect(result.done).toBe(dates.length);
      expect(new Set(probe.calls).size).toBe(dates.length);
    } finally {
      await worker.stop();
    }
  });

  test('set-concurrency is validated and changes the window', async () => {
    const probe = instrument({ delayMs: 150 });
    const worker = await startWorker(env, warehouse, { wrap: probe.wrap });
    try {
      const handle = await env.client.workflow.start('processorBackfillWorkflow', {
        workflowId: `setconc-${Date.now()}`,
        taskQueue: worker.config.taskQueue,
        args: [input({ concurrency: 1 })],
      });
      const rejection = async (n: number): Promise<string> => {
        const err = await handle.executeUpdate(setConcurrencyUpdate, { args: [n] }).then(
          () => undefined,
          (e: unknown) => e as Error & { cause?: Error },
        );
        return err?.cause?.message ?? 'accepted';
      };
      expect(await rejection(0)).toMatch(/concurrency must be an integer from 1 to 64, got 0/);
      expect(await rejection(1000)).toMatch(/from 1 to 64, got 1000/);
      expect(await handle.executeUpdate(setConcurrencyUpdate, { args: [4] })).toBe(1);
      const result = (await handle.result()) as ProcessorResult;
      expect(result.done).toBe(dates.length);
      expect(probe.peak()).toBe(4);
    } finally {
      await worker.stop();
    }
  });

  test('a transient failure is retried to success; a permanent one is recorded and the rest complete', async () => {
    const transientDate = dates[2] as string;
    const attempts: Record<string, number> = {};
    const probe = instrument({
      before: (i, attempt) => {
        attempts[i.date] = attempt;
        if (i.date === transientDate && attempt === 1) {
          throw ApplicationFailure.retryable('backend error: connection reset', 'TransientWarehouseError');
        }
      },
    });
    // A real permanent failure: the date's raw box scores are gone, so the processor's input is missing.
    const brokenDate = dates[5] as string;
    await warehouse.execute(`CREATE TABLE IF NOT EXISTS nba_raw.pb_backup AS SELECT * FROM nba_raw.player_boxscores WHERE game_date = CAST($d AS DATE)`, { d: brokenDate });
    await warehouse.execute(`DELETE FROM nba_raw.player_boxscores WHERE game_date = CAST($d AS DATE)`, { d: brokenDate });
    const worker = await startWorker(env, warehouse, { wrap: probe.wrap });
    try {
      const result = await run(worker, input(), `failures-${Date.now()}`);
      expect(attempts[transientDate]).toBe(2);
      expect(Object.keys(result.failed)).toEqual([brokenDate]);
      expect(result.failed[brokenDate]).toMatch(/^MissingInputError: missing input for player_game_summary/);
      // Non-retryable: tried once only.
      expect(probe.calls.filter((d) => d === brokenDate)).toHaveLength(1);
      expect(result.done).toBe(dates.length - 1);
    } finally {
      await worker.stop();
      await warehouse.execute('INSERT INTO nba_raw.player_boxscores SELECT * FROM nba_raw.pb_backup');
      await warehouse.execute('DROP TABLE nba_raw.pb_backup');
    }
  });

  test('continues as new before its history grows and carries its state across runs', async () => {
    const probe = instrument();
    const worker = await startWorker(env, warehouse, { wrap: probe.wrap });
    try {
      const handle = await env.client.workflow.start('processorBackfillWorkflow', {
        workflowId: `can-${Date.now()}`,
        taskQueue: worker.config.taskQueue,
        args: [input({ concurrency: 2, historyEventLimit: 40 })],
      });
      const result = (await handle.result()) as ProcessorResult;
      expect(result.done).toBe(dates.length);
      expect(new Set(probe.calls).size).toBe(dates.length);
      expect(probe.calls).toHaveLength(dates.length);
      const last = await handle.describe();
      expect(last.runId).not.toBe(handle.firstExecutionRunId);
      const progress = await env.client.workflow.getHandle(handle.workflowId).query(processorProgressQuery);
      expect(progress.runNumber).toBeGreaterThan(2);
      expect(progress.done).toBe(dates.length);
      // No run came near the limit by much: each drains once it passes 40 events.
      let runs = 0;
      let runId: string | undefined = handle.firstExecutionRunId;
      while (runId) {
        const history: Awaited<ReturnType<typeof handle.fetchHistory>> = await env.client.workflow
          .getHandle(handle.workflowId, runId)
          .fetchHistory();
        const events = history.events ?? [];
        expect(events.length).toBeLessThan(40 + 60);
        runs += 1;
        const lastEvent = events[events.length - 1];
        const next: string | null | undefined = lastEvent?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
        runId = next ?? undefined;
      }
      expect(runs).toBe(progress.runNumber);
    } finally {
      await worker.stop();
    }
  });
});

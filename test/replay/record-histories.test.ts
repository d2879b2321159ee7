/**
 * Records the histories the replay test checks. Run on purpose, after a deliberate and compatible
 * change to workflow code (`RECORD_HISTORIES=1 npx jest test/replay/record-histories.test.ts`);
 * skipped otherwise, so recorded histories stay the ones older code produced.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { locateTemporalCli } from '../../src/devserver';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startBackfill } from '../../src/client/backfill-client';
import { retryBackfill } from '../../src/client/follow-up';
import { ApplicationFailure, Context } from '@temporalio/activity';
import {
  approveGateSignal,
  backfillProgressQuery,
  pauseSignal,
  resumeSignal,
  retryFailedSignal,
  retryPhaseSignal,
  setConcurrencyUpdate,
} from '../../src/shared/messages';
import type { BackfillRequest, ProcessorWorkflowInput, RunDateInput } from '../../src/shared/types';
import type { DuckDbWarehouse } from '../../src/warehouse';
import type { BackfillActivities } from '../../src/activities';
import { eventually, seededWarehouse, startWorker, testEnv } from '../helpers/harness';
import { runSlotsLoad } from '../helpers/slots-load';
import { testServerAddress } from '../helpers/temporal-env';

const HISTORIES = path.join(__dirname, 'histories');
const record = process.env.RECORD_HISTORIES === '1' ? test : test.skip;

describe('record workflow histories for the replay test', () => {
  let env: TestWorkflowEnvironment;
  let warehouse: DuckDbWarehouse;
  beforeAll(async () => {
    if (process.env.RECORD_HISTORIES !== '1') return;
    env = await testEnv();
    warehouse = await seededWarehouse('tiny');
  });
  afterAll(async () => {
    await warehouse?.close();
    await env?.teardown();
  });

  const save = async (name: string, workflowId: string, runId?: string): Promise<void> => {
    // The CLI's JSON export is the format Worker.runReplayHistory documents.
    const cli = await locateTemporalCli();
    const json = execFileSync(cli, [
      'workflow', 'show', '--output', 'json', '--address', testServerAddress(), '--workflow-id', workflowId,
      ...(runId ? ['--run-id', runId] : []),
    ]);
    fs.writeFileSync(path.join(HISTORIES, `${name}.json`), json);
  };

  record('processor workflow: signals, an update, a failed date, continue-as-new', async () => {
    const worker = await startWorker(env, warehouse, {
      wrap: (acts) => ({
        ...acts,
        async runProcessorForDate(input: RunDateInput) {
          if (input.date === '2024-10-25') throw new Error('synthetic permanent failure');
          return acts.runProcessorForDate(input);
        },
      }),
    });
    try {
      const dates = (await warehouse.query("SELECT DISTINCT CAST(game_date AS VARCHAR) AS d FROM nba_raw.schedule ORDER BY 1")).map((r) => String(r.d));
      const input: ProcessorWorkflowInput = {
        backfillId: 'replay-fixture',
        processor: 'team_offense_game_summary',
        phase: 3,
        dates,
        skipped: [{ date: '2024-10-21', reason: 'example skip' }],
        concurrency: 2,
        retry: { maximumAttempts: 2, initialIntervalMs: 50, backoffCoefficient: 1, maximumIntervalMs: 50 },
        historyEventLimit: 80,
      };
      const handle = await env.client.workflow.start('processorBackfillWorkflow', {
        workflowId: `replay-processor-${Date.now()}`,
        taskQueue: worker.config.taskQueue,
        args: [input],
      });
      await handle.signal(pauseSignal);
      await handle.executeUpdate(setConcurrencyUpdate, { args: [3] });
      await handle.signal(resumeSignal);
      await handle.result();
      await save('processor-backfill-first-run', handle.workflowId, handle.firstExecutionRunId);
      await save('processor-backfill-last-run', handle.workflowId);
    } finally {
      await worker.stop();
    }
  });

  record('processor workflow, dates as local activities: a failed date, pause and resume, continue-as-new', async () => {
    const worker = await startWorker(env, warehouse, {
      wrap: (acts) => ({
        ...acts,
        async runProcessorForDate(input: RunDateInput) {
          if (input.date === '2024-10-25') throw ApplicationFailure.nonRetryable('synthetic permanent failure', 'SchemaError');
          // Dates slow enough that the workflow task is completed (checkpointed) while dates run.
          await new Promise((r) => setTimeout(r, 250));
          return acts.runProcessorForDate(input);
        },
      }),
    });
    try {
      const dates = (await warehouse.query("SELECT DISTINCT CAST(game_date AS VARCHAR) AS d FROM nba_raw.schedule ORDER BY 1")).map((r) => String(r.d));
      const input: ProcessorWorkflowInput = {
        backfillId: 'replay-fixture',
        processor: 'team_defense_game_summary',
        phase: 3,
        dates,
        skipped: [],
        concurrency: 2,
        dateDispatch: 'local',
        historyEventLimit: 25,
      };
      const handle = await env.client.workflow.start('processorBackfillWorkflow', {
        workflowId: `replay-processor-local-${Date.now()}`,
        taskQueue: worker.config.taskQueue,
        args: [input],
        // Shorter than the backfill's LOCAL_DISPATCH_TASK_TIMEOUT_MS: a checkpoint every 1.6 s.
        workflowTaskTimeout: 2_000,
      });
      await handle.signal(pauseSignal);
      await handle.signal(resumeSignal);
      await handle.result();
      await save('processor-backfill-local-first-run', handle.workflowId, handle.firstExecutionRunId);
    } finally {
      await worker.stop();
    }
  });

  /** Phase 3 of the tiny preset's first days to its end, saved as `name`. */
  const recordPhase3 = async (name: string, extra: Partial<BackfillRequest> = {}): Promise<void> => {
    const worker = await startWorker(env, warehouse);
    try {
      const { handle, backfillId } = await startBackfill(env.client, worker.config.taskQueue, {
        from: '2024-10-22',
        to: '2024-10-31',
        phases: [3],
        concurrency: 2,
        gatePolicy: 'wait',
        ...extra,
      });
      await eventually(async () => (await handle.describe()).status.name !== 'RUNNING');
      await save(name, backfillId);
    } finally {
      await worker.stop();
    }
  };

  record('processor workflow under a backfill, dates as local activities: its reports delivered before it completes', async () => {
    // Dates slow enough to span checkpoints, each a progress step reported to the parent by signal.
    const worker = await startWorker(env, warehouse, {
      wrap: (acts) => ({
        ...acts,
        async runProcessorForDate(input: RunDateInput) {
          await new Promise((r) => setTimeout(r, 300));
          return acts.runProcessorForDate(input);
        },
      }),
    });
    try {
      const processor = 'team_offense_game_summary';
      const { handle, backfillId } = await startBackfill(env.client, worker.config.taskQueue, {
        from: '2024-10-22',
        to: '2024-11-05',
        phases: [3],
        processors: [processor],
        concurrency: 1,
        gatePolicy: 'wait',
        dateDispatch: 'local',
      });
      await handle.result();
      await save('processor-backfill-reports-delivered', `${backfillId}/${processor}`);
    } finally {
      await worker.stop();
    }
  });

  record('backfill workflow: Phase 3 with dates as local activities', () => recordPhase3('backfill-local-dispatch', { dateDispatch: 'local' }));

  record('backfill workflow: Phase 3 with its gate', () => recordPhase3('backfill-phase3'));

  record('backfill workflow: duplicates fail the gate, remediate deduplicates, re-runs and goes on', async () => {
    // As before the MERGE fix: the first write of one date leaves its rows twice.
    const table = 'nba_analytics.player_game_summary';
    const duplicatedDate = '2024-10-24';
    const worker = await startWorker(env, warehouse, {
      wrap: (acts: BackfillActivities) => ({
        ...acts,
        async runProcessorForDate(input: RunDateInput) {
          const result = await acts.runProcessorForDate(input);
          const firstRun = !Context.current().info.workflowExecution?.workflowId.includes('/retry-');
          if (firstRun && input.processor === 'player_game_summary' && input.date === duplicatedDate) {
            await warehouse.execute(`INSERT INTO ${table} SELECT * FROM ${table} WHERE game_date = DATE '${duplicatedDate}'`);
          }
          return result;
        },
      }),
    });
    try {
      const { handle, backfillId } = await startBackfill(env.client, worker.config.taskQueue, {
        from: '2024-10-22',
        to: '2024-10-27',
        phases: [3],
        processors: ['player_game_summary'],
        concurrency: 3,
        gatePolicy: 'remediate',
      });
      const result = await handle.result();
      if (result.gates.map((g) => g.ok).join() !== 'false,true') throw new Error(`expected a failed gate remediated, got ${JSON.stringify(result.gates)}`);
      await save('backfill-gate-remediate', backfillId);
    } finally {
      await worker.stop();
    }
  });

  record('warehouse slots: rollover under load', async () => {
    const load = await runSlotsLoad(env, { capacity: 2, requests: 30, processes: 3, holdMs: 20, historyEventLimit: 100, leasing: 'per-date' });
    if (load.runs < 2) throw new Error('the slots workflow did not roll over');
    await save('warehouse-slots-rollover', load.workflowId, load.firstRunId);
  });

  record('failure budget: a processor failing every date pauses the backfill; retry-failed + resume completes it', async () => {
    let poisoned = true;
    const worker = await startWorker(env, warehouse, {
      wrap: (acts) => ({
        ...acts,
        async runProcessorForDate(input: RunDateInput) {
          if (poisoned && input.processor === 'player_game_summary') throw ApplicationFailure.nonRetryable('no box scores for this date', 'MissingInputError');
          return acts.runProcessorForDate(input);
        },
      }),
    });
    try {
      const request = { from: '2024-10-22', to: '2024-11-12', phases: [3], processors: ['player_game_summary', 'team_offense_game_summary'], concurrency: 2, gatePolicy: 'wait' as const };
      const { backfillId, handle } = await startBackfill(env.client, worker.config.taskQueue, request);
      await eventually(async () => (await handle.query(backfillProgressQuery)).pauseReason?.kind === 'failures');
      poisoned = false;
      await handle.signal(retryFailedSignal);
      await handle.signal(resumeSignal);
      const result = await handle.result();
      if (result.processors.some((p) => Object.keys(p.failed).length > 0)) throw new Error('expected no failed dates after retry-failed');
      await save('backfill-failure-budget', backfillId);
      await save('processor-backfill-failure-budget', `${backfillId}/player_game_summary`);
    } finally {
      await worker.stop();
    }
  });

  // Four processes contending for three slots (shares, turns, returns, renewals), rolling over;
  // process-shares was recorded before the short-lease patch (re-recording it now records today's
  // code, patch included); short-lease with it.
  record.each([
    ['process shares contending, rolling over', 'warehouse-slots-process-shares'],
    ['the short lease (patch slots-short-lease), process shares, rolling over', 'warehouse-slots-short-lease'],
  ])('warehouse slots: %s', async (_, file) => {
    const load = await runSlotsLoad(env, { capacity: 3, requests: 120, processes: 4, holdMs: 100, historyEventLimit: 80 });
    if (load.runs < 2) throw new Error('the slots workflow did not roll over');
    await save(file, load.workflowId, load.firstRunId);
  });

  record('backfill workflow: planned up front, a failed date fails the gate, retry-phase re-runs it', async () => {
    const worker = await startWorker(env, warehouse, {
      wrap: (acts) => ({
        ...acts,
        async runProcessorForDate(input: RunDateInput) {
          const firstRun = !Context.current().info.workflowExecution?.workflowId.includes('/retry-');
          if (firstRun && input.date === '2024-10-24') throw ApplicationFailure.nonRetryable('synthetic schema drift', 'SchemaError');
          return acts.runProcessorForDate(input);
        },
      }),
    });
    try {
      const { handle, backfillId } = await startBackfill(env.client, worker.config.taskQueue, {
        from: '2024-10-22',
        to: '2024-10-28',
        phases: [3],
        processors: ['team_offense_game_summary', 'team_defense_game_summary'],
        concurrency: 2,
        gatePolicy: 'wait',
        gateThresholds: { 'team_offense_game_summary.points': 1 },
      });
      await eventually(async () => (await handle.query(backfillProgressQuery)).stage.kind === 'gate_failed');
      await handle.signal(pauseSignal);
      await handle.signal(resumeSignal);
      await handle.signal(retryPhaseSignal);
      await handle.result();
      await save('backfill-gate-retry-phase', backfillId);
    } finally {
      await worker.stop();
    }
  });

  record('backfill workflow: a retry-phase follow-up of a completed backfill (a failed date, a date deleted since)', async () => {
    const worker = await startWorker(env, warehouse, {
      wrap: (acts) => ({
        ...acts,
        async runProcessorForDate(input: RunDateInput) {
          const inFollowUp = Context.current().info.workflowExecution?.workflowId.includes('/followup-');
          if (!inFollowUp && input.date === '2024-10-23') throw ApplicationFailure.nonRetryable('synthetic schema drift', 'SchemaError');
          return acts.runProcessorForDate(input);
        },
      }),
    });
    try {
      const { handle, backfillId } = await startBackfill(env.client, worker.config.taskQueue, {
        from: '2024-10-22',
        to: '2024-10-26',
        phases: [3],
        processors: ['team_offense_game_summary'],
        concurrency: 2,
        gatePolicy: 'wait',
      });
      await eventually(async () => (await handle.query(backfillProgressQuery)).stage.kind === 'gate_failed');
      await handle.signal(approveGateSignal);
      await handle.result();
      await warehouse.execute("DELETE FROM nba_analytics.team_offense_game_summary WHERE game_date = DATE '2024-10-25'");
      const outcome = await retryBackfill(env.client, backfillId, { kind: 'retry-phase', phase: 3 });
      if (outcome.action !== 'started') throw new Error(`expected a follow-up, got ${outcome.action}`);
      await outcome.handle.result();
      await save('backfill-followup-retry-phase', outcome.id);
    } finally {
      await worker.stop();
    }
  });
});

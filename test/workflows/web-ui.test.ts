/**
 * What an operator sees without our CLI — the Web UI and the plain Temporal CLI read the same
 * things: search attributes kept current (status, phase, progress %, ETA), the parent's current
 * details naming the phase, the slowest processor and the ETA, and pause/resume by plain signals.
 * Everything here goes through the real `temporal` binary against the test dev server.
 */
import { execFile } from 'node:child_process';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startBackfill } from '../../src/client/backfill-client';
import { locateTemporalCli } from '../../src/devserver';
import { backfillProgressQuery, processorProgressQuery } from '../../src/shared/messages';
import type { DuckDbWarehouse } from '../../src/warehouse';
import { eventually, seededWarehouse, startWorker, testEnv, type RunningWorker } from '../helpers/harness';
import { testServerAddress } from '../helpers/temporal-env';

let cliPath: string;

/** Runs `temporal <args> --address <test server>` and returns its stdout. */
function temporal(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cliPath, [...args, '--address', testServerAddress(), '--namespace', 'default'], { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`temporal ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

describe('the Web UI and the plain Temporal CLI tell the same story', () => {
  let env: TestWorkflowEnvironment;
  let warehouse: DuckDbWarehouse;
  let worker: RunningWorker;

  beforeAll(async () => {
    cliPath = await locateTemporalCli();
    env = await testEnv();
    warehouse = await seededWarehouse('tiny');
    worker = await startWorker(env, warehouse, {
      wrap: (acts) => ({
        ...acts,
        async runProcessorForDate(input: Parameters<typeof acts.runProcessorForDate>[0]) {
          await new Promise((r) => setTimeout(r, 400));
          return acts.runProcessorForDate(input);
        },
      }),
    });
  });
  afterAll(async () => {
    await worker?.stop();
    await warehouse?.close();
    await env?.teardown();
  });

  test('explore', async () => {
    const { backfillId: id } = await startBackfill(env.client, worker.config.taskQueue, {
      from: '2024-10-22',
      to: '2024-11-08',
      phases: [3],
      processors: ['player_game_summary', 'team_offense_game_summary'],
      concurrency: 2,
      gatePolicy: 'wait',
    });
    await eventually(async () => {
      const p = await env.client.workflow.getHandle(`${id}/player_game_summary`).query(processorProgressQuery).catch(() => undefined);
      return p && p.done >= 4;
    });
    console.log(await temporal('workflow', 'describe', '--workflow-id', id, '-o', 'json'));
    console.log(await temporal('workflow', 'metadata', '--workflow-id', id, '-o', 'json'));
    console.log(await temporal('workflow', 'list', '--query', `BackfillId = '${id}'`, '-o', 'json'));
    console.log(await temporal('workflow', 'signal', '--workflow-id', id, '--name', 'pause'));
    console.log(JSON.stringify(await env.client.workflow.getHandle(id).query(backfillProgressQuery)));
  });
});

/**
 * A worker process runs its Workers' workflow code in its main thread, one context for both queues
 * (src/workflow-runtime.ts), with no per-call vm timeout; the stall watchdog takes the timeout's
 * place. Counted at the SDK's own hook: every workflow runtime the SDK starts goes through
 * Worker.createWorkflowCreator, spied on and called through. The watchdog runs in real child
 * processes whose main thread really blocks.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { startBackfill } from '../../src/client/backfill-client';
import { workerClassRunningWorkflowsInProcess } from '../../src/workflow-runtime';
import { slotsStateQuery } from '../../src/shared/messages';
import type { BackfillRequest } from '../../src/shared/types';
import type { DuckDbWarehouse } from '../../src/warehouse';
import { seededWarehouse, startWorker, tempDir, testEnv } from '../helpers/harness';
import { bundle, testServerAddress, uniqueTaskQueue } from '../helpers/temporal-env';
import { TS_LOADER, workflowBundleFile } from '../helpers/worker-process';

type Hook = { createWorkflowCreator: (...args: unknown[]) => Promise<unknown> };
type CompiledOptions = { debugMode?: boolean; isolateExecutionTimeoutMs?: number };

describe('workflow code in the worker process', () => {
  let env: TestWorkflowEnvironment;
  let warehouse: DuckDbWarehouse;
  let runtimesStarted: jest.SpyInstance;

  beforeAll(async () => {
    env = await testEnv();
    warehouse = await seededWarehouse('tiny');
  });
  beforeEach(() => {
    runtimesStarted = jest.spyOn(Worker as unknown as Hook, 'createWorkflowCreator');
  });
  afterEach(() => runtimesStarted.mockRestore());
  afterAll(async () => {
    await warehouse?.close();
    await env?.teardown();
  });

  const optionsOfCall = (n: number): CompiledOptions => runtimesStarted.mock.calls[n][1] as CompiledOptions;

  test('a backfill worker starts one in-process runtime, without the per-call timeout, for both queues, and a backfill runs through both', async () => {
    const running = await startWorker(env, warehouse);
    try {
      expect(runtimesStarted).toHaveBeenCalledTimes(1);
      expect(optionsOfCall(0)).toMatchObject({ debugMode: true, isolateExecutionTimeoutMs: undefined });
      // A range and processor of its own: the backfill's id comes from them.
      const request: BackfillRequest = {
        from: '2024-11-05',
        to: '2024-11-07',
        phases: [3],
        processors: ['team_offense_game_summary'],
        concurrency: 2,
        gatePolicy: 'wait',
      };
      const { handle } = await startBackfill(env.client, running.config.taskQueue, request);
      const result = await handle.result();
      expect(result.processors.length).toBeGreaterThan(0);
      for (const p of result.processors) expect(Object.keys(p.failed)).toEqual([]);
      // The slots workflow (the other queue) answered too: the dates took their slots from it.
      expect(runtimesStarted).toHaveBeenCalledTimes(1);
    } finally {
      await running.stop();
    }
  });

  test('control: two plain Workers start two runtimes, each a thread with the 5 s timeout', async () => {
    const workflowBundle = await bundle();
    const workers = [
      await Worker.create({ connection: env.nativeConnection, taskQueue: uniqueTaskQueue('plain-a'), workflowBundle }),
      await Worker.create({ connection: env.nativeConnection, taskQueue: uniqueTaskQueue('plain-b'), workflowBundle }),
    ];
    expect(runtimesStarted).toHaveBeenCalledTimes(2);
    for (const n of [0, 1]) expect(optionsOfCall(n)).toMatchObject({ debugMode: false, isolateExecutionTimeoutMs: 5_000 });
    await Promise.all(workers.map((w) => w.runUntil(Promise.resolve())));
  });

  test('the runtime outlives the first Worker to stop and ends with the last', async () => {
    const workflowBundle = await bundle();
    const InProcessWorker = workerClassRunningWorkflowsInProcess();
    const first = await InProcessWorker.create({ connection: env.nativeConnection, taskQueue: uniqueTaskQueue('shared-a'), workflowBundle });
    const secondQueue = uniqueTaskQueue('shared-b');
    const second = await InProcessWorker.create({ connection: env.nativeConnection, taskQueue: secondQueue, workflowBundle });
    expect(runtimesStarted).toHaveBeenCalledTimes(1);

    await first.runUntil(Promise.resolve());
    const secondRun = second.run();
    const id = `shared-runtime-slots-${Date.now()}`;
    try {
      // Workflow code still runs for the Worker left: a slots workflow starts and answers a query.
      const handle = await env.client.workflow.start('warehouseSlotsWorkflow', { taskQueue: secondQueue, workflowId: id, args: [{ capacity: 3 }] });
      const state = await handle.query(slotsStateQuery);
      expect(state.capacity).toBe(3);
      await handle.terminate('test over');
    } finally {
      second.shutdown();
      await secondRun;
    }
    // Both stopped: a new Worker of the same class starts a runtime of its own.
    const third = await InProcessWorker.create({ connection: env.nativeConnection, taskQueue: uniqueTaskQueue('shared-c'), workflowBundle });
    expect(runtimesStarted).toHaveBeenCalledTimes(2);
    await third.runUntil(Promise.resolve());
  });
});

/** Runs a test/helpers TypeScript entry in a child process; resolves with its exit and stdout. */
function runChild(entry: string, args: readonly string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', TS_LOADER, path.join(__dirname, '../helpers', entry), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, out }));
  });
}

describe('the Web UI stack trace of a workflow run in process', () => {
  type Answer = { trace?: string; error?: string };
  const traceInOurSource = /at warehouseSlotsWorkflow \(.*warehouse-slots\.ts:\d+:\d+\)/;

  test('points into our workflow source, as with the SDK threads (the control); switched off, the query says so; switched on again, a running workflow has it', async () => {
    const codePath = await workflowBundleFile(tempDir('stack-trace'));
    const answers: Record<string, Answer[]> = {};
    for (const mode of ['in-process', 'sdk-threads', 'in-process-off', 'off-then-on']) {
      const run = await runChild('stack-trace-child.ts', [testServerAddress(), codePath, uniqueTaskQueue(`stack-${mode}`), mode]);
      expect(run.code).toBe(0);
      answers[mode] = jsonLines(run.out);
    }
    for (const mode of ['in-process', 'sdk-threads']) expect(answers[mode]?.[0]?.trace).toMatch(traceInOurSource);
    expect(answers['in-process']?.[0]?.trace).toBe(answers['sdk-threads']?.[0]?.trace);
    // WORKFLOW_STACK_TRACES=off (the default on DuckDB): the SDK's hooks stopped, the Web UI told why.
    const notEnabled = { error: expect.stringMatching(/stack traces are not enabled/) };
    expect(answers['in-process-off']).toEqual([notEnabled]);
    // A worker restarted with them on replays the running workflow under the hooks: the whole trace.
    expect(answers['off-then-on']).toEqual([notEnabled, { trace: answers['in-process']?.[0]?.trace }]);
  });
});

interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  lines: Array<Record<string, unknown>>;
}

/** Runs test/helpers/stall-child.ts in mode `mode`; its watchdog writes JSON lines to stdout. */
async function runStallChild(mode: string): Promise<ChildRun> {
  const { code, signal, out } = await runChild('stall-child.ts', [mode]);
  return { code, signal, lines: jsonLines(out) };
}

function jsonLines(out: string): Array<Record<string, unknown>> {
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('stall watchdog', () => {
  test('workflow code that never yields: one error line naming the activation, then the process is killed', async () => {
    const run = await runStallChild('stall-in-activation');
    expect(run.signal).toBe('SIGKILL');
    const [warned = {}, killed = {}, ...rest] = run.lines;
    expect(rest).toEqual([]);
    expect(warned).toMatchObject({ level: 50, component: 'stall-watchdog', workflowType: 'processorBackfillWorkflow', workflowId: 'stall-test', runId: 'run-1' });
    expect(warned.blockedMs as number).toBeGreaterThanOrEqual(300);
    expect(warned.msg).toMatch(/blocked for \d+ s: workflow code that never yields/);
    expect(killed).toMatchObject({ level: 60, component: 'stall-watchdog', workflowId: 'stall-test' });
    expect(killed.blockedMs as number).toBeGreaterThanOrEqual(1_500);
    expect(killed.msg).toMatch(/killing the process/);
  });

  test('a main thread blocked outside any activation is reported without naming one', async () => {
    const run = await runStallChild('stall-outside');
    expect(run.signal).toBe('SIGKILL');
    expect(run.lines.map((l) => l.level)).toEqual([50, 60]);
    for (const line of run.lines) expect(line).not.toHaveProperty('workflowId');
  });

  test('a real workflow that never yields, in a Worker of the production class: the lines name its type, id and run id, not the workflow before it', async () => {
    const taskQueue = uniqueTaskQueue('stall-wf');
    const run = await runChild('stall-workflow-child.ts', [testServerAddress(), taskQueue]);
    expect(run.signal).toBe('SIGKILL');
    const lines = jsonLines(run.out);
    const connection = await Connection.connect({ address: testServerAddress() });
    try {
      const client = new Client({ connection });
      const spinning = client.workflow.getHandle(`${taskQueue}-spin`);
      const { runId } = await spinning.describe();
      expect(lines.map((l) => l.level)).toEqual([50, 60]);
      for (const line of lines) {
        expect(line).toMatchObject({ component: 'stall-watchdog', workflowType: 'spinningWorkflow', workflowId: `${taskQueue}-spin`, runId });
      }
      // The Worker ran another workflow to its end first: the label follows each activation.
      expect((await client.workflow.getHandle(`${taskQueue}-quick`).describe()).status.name).toBe('COMPLETED');
      await spinning.terminate('test over');
    } finally {
      await connection.close();
    }
  });

  test('control: an activation that yields in time is not reported, and the process exits on its own', async () => {
    const run = await runStallChild('brief');
    expect(run).toEqual({ code: 0, signal: null, lines: [] });
  });
});

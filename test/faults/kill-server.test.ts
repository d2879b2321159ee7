/**
 * The Temporal server itself SIGKILLed mid-run and restarted on its persisted file (same file, same
 * port): the worker process rides it out, the backfill completes, and nothing is lost — every table
 * equals an uninterrupted run's, with no duplicate key. A server of its own for this test, so the
 * shared one stays up for the others.
 */
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startBackfill } from '../../src/client/backfill-client';
import { findFreePort, locateTemporalCli, startDevServer, type DevServerHandle } from '../../src/devserver';
import { phase3Processors } from '../../src/pipeline/phase3';
import type { BackfillRequest } from '../../src/shared/types';
import { DuckDbWarehouse } from '../../src/warehouse';
import type { backfillWorkflow } from '../../src/workflows';
import { eventually, expectSameTables, referenceRun, seededWarehouse, tempDir, testEnv } from '../helpers/harness';
import { uniqueTaskQueue } from '../helpers/temporal-env';
import { completedInHistory, killAll, spawnWorkerProcess, type WorkerProcess } from '../helpers/worker-process';

describe('the Temporal server SIGKILLed mid-run', () => {
  let env: TestWorkflowEnvironment;
  let server: DevServerHandle | undefined;
  let connection: Connection | undefined;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    env = await testEnv();
  });
  afterAll(async () => {
    await killAll(workers);
    await connection?.close();
    await server?.stop();
    await env?.teardown();
  });

  test('restarted on its persisted file, it lets the backfill complete with every date written once', async () => {
    const request: BackfillRequest = { from: '2024-10-22', to: '2024-11-05', phases: [3], concurrency: 3, gatePolicy: 'wait' };
    const reference = await referenceRun(env, request);
    const total = reference.result.processors.reduce((n, p) => n + p.done, 0);

    const dir = tempDir('kill-server');
    const serverOptions = {
      cliPath: await locateTemporalCli(),
      port: await findFreePort(),
      headless: true,
      dbFilename: path.join(dir, 'temporal.sqlite'),
      logFile: path.join(dir, 'temporal.log'),
      startTimeoutMs: 90_000,
    };
    server = await startDevServer(serverOptions);
    connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection });

    const seeded = await seededWarehouse('tiny', { dir });
    const dbPath = seeded.path;
    await seeded.close();
    const taskQueue = uniqueTaskQueue('kill-server');
    const worker = await spawnWorkerProcess({ taskQueue, duckdbPath: dbPath, logFile: path.join(dir, 'worker.log'), temporalAddress: server.address });
    workers.push(worker);

    const { backfillId } = await startBackfill(client, taskQueue, request);
    await eventually(async () => worker.writes().length >= total / 3, 20);
    process.kill(server.pid, 'SIGKILL');
    const killedAt = Date.now();
    const writtenBeforeKill = worker.writes().length;
    await server.stop(); // returns once the process is gone
    server = await startDevServer(serverOptions);
    process.stdout.write(`kill-server: ${writtenBeforeKill}/${total} dates written at the kill; server back after ${Date.now() - killedAt} ms\n`);

    const result = await client.workflow.getHandle<typeof backfillWorkflow>(backfillId).result();
    expect(result.status).toBe('completed');
    expect(result.processors.every((p) => Object.keys(p.failed).length === 0)).toBe(true);
    expect(worker.writes().length).toBeGreaterThan(writtenBeforeKill);
    // The histories the server kept hold every date's completion.
    const completed = await completedInHistory(client, backfillId, phase3Processors.map((p) => p.name));
    expect(completed.size).toBe(total);

    worker.kill('SIGTERM');
    await worker.exited;
    const recovered = new DuckDbWarehouse({ path: dbPath });
    try {
      await expectSameTables(reference.warehouse, recovered, phase3Processors);
    } finally {
      await recovered.close();
      await reference.warehouse.close();
    }
  });
});

/**
 * The dev-server module against the real Temporal CLI: the locator, the shared server from jest's
 * global setup, and a second server of our own (persistence across a restart, clean stop).
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import {
  findFreePort,
  isTemporalReachable,
  listCustomSearchAttributes,
  locateTemporalCli,
  startDevServer,
  TemporalCliNotFoundError,
  type DevServerHandle,
} from '../../src/devserver';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';
import { testServerAddress, uniqueTaskQueue } from '../helpers/temporal-env';

let tempDir: string;
beforeAll(async () => {
  tempDir = await fs.mkdtemp(path.join(os.tmpdir(), 'devserver-test-'));
});
afterAll(async () => {
  await fs.rm(tempDir, { recursive: true, force: true });
});

describe('locateTemporalCli', () => {
  it('uses TEMPORAL_CLI_PATH when it points at an executable', async () => {
    const real = await locateTemporalCli();
    await expect(locateTemporalCli({ env: { ...process.env, TEMPORAL_CLI_PATH: real } })).resolves.toBe(real);
  });

  it('names TEMPORAL_CLI_PATH when it points nowhere, instead of looking elsewhere', async () => {
    const missing = path.join(tempDir, 'no-such-temporal');
    const attempt = locateTemporalCli({ env: { ...process.env, TEMPORAL_CLI_PATH: missing }, allowBuild: true });
    await expect(attempt).rejects.toThrow(TemporalCliNotFoundError);
    await expect(attempt).rejects.toThrow(/TEMPORAL_CLI_PATH is set to ".*no-such-temporal", but no file exists there/);
  });

  it('says a TEMPORAL_CLI_PATH file that is not executable is not executable', async () => {
    const notExecutable = path.join(tempDir, 'temporal-not-executable');
    await fs.writeFile(notExecutable, '#!/bin/sh\n', { mode: 0o644 });
    await expect(locateTemporalCli({ env: { ...process.env, TEMPORAL_CLI_PATH: notExecutable } })).rejects.toThrow(
      /TEMPORAL_CLI_PATH .* not executable/,
    );
  });

  it('says plainly what to do when nothing is found and building is not allowed', async () => {
    const emptyCache = await fs.mkdtemp(path.join(tempDir, 'cache-'));
    const attempt = locateTemporalCli({ env: { PATH: '', XDG_CACHE_HOME: emptyCache }, allowBuild: false });
    await expect(attempt).rejects.toThrow(TemporalCliNotFoundError);
    await expect(attempt).rejects.toThrow(/set TEMPORAL_CLI_PATH/);
    await expect(attempt).rejects.toThrow(/Go >= 1\.25 .*go install github\.com\/temporalio\/cli\/cmd\/temporal@v1\.5\.1/);
    await expect(attempt).rejects.toThrow(/install the Temporal CLI/);
  });
});

describe('the shared dev server from global setup', () => {
  it('answers', async () => {
    await expect(isTemporalReachable(testServerAddress(), 5_000)).resolves.toBe(true);
  });

  it('has our custom search attributes registered', async () => {
    await expect(listCustomSearchAttributes(testServerAddress())).resolves.toMatchObject(CUSTOM_SEARCH_ATTRIBUTES);
  });

  it('is reported unreachable quickly where nothing listens', async () => {
    const started = Date.now();
    await expect(isTemporalReachable(`127.0.0.1:${await findFreePort()}`, 2_000)).resolves.toBe(false);
    expect(Date.now() - started).toBeLessThan(2_500);
  });

  it('makes startDevServer refuse its port rather than report the wrong server as started', async () => {
    const port = Number(testServerAddress().split(':').pop());
    await expect(startDevServer({ cliPath: await locateTemporalCli(), port, headless: true })).rejects.toThrow(
      /already listening/,
    );
  });
});

describe('startDevServer', () => {
  let server: DevServerHandle | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('reports a server that exits during start-up, with the tail of its log', async () => {
    const attempt = startDevServer({
      cliPath: await locateTemporalCli(),
      port: await findFreePort(),
      headless: true,
      searchAttributes: { Broken: 'NotAType' as never },
      logFile: path.join(tempDir, 'broken.log'),
    });
    await expect(attempt).rejects.toThrow(/exited during start-up[\s\S]*NotAType/);
  });

  it('keeps workflows in its db file across a stop and a start, and stop() ends the process', async () => {
    const cliPath = await locateTemporalCli();
    const dbFilename = path.join(tempDir, 'persist', 'temporal.sqlite');
    const workflowId = `devserver-persistence-${Date.now()}`;

    server = await startDevServer({ cliPath, port: await findFreePort(), headless: true, dbFilename });
    process.stderr.write(`[devserver.test] second dev server answered after ${(server.startupMs / 1000).toFixed(1)} s\n`);
    await withClient(server.address, (client) =>
      // No worker polls this queue: the workflow stays Running, which is all we need to find again.
      client.workflow.start('persistenceProbe', { taskQueue: uniqueTaskQueue('persistence'), workflowId }),
    );
    const firstPid = server.pid;
    await server.stop();
    server = undefined;
    expect(processExists(firstPid)).toBe(false);

    server = await startDevServer({ cliPath, port: await findFreePort(), headless: true, dbFilename });
    const description = await withClient(server.address, (client) => client.workflow.getHandle(workflowId).describe());
    expect(description.status.name).toBe('RUNNING');
    expect(description.type).toBe('persistenceProbe');
  });

  it('commits its db file through a write-ahead log (no fsync per commit), and a SIGKILL loses nothing', async () => {
    const cliPath = await locateTemporalCli();
    const dbFilename = path.join(tempDir, 'wal', 'temporal.sqlite');
    const workflowId = `devserver-wal-${Date.now()}`;
    server = await startDevServer({ cliPath, port: await findFreePort(), headless: true, dbFilename });
    await withClient(server.address, (client) =>
      client.workflow.start('walProbe', { taskQueue: uniqueTaskQueue('wal'), workflowId }),
    );
    expect(await fileExists(`${dbFilename}-wal`)).toBe(true);
    const killedPid = server.pid;
    process.kill(killedPid, 'SIGKILL');
    await waitUntil(() => !processExists(killedPid));
    server = await startDevServer({ cliPath, port: await findFreePort(), headless: true, dbFilename });
    const description = await withClient(server.address, (client) => client.workflow.getHandle(workflowId).describe());
    expect(description.status.name).toBe('RUNNING');
  });

  it('keeps SQLite’s rollback journal when later --sqlite-pragma arguments ask for it (the check above can fail)', async () => {
    const dbFilename = path.join(tempDir, 'rollback', 'temporal.sqlite');
    server = await startDevServer({
      cliPath: await locateTemporalCli(),
      port: await findFreePort(),
      headless: true,
      dbFilename,
      extraArgs: ['--sqlite-pragma', 'journal_mode=delete', '--sqlite-pragma', 'synchronous=full'],
    });
    await withClient(server.address, (client) =>
      client.workflow.start('walProbe', { taskQueue: uniqueTaskQueue('rollback'), workflowId: `devserver-rollback-${Date.now()}` }),
    );
    expect(await fileExists(dbFilename)).toBe(true);
    expect(await fileExists(`${dbFilename}-wal`)).toBe(false);
  });
});

async function fileExists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

async function waitUntil(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 50));
}

async function withClient<T>(address: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address });
  try {
    return await fn(new Client({ connection, namespace: 'default' }));
  } finally {
    await connection.close();
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

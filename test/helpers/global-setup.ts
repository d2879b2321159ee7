/**
 * Jest global setup: one headless Temporal dev server shared by every test file, persisted to a
 * SQLite file in a fresh temp folder, with the project's custom search attributes. Test workers see
 * its address in `TEMPORAL_TEST_ADDRESS` (env set here is inherited by the workers); the handle is
 * kept on `globalThis` for global-teardown.ts, which runs in this same process.
 *
 * Set TEMPORAL_TEST_ADDRESS yourself to run the tests against a server you already have.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findFreePort, locateTemporalCli, startDevServer, type DevServerHandle } from '../../src/devserver';

export interface SharedTestServer {
  handle: DevServerHandle;
  tempDir: string;
}

declare global {
  var __PROPS_BACKFILL_TEST_SERVER__: SharedTestServer | undefined;
}

export default async function globalSetup(): Promise<void> {
  const given = process.env.TEMPORAL_TEST_ADDRESS;
  if (given !== undefined && given !== '') {
    process.stderr.write(`\n[global-setup] using the Temporal server at TEMPORAL_TEST_ADDRESS=${given}\n`);
    return;
  }
  const log = (msg: string): void => {
    process.stderr.write(`[global-setup] ${msg}\n`);
  };
  process.stderr.write('\n');
  // allowBuild: a fresh CI machine has no CLI yet, but reaches the Go module proxy.
  const cliPath = await locateTemporalCli({ allowBuild: true, allowDownload: false, log });
  const tempDir = await fs.mkdtemp(path.join(os.tmpdir(), 'props-backfill-test-'));
  try {
    const handle = await startDevServer({
      cliPath,
      port: await findFreePort(),
      headless: true,
      dbFilename: path.join(tempDir, 'temporal.sqlite'),
      logFile: path.join(tempDir, 'temporal.log'),
      startTimeoutMs: 90_000,
      log,
    });
    globalThis.__PROPS_BACKFILL_TEST_SERVER__ = { handle, tempDir };
    process.env.TEMPORAL_TEST_ADDRESS = handle.address;
    process.env.TEMPORAL_TEST_SERVER_PID = String(handle.pid);
  } catch (err) {
    await fs.rm(tempDir, { recursive: true, force: true });
    throw err;
  }
}

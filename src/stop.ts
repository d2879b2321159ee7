/**
 * `npm run stop`: stops the local Temporal dev server that `npm start` left running for the Web UI
 * (its pid is in <data dir>/temporal-server.pid). Its history stays in <data dir>/temporal.sqlite,
 * so `npm start` later picks every backfill up where it was.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig } from './config';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<number> {
  let dataDir: string;
  try {
    dataDir = loadConfig().dataDir;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`npm run stop: ${err.message}\n`);
    return 2;
  }
  const pidFile = path.resolve(dataDir, 'temporal-server.pid');
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  } catch {
    process.stdout.write(`no local Temporal dev server recorded (${pidFile} does not exist): nothing to stop\n`);
    return 0;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) {
    fs.rmSync(pidFile, { force: true });
    process.stdout.write(`the local Temporal dev server (pid ${Number.isInteger(pid) ? pid : '?'}) is not running\n`);
    return 0;
  }
  process.kill(pid, 'SIGTERM');
  for (let waited = 0; waited < 15_000 && alive(pid); waited += 200) await new Promise((r) => setTimeout(r, 200));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  fs.rmSync(pidFile, { force: true });
  process.stdout.write(`stopped the local Temporal dev server (pid ${pid}); its history stays in ${path.resolve(dataDir, 'temporal.sqlite')}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`npm run stop: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);

/**
 * A real GCS emulator for the export-sink specs: fake-gcs-server (github.com/fsouza/fake-gcs-server),
 * in memory, plain HTTP on a free port, one per test file. The @google-cloud/storage client talks
 * to it through `apiEndpoint`, exactly as it talks to GCS (minus credentials).
 *
 * Found at FAKE_GCS_SERVER_PATH, else `<cache>/bin/fake-gcs-server` (where `.ci/run` builds it),
 * else on PATH. Missing, it throws with the command that builds it: the GCS specs fail, never skip.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants as fsConstants, accessSync } from 'node:fs';
import path from 'node:path';
import { cacheDir, findFreePort } from '../../src/devserver';

export const FAKE_GCS_SERVER_VERSION = 'v1.56.1';
export const FAKE_GCS_SERVER_ENV = 'FAKE_GCS_SERVER_PATH';
const START_TIMEOUT_MS = 30_000;

export interface FakeGcsServer {
  /** `http://127.0.0.1:<port>`: the client's `apiEndpoint`. */
  endpoint: string;
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function locateFakeGcsServer(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env[FAKE_GCS_SERVER_ENV];
  if (explicit !== undefined && explicit !== '') {
    if (!isExecutable(explicit)) throw new Error(`${FAKE_GCS_SERVER_ENV}=${explicit} is not an executable file.`);
    return explicit;
  }
  const cached = path.join(cacheDir(env), 'bin', 'fake-gcs-server');
  if (isExecutable(cached)) return cached;
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'fake-gcs-server');
    if (dir !== '' && isExecutable(candidate)) return candidate;
  }
  throw new Error(
    `fake-gcs-server (the GCS emulator these tests need) was not found: ${FAKE_GCS_SERVER_ENV} is not set, ` +
      `${cached} does not exist and it is not on PATH. Build it with: ` +
      `GOBIN=${path.dirname(cached)} CGO_ENABLED=0 go install github.com/fsouza/fake-gcs-server@${FAKE_GCS_SERVER_VERSION}`,
  );
}

export async function startFakeGcsServer(): Promise<FakeGcsServer> {
  const binary = locateFakeGcsServer();
  const port = await findFreePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(
    binary,
    ['-scheme', 'http', '-host', '127.0.0.1', '-port', String(port), '-backend', 'memory', '-external-url', endpoint, '-log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-2000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let failure: Error | undefined;
  child.on('error', (err) => (failure = err));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (failure !== undefined || child.exitCode !== null) {
      throw new Error(`fake-gcs-server (${binary}) did not start: ${failure?.message ?? `exit code ${String(child.exitCode)}`} ${output.trim()}`);
    }
    if (await answers(endpoint)) break;
    if (Date.now() > deadline) {
      await stop(child, exited);
      throw new Error(`fake-gcs-server did not answer at ${endpoint} within ${START_TIMEOUT_MS / 1000} s: ${output.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    endpoint,
    async createBucket(name) {
      const res = await fetch(`${endpoint}/storage/v1/b?project=test`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name }),
      });
      if (!res.ok) throw new Error(`creating bucket ${name}: HTTP ${res.status} ${await res.text()}`);
    },
    stop: () => stop(child, exited),
  };
}

async function answers(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/storage/v1/b`, { signal: AbortSignal.timeout(1_000) });
    return res.ok;
  } catch {
    return false;
  }
}

async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

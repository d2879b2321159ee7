/**
 * Finds the Temporal CLI (which carries the dev server) on machines that may have no internet.
 *
 * Order: `TEMPORAL_CLI_PATH` → `temporal` on PATH → our cache folder → the SDK's own download
 * (opt-in) → a Go build of the CLI's module into the cache (opt-in). An explicit
 * `TEMPORAL_CLI_PATH` that does not point at an executable is an error, never skipped: the
 * operator asked for that binary, and silently running another would hide the mistake.
 */
import { execFile, spawn } from 'node:child_process';
import { constants as fsConstants, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The newest CLI release whose go.mod has no `replace` directive, so `go install …@version` works. */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const TEMPORAL_CLI_GO_PACKAGE = 'github.com/temporalio/cli/cmd/temporal';
export const TEMPORAL_CLI_ENV = 'TEMPORAL_CLI_PATH';

/** Go builds of a single binary with many modules: allow for a slow machine and a cold module cache. */
const GO_BUILD_TIMEOUT_MS = 30 * 60_000;
const SDK_DOWNLOAD_TIMEOUT_MS = 5 * 60_000;

export interface LocateTemporalCliOptions {
  /** Build the CLI with `go install` into the cache when nothing else is found (takes minutes). */
  allowBuild?: boolean;
  /** Let `@temporalio/testing` download the CLI (needs internet access to Temporal's download site). */
  allowDownload?: boolean;
  log?: (msg: string) => void;
  /** Environment to read `TEMPORAL_CLI_PATH`, PATH and the cache location from (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

export class TemporalCliNotFoundError extends Error {
  override name = 'TemporalCliNotFoundError';
  /** One line per place looked at, in order. */
  readonly attempts: readonly string[];

  constructor(message: string, attempts: readonly string[] = []) {
    super(message);
    this.attempts = attempts;
  }
}

/** `${XDG_CACHE_HOME:-~/.cache}/props-backfill` */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME !== '' ? env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(base, 'props-backfill');
}

/** Where the Go build puts the CLI: `<cache>/bin/temporal`. */
export function cachedCliPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheDir(env), 'bin', exeName('temporal'));
}

/** The command a person can paste to build the CLI into the cache. */
export function goInstallCommand(env: NodeJS.ProcessEnv = process.env): string {
  return `GOBIN=${path.dirname(cachedCliPath(env))} go install ${TEMPORAL_CLI_GO_PACKAGE}@${TEMPORAL_CLI_VERSION}`;
}

export async function locateTemporalCli(options: LocateTemporalCliOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => undefined);
  const attempts: string[] = [];

  const explicit = env[TEMPORAL_CLI_ENV];
  if (explicit !== undefined && explicit !== '') {
    const problem = await executableProblem(explicit);
    if (problem !== undefined) {
      throw new TemporalCliNotFoundError(
        `${TEMPORAL_CLI_ENV} is set to "${explicit}", but ${problem}. ` +
          `Point ${TEMPORAL_CLI_ENV} at a Temporal CLI binary, or unset it to let the project find or build one.`,
        [`${TEMPORAL_CLI_ENV}=${explicit}: ${problem}`],
      );
    }
    log(`Temporal CLI from ${TEMPORAL_CLI_ENV}: ${explicit}`);
    return explicit;
  }
  attempts.push(`${TEMPORAL_CLI_ENV}: not set`);

  const onPath = await findOnPath('temporal', env);
  if (onPath !== undefined && (await looksLikeTemporalCli(onPath))) {
    log(`Temporal CLI on PATH: ${onPath}`);
    return onPath;
  }
  attempts.push(onPath === undefined ? 'PATH: no `temporal`' : `PATH: ${onPath} does not answer like the Temporal CLI`);

  const cached = cachedCliPath(env);
  if ((await executableProblem(cached)) === undefined) {
    log(`Temporal CLI from the cache: ${cached}`);
    return cached;
  }
  attempts.push(`cache: no executable at ${cached}`);

  if (options.allowDownload) {
    const downloaded = await downloadWithSdk(cacheDir(env), log);
    if (downloaded !== undefined) {
      log(`Temporal CLI downloaded by the SDK: ${downloaded}`);
      return downloaded;
    }
    attempts.push('SDK download: failed or unavailable');
  } else {
    attempts.push('SDK download: not allowed');
  }

  if (options.allowBuild) {
    const go = await findOnPath('go', env);
    if (go === undefined) {
      attempts.push('Go build: `go` is not on PATH');
    } else {
      const failure = await buildWithGo(go, env, log);
      const problem = failure ?? (await executableProblem(cached));
      if (problem === undefined) {
        log(`Temporal CLI built into the cache: ${cached}`);
        return cached;
      }
      attempts.push(`Go build failed: ${problem}`);
    }
  } else {
    attempts.push('Go build: not allowed');
  }

  throw new TemporalCliNotFoundError(
    [
      'The Temporal CLI (needed for the local dev server) was not found.',
      `Looked at: ${attempts.join('; ')}.`,
      'Do one of:',
      `  - set ${TEMPORAL_CLI_ENV} to the path of a Temporal CLI binary;`,
      `  - install Go >= 1.25 and run: ${goInstallCommand(env)}`,
      '  - install the Temporal CLI (https://docs.temporal.io/cli) so that `temporal` is on PATH.',
    ].join('\n'),
    attempts,
  );
}

function exeName(name: string): string {
  return process.platform === 'win32' ? `${name}.exe` : name;
}

/** undefined when `file` is an executable regular file, otherwise what is wrong with it. */
async function executableProblem(file: string): Promise<string | undefined> {
  let stat;
  try {
    stat = await fs.stat(file);
  } catch {
    return 'no file exists there';
  }
  if (!stat.isFile()) return 'it is not a file';
  try {
    await fs.access(file, fsConstants.X_OK);
  } catch {
    return 'it is not executable (chmod +x it)';
  }
  return undefined;
}

async function findOnPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, exeName(name));
    if ((await executableProblem(candidate)) === undefined) return candidate;
  }
  return undefined;
}

/** Some unrelated tool may also be called `temporal`; the CLI prints `temporal version …`. */
function looksLikeTemporalCli(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(file, ['--version'], { timeout: 15_000 }, (err, stdout) => {
      resolve(!err && /temporal version/i.test(String(stdout)));
    });
  });
}

/**
 * The SDK has no download-only API: it downloads the CLI as a side effect of starting a dev server
 * (`TestWorkflowEnvironment.createLocal` with a `cached-download` executable) and names the file
 * `temporal-sdk-typescript-<sdk version>` in the download folder. We do that in a child process so
 * the SDK's native Runtime is never created in ours (a later `Runtime.install` would then throw),
 * and so a hung download can be killed. The SDK waits only briefly for its server to answer; if
 * that start fails on a slow machine, the downloaded binary is still there, which is all we want.
 */
async function downloadWithSdk(cache: string, log: (msg: string) => void): Promise<string | undefined> {
  let testingEntry: string;
  try {
    testingEntry = require.resolve('@temporalio/testing');
  } catch {
    log('@temporalio/testing is not installed; skipping the SDK download');
    return undefined;
  }
  const downloadDir = path.join(cache, 'sdk-download');
  await fs.mkdir(downloadDir, { recursive: true });
  const already = await findSdkDownload(downloadDir);
  if (already !== undefined) return already;

  log('Asking @temporalio/testing to download the Temporal CLI…');
  const script = [
    'const { TestWorkflowEnvironment } = require(process.argv[1]);',
    "TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'cached-download', downloadDir: process.argv[2] } } })",
    '  .then((env) => env.teardown(), (err) => { console.error(String(err)); })',
    '  .then(() => process.exit(0), () => process.exit(0));',
  ].join('\n');
  await new Promise<void>((resolve) => {
    execFile(process.execPath, ['-e', script, testingEntry, downloadDir], { timeout: SDK_DOWNLOAD_TIMEOUT_MS }, (err, _out, stderr) => {
      const detail = String(stderr).trim() || err?.message;
      if (detail) log(`SDK download: ${detail}`);
      resolve();
    });
  });
  return findSdkDownload(downloadDir);
}

async function findSdkDownload(dir: string): Promise<string | undefined> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return undefined;
  }
  for (const name of names.filter((n) => n.startsWith('temporal-sdk-typescript-')).sort().reverse()) {
    const file = path.join(dir, name);
    if ((await executableProblem(file)) === undefined) return file;
  }
  return undefined;
}

/** Resolves to undefined on success, otherwise to what went wrong. */
async function buildWithGo(go: string, env: NodeJS.ProcessEnv, log: (msg: string) => void): Promise<string | undefined> {
  const gobin = path.dirname(cachedCliPath(env));
  await fs.mkdir(gobin, { recursive: true });
  log(`Building the Temporal CLI from source: ${goInstallCommand(env)} — this takes a few minutes…`);
  const started = Date.now();
  return new Promise((resolve) => {
    // CGO off: the CLI's SQLite is pure Go, and a C toolchain may be missing on build machines.
    const child = spawn(go, ['install', `${TEMPORAL_CLI_GO_PACKAGE}@${TEMPORAL_CLI_VERSION}`], {
      env: { ...env, GOBIN: gobin, CGO_ENABLED: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), GO_BUILD_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve(err.message);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) {
        log(`Temporal CLI built in ${Math.round((Date.now() - started) / 1000)} s`);
        resolve(undefined);
      } else {
        const how = signal !== null ? `killed by ${signal}` : `exit code ${String(code)}`;
        resolve(`${how}: ${output.trim().split('\n').slice(-5).join(' | ')}`);
      }
    });
  });
}

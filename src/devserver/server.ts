/**
 * Starts and stops a local Temporal dev server (`temporal server start-dev`).
 *
 * We launch it ourselves rather than through the SDK's `TestWorkflowEnvironment.createLocal`: the
 * SDK waits only about five seconds for the server to answer, which a slow two-core machine does
 * not always manage, and it cannot leave the server running detached for `npm start`. Our own wait
 * polls until the server has answered a gRPC call and knows the namespace and search attributes,
 * and on failure reports the tail of the server's log rather than a bare time-out.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../shared/search-attributes';

/** The value types `temporal server start-dev --search-attribute Name=Type` accepts. */
export type SearchAttributeTypeName = 'Text' | 'Keyword' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

export interface DevServerOptions {
  /** Path to the Temporal CLI (see `locateTemporalCli`). */
  cliPath: string;
  /** IP the frontend binds to (default 127.0.0.1). */
  ip?: string;
  /** gRPC frontend port (default 7233). */
  port?: number;
  /** Web UI port (the CLI's default is port + 1000). Ignored when headless. */
  uiPort?: number;
  /** No Web UI (default false). */
  headless?: boolean;
  /** SQLite file to persist to; without it, everything is lost when the server stops. */
  dbFilename?: string;
  /** Namespace to create at start-up besides `default` (default: `default`). */
  namespace?: string;
  /** Custom search attributes to register (default: the project's CUSTOM_SEARCH_ATTRIBUTES). */
  searchAttributes?: Record<string, SearchAttributeTypeName>;
  /** File the server's output goes to (appended; default: a file in the OS temp folder). */
  logFile?: string;
  /**
   * Keep the server running after this process exits (own process group, not waited on): used by
   * `npm start`, where Ctrl-C detaches and the next run finds the server still answering.
   */
  detached?: boolean;
  /**
   * More arguments for `temporal server start-dev`, appended as given, e.g.
   * `['--dynamic-config-value', 'system.enableActivityEagerExecution=true']` (the benchmarks' variants).
   */
  extraArgs?: readonly string[];
  /** How long to wait for the server to answer (default 60 s). */
  startTimeoutMs?: number;
  /** How long `stop()` waits after SIGTERM before SIGKILL (default 5 s). */
  stopGraceMs?: number;
  log?: (msg: string) => void;
}

export interface DevServerHandle {
  /** host:port of the gRPC frontend. */
  readonly address: string;
  /** Web UI, unless headless. */
  readonly uiUrl?: string;
  readonly pid: number;
  readonly namespace: string;
  readonly logFile: string;
  /** Milliseconds from spawn to the server answering. */
  readonly startupMs: number;
  /** SIGTERM, then SIGKILL after the grace period; resolves once the process is gone (never hangs). */
  stop(): Promise<void>;
}

export class DevServerStartError extends Error {
  override name = 'DevServerStartError';
}

/**
 * How the persisted dev server commits to its SQLite file: write-ahead log, no fsync per commit.
 * SQLite's default (a rollback journal, synchronous=FULL) syncs the journal and the file on every
 * commit — every workflow task, signal and search-attribute update — and on the full bench that was
 * a sixth of the server's CPU (perf: `_syncJournal`, `vdbeCommit` under UpdateWorkflowExecution)
 * besides the kernel's write-back. With WAL a commit is an append to the `-wal` file: a killed
 * server (SIGKILL, as test/faults does) loses nothing, because the appends are in the operating
 * system's cache; only a crash of the machine itself may lose the last commits, never corrupt the
 * file. Later `--sqlite-pragma` arguments win (`extraArgs`), e.g. the bench's `sqlite-fsync` variant.
 */
export const PERSISTED_SQLITE_PRAGMAS: readonly string[] = ['journal_mode=wal', 'synchronous=normal'];

const DEFAULT_PORT = 7233;
const DEFAULT_START_TIMEOUT_MS = 60_000;
const DEFAULT_STOP_GRACE_MS = 5_000;
const POLL_INTERVAL_MS = 250;

export async function startDevServer(options: DevServerOptions): Promise<DevServerHandle> {
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? DEFAULT_PORT;
  const namespace = options.namespace ?? 'default';
  const searchAttributes = options.searchAttributes ?? CUSTOM_SEARCH_ATTRIBUTES;
  const headless = options.headless ?? false;
  const log = options.log ?? (() => undefined);
  const connectHost = ip === '0.0.0.0' ? '127.0.0.1' : ip;
  const address = `${formatHost(connectHost)}:${port}`;

  // Without this check, a server already on the port would answer our poll while ours dies on bind.
  if (await tcpAnswers(connectHost, port, 1_000)) {
    throw new DevServerStartError(
      `Cannot start the Temporal dev server: something is already listening on ${address} (another Temporal server?).`,
    );
  }

  const args = ['server', 'start-dev', '--ip', ip, '--port', String(port)];
  let uiUrl: string | undefined;
  if (headless) {
    args.push('--headless');
  } else {
    const uiPort = options.uiPort ?? port + 1000;
    args.push('--ui-port', String(uiPort));
    uiUrl = `http://${formatHost(connectHost)}:${uiPort}`;
  }
  if (options.dbFilename !== undefined) {
    await fs.mkdir(path.dirname(path.resolve(options.dbFilename)), { recursive: true });
    args.push('--db-filename', options.dbFilename);
    for (const pragma of PERSISTED_SQLITE_PRAGMAS) args.push('--sqlite-pragma', pragma);
  }
  // `default` always exists; naming it again is redundant.
  if (namespace !== 'default') args.push('--namespace', namespace);
  for (const [name, type] of Object.entries(searchAttributes)) args.push('--search-attribute', `${name}=${type}`);
  args.push('--log-level', 'warn');
  if (options.extraArgs) args.push(...options.extraArgs);

  const logFile = options.logFile ?? path.join(os.tmpdir(), `temporal-dev-server-${port}.log`);
  await fs.mkdir(path.dirname(path.resolve(logFile)), { recursive: true });
  const logStart = await fileSize(logFile);
  await fs.appendFile(logFile, `--- ${new Date().toISOString()} ${options.cliPath} ${args.join(' ')}\n`);
  const logOffset = logStart;

  // The server writes straight into the file, so no pipe has to be drained by us, and a detached
  // server keeps logging after we exit.
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(options.cliPath, args, {
      stdio: ['ignore', fd, fd],
      detached: options.detached ?? false,
      env: process.env,
    });
  } finally {
    closeSync(fd);
  }
  log(`Starting Temporal dev server on ${address} (log: ${logFile})`);

  const exited = watchExit(child);
  const spawnError = await Promise.race([
    new Promise<Error>((resolve) => child.once('error', resolve)),
    new Promise<undefined>((resolve) => child.once('spawn', () => resolve(undefined))),
  ]);
  if (spawnError !== undefined || child.pid === undefined) {
    throw new DevServerStartError(
      `Could not run the Temporal CLI at ${options.cliPath}: ${spawnError?.message ?? 'no process id'}`,
    );
  }
  const pid = child.pid;

  // A server we own dies with us unless it was asked to outlive us; 'exit' handlers must be sync.
  const killOnExit = (): void => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  if (options.detached) child.unref();
  else process.once('exit', killOnExit);

  const stopGraceMs = options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      process.removeListener('exit', killOnExit);
      await terminate(pid, exited, stopGraceMs);
    })();
    return stopping;
  };

  const started = Date.now();
  const deadline = started + (options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
  for (;;) {
    const exit = exited.info();
    if (exit !== undefined) {
      process.removeListener('exit', killOnExit);
      throw new DevServerStartError(
        `The Temporal dev server exited during start-up (${exit}). Last lines of ${logFile}:\n${await tailOfFile(logFile, logOffset)}`,
      );
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      await stop();
      throw new DevServerStartError(
        `The Temporal dev server did not answer on ${address} within ${Math.round((options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS) / 1000)} s. ` +
          `Last lines of ${logFile}:\n${await tailOfFile(logFile, logOffset)}`,
      );
    }
    if (await isDevServerReady(address, namespace, Object.keys(searchAttributes), Math.min(remaining, 5_000))) break;
    await Promise.race([sleep(POLL_INTERVAL_MS), exited.promise]);
  }
  const startupMs = Date.now() - started;
  log(`Temporal dev server answered on ${address} after ${(startupMs / 1000).toFixed(1)} s (pid ${pid})`);

  return { address, uiUrl, pid, namespace, logFile, startupMs, stop };
}

/** A free TCP port on `host` (the OS picks it; it could in theory be taken before it is used). */
export function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const addr = server.address();
      server.close(() => {
        if (addr !== null && typeof addr === 'object') resolve(addr.port);
        else reject(new Error('could not determine a free port'));
      });
    });
  });
}

/**
 * Whether a Temporal frontend answers at `address` (host:port, plaintext) within `timeoutMs`:
 * a TCP connect first (fails fast when nothing listens), then a `GetSystemInfo` call.
 * Never throws. Used by `npm start` to decide whether to launch a local server.
 */
export async function isTemporalReachable(address: string, timeoutMs = 2_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const target = parseAddress(address);
  if (target === undefined) return false;
  if (!(await tcpAnswers(target.host, target.port, timeoutMs))) return false;
  return withConnection(address, deadline, async (connection) => {
    await connection.withDeadline(deadline, () => connection.workflowService.getSystemInfo({}));
    return true;
  });
}

/** The server answers, the namespace exists, and so do the search attributes asked for. */
async function isDevServerReady(
  address: string,
  namespace: string,
  searchAttributeNames: string[],
  timeoutMs: number,
): Promise<boolean> {
  const target = parseAddress(address);
  if (target === undefined || !(await tcpAnswers(target.host, target.port, Math.min(timeoutMs, 1_000)))) return false;
  const deadline = Date.now() + timeoutMs;
  return withConnection(address, deadline, async (connection) => {
    await connection.withDeadline(deadline, () => connection.workflowService.getSystemInfo({}));
    await connection.withDeadline(deadline, () => connection.workflowService.describeNamespace({ namespace }));
    if (searchAttributeNames.length > 0) {
      const { customAttributes } = await connection.withDeadline(deadline, () =>
        connection.operatorService.listSearchAttributes({ namespace }),
      );
      if (!searchAttributeNames.every((name) => customAttributes?.[name] !== undefined)) return false;
    }
    return true;
  });
}

/** Runs `fn` on a fresh plaintext connection; false on any failure; always closes the connection. */
async function withConnection(
  address: string,
  deadline: number,
  fn: (connection: Connection) => Promise<boolean>,
): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: Math.max(deadline - Date.now(), 1) });
    return await fn(connection);
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/** Indexed value type of each custom search attribute, by name, as the server reports it. */
export async function listCustomSearchAttributes(
  address: string,
  namespace = 'default',
): Promise<Record<string, SearchAttributeTypeName | 'Unspecified'>> {
  const connection = await Connection.connect({ address });
  try {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    const out: Record<string, SearchAttributeTypeName | 'Unspecified'> = {};
    for (const [name, type] of Object.entries(customAttributes ?? {})) out[name] = indexedValueTypeName(type);
    return out;
  } finally {
    await connection.close();
  }
}

/** temporal.api.enums.v1.IndexedValueType, whose numbering is fixed by the wire protocol. */
const INDEXED_VALUE_TYPE_NAMES: Record<number, SearchAttributeTypeName> = {
  1: 'Text',
  2: 'Keyword',
  3: 'Int',
  4: 'Double',
  5: 'Bool',
  6: 'Datetime',
  7: 'KeywordList',
};

function indexedValueTypeName(type: number): SearchAttributeTypeName | 'Unspecified' {
  return INDEXED_VALUE_TYPE_NAMES[type] ?? 'Unspecified';
}

interface ExitWatch {
  /** Resolves when the process exits. */
  promise: Promise<void>;
  /** Description of how it exited, or undefined while it runs. */
  info(): string | undefined;
}

function watchExit(child: ChildProcess): ExitWatch {
  let info: string | undefined;
  const promise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      info = signal !== null ? `killed by ${signal}` : `exit code ${String(code)}`;
      resolve();
    });
    child.once('error', (err) => {
      info ??= err.message;
      resolve();
    });
  });
  return { promise, info: () => info };
}

async function terminate(pid: number, exited: ExitWatch, graceMs: number): Promise<void> {
  if (!signal(pid, 'SIGTERM')) return;
  if (await waitGone(pid, exited, graceMs)) return;
  if (!signal(pid, 'SIGKILL')) return;
  await waitGone(pid, exited, 3_000);
}

/** False when the process no longer exists. */
function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pid: number, exited: ExitWatch, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited.info() !== undefined) return true;
    await Promise.race([sleep(100), exited.promise]);
  }
  return exited.info() !== undefined || !processExists(pid);
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function tcpAnswers(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function parseAddress(address: string): { host: string; port: number } | undefined {
  const match = /^\[?([^\]]*?)\]?:(\d+)$/.exec(address.trim());
  if (match === null || match[1] === undefined || match[2] === undefined) return undefined;
  const port = Number(match[2]);
  return port > 0 && port < 65536 ? { host: match[1] === '' ? '127.0.0.1' : match[1], port } : undefined;
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await fs.stat(file)).size;
  } catch {
    return 0;
  }
}

async function tailOfFile(file: string, fromOffset: number, maxLines = 40): Promise<string> {
  try {
    const text = (await fs.readFile(file)).subarray(fromOffset).toString('utf8');
    const lines = text.trimEnd().split('\n');
    return lines.slice(-maxLines).join('\n') || '(the log is empty)';
  } catch (err) {
    return `(could not read the log: ${(err as Error).message})`;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

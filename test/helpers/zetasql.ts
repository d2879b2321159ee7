/**
 * Offline BigQuery SQL validity check on Google's ZetaSQL analyser (tools/zetasql-check, Java).
 *
 *   const { results, summary } = await analyseBigQuerySql({ tables, statements });
 *
 * Every statement (a single statement or a script such as `BEGIN TRANSACTION; …; COMMIT
 * TRANSACTION;`) is analysed under BigQuery's language options against a catalog holding exactly
 * `tables`, with `params` as its typed named query parameters (`@name`). All statements run in one
 * JVM (its start-up, ~3 s, dominates), so batch them into one call.
 *
 * The jar is built by `tools/zetasql-check/build.sh` (.ci/run does it before the tests); this helper
 * never builds it, it throws when the jar is missing or older than its sources.
 */
import { spawn } from 'node:child_process';
import { promises as fs, existsSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface ZetaTable {
  project: string;
  dataset: string;
  table: string;
  columns: { name: string; type: string }[];
}
export interface ZetaStatement {
  id: string;
  sql: string;
  params: Record<string, string>;
  expectError?: boolean;
}
export interface ZetaResult {
  id: string;
  ok: boolean;
  error: string | null;
  expectError: boolean;
  pass: boolean;
}
export interface ZetaSummary {
  analysed: number;
  accepted: number;
  rejected: number;
  unexpected: number;
}
export interface ZetaInput {
  tables: ZetaTable[];
  statements: ZetaStatement[];
  /**
   * Optional BigQuery default project: tables in it also resolve as `dataset.table`. Without it
   * only fully qualified `project.dataset.table` names resolve.
   */
  defaultProject?: string;
}
export interface ZetaOptions {
  /** Another jar than {@link zetasqlCheckJarPath}'s. */
  jarPath?: string;
  /** Kill the JVM after this long; default 180 s. */
  timeoutMs?: number;
}

const BUILD_HINT = 'run tools/zetasql-check/build.sh (needs Java 17+ and Maven)';

/** tools/zetasql-check, found from this file upwards (works from the sources and from a compiled copy). */
export function zetasqlCheckDir(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, 'tools', 'zetasql-check');
    if (existsSync(path.join(candidate, 'pom.xml'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`tools/zetasql-check not found above ${__dirname}`);
    dir = parent;
  }
}

/** The checker's runnable jar (its dependencies sit in lib/ beside it). */
export function zetasqlCheckJarPath(): string {
  return path.join(zetasqlCheckDir(), 'target', 'zetasql-check.jar');
}

function newestMtimeMs(file: string): number {
  const stat = statSync(file);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(file)) newest = Math.max(newest, newestMtimeMs(path.join(file, entry)));
  return newest;
}

/** Throws one clear Error when the jar is missing, or (for the default jar) older than pom.xml or a source file. */
export function assertZetasqlCheckBuilt(jarPath: string = zetasqlCheckJarPath()): void {
  if (!existsSync(jarPath) || !existsSync(path.join(path.dirname(jarPath), 'lib'))) {
    throw new Error(`The ZetaSQL checker is not built (${jarPath} or its lib/ is missing): ${BUILD_HINT}.`);
  }
  if (jarPath === zetasqlCheckJarPath()) {
    const dir = zetasqlCheckDir();
    const sources = Math.max(newestMtimeMs(path.join(dir, 'pom.xml')), newestMtimeMs(path.join(dir, 'src')));
    if (sources > statSync(jarPath).mtimeMs) {
      throw new Error(`The ZetaSQL checker jar is older than its sources (${jarPath}): ${BUILD_HINT}.`);
    }
  }
}

interface RunOutput {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runJava(args: string[], timeoutMs: number): Promise<RunOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        err.code === 'ENOENT'
          ? new Error('`java` is not on PATH: the ZetaSQL checker needs Java 17 or newer.')
          : err,
      );
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * Analyse every statement with the ZetaSQL checker. Resolves with one result per statement (in input
 * order) and the summary, whether or not every statement passed (`pass` = ok !== expectError;
 * `summary.unexpected` counts those that did not). Rejects on invalid input, a missing jar or
 * Java, or a checker failure, with the checker's own one-line message.
 */
export async function analyseBigQuerySql(
  input: ZetaInput,
  options: ZetaOptions = {},
): Promise<{ results: ZetaResult[]; summary: ZetaSummary }> {
  const jarPath = options.jarPath ?? zetasqlCheckJarPath();
  assertZetasqlCheckBuilt(jarPath);

  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zetasql-check-'));
  try {
    const file = path.join(dir, 'input.json');
    await fs.writeFile(file, JSON.stringify(input), 'utf8');
    // C1 only and the serial GC: the run is short, start-up is what costs.
    const run = await runJava(
      ['-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-jar', jarPath, file],
      options.timeoutMs ?? 180_000,
    );
    const stderr = run.stderr.trim();
    if (run.code !== 0 && run.code !== 1) {
      const how = run.signal !== null ? `was killed (${run.signal})` : `exited ${String(run.code)}`;
      throw new Error(`The ZetaSQL checker ${how}: ${stderr === '' ? '(no message)' : stderr}`);
    }

    const results: ZetaResult[] = [];
    let summary: ZetaSummary | undefined;
    for (const line of run.stdout.split('\n')) {
      if (line.trim() === '') continue;
      const parsed = JSON.parse(line) as (ZetaResult & { summary?: undefined }) | (ZetaSummary & { summary: true });
      if (parsed.summary === true) {
        summary = {
          analysed: parsed.analysed,
          accepted: parsed.accepted,
          rejected: parsed.rejected,
          unexpected: parsed.unexpected,
        };
      } else {
        results.push(parsed);
      }
    }
    if (summary === undefined || results.length !== input.statements.length) {
      throw new Error(
        `The ZetaSQL checker's output is incomplete (${results.length} of ${input.statements.length} results` +
          `${summary === undefined ? ', no summary' : ''}): ${stderr}`,
      );
    }
    const expectedExit = summary.unexpected === 0 ? 0 : 1;
    if (run.code !== expectedExit) {
      throw new Error(`The ZetaSQL checker exited ${String(run.code)} but reported ${summary.unexpected} unexpected results.`);
    }
    return { results, summary };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

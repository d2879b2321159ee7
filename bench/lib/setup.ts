/**
 * What every benchmark needs before it measures anything: the seeded demo warehouse (seeded once,
 * then copied for each run so every run starts from the same file), the workflow bundle (built once,
 * loaded by every worker process), the machine and commit the figures belong to, the environment
 * the benches read, and writing the results file.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../src/config';
import { findFreePort, startDevServer, type DevServerHandle } from '../../src/devserver';
import { DEMO_PRESETS, seedDemoData, type DemoPresetName } from '../../src/pipeline/demo';
import { listGameDates } from '../../src/pipeline/dates';
import { ensureWarehouseTables } from '../../src/pipeline/tables';
import { DuckDbWarehouse } from '../../src/warehouse';
import { writeWorkflowBundle } from '../../src/workflow-bundle';

export interface BenchRange {
  preset: DemoPresetName;
  from: string;
  to: string;
  /** Game dates in [from, to]. */
  gameDates: string[];
  /** The seeded DuckDB file to copy for each run. */
  templateDuckdb: string;
}

/** A bad BENCH_* (or deployment) setting: the bench prints its one line and exits 2, nothing started. */
export class BenchSettingError extends Error {
  override name = 'BenchSettingError';
}

/**
 * Runs a bench's main: exit 0 when it ends, 2 with one line on a bad setting (BenchSettingError,
 * or the deployment config's ConfigError), 1 with the stack on anything else.
 */
export function runBench(label: string, main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      if (err instanceof BenchSettingError || err instanceof ConfigError) {
        process.stderr.write(`${label}: ${err.message}\n`);
        process.exit(2);
      }
      process.stderr.write(`${label} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}

/** BENCH_PRESET, defaulting to `fallback`; one clear line on a bad name. */
export function benchPreset(value: string | undefined, fallback: DemoPresetName): DemoPresetName {
  const name = value === undefined || value === '' ? fallback : value;
  if (!Object.prototype.hasOwnProperty.call(DEMO_PRESETS, name)) {
    throw new BenchSettingError(`BENCH_PRESET must be one of ${Object.keys(DEMO_PRESETS).join(', ')}, got "${name}"`);
  }
  return name as DemoPresetName;
}

/** A positive integer setting, or undefined when unset. */
export function positiveIntSetting(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new BenchSettingError(`${name} must be a positive integer, got "${value}"`);
  return n;
}

/** A comma-separated list of positive numbers (BENCH_PHASES, BENCH_SCALE_CAPS). */
export function numberListSetting(name: string, value: string | undefined, fallback: number[]): number[] {
  if (value === undefined || value === '') return fallback;
  const list = value.split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1)) throw new BenchSettingError(`${name} must be a comma-separated list of positive integers, got "${value}"`);
  return list;
}

/**
 * Seeds the preset's demo data into `dir/template.duckdb` and returns the range to run: the preset's,
 * cut after its first `maxDates` game dates when given.
 */
export async function prepareTemplate(dir: string, preset: DemoPresetName, maxDates?: number): Promise<BenchRange> {
  const templateDuckdb = path.join(dir, 'template.duckdb');
  const w = new DuckDbWarehouse({ path: templateDuckdb });
  try {
    await ensureWarehouseTables(w);
    await seedDemoData(w, { preset });
    const { from, to } = DEMO_PRESETS[preset];
    let gameDates = (await listGameDates(w, from, to)).map((g) => g.date);
    if (maxDates !== undefined) gameDates = gameDates.slice(0, maxDates);
    const last = gameDates[gameDates.length - 1];
    if (last === undefined) throw new Error(`no game dates in ${from} → ${to}`);
    return { preset, from, to: last, gameDates, templateDuckdb };
  } finally {
    await w.close();
  }
}

/** The workflow bundle every worker process of the bench loads, built once. */
export async function prepareWorkflowBundle(dir: string): Promise<string> {
  const file = path.join(dir, 'workflows.bundle.js');
  await writeWorkflowBundle(file);
  return file;
}

/**
 * A fresh headless dev server for one run, its database and log in `dir` (temporal.sqlite,
 * temporal.log), on a free port; `extraArgs` go to `temporal server start-dev` (a variant's
 * dynamic config).
 */
export async function startRunServer(cliPath: string, dir: string, extraArgs: readonly string[] = []): Promise<DevServerHandle> {
  return startDevServer({
    cliPath,
    port: await findFreePort(),
    headless: true,
    dbFilename: path.join(dir, 'temporal.sqlite'),
    logFile: path.join(dir, 'temporal.log'),
    extraArgs,
    startTimeoutMs: 90_000,
  });
}

export function machine(): { cores: number; cpuModel: string; memoryMiB: number; node: string; platform: string } {
  return {
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryMiB: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

/** The short commit the figures were measured on (with "+dirty" when the tree has changes), or null. */
export function gitCommit(): string | null {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return dirty ? `${head}+dirty` : head;
  } catch {
    return null;
  }
}

/** The project folder: the nearest folder above this file holding package.json. */
export function repoRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return process.cwd();
  }
}

/** Writes bench/results/<name>-<timestamp>.json and <name>-latest.json; returns the first's path. */
export function writeResults(name: string, at: string, results: unknown): string {
  // Compiled (to dist/bench/lib or elsewhere): the results belong in the source tree's bench/results.
  const dir = path.join(repoRoot(), 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const text = `${JSON.stringify(results, null, 2)}\n`;
  const file = path.join(dir, `${name}-${at.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, text);
  fs.writeFileSync(path.join(dir, `${name}-latest.json`), text);
  return file;
}

/** Fixed-width table for stdout: the first column left-aligned, the rest right-aligned. */
export function formatTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** "12.3" for a number, "n/a" for null. */
export function fmt(x: number | null | undefined, places = 1): string {
  return x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(places);
}

/**
 * The benchmarks' bad settings: one line naming the setting, exit 2, no stack trace, and nothing
 * started (settings are read before any folder, server or worker). Real processes of the benches'
 * entry points, a deployment setting among them (the bench reads the deployment's config too).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { TS_LOADER } from '../helpers/worker-process';

function runBenchEntry(entry: string, env: Record<string, string>): { status: number | null; stderr: string; stdout: string } {
  const result = spawnSync(process.execPath, ['-e', TS_LOADER, path.join(__dirname, '../../bench', entry)], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: result.status, stderr: result.stderr, stdout: result.stdout };
}

test.each([
  ['run.ts', { BENCH_ROUNDS: '0' }, /^bench: BENCH_ROUNDS must be a positive integer, got "0"$/],
  ['run.ts', { BENCH_VARIANTS: 'default,fastest' }, /^bench: BENCH_VARIANTS: unknown variant "fastest"; known: default, /],
  ['run.ts', { WAREHOUSE_MAX_IN_FLIGHT: '0' }, /^bench: invalid setting WAREHOUSE_MAX_IN_FLIGHT: /],
  ['scale.ts', { BENCH_SCALE_CAPS: '4,x' }, /^bench:scale: BENCH_SCALE_CAPS must be a comma-separated list of positive integers, got "4,x"$/],
  ['recovery.ts', { BENCH_SEED: 'eight' }, /^bench:recovery: BENCH_SEED must be an integer, got "eight"$/],
  ['floor.ts', { BENCH_FLOOR_DATE_MS: '-5' }, /^bench:floor: BENCH_FLOOR_DATE_MS must be a positive integer, got "-5"$/],
  ['floor.ts', { WAREHOUSE_MAX_IN_FLIGHT: 'many' }, /^bench:floor: invalid setting WAREHOUSE_MAX_IN_FLIGHT: /],
])('%s with %j: one line, exit 2, nothing started', (entry, env, message) => {
  const run = runBenchEntry(entry, env);
  expect(run.status).toBe(2);
  const lines = run.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(message);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(run.stdout).toBe('');
});

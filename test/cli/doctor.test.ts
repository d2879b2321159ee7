/**
 * `backfill doctor` through the CLI, in-process, on the real dev server and real DuckDB files:
 * everything ready → every line ✓, exit 0; and each way a run would fail is caught by its own ✗
 * line with exit 1 — no worker polling the queues, an unreachable Temporal (one line, no stack), a
 * warehouse without the raw inputs for the range — and on BigQuery (the API contract server) the
 * per-dataset dry runs pass or fail on the server's answers. The passing run is the negative
 * control of every failing one: the same checks, one condition changed.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { runCli } from '../../src/cli';
import type { DoctorCheck } from '../../src/cli/doctor';
import { findFreePort } from '../../src/devserver';
import { ensureWarehouseTables } from '../../src/pipeline/tables';
import { RAW_TABLES } from '../../src/pipeline/raw';
import { DuckDbWarehouse } from '../../src/warehouse';
import { startBigQueryContractServer, type BigQueryContractServer } from '../helpers/bigquery-api';
import { eventually, seededWarehouse, startWorker, tempDir, testEnv } from '../helpers/harness';
import { testServerAddress, uniqueTaskQueue } from '../helpers/temporal-env';

const RANGE = ['--from', '2024-10-22', '--to', '2024-11-12'];
const RAW_IDS = RAW_TABLES.map((t) => `raw:${t.dataset}.${t.table}`);

let env: TestWorkflowEnvironment;
let warehouse: DuckDbWarehouse;
let exportDir: string;

beforeAll(async () => {
  env = await testEnv();
  warehouse = await seededWarehouse('tiny');
  exportDir = tempDir('doctor-exports');
});
afterAll(async () => {
  await warehouse?.close();
  await env?.teardown();
});

async function doctor(args: string[], vars: Record<string, string>): Promise<{ code: number; out: string; err: string; lines: string[] }> {
  let out = '';
  let err = '';
  const code = await runCli(['doctor', ...args], {
    out: (s) => (out += s),
    err: (s) => (err += s),
    env: {
      TEMPORAL_ADDRESS: testServerAddress(),
      BACKFILL_TASK_QUEUE: uniqueTaskQueue('doctor'),
      WAREHOUSE_SLOTS_TASK_QUEUE: uniqueTaskQueue('doctor-slots'),
      DUCKDB_PATH: warehouse.path,
      EXPORT_DIR: exportDir,
      ...vars,
    },
  });
  return { code, out, err, lines: out.split('\n').filter(Boolean) };
}

const byId = (out: string): Record<string, DoctorCheck> =>
  Object.fromEntries((JSON.parse(out) as { checks: DoctorCheck[] }).checks.map((c) => [c.id, c]));

async function pollers(queue: string, taskQueueType: 1 | 2): Promise<number> {
  const r = await env.client.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: queue, kind: 1 }, taskQueueType });
  return r.pollers?.length ?? 0;
}

test('with a worker on the queues and the raw data loaded, every check passes: exit 0', async () => {
  const worker = await startWorker(env, warehouse);
  try {
    const { taskQueue, slotsTaskQueue } = worker.config;
    await eventually(async () => (await pollers(taskQueue, 1)) > 0 && (await pollers(taskQueue, 2)) > 0 && (await pollers(slotsTaskQueue, 1)) > 0);
    const r = await doctor(RANGE, { BACKFILL_TASK_QUEUE: taskQueue, WAREHOUSE_SLOTS_TASK_QUEUE: slotsTaskQueue });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.lines.every((l) => l.startsWith('✓ '))).toBe(true);
    // Temporal, namespace, search attributes, 3 poller checks, warehouse, 6 raw tables, exports.
    expect(r.lines).toHaveLength(8 + RAW_TABLES.length);
    expect(r.lines[0]).toMatch(/^✓ Temporal reachable at 127\.0\.0\.1:\d+ \(plaintext\)$/);
    expect(r.out).toContain(`worker(s) polling ${taskQueue} for workflow tasks`);
    expect(r.out).toContain(`worker(s) polling ${taskQueue} for activity tasks`);
    expect(r.out).toContain(`worker(s) polling ${slotsTaskQueue} for workflow tasks`);
    expect(r.out).toMatch(/✓ raw input nba_raw\.schedule: \d+ rows between 2024-10-22 and 2024-11-12/);
    // DuckDB bills nothing: no dry runs. The export probe is gone again.
    expect(r.out).not.toContain('dry run');
    expect(fs.readdirSync(exportDir)).toEqual([]);
  } finally {
    await worker.stop();
  }
});

test('with no worker polling the task queues, the poller checks fail: exit 1', async () => {
  const r = await doctor(RANGE, {});
  expect(r.code).toBe(1);
  const failed = r.lines.filter((l) => l.startsWith('✗ '));
  expect(failed).toHaveLength(3);
  for (const l of failed) expect(l).toMatch(/^✗ no worker polling \S+ for (workflow|activity) tasks — start one: npx backfill worker/);
  expect(r.lines.filter((l) => l.startsWith('✓ '))).toHaveLength(5 + RAW_TABLES.length);
  expect(r.err).toBe(`backfill: doctor: 3 of ${8 + RAW_TABLES.length} checks failed\n`);
});

test('an unreachable Temporal is one ✗ line, its dependent checks skipped, no stack trace: exit 1', async () => {
  const r = await doctor(RANGE, { TEMPORAL_ADDRESS: `127.0.0.1:${await findFreePort()}` });
  expect(r.code).toBe(1);
  const failed = r.lines.filter((l) => l.startsWith('✗ '));
  expect(failed).toHaveLength(1);
  expect(failed[0]).toMatch(/^✗ cannot reach Temporal at 127\.0\.0\.1:\d+ \(plaintext\): .+ — check TEMPORAL_ADDRESS/);
  expect(r.lines.filter((l) => l.startsWith('– '))).toHaveLength(5);
  // The warehouse and exports do not depend on Temporal: still checked.
  expect(r.out).toContain('✓ warehouse reachable: duckdb');
  expect(r.out).toContain('✓ export destination writable');
  expect(`${r.out}${r.err}`).not.toMatch(/^\s+at /m);
  expect(r.err).toBe(`backfill: doctor: 1 of ${8 + RAW_TABLES.length} checks failed, 5 not checked\n`);
});

test('the Temporal check connects as configured (TLS, API key) and never prints the key', async () => {
  const apiKey = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJkb2N0b3ItdGVzdCJ9.ZG9jdG9yLXRlc3Qtc2lnbmF0dXJl';
  // An API key turns TLS on by default: the plaintext dev server cannot be reached that way.
  const tls = await doctor(['--json'], { TEMPORAL_API_KEY: apiKey });
  expect(byId(tls.out).temporal).toMatchObject({ status: 'fail', detail: expect.stringMatching(/^cannot reach Temporal at \S+ \(TLS, system CAs, API key\): /) as unknown });
  // Sent over plaintext on purpose (a local proxy), the same key reaches the dev server.
  const plain = await doctor(['--json'], { TEMPORAL_API_KEY: apiKey, TEMPORAL_TLS: 'false' });
  expect(byId(plain.out).temporal).toMatchObject({ status: 'pass', detail: expect.stringMatching(/\(plaintext, API key\)$/) as unknown });
  for (const r of [tls, plain]) expect(`${r.out}${r.err}`).not.toContain(apiKey);
});

test('a warehouse without the raw inputs fails the raw-input checks: missing tables, and no rows in the range', async () => {
  const dir = tempDir('doctor-empty');
  const empty = await doctor([...RANGE, '--json'], { DUCKDB_PATH: path.join(dir, 'empty.duckdb') });
  expect(empty.code).toBe(1);
  const checks = byId(empty.out);
  expect(checks.warehouse?.status).toBe('pass');
  for (const id of RAW_IDS) {
    expect(checks[id]?.status).toBe('fail');
    expect(checks[id]?.detail).toMatch(/could not be read/);
    expect(checks[id]?.fix).toMatch(/seed-demo/);
  }

  // The tables exist and hold data, but not for the range asked about.
  const tablesOnly = new DuckDbWarehouse({ path: path.join(dir, 'tables.duckdb') });
  await ensureWarehouseTables(tablesOnly);
  await tablesOnly.close();
  const noRows = byId((await doctor([...RANGE, '--json'], { DUCKDB_PATH: path.join(dir, 'tables.duckdb') })).out);
  for (const id of RAW_IDS) expect(noRows[id]?.detail).toMatch(/no rows/);

  const outOfRange = await doctor(['--from', '2019-01-01', '--to', '2019-01-31', '--json'], {});
  const dated = byId(outOfRange.out);
  for (const spec of RAW_TABLES) {
    const check = dated[`raw:${spec.dataset}.${spec.table}`];
    // Tables without a date column (teams, rosters) only need rows at all.
    expect([spec.table, check?.status]).toEqual([spec.table, spec.partitionColumn ? 'fail' : 'pass']);
    if (spec.partitionColumn) expect(check?.detail).toBe(`raw input ${spec.dataset}.${spec.table}: no rows between 2019-01-01 and 2019-01-31`);
  }
});

test('an export destination that cannot be written fails its check', async () => {
  const file = path.join(tempDir('doctor-notdir'), 'a-file');
  fs.writeFileSync(file, 'not a folder');
  const r = byId((await doctor(['--json'], { EXPORT_DIR: path.join(file, 'exports') })).out);
  expect(r.export?.status).toBe('fail');
  expect(r.export?.detail).toMatch(/not writable: .*(ENOTDIR|EEXIST)/);
});

test('bad input is one line and exit 2, nothing checked', async () => {
  const r = await doctor(['--from', '2024-10-22'], {});
  expect(r.code).toBe(2);
  expect(r.out).toBe('');
  expect(r.err).toBe('backfill: --to is required (YYYY-MM-DD)\n');
});

describe('on BigQuery (the API contract server)', () => {
  let server: BigQueryContractServer;
  beforeAll(async () => {
    server = await startBigQueryContractServer({ projectId: 'contract-proj' });
  });
  afterAll(async () => {
    await server?.close();
  });
  const bigquery = (): Record<string, string> => ({ WAREHOUSE: 'bigquery', BIGQUERY_PROJECT: 'contract-proj', BIGQUERY_API_ENDPOINT: server.url });

  test('a dry-run job per dataset: each passes or fails on what BigQuery answers', async () => {
    const refused = /^MERGE `contract-proj\.nba_precompute\./;
    server.respond((job) => {
      if (job.dryRun && refused.test(job.query)) {
        return { httpError: { code: 403, reason: 'accessDenied', message: 'Access Denied: Table contract-proj:nba_precompute.player_daily_cache: Permission bigquery.tables.updateData denied' } };
      }
      if (job.dryRun) return { totalBytesProcessed: 2 ** 30 };
      if (/count\(\*\) AS n/.test(job.query)) return { schema: [{ name: 'n', type: 'INTEGER' }], rows: [{ n: 42 }] };
      return undefined;
    });
    const r = await doctor([...RANGE, '--json'], bigquery());
    expect(r.code).toBe(1);
    const checks = byId(r.out);
    expect(checks.warehouse?.status).toBe('pass');
    expect(checks['dry-run:nba_raw']?.status).toBe('pass');
    expect(checks['dry-run:nba_analytics']?.status).toBe('pass');
    expect(checks['dry-run:nba_predictions']?.status).toBe('pass');
    expect(checks['dry-run:nba_precompute']).toMatchObject({ status: 'fail', detail: expect.stringMatching(/accessDenied.*bigquery\.tables\.updateData denied/) as unknown });
    expect(checks['dry-run:nba_precompute']?.fix).toMatch(/roles\/bigquery\.dataEditor/);
    for (const id of RAW_IDS) expect(checks[id]).toMatchObject({ status: 'pass', detail: expect.stringMatching(/: 42 rows/) as unknown });
    // Only reads and dry runs were sent: the doctor writes nothing.
    for (const job of server.jobs.filter((j) => !j.dryRun)) expect(job.query).toMatch(/^\s*SELECT\b/);
    expect(server.jobs.filter((j) => j.dryRun && /^MERGE /.test(j.query)).length).toBeGreaterThan(3);

    // The same checks, every dry run answered: they all pass.
    server.respond((job) => (/count\(\*\) AS n/.test(job.query) ? { schema: [{ name: 'n', type: 'INTEGER' }], rows: [{ n: 42 }] } : undefined));
    const ok = byId((await doctor([...RANGE, '--json'], bigquery())).out);
    for (const dataset of ['nba_raw', 'nba_analytics', 'nba_precompute', 'nba_predictions']) expect([dataset, ok[`dry-run:${dataset}`]?.status]).toEqual([dataset, 'pass']);
  });
});

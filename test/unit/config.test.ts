/** Configuration: defaults < environment < overrides, bad values named in one line. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, warehouseKey, workflowStackTracesOf } from '../../src/config';
import { PIPELINE_DATASETS } from '../../src/pipeline/datasets';
import { RAW_TABLES } from '../../src/pipeline/raw';
import { tableProcessors } from '../../src/pipeline/registry';
import { bigqueryDialect, createWarehouse, describeWarehouse, ENGINE_KINDS, warehouseDialect } from '../../src/warehouse';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'props-backfill-config-'));
const notJson = path.join(tmp, 'not-json.json');
fs.writeFileSync(notJson, 'private_key=-----BEGIN PRIVATE KEY-----abc');
const keyFile = path.join(tmp, 'sa.json');
fs.writeFileSync(keyFile, JSON.stringify({ type: 'service_account', private_key: '-----BEGIN PRIVATE KEY-----secret' }));

test('defaults are the embedded ones', () => {
  const c = loadConfig({});
  expect(c).toMatchObject({
    temporalAddress: 'localhost:7233',
    temporalAddressExplicit: false,
    temporalNamespace: 'default',
    taskQueue: 'props-backfill',
    warehouse: 'duckdb',
    duckdbPath: '.data/warehouse.duckdb',
    duckdbThreads: 1,
    warehouseMaxInFlight: 4,
    bootstrapDays: 14,
    gateThresholds: {},
  });
  expect(warehouseKey(c)).toMatch(/^duckdb:\/.*\.data\/warehouse\.duckdb$/);
});

test('DUCKDB_THREADS reaches the engine: DuckDB runs with it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'props-backfill-threads-'));
  for (const [env, expected] of [[{}, '1'], [{ DUCKDB_THREADS: '3' }, '3']] as const) {
    const warehouse = createWarehouse(loadConfig({ ...env, DUCKDB_PATH: path.join(dir, `w${expected}.duckdb`) }));
    try {
      const rows = await warehouse.query<{ value: string }>("SELECT current_setting('threads')::VARCHAR AS value");
      expect(rows[0]?.value).toBe(expected);
    } finally {
      await warehouse.close();
    }
  }
});

test('the environment overrides defaults, and a set TEMPORAL_ADDRESS counts as explicit', () => {
  const c = loadConfig({
    TEMPORAL_ADDRESS: 'temporal:7233',
    BACKFILL_TASK_QUEUE: 'q',
    WAREHOUSE_MAX_IN_FLIGHT: '2',
    GATE_THRESHOLDS: 'player_game_summary.usage_rate=0.9, player_game_summary.minutes_played=1',
  });
  expect(c.temporalAddress).toBe('temporal:7233');
  expect(c.temporalAddressExplicit).toBe(true);
  expect(c.taskQueue).toBe('q');
  expect(c.warehouseMaxInFlight).toBe(2);
  expect(c.gateThresholds).toEqual({ 'player_game_summary.usage_rate': 0.9, 'player_game_summary.minutes_played': 1 });
});

test.each([
  [{ WAREHOUSE_MAX_IN_FLIGHT: '0' }, /^invalid setting WAREHOUSE_MAX_IN_FLIGHT: /],
  [{ WAREHOUSE_ADAPTIVE: 'maybe' }, /^invalid setting WAREHOUSE_ADAPTIVE: /],
  [{ WORKFLOW_STACK_TRACES: 'yes' }, /^invalid setting WORKFLOW_STACK_TRACES: /],
  [{ DUCKDB_MEMORY_LIMIT: 'lots' }, /^invalid setting DUCKDB_MEMORY_LIMIT: a size such as 512MB or 2GB$/],
  [{ DUCKDB_THREADS: '0' }, /^invalid setting DUCKDB_THREADS: /],
  [{ WAREHOUSE_MIN_IN_FLIGHT: '0' }, /^invalid setting WAREHOUSE_MIN_IN_FLIGHT: /],
  [{ WAREHOUSE: 'oracle' }, /^invalid setting WAREHOUSE: must be one of duckdb, bigquery$/],
  [{ WAREHOUSE: 'bigquery' }, /^invalid setting BIGQUERY_PROJECT: required when WAREHOUSE=bigquery$/],
  [{ WAREHOUSE: 'bigquery', BIGQUERY_PROJECT: 'Not A Project' }, /^invalid setting BIGQUERY_PROJECT: not a GCP project id/],
  [{ BIGQUERY_DATASETS: 'nba_analytics' }, /^invalid setting BIGQUERY_DATASETS: "nba_analytics" is not logical_dataset=bigquery_dataset/],
  [{ BIGQUERY_DATASETS: 'nba_analytics=prod`; DROP TABLE x; --' }, /^invalid setting BIGQUERY_DATASETS: /],
  [
    { WAREHOUSE: 'bigquery', BIGQUERY_PROJECT: 'my-project', BIGQUERY_DATASETS: 'nba_secret=prod_secret' },
    /^invalid setting BIGQUERY_DATASETS: unknown dataset nba_secret; ours are nba_raw, /,
  ],
  [{ BIGQUERY_DATASET_PREFIX: 'prod-' }, /^invalid setting BIGQUERY_DATASET_PREFIX: only letters, digits and _ are allowed$/],
  [{ BIGQUERY_MAX_BYTES_BILLED: '10GB' }, /^invalid setting BIGQUERY_MAX_BYTES_BILLED: /],
  [
    { WAREHOUSE: 'bigquery', BIGQUERY_PROJECT: 'my-project', GOOGLE_APPLICATION_CREDENTIALS: '/nonexistent/sa.json' },
    /^invalid setting GOOGLE_APPLICATION_CREDENTIALS: cannot read \/nonexistent\/sa.json \(ENOENT\)$/,
  ],
  [
    { WAREHOUSE: 'bigquery', BIGQUERY_PROJECT: 'my-project', GOOGLE_APPLICATION_CREDENTIALS: notJson },
    /^invalid setting GOOGLE_APPLICATION_CREDENTIALS: .* is not a JSON credentials file$/,
  ],
  [{ EXPORT_DIR: 'gs://' }, /^invalid setting EXPORT_DIR: export location "gs:\/\/" names no bucket/],
  [{ EXPORT_DIR: 'gs:///exports' }, /^invalid setting EXPORT_DIR: export location "gs:\/\/\/exports" names no bucket/],
  [{ EXPORT_DIR: 's3://bucket/x' }, /^invalid setting EXPORT_DIR: .*unsupported scheme "s3:\/\/"/],
  [{ BOOTSTRAP_DAYS: 'two weeks' }, /^invalid setting BOOTSTRAP_DAYS: /],
  [{ METRICS_ADDRESS: '9464' }, /^invalid setting METRICS_ADDRESS: metrics address "9464" is not host:port/],
  [{ GATE_THRESHOLDS: 'usage_rate=85' }, /^invalid setting GATE_THRESHOLDS: "usage_rate=85" is not table.column=min/],
  [{ GATE_THRESHOLDS: 'player_game_summry.usage_rate=0.9' }, /^invalid setting GATE_THRESHOLDS: unknown gate threshold "player_game_summry.usage_rate"; known: .*player_game_summary.usage_rate/],
])('%j is rejected with one line naming the setting', (env, message) => {
  expect(() => loadConfig(env)).toThrow(ConfigError);
  expect(() => loadConfig(env)).toThrow(message);
});

test('workflow stack traces: auto is off on DuckDB, on on BigQuery; on and off are taken as said', () => {
  const bigquery = { WAREHOUSE: 'bigquery', BIGQUERY_PROJECT: 'my-project' };
  expect(workflowStackTracesOf(loadConfig({}))).toBe(false);
  expect(workflowStackTracesOf(loadConfig(bigquery))).toBe(true);
  expect(workflowStackTracesOf(loadConfig({ WORKFLOW_STACK_TRACES: 'on' }))).toBe(true);
  expect(workflowStackTracesOf(loadConfig({ ...bigquery, WORKFLOW_STACK_TRACES: 'off' }))).toBe(false);
});

test('a bad credentials file is named, its contents never are', () => {
  let message = '';
  try {
    loadConfig({ WAREHOUSE: 'bigquery', BIGQUERY_PROJECT: 'my-project', GOOGLE_APPLICATION_CREDENTIALS: notJson });
  } catch (err) {
    message = (err as Error).message;
  }
  expect(message).toContain(notJson);
  expect(message).not.toContain('PRIVATE KEY');
});

test('BigQuery settings: project, location, dataset mapping (prefix and per-dataset), cap key per project and location', () => {
  const c = loadConfig({
    WAREHOUSE: 'bigquery',
    BIGQUERY_PROJECT: 'nba-props-platform',
    BIGQUERY_LOCATION: 'europe-west2',
    BIGQUERY_DATASET_PREFIX: 'dev_',
    BIGQUERY_DATASETS: 'nba_analytics=prod_nba_analytics',
    BIGQUERY_MAX_BYTES_BILLED: '1000000',
    GOOGLE_APPLICATION_CREDENTIALS: keyFile,
  });
  expect(c.bigqueryMaxBytesBilled).toBe(1_000_000);
  expect(warehouseKey(c)).toBe('bigquery:nba-props-platform:europe-west2');
  const d = warehouseDialect(c);
  expect(d.name).toBe('bigquery');
  expect(d.table({ dataset: 'nba_analytics', table: 'player_game_summary' })).toBe('`nba-props-platform.prod_nba_analytics.player_game_summary`');
  expect(d.table({ dataset: 'nba_raw', table: 'schedule' })).toBe('`nba-props-platform.dev_nba_raw.schedule`');
  // Two engines, two cap keys: one DuckDB file and one BigQuery project never share a cap.
  expect(warehouseKey(loadConfig({}))).not.toBe(warehouseKey(c));
});

test('every registered engine is selectable and builds its own warehouse through createWarehouse(config)', async () => {
  expect(ENGINE_KINDS).toEqual(['duckdb', 'bigquery']);
  const duck = createWarehouse(loadConfig({ DUCKDB_PATH: path.join(tmp, 'w.duckdb') }));
  expect(duck.kind).toBe('duckdb');
  await duck.close();
  const bq = createWarehouse(loadConfig({ WAREHOUSE: 'bigquery', BIGQUERY_PROJECT: 'my-project', BIGQUERY_API_ENDPOINT: 'http://127.0.0.1:9' }));
  expect(bq.kind).toBe('bigquery');
  await bq.close();
});

test('identifiers from a hostile mapping never reach SQL: the dialect refuses them even if config were bypassed', () => {
  const d = bigqueryDialect({ project: 'my-project', mapping: { prefix: '', datasets: { nba_raw: 'x`; DROP SCHEMA y; --' } } });
  expect(() => d.table({ dataset: 'nba_raw', table: 'schedule' })).toThrow(/invalid BigQuery dataset name/);
  expect(() => d.table({ dataset: 'nba_analytics', table: 'p; DELETE' })).toThrow(/invalid table/);
  expect(() => bigqueryDialect({ project: 'p`.x', mapping: { prefix: '', datasets: {} } })).toThrow(/invalid BigQuery project id/);
});

test('PIPELINE_DATASETS (what a mapping may rename) is exactly the datasets our tables live in', () => {
  const used = new Set([...RAW_TABLES.map((t) => t.dataset), ...tableProcessors().flatMap((d) => [d.target.dataset, ...d.inputs.map((i) => i.dataset)])]);
  expect([...used].sort()).toEqual([...PIPELINE_DATASETS].sort());
});

test("what the worker logs of the warehouse names no secret: not the key file's path, not its contents", () => {
  const c = loadConfig({ WAREHOUSE: 'bigquery', BIGQUERY_PROJECT: 'my-project', GOOGLE_APPLICATION_CREDENTIALS: keyFile });
  const logged = JSON.stringify(describeWarehouse(c));
  expect(logged).toContain('my-project');
  expect(logged).toContain('key file');
  expect(logged).not.toContain(keyFile);
  expect(logged).not.toContain('PRIVATE KEY');
});

/**
 * Contract test of the BigQuery engine at the REST boundary. The real @google-cloud/bigquery
 * client talks HTTP to a local server that answers as BigQuery's REST API v2 documents
 * (test/helpers/bigquery-api.ts), so what is proven is the contract: what the engine sends on every
 * job (location, byte cap, time-out, sanitised labels, typed parameters, dry runs, cancellation)
 * and how it reads what comes back (rows, DML statistics, bytes, error bodies and failed jobs).
 *
 * It does NOT stand in for SQL semantics: the server runs no SQL, so whether the MERGE replaces a
 * date's rows, deduplicates or prunes partitions is for a GoogleSQL analyser and a real project to
 * show — the statement builders are pure functions for exactly that.
 */
import { loadConfig } from '../../src/config';
import { BigQueryWarehouse } from '../../src/warehouse/bigquery';
import { createWarehouse } from '../../src/warehouse/engines';
import { sqlDate, type TableSpec, WarehouseError, type WarehouseErrorKind } from '../../src/warehouse/types';
import { type ContractAnswer, startBigQueryContractServer, type BigQueryContractServer } from '../helpers/bigquery-api';

const PROJECT = 'contract-proj';
const TOKEN = 'contract-secret-token-7f3a9c2e';
const LOCATION = 'europe-west2';

let server: BigQueryContractServer;
let warehouse: BigQueryWarehouse;

const target: TableSpec = {
  dataset: 'nba_analytics',
  table: 'player_game_summary',
  columns: [
    { name: 'game_id', type: 'STRING' },
    { name: 'game_date', type: 'DATE' },
    { name: 'player_lookup', type: 'STRING' },
    { name: 'points', type: 'INT64' },
    { name: 'minutes', type: 'FLOAT64' },
    { name: 'source_backfill_id', type: 'STRING' },
    { name: 'processed_at', type: 'TIMESTAMP' },
  ],
  partitionColumn: 'game_date',
  clusterColumns: ['game_id', 'player_lookup'],
};

const replaceArgs = {
  target,
  dateColumn: 'game_date',
  date: '2024-01-05',
  selectSql: 'SELECT game_id, game_date, player_lookup, points, minutes FROM `contract-proj.nba_raw.player_boxscores` WHERE game_date = @date',
  params: { date: sqlDate('2024-01-05'), backfill_id: 'bf-1' },
  extraColumns: { source_backfill_id: '@backfill_id', processed_at: 'CURRENT_TIMESTAMP()' },
};

function newWarehouse(extra: Partial<ConstructorParameters<typeof BigQueryWarehouse>[0]> = {}): BigQueryWarehouse {
  return new BigQueryWarehouse({
    project: PROJECT,
    location: LOCATION,
    mapping: { prefix: '', datasets: {} },
    maxBytesBilled: 5 * 2 ** 30,
    jobTimeoutMs: 600_000,
    apiEndpoint: server.url,
    accessToken: TOKEN,
    pollIntervalMs: 5,
    ...extra,
  });
}

async function failure(p: Promise<unknown>): Promise<WarehouseError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(WarehouseError);
    return err as WarehouseError;
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  server = await startBigQueryContractServer({ projectId: PROJECT });
  warehouse = newWarehouse();
});

afterEach(() => {
  server.respond(() => undefined);
  server.jobs.length = 0;
  server.requests.length = 0;
});

afterAll(async () => {
  await warehouse.close();
  await server.close();
});

describe('contract test: BigQuery engine ↔ BigQuery REST API v2', () => {
  test('every job carries the location, the byte cap, the time-out, GoogleSQL and sanitised labels', async () => {
    const labels = { backfill: 'BF 2024/Run#1', processor: 'player_game_summary', date: '2024-01-05', '9Lives': 'x' };
    server.respond(() => ({ dmlStats: { insertedRowCount: 1 } }));
    await warehouse.query('SELECT 1 AS n', undefined, { labels });
    await warehouse.execute('DELETE FROM `contract-proj.nba_raw.schedule` WHERE TRUE');
    await warehouse.replacePartition(replaceArgs, { labels });
    await warehouse.deduplicate({ target, keyColumns: ['game_id', 'player_lookup'], dateColumn: 'game_date', from: '2024-01-01', to: '2024-01-31', orderBy: 'processed_at' });
    await warehouse.ensureTable(target);
    await warehouse.appendRows(target, [{ game_id: 'g1', game_date: '2024-01-05', player_lookup: 'p', points: 3, minutes: 1.5, source_backfill_id: null, processed_at: null }]);
    await warehouse.dryRunQuery('SELECT 1');

    expect(server.jobs.map((j) => j.labels.operation)).toEqual([
      'query',
      'execute',
      'replace_partition',
      'deduplicate',
      'ensure_dataset',
      'ensure_table',
      'append_rows',
      'dry_run',
    ]);
    for (const job of server.jobs) {
      expect(job.location).toBe(LOCATION);
      expect(job.maximumBytesBilled).toBe(String(5 * 2 ** 30));
      expect(job.jobTimeoutMs).toBe('600000');
      expect(job.labels.app).toBe('props-backfill');
      expect((job.raw as { configuration: { query: { useLegacySql: boolean } } }).configuration.query.useLegacySql).toBe(false);
      for (const [key, value] of Object.entries(job.labels)) {
        expect(key).toMatch(/^[a-z][a-z0-9_-]{0,62}$/);
        expect(value).toMatch(/^[a-z0-9_-]{0,63}$/);
      }
    }
    expect(server.jobs[0]?.labels).toEqual({
      app: 'props-backfill',
      backfill: 'bf_2024_run_1',
      processor: 'player_game_summary',
      date: '2024-01-05',
      l_9lives: 'x',
      operation: 'query',
    });
    // The static token authenticates every request; the client library made no other call.
    expect(server.requests.length).toBeGreaterThan(0);
    for (const r of server.requests) expect(r.authorization).toBe(`Bearer ${TOKEN}`);
  });

  test('parameters are typed and never spliced: a date is DATE, integers INT64, other numbers FLOAT64', async () => {
    await warehouse.query('SELECT @d AS d, @n AS n, @x AS x, @b AS b, @s AS s, @z AS z', {
      d: sqlDate('2024-01-05'),
      n: 3,
      x: 2.5,
      b: true,
      s: 'LAL',
      z: null,
    });
    const [job] = server.jobs;
    expect(job?.params).toEqual({
      d: { type: 'DATE', value: '2024-01-05' },
      n: { type: 'INT64', value: '3' },
      x: { type: 'FLOAT64', value: '2.5' },
      b: { type: 'BOOL', value: 'true' },
      s: { type: 'STRING', value: 'LAL' },
      z: { type: 'STRING', value: null },
    });
    expect((job?.raw as { configuration: { query: { parameterMode: string } } }).configuration.query.parameterMode).toBe('NAMED');
    expect(job?.query).not.toMatch(/2024-01-05|LAL/);

    await warehouse.replacePartition(replaceArgs);
    const merge = server.jobs[1];
    expect(merge?.params).toEqual({
      date: { type: 'DATE', value: '2024-01-05' },
      backfill_id: { type: 'STRING', value: 'bf-1' },
      replace_date: { type: 'DATE', value: '2024-01-05' },
    });
    expect(merge?.query).toMatch(/^MERGE `contract-proj\.nba_analytics\.player_game_summary` AS T/);
    expect(merge?.query).toContain('WHEN NOT MATCHED BY SOURCE AND T.`game_date` = @replace_date THEN DELETE');
    expect(merge?.query).not.toContain('2024-01-05');

    await warehouse.appendRows(target, [
      { game_id: 'g1', game_date: '2024-01-05', player_lookup: 'p1', points: 31, minutes: 35.5, source_backfill_id: 'seed', processed_at: '2024-01-06T00:00:00.000Z' },
      { game_id: 'g1', game_date: '2024-01-05', player_lookup: 'p2', points: null, minutes: null, source_backfill_id: null, processed_at: null },
    ]);
    const append = server.jobs[2];
    expect(append?.params.append_rows?.type).toBe(
      'ARRAY<STRUCT<game_id STRING, game_date DATE, player_lookup STRING, points INT64, minutes FLOAT64, source_backfill_id STRING, processed_at TIMESTAMP>>',
    );
    expect(append?.params.append_rows?.value).toEqual([
      { game_id: 'g1', game_date: '2024-01-05', player_lookup: 'p1', points: '31', minutes: '35.5', source_backfill_id: 'seed', processed_at: '2024-01-06T00:00:00.000Z' },
      { game_id: 'g1', game_date: '2024-01-05', player_lookup: 'p2', points: null, minutes: null, source_backfill_id: null, processed_at: null },
    ]);
    expect(append?.query).not.toContain('p1');
  });

  test('query rows are decoded: INT64 and FLOAT64 as numbers, DATE as YYYY-MM-DD, TIMESTAMP as ISO, NULL as null', async () => {
    server.respond(() => ({
      runningPolls: 2,
      schema: [
        { name: 'n', type: 'INTEGER' },
        { name: 'x', type: 'FLOAT' },
        { name: 'm', type: 'NUMERIC' },
        { name: 'b', type: 'BOOLEAN' },
        { name: 'd', type: 'DATE' },
        { name: 'ts', type: 'TIMESTAMP' },
        { name: 's', type: 'STRING' },
      ],
      rows: [
        { n: 42, x: 0.25, m: '12.5', b: true, d: '2024-01-05', ts: '2024-01-05T19:30:00.000Z', s: 'LAL' },
        { n: null, x: null, m: null, b: false, d: null, ts: null, s: null },
      ],
    }));
    const rows = await warehouse.query('SELECT …');
    expect(rows).toEqual([
      { n: 42, x: 0.25, m: 12.5, b: true, d: '2024-01-05', ts: '2024-01-05T19:30:00.000Z', s: 'LAL' },
      { n: null, x: null, m: null, b: false, d: null, ts: null, s: null },
    ]);
    // Polled with jobs.get until DONE, then read with jobs.getQueryResults in the job's location.
    expect(server.requests.filter((r) => r.method === 'GET' && r.path.includes('/jobs/'))).toHaveLength(2);
    expect(server.requests.filter((r) => r.path.includes('/queries/'))).toHaveLength(1);
    expect(server.requests.filter((r) => r.method === 'GET').every((r) => r.location === LOCATION)).toBe(true);
  });

  test('rows written and removed come from the job statistics (dmlStats)', async () => {
    server.respond((job) => (job.query.startsWith('MERGE') ? { runningPolls: 1, dmlStats: { insertedRowCount: 7, deletedRowCount: 5 } } : undefined));
    await expect(warehouse.replacePartition(replaceArgs)).resolves.toEqual({ rowsWritten: 7 });
    server.respond(() => ({ dmlStats: { insertedRowCount: 40, deletedRowCount: 46 } }));
    const dedupe = { target, keyColumns: ['game_id', 'player_lookup'], dateColumn: 'game_date', from: '2024-01-01', to: '2024-01-31', orderBy: 'processed_at' };
    await expect(warehouse.deduplicate(dedupe)).resolves.toEqual({ rowsRemoved: 6 });
    expect(server.jobs[1]?.params).toEqual({
      dedupe_from: { type: 'DATE', value: '2024-01-01' },
      dedupe_to: { type: 'DATE', value: '2024-01-31' },
    });
    // Zero counts are absent from BigQuery's JSON: nothing deleted, nothing inserted.
    server.respond(() => ({ dmlStats: {} }));
    await expect(warehouse.deduplicate(dedupe)).resolves.toEqual({ rowsRemoved: 0 });
    await expect(warehouse.replacePartition(replaceArgs)).resolves.toEqual({ rowsWritten: 0 });
  });

  test('a dry run returns the bytes BigQuery reports, for a query and for the per-date MERGE', async () => {
    server.respond((job) => (job.dryRun ? { totalBytesProcessed: job.query.startsWith('MERGE') ? 987_654_321 : 1_048_576 } : undefined));
    await expect(warehouse.dryRunQuery('SELECT * FROM t WHERE d = @d', { d: sqlDate('2024-01-05') })).resolves.toEqual({ bytesProcessed: 1_048_576 });
    await expect(warehouse.dryRunReplacePartition(replaceArgs)).resolves.toEqual({ bytesProcessed: 987_654_321 });
    expect(server.jobs.map((j) => j.dryRun)).toEqual([true, true]);
    await warehouse.replacePartition(replaceArgs);
    // The dry run prices the very statement the write runs.
    expect(server.jobs[1]?.query).toBe(server.jobs[2]?.query);
    expect(server.jobs[1]?.params).toEqual(server.jobs[2]?.params);
  });

  test('aborting the signal cancels the job (jobs.cancel), rejects with "cancelled" and stops polling', async () => {
    server.respond(() => ({ runUntilCancelled: true }));
    const controller = new AbortController();
    const run = warehouse.replacePartition(replaceArgs, { signal: controller.signal });
    while (server.requests.filter((r) => r.path.includes('/jobs/')).length < 3) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    const err = await failure(run);
    expect(err.kind).toBe('cancelled');
    const [job] = server.jobs;
    expect(job?.cancelled).toBe(true);
    expect(server.requests).toContainEqual(
      expect.objectContaining({ method: 'POST', path: `/bigquery/v2/projects/${PROJECT}/jobs/${job?.jobId}/cancel`, location: LOCATION }),
    );
    const polls = server.requests.length;
    await new Promise((r) => setTimeout(r, 50));
    expect(server.requests.length).toBe(polls);
  });

  test('a signal aborted before the call starts no job', async () => {
    const controller = new AbortController();
    controller.abort();
    expect((await failure(warehouse.query('SELECT 1', undefined, { signal: controller.signal }))).kind).toBe('cancelled');
    expect(server.jobs).toHaveLength(0);
  });

  const cases: Array<[string, WarehouseErrorKind, ContractAnswer]> = [
    ['rateLimitExceeded (HTTP 403)', 'transient', { httpError: { code: 403, reason: 'rateLimitExceeded', message: 'Exceeded rate limits: too many table update operations for this table' } }],
    ['backendError (HTTP 503)', 'transient', { httpError: { code: 503, reason: 'backendError', message: 'Error encountered during execution. Retrying may solve the problem.' } }],
    ['internalError (HTTP 500)', 'transient', { httpError: { code: 500, reason: 'internalError', message: 'An internal error occurred and the request could not be completed.' } }],
    ['jobRateLimitExceeded (failed job)', 'transient', { jobError: { reason: 'jobRateLimitExceeded', message: 'Exceeded rate limits: too many concurrent queries for this project_and_region.' } }],
    ['HTTP 502 without a reason', 'transient', { httpError: { code: 502, reason: '', message: 'Bad Gateway' } }],
    ['timeout (failed job)', 'transient', { jobError: { reason: 'timeout', message: 'Operation timed out after 6.0 hours.' } }],
    ['jobTimeoutMs reached (stopped)', 'transient', { jobError: { reason: 'stopped', message: 'Job execution was cancelled: Job timed out after 600 sec' } }],
    ['too many DML statements queued', 'transient', { jobError: { reason: 'quotaExceeded', message: 'Resources exceeded during query execution: Too many DML statements outstanding against table contract-proj:nba_analytics.player_game_summary, limit is 20.' } }],
    ['concurrent update (transaction)', 'transient', { jobError: { reason: 'invalidQuery', message: 'Transaction is aborted due to concurrent update against table contract-proj:nba_analytics.player_game_summary.' } }],
    ['concurrent update (serialize)', 'transient', { jobError: { reason: 'invalidQuery', message: 'Could not serialize access to table contract-proj:nba_analytics.player_game_summary due to concurrent update' } }],
    ['quotaExceeded on queued jobs', 'transient', { httpError: { code: 403, reason: 'quotaExceeded', message: 'Quota exceeded: Your project and region exceeded quota for max number of jobs that can be queued per project.' } }],
    ['invalidQuery (HTTP 400)', 'syntax', { httpError: { code: 400, reason: 'invalidQuery', message: 'Syntax error: Unexpected keyword FROM at [1:8]' } }],
    ['invalidQuery (failed job)', 'syntax', { jobError: { reason: 'invalidQuery', message: 'No matching signature for operator = for argument types: DATE, STRING' } }],
    ['notFound (HTTP 404)', 'schema', { httpError: { code: 404, reason: 'notFound', message: 'Not found: Table contract-proj:nba_raw.schedule was not found in location europe-west2' } }],
    ['accessDenied (HTTP 403)', 'refused', { httpError: { code: 403, reason: 'accessDenied', message: 'Access Denied: Project contract-proj: User does not have bigquery.jobs.create permission' } }],
    ['billingTierLimitExceeded (failed job)', 'refused', { jobError: { reason: 'billingTierLimitExceeded', message: 'Query exceeded limit for bytes billed: 10485760. 20971520 or higher required.' } }],
    ['bytesBilledLimitExceeded (failed job)', 'refused', { jobError: { reason: 'bytesBilledLimitExceeded', message: 'Query exceeded limit for bytes billed: 5368709120. 7340032000 or higher required.' } }],
    ['quotaExceeded, a daily quota (HTTP 403)', 'refused', { httpError: { code: 403, reason: 'quotaExceeded', message: 'Custom quota exceeded: Your usage exceeded the custom quota for QueryUsagePerDay' } }],
  ];

  test.each(cases)('%s → %s', async (_name, kind, answer) => {
    server.respond(() => answer);
    const err = await failure(warehouse.replacePartition(replaceArgs));
    expect(err.kind).toBe(kind);
    // The operator sees BigQuery's own reason and words.
    const said = answer.httpError ?? answer.jobError;
    expect(err.message).toContain(said?.message);
    if (said?.reason) expect(err.message).toContain(said.reason);
    expect(err.message).not.toContain(TOKEN);
  });

  test('the client library does not retry: a 503 reaches the engine after one jobs.insert', async () => {
    server.respond(() => ({ httpError: { code: 503, reason: 'backendError', message: 'Service unavailable' } }));
    expect((await failure(warehouse.query('SELECT 1'))).kind).toBe('transient');
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  test('with client retries on, a jobs.insert retried after a lost response carries on with the job it created (409)', async () => {
    const retrying = newWarehouse({ maxRetries: 1 });
    server.respond(() => ({ lostInsertResponse: { code: 503, reason: 'backendError', message: 'Service unavailable' }, dmlStats: { insertedRowCount: 3 } }));
    await expect(retrying.replacePartition(replaceArgs)).resolves.toEqual({ rowsWritten: 3 });
    expect(server.jobs).toHaveLength(1);
    expect(server.requests.filter((r) => r.method === 'POST').map((r) => r.path)).toEqual([
      `/bigquery/v2/projects/${PROJECT}/jobs`,
      `/bigquery/v2/projects/${PROJECT}/jobs`,
    ]);
    await retrying.close();
  });

  test('a poll that fails is classified and its job is cancelled, so a retry does not race it', async () => {
    server.respond(() => ({ runningPolls: 3, httpError: { code: 500, reason: 'backendError', on: 'get', message: 'Backend error while reading the job' } }));
    const err = await failure(warehouse.execute('DELETE FROM t WHERE TRUE'));
    expect(err.kind).toBe('transient');
    expect(err.message).toContain('Backend error while reading the job');
    await new Promise((r) => setTimeout(r, 20));
    expect(server.requests.some((r) => r.path.endsWith('/cancel'))).toBe(true);
  });

  test('no credential reaches a WarehouseError message, even when BigQuery echoes one', async () => {
    server.respond(() => ({
      httpError: { code: 401, reason: 'authError', message: `Request had invalid authentication credentials: Bearer ${TOKEN} (access_token=${TOKEN})` },
    }));
    const err = await failure(warehouse.query('SELECT 1'));
    expect(err.kind).toBe('refused');
    expect(err.message).toContain('invalid authentication credentials');
    expect(err.message).not.toContain(TOKEN);
    expect(JSON.stringify(err.cause)).not.toContain(TOKEN);
  });

  test('tableExists asks tables.get in the mapped dataset', async () => {
    server.tables.add('nba_raw.schedule');
    await expect(warehouse.tableExists({ dataset: 'nba_raw', table: 'schedule' })).resolves.toBe(true);
    await expect(warehouse.tableExists({ dataset: 'nba_raw', table: 'rosters' })).resolves.toBe(false);
    expect(server.requests.map((r) => r.path)).toEqual([
      `/bigquery/v2/projects/${PROJECT}/datasets/nba_raw/tables/schedule`,
      `/bigquery/v2/projects/${PROJECT}/datasets/nba_raw/tables/rosters`,
    ]);
  });

  test('ensureTable creates the dataset in the location (once per dataset), then the partitioned, clustered table', async () => {
    const fresh = newWarehouse();
    await fresh.ensureTable(target);
    await fresh.ensureTable({ ...target, table: 'other', partitionColumn: undefined, clusterColumns: undefined });
    expect(server.jobs.map((j) => j.query)).toEqual([
      'CREATE SCHEMA IF NOT EXISTS `contract-proj.nba_analytics`',
      'CREATE TABLE IF NOT EXISTS `contract-proj.nba_analytics.player_game_summary` (`game_id` STRING, `game_date` DATE, `player_lookup` STRING, ' +
        '`points` INT64, `minutes` FLOAT64, `source_backfill_id` STRING, `processed_at` TIMESTAMP) ' +
        'PARTITION BY `game_date` CLUSTER BY `game_id`, `player_lookup`',
      'CREATE TABLE IF NOT EXISTS `contract-proj.nba_analytics.other` (`game_id` STRING, `game_date` DATE, `player_lookup` STRING, ' +
        '`points` INT64, `minutes` FLOAT64, `source_backfill_id` STRING, `processed_at` TIMESTAMP)',
    ]);
    expect(server.jobs.every((j) => Object.keys(j.params).length === 0 && j.location === LOCATION)).toBe(true);
    await fresh.close();
  });

  test('through the configuration: createWarehouse(loadConfig(…)) runs jobs against the endpoint, without credentials', async () => {
    const configured = createWarehouse(
      loadConfig({
        WAREHOUSE: 'bigquery',
        BIGQUERY_PROJECT: PROJECT,
        BIGQUERY_API_ENDPOINT: server.url,
        BIGQUERY_LOCATION: 'EU',
        BIGQUERY_MAX_BYTES_BILLED: '1000000',
        BIGQUERY_JOB_TIMEOUT_MS: '30000',
        BIGQUERY_DATASET_PREFIX: 'prod_',
      }),
    );
    try {
      server.respond(() => ({ schema: [{ name: 'n', type: 'INTEGER' }], rows: [{ n: 12 }] }));
      expect(configured.kind).toBe('bigquery');
      const d = configured.dialect;
      await expect(configured.query(`SELECT count(*) AS n FROM ${d.table({ dataset: 'nba_raw', table: 'schedule' })}`)).resolves.toEqual([{ n: 12 }]);
      const [job] = server.jobs;
      expect(job).toMatchObject({ location: 'EU', maximumBytesBilled: '1000000', jobTimeoutMs: '30000' });
      expect(job?.query).toBe('SELECT count(*) AS n FROM `contract-proj.prod_nba_raw.schedule`');
      // No key file and a custom endpoint: no Application Default Credentials, no Authorization.
      expect(server.requests.every((r) => r.authorization === '')).toBe(true);
    } finally {
      await configured.close();
    }
  });
});

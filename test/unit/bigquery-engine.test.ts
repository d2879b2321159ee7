/** The BigQuery engine's pure parts: job labels, error classification, parameters, row decoding, statements. */
import {
  classifyBigQueryError,
  decodeRows,
  redactSecrets,
  sanitizeLabels,
  toQueryParameters,
} from '../../src/warehouse/bigquery/warehouse';
import {
  clusterColumnsFor,
  createSchemaStatement,
  createTableStatement,
  deduplicateStatement,
  replacePartitionStatement,
} from '../../src/warehouse/bigquery/statements';
import { sqlDate, type TableSpec, WarehouseError } from '../../src/warehouse/types';

const KEY = /^[a-z][a-z0-9_-]{0,62}$/;
const VALUE = /^[a-z0-9_-]{0,63}$/;

describe('sanitizeLabels', () => {
  test('always labels the app, and keeps valid labels as they are', () => {
    expect(sanitizeLabels(undefined)).toEqual({ app: 'props-backfill' });
    expect(sanitizeLabels({ backfill: 'bf-20240105-a1', processor: 'player_game_summary', date: '2024-01-05' })).toEqual({
      app: 'props-backfill',
      backfill: 'bf-20240105-a1',
      processor: 'player_game_summary',
      date: '2024-01-05',
    });
  });

  test('lowers case, replaces other characters, prefixes keys that do not start with a letter, cuts at 63', () => {
    const out = sanitizeLabels({ 'Back Fill': 'Nightly Run #3/ÉTÉ', '1st': '', _x: 'y', ['k'.repeat(80)]: 'v'.repeat(80) });
    expect(out).toEqual({
      app: 'props-backfill',
      back_fill: 'nightly_run__3__t_',
      l_1st: '',
      l__x: 'y',
      ['k'.repeat(63)]: 'v'.repeat(63),
    });
    for (const [k, v] of Object.entries(out)) {
      expect(k).toMatch(KEY);
      expect(v).toMatch(VALUE);
    }
  });

  test('the app label cannot be overridden, colliding keys keep the first, at most 64 labels', () => {
    expect(sanitizeLabels({ app: 'other', Date: 'a', date: 'b' })).toEqual({ app: 'props-backfill', date: 'a' });
    const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, String(i)]));
    const out = sanitizeLabels(many);
    expect(Object.keys(out)).toHaveLength(64);
    expect(out.app).toBe('props-backfill');
  });
});

describe('classifyBigQueryError', () => {
  const api = (code: number, reason: string, message: string) => ({ code, message, errors: [{ reason, message, domain: 'global' }] });
  const job = (reason: string, message: string) => ({ errorResult: { reason, message } });

  test.each([
    [api(403, 'rateLimitExceeded', 'Exceeded rate limits: too many api requests per user per method'), 'transient'],
    [api(503, 'backendError', 'Backend error'), 'transient'],
    [api(500, 'internalError', 'Internal error'), 'transient'],
    [job('jobRateLimitExceeded', 'Exceeded rate limits: too many concurrent queries'), 'transient'],
    [job('timeout', 'Operation timed out after 6.0 hours.'), 'transient'],
    [job('stopped', 'Job execution was cancelled: Job timed out after 900 sec'), 'transient'],
    [job('quotaExceeded', 'Too many DML statements outstanding against table p:d.t, limit is 20.'), 'transient'],
    [job('invalidQuery', 'Transaction is aborted due to concurrent update against table p:d.t.'), 'transient'],
    [job('invalidQuery', 'Could not serialize access to table p:d.t due to concurrent update'), 'transient'],
    [api(403, 'quotaExceeded', 'Quota exceeded: Your project and region exceeded quota for max number of jobs that can be queued per project.'), 'transient'],
    [{ code: 502, message: 'Bad Gateway', errors: [] }, 'transient'],
    [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'transient'],
    [job('stopped', 'Job execution was cancelled: User requested cancellation'), 'cancelled'],
    [api(400, 'invalidQuery', 'Syntax error: Unexpected end of script at [1:7]'), 'syntax'],
    [api(404, 'notFound', 'Not found: Dataset p:nba_raw'), 'schema'],
    [api(403, 'accessDenied', 'Access Denied: Table p:d.t'), 'refused'],
    [job('billingTierLimitExceeded', 'Billing tier limit exceeded'), 'refused'],
    [job('bytesBilledLimitExceeded', 'Query exceeded limit for bytes billed: 1000.'), 'refused'],
    [api(403, 'quotaExceeded', 'Quota exceeded: Your project exceeded quota for free query bytes scanned.'), 'refused'],
    [api(403, 'quotaExceeded', 'Quota exceeded: Your table exceeded quota for imports or query appends per table.'), 'refused'],
  ] as const)('%j → %s', (err, kind) => {
    const e = classifyBigQueryError(err, 'BigQuery job j1');
    expect(e).toBeInstanceOf(WarehouseError);
    expect(e.kind).toBe(kind);
    expect(e.message.startsWith('BigQuery job j1 failed')).toBe(true);
  });

  test("the message carries BigQuery's reason and words; a WarehouseError passes through", () => {
    const e = classifyBigQueryError(api(400, 'invalidQuery', 'Unrecognized name: gmae_date at [3:9]'), 'BigQuery job j2 (replace_partition)');
    expect(e.message).toBe('BigQuery job j2 (replace_partition) failed [invalidQuery; HTTP 400]: Unrecognized name: gmae_date at [3:9]');
    const same = new WarehouseError('x', 'schema');
    expect(classifyBigQueryError(same)).toBe(same);
  });

  test('credentials never reach the message or the cause', () => {
    const token = 'ya29.a0AfH6SMBsecretsecretsecret';
    const e = classifyBigQueryError(
      { code: 401, message: `Invalid Credentials: Bearer ${token}`, errors: [{ reason: 'authError', message: `Bearer ${token}` }], response: { request: { headers: { Authorization: `Bearer ${token}` } } } },
      'BigQuery job j3',
    );
    expect(e.kind).toBe('refused');
    expect(e.message).not.toContain(token);
    expect(JSON.stringify(e.cause)).not.toContain(token);
    expect(redactSecrets('{"access_token":"abc123","private_key":"-----BEGIN PRIVATE KEY-----\\nMII\\n-----END PRIVATE KEY-----"}')).toBe(
      '{"access_token":"[redacted]","private_key":"[redacted private key]"}',
    );
    expect(redactSecrets('token s3cr3t-static-token here', ['s3cr3t-static-token'])).toBe('token [redacted] here');
  });
});

test('parameters are typed from their values', () => {
  expect(toQueryParameters({ d: sqlDate('2024-01-05'), i: -4, f: 0.1, big: 2 ** 60, b: false, s: '2024-01-05', n: null })).toEqual([
    { name: 'd', parameterType: { type: 'DATE' }, parameterValue: { value: '2024-01-05' } },
    { name: 'i', parameterType: { type: 'INT64' }, parameterValue: { value: '-4' } },
    { name: 'f', parameterType: { type: 'FLOAT64' }, parameterValue: { value: '0.1' } },
    { name: 'big', parameterType: { type: 'FLOAT64' }, parameterValue: { value: String(2 ** 60) } },
    { name: 'b', parameterType: { type: 'BOOL' }, parameterValue: { value: 'false' } },
    { name: 's', parameterType: { type: 'STRING' }, parameterValue: { value: '2024-01-05' } },
    { name: 'n', parameterType: { type: 'STRING' }, parameterValue: { value: null } },
  ]);
  expect(() => toQueryParameters({ 'x; DROP': 1 })).toThrow(/invalid parameter/);
});

test('rows decode by schema: INT64 microsecond timestamps, float-second timestamps, repeated fields as JSON', () => {
  const fields = [
    { name: 'ts', type: 'TIMESTAMP' },
    { name: 'ts_old', type: 'TIMESTAMP' },
    { name: 'n', type: 'INT64' },
    { name: 'tags', type: 'STRING', mode: 'REPEATED' },
  ];
  expect(decodeRows(fields, [{ f: [{ v: '1704483000123456' }, { v: '1.704483E9' }, { v: '-7' }, { v: [{ v: 'a' }, { v: 'b' }] }] }])).toEqual([
    { ts: '2024-01-05T19:30:00.123Z', ts_old: '2024-01-05T19:30:00.000Z', n: -7, tags: '["a","b"]' },
  ]);
});

describe('statements', () => {
  const spec: TableSpec = {
    dataset: 'nba_analytics',
    table: 't',
    columns: [
      { name: 'game_id', type: 'STRING' },
      { name: 'game_date', type: 'DATE' },
      { name: 'minutes', type: 'FLOAT64' },
      { name: 'player_lookup', type: 'STRING' },
      { name: 'processed_at', type: 'TIMESTAMP' },
    ],
    partitionColumn: 'game_date',
    clusterColumns: ['game_date', 'minutes', 'game_id', 'player_lookup'],
  };
  const table = '`p-roject.nba_analytics.t`';

  test('DDL: the dataset in its location; the table partitioned by day, clustered by clusterable columns', () => {
    expect(createSchemaStatement({ project: 'my-project', dataset: 'prod_nba' })).toBe(
      'CREATE SCHEMA IF NOT EXISTS `my-project.prod_nba`',
    );
    expect(() => createSchemaStatement({ project: 'my-project', dataset: "d` --" })).toThrow(/invalid BigQuery dataset name/);
    // The partition column and FLOAT64 cannot usefully (or at all) cluster.
    expect(clusterColumnsFor(spec)).toEqual(['game_id', 'player_lookup']);
    expect(createTableStatement(table, spec)).toBe(
      'CREATE TABLE IF NOT EXISTS `p-roject.nba_analytics.t` (`game_id` STRING, `game_date` DATE, `minutes` FLOAT64, `player_lookup` STRING, `processed_at` TIMESTAMP) ' +
        'PARTITION BY `game_date` CLUSTER BY `game_id`, `player_lookup`',
    );
    expect(createTableStatement(table, { ...spec, partitionColumn: undefined, clusterColumns: undefined })).not.toMatch(/PARTITION|CLUSTER/);
    expect(() => createTableStatement(table, { ...spec, partitionColumn: 'minutes' })).toThrow(/only DATE or TIMESTAMP/);
  });

  test('the per-date write is one MERGE: source filtered in its subquery, target pruned in NOT MATCHED BY SOURCE', () => {
    const { sql } = replacePartitionStatement(table, {
      target: spec,
      dateColumn: 'game_date',
      date: '2024-01-05',
      selectSql: 'SELECT game_id, game_date, minutes, player_lookup FROM src_table WHERE game_date = @date',
      params: { date: sqlDate('2024-01-05') },
      extraColumns: { processed_at: 'CURRENT_TIMESTAMP()' },
    });
    expect(sql).toBe(
      [
        'MERGE `p-roject.nba_analytics.t` AS T',
        'USING (',
        '  SELECT src.`game_id` AS `game_id`, src.`game_date` AS `game_date`, src.`minutes` AS `minutes`, src.`player_lookup` AS `player_lookup`, CURRENT_TIMESTAMP() AS `processed_at`',
        '  FROM (SELECT game_id, game_date, minutes, player_lookup FROM src_table WHERE game_date = @date) AS src',
        '  WHERE src.`game_date` = @replace_date',
        ') AS S',
        'ON FALSE',
        'WHEN NOT MATCHED BY SOURCE AND T.`game_date` = @replace_date THEN DELETE',
        'WHEN NOT MATCHED THEN INSERT (`game_id`, `game_date`, `minutes`, `player_lookup`, `processed_at`) VALUES (`game_id`, `game_date`, `minutes`, `player_lookup`, `processed_at`)',
      ].join('\n'),
    );
    expect(sql.match(/\bMERGE\b/g)).toHaveLength(1);
    expect(sql).not.toMatch(/BEGIN|COMMIT|DELETE FROM|INSERT INTO/);
    expect(() =>
      replacePartitionStatement(table, { target: spec, dateColumn: 'game_date', date: '2024-01-05', selectSql: 'SELECT 1', params: { replace_date: 'x' } }),
    ).toThrow(/engine's own/);
  });

  test('deduplication is one MERGE keeping the newest row per key, ties broken by every other column', () => {
    const { sql } = deduplicateStatement(table, {
      target: spec,
      keyColumns: ['game_id', 'player_lookup'],
      dateColumn: 'game_date',
      from: '2024-01-01',
      to: '2024-01-31',
      orderBy: 'processed_at',
    });
    expect(sql).toContain(
      'ROW_NUMBER() OVER (PARTITION BY `game_id`, `player_lookup` ORDER BY `processed_at` DESC, `game_date`, `minutes`) AS dedupe_rank',
    );
    expect(sql).toContain('WHERE `game_date` BETWEEN @dedupe_from AND @dedupe_to');
    expect(sql).toContain('WHEN NOT MATCHED BY SOURCE AND T.`game_date` BETWEEN @dedupe_from AND @dedupe_to THEN DELETE');
    expect(sql.match(/\bMERGE\b/g)).toHaveLength(1);
    expect(() => deduplicateStatement(table, { target: spec, keyColumns: ['nope'], dateColumn: 'game_date', from: 'a', to: 'b', orderBy: 'processed_at' })).toThrow(/not a column/);
  });
});

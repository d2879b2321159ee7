/**
 * The offline BigQuery SQL checker (tools/zetasql-check on Google's ZetaSQL analyser) and its
 * negative controls: it must accept the statement shapes the BigQuery engine writes, and reject
 * what BigQuery would reject, with the analyser's located message. Every statement is analysed in
 * one JVM run (beforeAll); the tests read its results by id.
 *
 * Needs the jar: `tools/zetasql-check/build.sh` (.ci/run builds it before the tests).
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  analyseBigQuerySql,
  zetasqlCheckJarPath,
  type ZetaResult,
  type ZetaStatement,
  type ZetaTable,
} from '../helpers/zetasql';

const GAMES = '`test-proj.raw.games`';
const SUMMARY = '`test-proj.analytics.summary`';

const tables: ZetaTable[] = [
  {
    project: 'test-proj',
    dataset: 'raw',
    table: 'games',
    columns: [
      { name: 'game_id', type: 'STRING' },
      { name: 'game_date', type: 'DATE' },
      { name: 'player_id', type: 'STRING' },
      { name: 'points', type: 'INT64' },
      { name: 'minutes', type: 'FLOAT64' },
      { name: 'started', type: 'BOOL' },
      { name: 'loaded_at', type: 'TIMESTAMP' },
    ],
  },
  {
    project: 'test-proj',
    dataset: 'analytics',
    table: 'summary',
    columns: [
      { name: 'game_id', type: 'STRING' },
      { name: 'game_date', type: 'DATE' },
      { name: 'player_id', type: 'STRING' },
      { name: 'points_avg_10', type: 'NUMERIC' },
      { name: 'backfill_id', type: 'STRING' },
    ],
  },
];

const statements: ZetaStatement[] = [
  // ---- accepted
  {
    id: 'select/date-param',
    sql: `SELECT game_id, player_id, points FROM ${GAMES} WHERE game_date = @__date AND started`,
    params: { __date: 'DATE' },
  },
  {
    id: 'select/path-forms',
    // Backticked whole path, backticked parts, and the unquoted path with a dash in the project.
    sql:
      `SELECT g.game_id FROM test-proj.raw.games AS g ` +
      'JOIN `test-proj`.`analytics`.`summary` AS s USING (game_id) ' +
      `JOIN ${GAMES} AS g2 ON g2.game_id = g.game_id`,
    params: {},
  },
  {
    id: 'select/window-qualify',
    sql:
      `WITH recent AS (SELECT * FROM ${GAMES} WHERE game_date < @__date) ` +
      'SELECT player_id, game_date, ' +
      'AVG(points) OVER (PARTITION BY player_id ORDER BY game_date ROWS BETWEEN 10 PRECEDING AND 1 PRECEDING) AS avg10, ' +
      'SAFE_DIVIDE(SUM(points) OVER (PARTITION BY player_id), COUNT(*) OVER (PARTITION BY player_id)) AS ppg, ' +
      "DATE_DIFF(@__date, game_date, DAY) AS days_ago, DATE_ADD(game_date, INTERVAL 1 DAY) AS next_day, IFNULL(minutes, 0) AS m " +
      'FROM recent WHERE TRUE QUALIFY ROW_NUMBER() OVER (PARTITION BY player_id ORDER BY game_date DESC) = 1',
    params: { __date: 'DATE' },
  },
  {
    id: 'merge/replace-date',
    sql:
      `MERGE ${SUMMARY} AS T USING (` +
      `SELECT game_id, game_date, player_id, CAST(AVG(points) AS NUMERIC) AS points_avg_10, @backfill_id AS backfill_id ` +
      `FROM ${GAMES} WHERE game_date = @__date GROUP BY game_id, game_date, player_id) AS S ON FALSE ` +
      'WHEN NOT MATCHED BY SOURCE AND T.game_date = @__date THEN DELETE ' +
      'WHEN NOT MATCHED THEN INSERT ROW',
    params: { __date: 'DATE', backfill_id: 'STRING' },
  },
  {
    id: 'ddl/create-schema',
    sql: 'CREATE SCHEMA IF NOT EXISTS `test-proj.analytics`',
    params: {},
  },
  {
    // The table is already in the catalog: IF NOT EXISTS makes that fine.
    id: 'ddl/create-existing-if-not-exists',
    sql:
      `CREATE TABLE IF NOT EXISTS ${SUMMARY} (game_id STRING, game_date DATE, player_id STRING, ` +
      'points_avg_10 NUMERIC, backfill_id STRING) PARTITION BY game_date CLUSTER BY player_id, game_id',
    params: {},
  },
  {
    id: 'ddl/create-new-if-not-exists',
    sql:
      'CREATE TABLE IF NOT EXISTS `test-proj.analytics.new_table` (game_id STRING, game_date DATE) ' +
      'PARTITION BY game_date CLUSTER BY game_id',
    params: {},
  },
  {
    id: 'script/transaction',
    sql: [
      'BEGIN TRANSACTION;',
      `DELETE FROM ${SUMMARY} WHERE game_date = @__date;`,
      `INSERT INTO ${SUMMARY} (game_id, game_date, player_id, points_avg_10, backfill_id)`,
      `  SELECT game_id, game_date, player_id, CAST(points AS NUMERIC), @backfill_id FROM ${GAMES} WHERE game_date = @__date;`,
      'COMMIT TRANSACTION;',
      '',
    ].join('\n'),
    params: { __date: 'DATE', backfill_id: 'STRING' },
  },
  {
    // DML targets as multi-part paths (the toolkit leaves these unrewritten; the catalog nests them).
    id: 'script/dml-path-forms',
    sql: [
      'BEGIN TRANSACTION;',
      'DELETE FROM test-proj.analytics.summary WHERE game_date = @__date;',
      "INSERT INTO `test-proj`.analytics.summary (game_id, game_date) VALUES ('g1', @__date);",
      "UPDATE `test-proj`.`analytics`.`summary` SET backfill_id = 'b' WHERE game_date = @__date;",
      'COMMIT TRANSACTION;',
    ].join('\n'),
    params: { __date: 'DATE' },
  },
  {
    // BigQuery's documented query-parameter coercion: a STRING *parameter* (like a literal)
    // coerces to DATE, so a bare `date_col = @string_param` is valid BigQuery. Pinned so nobody
    // relies on the checker to catch it.
    id: 'param/string-bare-vs-date-coerces',
    sql: `SELECT game_id FROM ${GAMES} WHERE game_date = @day`,
    params: { day: 'STRING' },
  },

  // ---- rejected (negative controls)
  {
    id: 'reject/unknown-column',
    sql: `SELECT nosuchcol FROM ${GAMES}`,
    params: {},
    expectError: true,
  },
  {
    id: 'reject/duckdb-date-diff',
    sql: `SELECT date_diff('day', game_date, @__date) FROM ${GAMES}`,
    params: { __date: 'DATE' },
    expectError: true,
  },
  {
    // Once the STRING parameter is a column value it is an ordinary STRING: no coercion to DATE.
    id: 'reject/string-param-vs-date',
    sql: `WITH p AS (SELECT @day AS day) SELECT game_id FROM ${GAMES}, p WHERE game_date = p.day`,
    params: { day: 'STRING' },
    expectError: true,
  },
  {
    id: 'reject/timestamp-param-vs-date',
    sql: `SELECT game_id FROM ${GAMES} WHERE game_date = @day`,
    params: { day: 'TIMESTAMP' },
    expectError: true,
  },
  {
    id: 'reject/unknown-table',
    sql: 'SELECT game_id FROM `test-proj.raw.no_such_table`',
    params: {},
    expectError: true,
  },
  {
    id: 'reject/undeclared-param',
    sql: `SELECT game_id FROM ${GAMES} WHERE game_date = @not_given`,
    params: {},
    expectError: true,
  },
  {
    // The second statement of a script is analysed too, and located in the whole script.
    id: 'reject/script-second-statement',
    sql: `BEGIN TRANSACTION;\nDELETE FROM ${SUMMARY} WHERE game_dte = @__date;\nCOMMIT TRANSACTION;`,
    params: { __date: 'DATE' },
    expectError: true,
  },
  {
    id: 'reject/duckdb-cast-syntax',
    sql: `SELECT game_date::VARCHAR FROM ${GAMES}`,
    params: {},
    expectError: true,
  },
  {
    // The toolkit only parses control-flow scripts (IF, LOOP, BEGIN…END) and what follows them:
    // the checker refuses them instead of passing unresolved SQL.
    id: 'reject/script-control-flow',
    sql: `IF TRUE THEN SELECT 1; END IF;\nSELECT nosuchcol FROM ${GAMES};`,
    params: {},
    expectError: true,
  },

  // ---- known false rejections (toolkit 0.5.2), pinned so a toolkit upgrade that fixes them shows
  {
    // The toolkit quotes function paths, so BigQuery's SAFE. prefix becomes an unknown function
    // name. Write SAFE_CAST / SAFE_DIVIDE / … or avoid SAFE. in engine SQL.
    id: 'limitation/safe-prefix',
    sql: `SELECT SAFE.PARSE_DATE('%Y-%m-%d', game_id) FROM ${GAMES}`,
    params: {},
    expectError: true,
  },
  {
    // BigQuery's implicit alias of `p.d.t` is t; ZetaSQL's is the whole backticked name. Alias tables.
    id: 'limitation/implicit-alias',
    sql: `SELECT games.game_id FROM ${GAMES}`,
    params: {},
    expectError: true,
  },

  // ---- expectError bookkeeping: the checker cannot pass vacuously
  {
    id: 'expect-error/and-rejected',
    sql: `SELECT also_no_such_col FROM ${GAMES}`,
    params: {},
    expectError: true,
  },
  {
    id: 'expect-error/but-accepted',
    sql: `SELECT game_id FROM ${GAMES}`,
    params: {},
    expectError: true,
  },
];

let results: Map<string, ZetaResult>;
let summary: { analysed: number; accepted: number; rejected: number; unexpected: number };

function result(id: string): ZetaResult {
  const r = results.get(id);
  if (r === undefined) throw new Error(`no result for ${id}`);
  return r;
}

beforeAll(async () => {
  const out = await analyseBigQuerySql({ tables, statements });
  results = new Map(out.results.map((r) => [r.id, r]));
  summary = out.summary;
}, 180_000);

describe('zetasql-check accepts valid BigQuery', () => {
  it.each([
    'select/date-param',
    'select/path-forms',
    'select/window-qualify',
    'merge/replace-date',
    'ddl/create-schema',
    'ddl/create-existing-if-not-exists',
    'ddl/create-new-if-not-exists',
    'script/transaction',
    'script/dml-path-forms',
    'param/string-bare-vs-date-coerces',
  ])('%s', (id) => {
    expect(result(id)).toEqual({ id, ok: true, error: null, expectError: false, pass: true });
  });
});

describe('zetasql-check rejects invalid BigQuery with the analyser message', () => {
  it.each<[string, RegExp]>([
    ['reject/unknown-column', /^Unrecognized name: nosuchcol \[at 1:8\]$/],
    // DuckDB's date_diff('day', a, b): BigQuery's DATE_DIFF(a, b, DAY) wants a date part third.
    ['reject/duckdb-date-diff', /^A valid date part name is required \[at 1:38\]$/],
    ['reject/string-param-vs-date', /^No matching signature for operator = for argument types: DATE, STRING\b.*\[at 1:\d+\]$/],
    ['reject/timestamp-param-vs-date', /^No matching signature for operator = for argument types: DATE, TIMESTAMP\b.*\[at 1:\d+\]$/],
    ['reject/unknown-table', /^Table not found: `test-proj\.raw\.no_such_table`.*\[at 1:21\]$/],
    ['reject/undeclared-param', /^Query parameter 'not_given' not found \[at 1:\d+\]$/],
    ['reject/script-second-statement', /^Unrecognized name: game_dte; Did you mean game_date\? \[at 2:49\]$/],
    ['reject/duckdb-cast-syntax', /^Syntax error: .*\[at 1:17\]$/],
    ['reject/script-control-flow', /^Not resolved: statement 1 \(IfStatement\) is a script control-flow statement.*\[at 1:1\]$/],
    ['limitation/safe-prefix', /^Function not found: `SAFE\.PARSE_DATE`.*\[at 1:8\]$/],
    ['limitation/implicit-alias', /^Unrecognized name: games\b.*\[at 1:8\]$/],
  ])('%s', (id, message) => {
    const r = result(id);
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(message);
    expect(r.pass).toBe(true);
  });
});

describe('zetasql-check expectError bookkeeping', () => {
  it('counts an expected error that happens as a pass', () => {
    expect(result('expect-error/and-rejected')).toEqual({
      id: 'expect-error/and-rejected',
      ok: false,
      error: expect.stringMatching(/^Unrecognized name: also_no_such_col \[at 1:8\]$/),
      expectError: true,
      pass: true,
    });
  });

  it('counts an expected error that does not happen as a failure, in the summary too', () => {
    expect(result('expect-error/but-accepted')).toEqual({
      id: 'expect-error/but-accepted',
      ok: true,
      error: null,
      expectError: true,
      pass: false,
    });
    const rejected = statements.filter((s) => s.expectError === true).length - 1;
    expect(summary).toEqual({
      analysed: statements.length,
      accepted: statements.length - rejected,
      rejected,
      unexpected: 1,
    });
  });

  it('reports every statement, in input order', () => {
    expect([...results.keys()]).toEqual(statements.map((s) => s.id));
  });
});

describe('zetasql-check input handling', () => {
  it('rejects invalid input with one clear message (exit 2)', async () => {
    await expect(
      analyseBigQuerySql({
        tables: [{ project: 'test-proj', dataset: 'raw', table: 't', columns: [{ name: 'a', type: 'VARCHAR2' }] }],
        statements: [{ id: 's', sql: 'SELECT 1', params: {} }],
      }),
    ).rejects.toThrow(/exited 2: zetasql-check: invalid input .*tables\[0\] \(test-proj\.raw\.t\)\.columns\[0\]\.type: unknown type VARCHAR2$/);
  });

  it('throws a build hint, and builds nothing, when the jar is missing', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zetasql-missing-'));
    try {
      const jarPath = path.join(dir, 'zetasql-check.jar');
      await expect(
        analyseBigQuerySql({ tables, statements: [{ id: 's', sql: 'SELECT 1', params: {} }] }, { jarPath }),
      ).rejects.toThrow(/not built .*run tools\/zetasql-check\/build\.sh/);
      await expect(fs.readdir(dir)).resolves.toEqual([]);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('locates the jar under tools/zetasql-check/target', () => {
    expect(zetasqlCheckJarPath()).toMatch(/tools[\\/]zetasql-check[\\/]target[\\/]zetasql-check\.jar$/);
  });
});

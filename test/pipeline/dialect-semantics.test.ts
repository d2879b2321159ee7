/**
 * One SQL source, one meaning. For each construct whose meaning differs between DuckDB (the
 * version pinned in package.json) and BigQuery GoogleSQL, the raw DuckDB construct runs first and
 * must give DuckDB's answer — proof that the difference is real and that the case can fail — then
 * our Dialect or portable form runs on the same DuckDB and must give the answer Google's GoogleSQL
 * reference documents for BigQuery (quoted next to each case; the same text is in
 * cloud.google.com/bigquery/docs/reference/standard-sql and in the ZetaSQL docs/ folder).
 * Constructs the engines agree on are pinned as well, so an engine upgrade that changes one fails
 * here rather than in a backfill.
 *
 * The second half checks what no single function can fix, over every processor's rendered SQL on
 * both dialects: windows that pick rows without a total order, raw division, inexact DECIMAL
 * literals, and NULL-skipping functions spelled outside the Dialect.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ExportSink } from '../../src/exports/types';
import { listGameDates } from '../../src/pipeline/dates';
import { FREE_THROW_POSSESSION_WEIGHT, possessionsExpr } from '../../src/pipeline/phase3/sql';
import { newestGameFirst } from '../../src/pipeline/phase4/sql';
import { exportDate } from '../../src/pipeline/phase6';
import { tableProcessors } from '../../src/pipeline/registry';
import { float64, orderByKeys, rankOver, rowNumberOver } from '../../src/pipeline/sql';
import { validateProcessor } from '../../src/pipeline/validation';
import { bigqueryDialect } from '../../src/warehouse/bigquery';
import { DuckDbWarehouse, duckdbDialect } from '../../src/warehouse/duckdb';
import type { Dialect, Row, Warehouse } from '../../src/warehouse/types';

const d = duckdbDialect;
const bigquery = bigqueryDialect({ project: 'props-backfill-test', mapping: { prefix: '', datasets: {} } });

let warehouse: DuckDbWarehouse;

beforeAll(() => {
  warehouse = new DuckDbWarehouse({ path: ':memory:' });
});

afterAll(async () => {
  await warehouse.close();
});

/** The first row of a query on DuckDB. */
async function one(sql: string): Promise<Row> {
  const [row] = await warehouse.query(sql);
  if (!row) throw new Error(`no row: ${sql}`);
  return row;
}

/** `x` over the values (typed by the first), as a FROM clause. */
function values(type: string, xs: readonly string[]): string {
  const rows = xs.map((x, i) => (i === 0 ? `(CAST(${x} AS ${type}))` : `(${x})`)).join(', ');
  return `(VALUES ${rows}) AS t(x)`;
}

describe('constructs whose meaning differs: raw DuckDB vs our form (= BigQuery documented)', () => {
  // GoogleSQL GREATEST / LEAST: "If any argument is NULL, returns NULL." Example GREATEST(3,5,1) = 5.
  test('GREATEST / LEAST with a NULL argument: DuckDB skips it, BigQuery returns NULL', async () => {
    const args = ['1', 'CAST(NULL AS BIGINT)', '3'];
    expect(await one(`SELECT GREATEST(${args.join(', ')}) AS g, LEAST(${args.join(', ')}) AS l`)).toEqual({ g: 3, l: 1 });
    expect(await one(`SELECT ${d.greatest(...args)} AS g, ${d.least(...args)} AS l`)).toEqual({ g: null, l: null });
    expect(await one(`SELECT ${d.greatest('3', '5', '1')} AS g, ${d.least('3', '5', '1')} AS l`)).toEqual({ g: 5, l: 1 });
  });

  // GoogleSQL CONCAT: "The function returns NULL if any input argument is NULL."
  test('CONCAT with a NULL argument: DuckDB skips it, BigQuery returns NULL', async () => {
    const args = [`'a'`, 'CAST(NULL AS VARCHAR)', `'b'`];
    expect(await one(`SELECT CONCAT(${args.join(', ')}) AS v`)).toEqual({ v: 'ab' });
    expect(await one(`SELECT ${d.concat(...args)} AS v`)).toEqual({ v: null });
    expect(await one(`SELECT ${d.concat(`'T.P.'`, `' '`, `'Bar'`)} AS v`)).toEqual({ v: 'T.P. Bar' });
  });

  // GoogleSQL arithmetic operators: "Divide by zero operations return an error. To return a
  // different result, consider the IEEE_DIVIDE or SAFE_DIVIDE functions." SAFE_DIVIDE: "returns
  // NULL if an error occurs, such as a division by zero error."
  test('division by zero: DuckDB returns Infinity / NaN, BigQuery errors; safeDivide is NULL', async () => {
    const raw = await one(`SELECT a / b AS q, c / b AS nan FROM (VALUES (1, 0, 0)) AS t(a, b, c)`);
    expect(raw).toEqual({ q: 'Infinity', nan: 'NaN' });
    expect(await one(`SELECT ${d.safeDivide('a', 'b')} AS q FROM (VALUES (1, 0)) AS t(a, b)`)).toEqual({ q: null });
    // SAFE_DIVIDE example: 20 / 4 = 5 (INT64 / INT64 is FLOAT64 on both engines).
    expect(await one(`SELECT ${d.safeDivide('20', '4')} AS q, typeof(${d.safeDivide('20', '4')}) AS t`)).toEqual({
      q: 5,
      t: 'DOUBLE',
    });
  });

  // GoogleSQL lexical structure: "Numeric literals that contain either a decimal point or an
  // exponent marker are presumed to be type double" (FLOAT64, IEEE-754 binary64, as JS numbers).
  test('a fractional literal: DuckDB computes in exact DECIMAL, BigQuery in binary FLOAT64', async () => {
    // Possessions = FGA − OREB + TOV + 0.44·FTA for FGA 0, OREB 0, TOV 1, FTA 3.
    const box = `(VALUES (0, 0, 1, 3)) AS t(fga, oreb, turnovers, fta)`;
    const decimal = await one(`SELECT (t.fga - t.oreb + t.turnovers + 0.44 * t.fta) AS p FROM ${box}`);
    expect(decimal).toEqual({ p: 2.32 });
    const bigQueryValue = 0 - 0 + 1 + FREE_THROW_POSSESSION_WEIGHT * 3; // 2.3200000000000003
    expect(bigQueryValue).not.toBe(2.32);
    expect(await one(`SELECT ${possessionsExpr(d, 't')} AS p FROM ${box}`)).toEqual({ p: bigQueryValue });
    expect(await one(`SELECT typeof(0.44) AS raw, typeof(${float64(d, 0.44)}) AS ours`)).toEqual({
      raw: 'DECIMAL(3,2)',
      ours: 'DOUBLE',
    });
  });

  // GoogleSQL ROUND: "Rounds halfway cases away from zero." Examples ROUND(2.5) = 3.0,
  // ROUND(-2.5) = -3.0, ROUND(1.235, 2) = 1.24, ROUND(123.7, -1) = 120.0; FLOAT64 in, FLOAT64 out.
  test('ROUND: DuckDB rounds a DECIMAL literal exactly and returns DECIMAL; ours rounds FLOAT64', async () => {
    // The literal 1.005 is a FLOAT64 on BigQuery, 1.00499999999999989…: not a halfway case, so 1.0.
    expect((1.005).toPrecision(20)).toBe('1.0049999999999998934');
    expect(await one(`SELECT ROUND(1.005, 2) AS v, typeof(ROUND(1.005, 2)) AS t`)).toEqual({ v: 1.01, t: 'DECIMAL(4,2)' });
    const ours = d.roundHalfAwayFromZero('1.005', 2);
    expect(await one(`SELECT ${ours} AS v, typeof(${ours}) AS t`)).toEqual({ v: 1, t: 'DOUBLE' });
    const documented = await one(
      `SELECT ${d.roundHalfAwayFromZero('2.5')} AS a, ${d.roundHalfAwayFromZero('-2.5')} AS b,
              ${d.roundHalfAwayFromZero('1.235', 2)} AS c, ${d.roundHalfAwayFromZero('123.7', -1)} AS e`,
    );
    expect(documented).toEqual({ a: 3, b: -3, c: 1.24, e: 120 });
  });

  // GoogleSQL conversion rules, floating point → integer: "Returns the closest integer value.
  // Halfway cases such as 1.5 or -0.5 round away from zero."
  test('CAST(FLOAT64 AS INT64): DuckDB rounds halfway cases to even, BigQuery away from zero', async () => {
    const xs = ['2.5', '-0.5', '1.5', '-2.7'];
    const raw = await one(`SELECT ${xs.map((x, i) => `CAST(CAST(${x} AS DOUBLE) AS BIGINT) AS v${i}`).join(', ')}`);
    expect(raw).toEqual({ v0: 2, v1: 0, v2: 2, v3: -3 });
    const ours = await one(`SELECT ${xs.map((x, i) => `${d.float64ToInt64(`CAST(${x} AS DOUBLE)`)} AS v${i}`).join(', ')}`);
    expect(ours).toEqual({ v0: 3, v1: -1, v2: 2, v3: -3 });
  });

  // GoogleSQL DATE_DIFF: "Gets the number of unit boundaries"; "Each WEEK begins on Sunday, so
  // there is one date part boundary between Saturday, 2017-10-14 and Sunday, 2017-10-15";
  // DATE_DIFF(DATE '2010-07-07', DATE '2008-12-25', DAY) = 559; "If end_date is earlier than
  // start_date, the output is negative."
  test('DATE_DIFF: the engines disagree on WEEK boundaries, so the Dialect offers days only', async () => {
    expect(await one(`SELECT DATE_DIFF('week', DATE '2017-10-14', DATE '2017-10-15') AS w`)).toEqual({ w: 0 });
    const days = await one(
      `SELECT ${d.dateDiffDays(`DATE '2017-10-15'`, `DATE '2017-10-14'`)} AS a,
              ${d.dateDiffDays(`DATE '2010-07-07'`, `DATE '2008-12-25'`)} AS b,
              ${d.dateDiffDays(`DATE '2024-02-28'`, `DATE '2024-03-01'`)} AS c`,
    );
    expect(days).toEqual({ a: 1, b: 559, c: -2 });
  });

  // GoogleSQL ROW_NUMBER: "If any rows are tied or if ORDER BY is omitted, the result is
  // non-deterministic." The same two tied rows, stored in either order, must get the same numbers.
  test('ROW_NUMBER over ties: DuckDB follows the physical order; a total order does not', async () => {
    const numbered = async (window: string, rows: string): Promise<Row[]> =>
      warehouse.query(`SELECT id, ${window} AS rn FROM (VALUES ${rows}) AS t(id, d) ORDER BY id`);
    const raw = 'ROW_NUMBER() OVER (ORDER BY d)';
    const total = rowNumberOver({ partitionBy: [], orderBy: [{ expr: 'd' }], rowKey: ['id'] });
    const abFirst = `('a', 1), ('b', 1), ('c', 0)`;
    const baFirst = `('b', 1), ('a', 1), ('c', 0)`;
    expect(await numbered(raw, abFirst)).not.toEqual(await numbered(raw, baFirst));
    const expected = [
      { id: 'a', rn: 2 },
      { id: 'b', rn: 3 },
      { id: 'c', rn: 1 },
    ];
    expect(await numbered(total, abFirst)).toEqual(expected);
    expect(await numbered(total, baFirst)).toEqual(expected);
  });

  // GoogleSQL "Ordering NULLs": "NULLs appear first in ASC sorts and last in DESC sorts"; a window's
  // ORDER BY takes only ASC | DESC. DuckDB's default_null_order is NULLS_LAST both ways.
  test('NULLs in an ascending window order: DuckDB puts them last, BigQuery first', async () => {
    const rows = `(VALUES (1), (NULL), (2)) AS t(x)`;
    const rank = async (orderBy: string): Promise<Row[]> =>
      warehouse.query(`SELECT x, ROW_NUMBER() OVER (ORDER BY ${orderBy}) AS rn FROM ${rows} ORDER BY rn`);
    expect((await rank('x')).map((r) => r.x)).toEqual([1, 2, null]);
    expect((await rank(orderByKeys([{ expr: 'x', nulls: 'first' }]))).map((r) => r.x)).toEqual([null, 1, 2]);
    // Descending, both engines put NULLs last: no extra key is needed, and none is rendered.
    expect((await rank('x DESC')).map((r) => r.x)).toEqual([2, 1, null]);
    expect(orderByKeys([{ expr: 'x', desc: true }])).toBe('x DESC');
  });

  // GoogleSQL SUM: INT64 → INT64, FLOAT64 → FLOAT64; AVG: INT64 → FLOAT64. DuckDB widens SUM of
  // BIGINT to HUGEINT and keeps DECIMAL literals DECIMAL, so sums of 0.1 are exact there.
  test('SUM / AVG result types: DuckDB HUGEINT and DECIMAL, BigQuery INT64 and FLOAT64', async () => {
    const ints = values('BIGINT', ['1', '2']);
    expect(await one(`SELECT typeof(SUM(x)) AS s, typeof(AVG(x)) AS a FROM ${ints}`)).toEqual({ s: 'HUGEINT', a: 'DOUBLE' });
    // projection() casts every column to its declared type, which is what the tables hold.
    expect(await one(`SELECT typeof(CAST(SUM(x) AS ${d.columnType('INT64')})) AS s FROM ${ints}`)).toEqual({ s: 'BIGINT' });
    const tenths = `(VALUES (1), (2), (3)) AS t(i)`;
    expect(await one(`SELECT SUM(0.1) AS v FROM ${tenths}`)).toEqual({ v: 0.3 });
    expect(await one(`SELECT SUM(${float64(d, 0.1)}) AS v FROM ${tenths}`)).toEqual({ v: 0.1 + 0.1 + 0.1 });
  });

  // GoogleSQL LOGICAL_AND: "Returns the logical AND of all non-NULL expressions. Returns NULL if
  // there are zero input rows or expression evaluates to NULL for all rows." DuckDB has no
  // LOGICAL_AND; its BOOL_AND means the same.
  test('boolean aggregation: one meaning under two spellings', async () => {
    await expect(warehouse.query(`SELECT LOGICAL_AND(x) AS v FROM ${values('BOOLEAN', ['TRUE'])}`)).rejects.toThrow(
      /logical_and/i,
    );
    const mixed = values('BOOLEAN', ['TRUE', 'NULL', 'FALSE']);
    expect(await one(`SELECT ${d.logicalAnd('x')} AS a, ${d.logicalOr('x')} AS o FROM ${mixed}`)).toEqual({ a: false, o: true });
    const nulls = values('BOOLEAN', ['NULL', 'NULL']);
    expect(await one(`SELECT ${d.logicalAnd('x')} AS a, ${d.logicalOr('x')} AS o FROM ${nulls}`)).toEqual({ a: null, o: null });
  });
});

describe('constructs the engines agree on (pinned against an engine upgrade)', () => {
  // GoogleSQL COUNT: "the number of rows with an expression evaluated to any value other than NULL".
  test('COUNT(DISTINCT x) leaves NULL out', async () => {
    expect(await one(`SELECT COUNT(DISTINCT x) AS n FROM ${values('BIGINT', ['1', 'NULL', '1', '2'])}`)).toEqual({ n: 2 });
  });

  // GoogleSQL STDDEV: "An alias of STDDEV_SAMP"; VARIANCE: "An alias of VAR_SAMP"; both NULL
  // with fewer than two non-NULL values.
  test('STDDEV and VARIANCE are the sample statistics', async () => {
    const row = await one(`SELECT STDDEV(x) AS s, STDDEV_SAMP(x) AS ss, VARIANCE(x) AS v FROM ${values('DOUBLE', ['1', '3'])}`);
    expect(row).toEqual({ s: Math.SQRT2, ss: Math.SQRT2, v: 2 });
    expect(await one(`SELECT STDDEV_SAMP(x) AS s FROM ${values('DOUBLE', ['5'])}`)).toEqual({ s: null });
  });

  // GoogleSQL `||` "is translated into a nested CONCAT function call", so NULL on either side is NULL.
  test('|| is NULL when either side is', async () => {
    expect(await one(`SELECT 'a' || CAST(NULL AS VARCHAR) || 'b' AS v`)).toEqual({ v: null });
  });

  // GoogleSQL default collation: "binary collation ... Unicode code point order".
  test('strings compare by code point: uppercase before lowercase, é after z', async () => {
    expect(await one(`SELECT 'B' < 'a' AS upper_first, 'é' > 'z' AS accent_after, MIN(x) AS m FROM ${values('VARCHAR', [`'b'`, `'B'`, `'a'`])}`)).toEqual(
      { upper_first: true, accent_after: true, m: 'B' },
    );
  });

  // GoogleSQL IN: "Returns TRUE if value_set contains a value equal to search_value. Returns NULL
  // if value_set contains a NULL. Returns FALSE." NOT IN likewise: NULL, never TRUE, with a NULL.
  test('IN and NOT IN with a NULL in the list', async () => {
    expect(await one(`SELECT 1 IN (2, NULL) AS a, 1 NOT IN (2, NULL) AS b, 1 IN (1, NULL) AS c`)).toEqual({
      a: null,
      b: null,
      c: true,
    });
  });

  // GoogleSQL division result type: INT64 / INT64 is FLOAT64 (DOUBLE).
  test('/ on integers is floating point', async () => {
    expect(await one(`SELECT 7 / 2 AS q, typeof(7 / 2) AS t`)).toEqual({ q: 3.5, t: 'DOUBLE' });
  });
});

describe('windows are built with a total order', () => {
  test('rowNumberOver appends the row key as a tie-breaker unless it is already ordered on', () => {
    expect(rowNumberOver({ partitionBy: ['p'], orderBy: [{ expr: 'd', desc: true }], rowKey: ['p', 'id'] })).toBe(
      'ROW_NUMBER() OVER (PARTITION BY p ORDER BY d DESC, CASE WHEN id IS NULL THEN 1 ELSE 0 END, id)',
    );
    expect(
      rowNumberOver({ partitionBy: ['p'], orderBy: [{ expr: 'd', desc: true }, { expr: 'id', desc: true }], rowKey: ['id'] }),
    ).toBe('ROW_NUMBER() OVER (PARTITION BY p ORDER BY d DESC, id DESC)');
    expect(rankOver({ partitionBy: [], orderBy: [{ expr: 'd' }] })).toBe(
      'RANK() OVER (ORDER BY CASE WHEN d IS NULL THEN 1 ELSE 0 END, d)',
    );
  });

  test("a Phase 4 history window takes its tie-breaker from the source table's key", () => {
    expect(newestGameFirst('pgs', 'player_lookup', { keyColumns: ['game_id', 'player_lookup'] })).toBe(
      'ROW_NUMBER() OVER (PARTITION BY pgs.season, pgs.player_lookup ORDER BY pgs.game_date DESC, pgs.game_id DESC)',
    );
    expect(newestGameFirst('x', 'team_abbr', { keyColumns: ['game_date', 'team_abbr', 'opponent'] })).toMatch(
      /ORDER BY x\.game_date DESC, x\.game_id DESC, CASE WHEN x\.opponent IS NULL THEN 1 ELSE 0 END, x\.opponent\)$/,
    );
    expect(() => newestGameFirst('x', 'team_abbr', { keyColumns: [] })).toThrow(/no key columns/);
  });

  test('only src/pipeline/sql.ts spells a window function; processors go through its builders', () => {
    const offenders = pipelineSources()
      .filter((f) => path.basename(f.file) !== 'sql.ts' || path.dirname(f.file) !== PIPELINE_DIR)
      .flatMap((f) => [...f.code.matchAll(WINDOW_FUNCTION_OR_OVER)].map((m) => `${path.relative(PIPELINE_DIR, f.file)}: ${m[0]}`));
    expect(offenders).toEqual([]);
    expect('x, ROW_NUMBER() OVER (ORDER BY d)'.match(WINDOW_FUNCTION_OR_OVER)).toEqual(['ROW_NUMBER(', 'OVER (']);
  });
});

describe("every processor's rendered SQL, on both dialects", () => {
  let rendered: Array<{ dialect: string; where: string; sql: string }>;

  beforeAll(async () => {
    rendered = [];
    for (const dialect of [duckdbDialect, bigquery]) {
      for (const { where, sql } of await allSql(dialect)) rendered.push({ dialect: dialect.name, where, sql });
    }
  });

  test('covers every table processor, the date plan, the gates and the export', () => {
    const places = new Set(rendered.map((r) => r.where.split(':')[0]));
    for (const p of tableProcessors()) expect(places).toContain(p.name);
    for (const place of ['listGameDates', 'validateProcessor', 'exportDate']) expect(places).toContain(place);
  });

  test('every window that picks rows has a total order, and every window places NULLs explicitly', () => {
    const problems = rendered.flatMap((r) => windowProblems(r.sql).map((p) => `${r.dialect} ${r.where}: ${p}`));
    expect(problems).toEqual([]);
    // The check did see the windows: six ROW_NUMBERs (UPGC, TDZA, PSZA, PCF ×2, PDC) and TDZA's RANK,
    // once in its skip rule and once more as the gate plans the dates.
    for (const dialect of ['duckdb', 'bigquery']) {
      const fns = rendered.filter((r) => r.dialect === dialect).flatMap((r) => windowsIn(r.sql).map((w) => w.fn));
      expect(fns.sort()).toEqual(['RANK', 'RANK', ...Array<string>(6).fill('ROW_NUMBER')]);
    }
    // Negative controls: the checks do catch what they are for.
    expect(windowProblems('SELECT ROW_NUMBER() OVER (PARTITION BY a ORDER BY d DESC) AS rn FROM t')).toHaveLength(1);
    expect(windowProblems('SELECT LAG(x) OVER (PARTITION BY a) AS prev FROM t')).toHaveLength(1);
    expect(windowProblems('SELECT RANK() OVER (PARTITION BY a ORDER BY d) AS r FROM t')).toHaveLength(1);
  });

  test('plain / divides only by a non-zero number literal (anything else is safeDivide)', () => {
    const problems = rendered
      .filter((r) => r.dialect === 'bigquery')
      .flatMap((r) => divisionProblems(r.sql).map((p) => `${r.where}: ${p}`));
    expect(problems).toEqual([]);
    expect(divisionProblems('SELECT a / b, c / 2, e / 0 FROM t')).toEqual(['/ b', '/ 0']);
  });

  test('a fractional literal not exact in binary is cast to FLOAT64 (never a DuckDB DECIMAL)', () => {
    const problems = rendered
      .filter((r) => r.dialect === 'duckdb')
      .flatMap((r) => inexactDecimalLiterals(r.sql).map((p) => `${r.where}: ${p}`));
    expect(problems).toEqual([]);
    expect(inexactDecimalLiterals('SELECT 0.5 * a + 0.44 * b + CAST(0.3 AS DOUBLE) * c')).toEqual(['0.44']);
  });

  test('NULL-skipping DuckDB functions appear only as the Dialect renders them', () => {
    const problems = rendered
      .filter((r) => r.dialect === 'duckdb')
      .flatMap((r) => rawDuckDbFunctions(r.sql).map((p) => `${r.where}: ${p}`));
    expect(problems).toEqual([]);
    expect(rawDuckDbFunctions(`SELECT LEAST(a, b), CONCAT(c, d), ROUND(e, 1), STDDEV(f) FROM t`)).toEqual([
      'LEAST(',
      'CONCAT(',
      'ROUND(e',
      'STDDEV(',
    ]);
    expect(rawDuckDbFunctions(`SELECT ${d.least('a', 'b')}, ${d.concat('c', 'd')}, ${d.roundHalfAwayFromZero('e', 1)}`)).toEqual([]);
  });
});

// ---- rendered-SQL checks ------------------------------------------------------------------------

/** Window functions whose value depends on which of two tied rows comes first. */
const ROW_ORDER_FUNCTIONS = ['ROW_NUMBER', 'LAG', 'LEAD', 'FIRST_VALUE', 'LAST_VALUE', 'NTH_VALUE', 'NTILE'];

/** The text inside the parenthesis that opens at `open` (sql[open] === '('). */
function parenthesised(sql: string, open: number): string {
  let depth = 0;
  for (let i = open; i < sql.length; i += 1) {
    if (sql[i] === '(') depth += 1;
    else if (sql[i] === ')' && --depth === 0) return sql.slice(open + 1, i);
  }
  throw new Error(`unbalanced parenthesis at ${open}: ${sql.slice(open, open + 60)}`);
}

/** Splits on commas outside parentheses. */
function topLevelList(text: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i += 1) {
    if (text[i] === '(') depth += 1;
    else if (text[i] === ')') depth -= 1;
    else if (text[i] === ',' && depth === 0) {
      items.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  items.push(text.slice(start).trim());
  return items.filter((s) => s !== '');
}

const BARE_COLUMN = /^(?:\w+\.)?\w+(?: DESC)?$/;
const NULL_PLACEMENT_KEY = /^CASE WHEN .* IS NULL THEN [01] ELSE [01] END$/;

/**
 * Problems with the windows of one statement. A row-picking window needs an ORDER BY of at least
 * two keys ending in a plain column: what it orders by, then the row-key tie-breaker that
 * totalOrderWindow appends or finds. (A window ordered on its row key alone would be flagged too;
 * order on the meaningful column first.) Every ascending key needs the explicit NULL-placement key
 * in front of it (orderByKeys' CASE), since the engines place NULLs differently in ascending order.
 */
function windowProblems(sql: string): string[] {
  const problems: string[] = [];
  for (const { fn, spec, keys } of windowsIn(sql)) {
    const sortKeys = keys.filter((k) => !NULL_PLACEMENT_KEY.test(k));
    const last = sortKeys[sortKeys.length - 1];
    if (ROW_ORDER_FUNCTIONS.includes(fn) && (sortKeys.length < 2 || last === undefined || !BARE_COLUMN.test(last))) {
      problems.push(`${fn} OVER (${spec}) has no row-key tie-breaker`);
    }
    keys.forEach((key, i) => {
      if (/ DESC$/i.test(key) || NULL_PLACEMENT_KEY.test(key)) return;
      const before = keys[i - 1];
      if (before !== `CASE WHEN ${key} IS NULL THEN 1 ELSE 0 END` && before !== `CASE WHEN ${key} IS NULL THEN 0 ELSE 1 END`) {
        problems.push(`${fn} OVER (${spec}) leaves the NULL placement of ${key} to the engine`);
      }
    });
  }
  return problems;
}

/** Every `fn(…) OVER (spec)` of a statement, with the keys of its ORDER BY. */
function windowsIn(sql: string): Array<{ fn: string; spec: string; keys: string[] }> {
  return [...sql.matchAll(/\b(\w+)\s*\([^()]*\)\s+OVER\s*\(/gi)].map((m) => {
    const spec = parenthesised(sql, (m.index ?? 0) + m[0].length - 1).replace(/\s+/g, ' ').trim();
    const orderAt = spec.toUpperCase().indexOf('ORDER BY ');
    return {
      fn: (m[1] ?? '').toUpperCase(),
      spec,
      keys: orderAt < 0 ? [] : topLevelList(spec.slice(orderAt + 'ORDER BY '.length)),
    };
  });
}

/** Every `/ <denominator>` whose denominator is not a positive number literal. */
function divisionProblems(sql: string): string[] {
  return [...sql.matchAll(/\/\s*([^\s,)]+)/g)]
    .filter((m) => !/^(?:[1-9]\d*(?:\.\d+)?|0\.\d*[1-9]\d*)$/.test(m[1] ?? ''))
    .map((m) => `/ ${m[1]}`);
}

/** A decimal literal is exact in binary iff its digits, as an integer, are divisible by 5^scale. */
function isExactInBinary(literal: string): boolean {
  const [whole = '', fraction = ''] = literal.split('.');
  return BigInt(whole + fraction) % 5n ** BigInt(fraction.length) === 0n;
}

/** Fractional literals that DuckDB would type DECIMAL and that differ from their FLOAT64 value. */
function inexactDecimalLiterals(sql: string): string[] {
  return [...sql.matchAll(/(?<![\w.'])(\d+\.\d+)(?![\w.'])/g)]
    .filter((m) => !isExactInBinary(m[1] ?? ''))
    .filter((m) => !/CAST\($/.test(sql.slice(0, m.index)) || !sql.startsWith(' AS DOUBLE)', (m.index ?? 0) + (m[1] ?? '').length))
    .map((m) => m[1] ?? '');
}

/**
 * DuckDB functions whose DuckDB meaning is not BigQuery's, spelled outside the Dialect: GREATEST
 * and LEAST without the NULL guard, CONCAT at all, ROUND of something not cast to DOUBLE, and the
 * bare STDDEV / VARIANCE (the same on both engines, but say SAMP or POP).
 */
function rawDuckDbFunctions(sql: string): string[] {
  const found: string[] = [];
  for (const m of sql.matchAll(/\b(GREATEST|LEAST)\(/gi)) {
    if (!/ THEN NULL ELSE $/.test(sql.slice(0, m.index))) found.push(m[0]);
  }
  for (const m of sql.matchAll(/\bCONCAT\(/gi)) found.push(m[0]);
  for (const m of sql.matchAll(/\bROUND\((?!CAST\()\w*/gi)) found.push(m[0]);
  for (const m of sql.matchAll(/\b(STDDEV|VARIANCE)\(/gi)) found.push(m[0]);
  return found;
}

// ---- where the SQL comes from -------------------------------------------------------------------

const PIPELINE_DIR = path.resolve(__dirname, '../../src/pipeline');
const WINDOW_FUNCTION_OR_OVER =
  /\b(?:ROW_NUMBER|RANK|DENSE_RANK|PERCENT_RANK|CUME_DIST|NTILE|LAG|LEAD|FIRST_VALUE|LAST_VALUE|NTH_VALUE)\s*\(|\bOVER\s*\(/g;

/** Every .ts file under src/pipeline, comments removed (they may name window functions). */
function pipelineSources(): Array<{ file: string; code: string }> {
  const files = (fs.readdirSync(PIPELINE_DIR, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(PIPELINE_DIR, f));
  return files.map((file) => ({
    file,
    code: fs
      .readFileSync(file, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, ''),
  }));
}

/** A warehouse that answers every query from `answer` and records the SQL it was sent. */
function recordingWarehouse(dialect: Dialect, answer: (sql: string) => Row[]): { warehouse: Warehouse; sent: string[] } {
  const sent: string[] = [];
  const warehouse: Warehouse = {
    kind: dialect.name,
    dialect,
    query: <T extends Row = Row>(sql: string) => {
      sent.push(sql);
      return Promise.resolve(answer(sql) as T[]);
    },
    execute: (sql) => {
      sent.push(sql);
      return Promise.resolve();
    },
    ensureTable: () => Promise.resolve(),
    tableExists: () => Promise.resolve(true),
    replacePartition: (args) => {
      sent.push(args.selectSql);
      return Promise.resolve({ rowsWritten: 0 });
    },
    deduplicate: () => Promise.resolve({ rowsRemoved: 0 }),
    appendRows: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  return { warehouse, sent };
}

const discardingSink: ExportSink = {
  location: '/dev/null',
  describe: () => 'nowhere',
  locationOf: (name) => name,
  write: () => Promise.resolve(),
  listPresent: () => Promise.resolve(new Set<string>()),
  read: () => Promise.resolve(undefined),
  delete: () => Promise.resolve(),
};

/** Every statement the pipeline sends, rendered for `dialect`, with where it comes from. */
async function allSql(dialect: Dialect): Promise<Array<{ where: string; sql: string }>> {
  const out: Array<{ where: string; sql: string }> = [];
  for (const p of tableProcessors()) {
    out.push({ where: `${p.name}:select`, sql: p.select(dialect) });
    if (p.requiredInput) out.push({ where: `${p.name}:requiredInput`, sql: p.requiredInput(dialect) });
    if (p.skipRule) out.push({ where: `${p.name}:skipRule`, sql: p.skipRule.sql(dialect) });
  }
  const record = async (where: string, run: (w: Warehouse) => Promise<unknown>, answer: (sql: string) => Row[] = () => []) => {
    const { warehouse: w, sent } = recordingWarehouse(dialect, answer);
    await run(w);
    for (const sql of sent) out.push({ where, sql });
  };
  await record('listGameDates', (w) => listGameDates(w, '2024-01-01', '2024-01-31'));
  for (const p of tableProcessors()) {
    await record('validateProcessor', (w) => validateProcessor(w, p, { from: '2024-01-01', to: '2024-01-31', bootstrapDays: 14 }));
  }
  await record(
    'exportDate',
    (w) => exportDate(w, '2024-01-15', discardingSink, { backfillId: 'semantics' }),
    (sql) => (sql.includes('AS graded') ? [{ predictions: 1, graded: 1 }] : []),
  );
  return out;
}

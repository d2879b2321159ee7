/**
 * SQL building blocks shared by every phase and the engine (dialect-neutral through Dialect).
 *
 * Processor SQL must mean the same on DuckDB and BigQuery, not merely parse on both. What differs
 * goes through Dialect (NULL-propagating GREATEST/LEAST/CONCAT, division, rounding, casts to
 * INT64); the two things no single function can fix live here: fractional literals, which DuckDB
 * types as exact DECIMAL, and the order of rows inside a window, which is only reproducible when
 * the window's ORDER BY is total and places NULLs explicitly.
 */
import type { Dialect, TableRef } from '../warehouse/types';

/** `(SELECT count(*) FROM table WHERE dateColumn = date)`: a scalar subquery for requiredInput. */
export function rowsOnDate(d: Dialect, ref: TableRef, dateColumn = 'game_date'): string {
  return `(SELECT count(*) FROM ${d.table(ref)} WHERE ${dateColumn} = ${d.dateParam('date')})`;
}

/**
 * requiredInput over one or more inputs: n is the smallest of their row counts on the date, so any
 * one of them being empty makes the date's input missing.
 */
export function requireAll(d: Dialect, inputs: ReadonlyArray<{ ref: TableRef; dateColumn?: string }>): string {
  const counts = inputs.map((i) => rowsOnDate(d, i.ref, i.dateColumn));
  return `SELECT ${counts.length === 1 ? counts[0] : d.least(...counts)} AS n`;
}

/**
 * A fractional constant as FLOAT64 on both engines. BigQuery types `0.44` as FLOAT64 (binary);
 * DuckDB types it DECIMAL(3,2) and computes `fga + 0.44 * fta + tov` exactly in decimal, so the
 * two engines disagree in the last bits (0 + 0.44·3 + 1 is 2.3200000000000003 on BigQuery and 2.32
 * on DuckDB), which a comparison or a ROUND can turn into a different answer.
 */
export function float64(d: Dialect, value: number): string {
  if (!Number.isFinite(value)) throw new TypeError(`not a finite number: ${value}`);
  return `CAST(${String(value)} AS ${d.columnType('FLOAT64')})`;
}

/** One key of a window's ORDER BY. */
export interface SortKey {
  expr: string;
  desc?: boolean;
  /** Where NULLs sort; 'last' unless said otherwise. */
  nulls?: 'first' | 'last';
}

/**
 * ORDER BY keys whose NULL placement is the same on both engines. BigQuery sorts NULLs first
 * ascending and last descending; DuckDB (default_null_order NULLS_LAST) sorts them last both ways;
 * and GoogleSQL's window ORDER BY takes no NULLS FIRST/LAST. So every key except DESC-with-NULLs-
 * last, the one case the engines agree on, gets an explicit `CASE WHEN … IS NULL` key in front.
 */
export function orderByKeys(keys: readonly SortKey[]): string {
  if (keys.length === 0) throw new Error('ORDER BY needs at least one key');
  return keys
    .flatMap((k) => {
      const nulls = k.nulls ?? 'last';
      const key = k.desc ? `${k.expr} DESC` : k.expr;
      if (k.desc && nulls === 'last') return [key];
      return [`CASE WHEN ${k.expr} IS NULL THEN ${nulls === 'last' ? 1 : 0} ELSE ${nulls === 'last' ? 0 : 1} END`, key];
    })
    .join(', ');
}

/** A window over rows in a total order: every row of a partition has its own place. */
export interface TotalOrderWindow {
  partitionBy: readonly string[];
  orderBy: readonly SortKey[];
  /**
   * The columns identifying one row of the windowed relation. Those not already partitioned or
   * ordered on are appended as ascending tie-breakers, so two rows never tie.
   */
  rowKey: readonly [string, ...string[]];
}

/**
 * `fn OVER (PARTITION BY … ORDER BY …)` for the window functions whose value depends on which of
 * two tied rows comes first — ROW_NUMBER, LAG, LEAD, FIRST_VALUE … — and so pick different rows
 * run to run, and engine to engine, unless the order is total. Processors build such windows here
 * and nowhere else (test/pipeline/dialect-semantics.test.ts checks the sources and rendered SQL).
 */
export function totalOrderWindow(fn: string, w: TotalOrderWindow): string {
  if (w.rowKey.length === 0) throw new Error(`${fn}: a total order needs a row key`);
  const named = new Set([...w.partitionBy, ...w.orderBy.map((k) => k.expr)]);
  const tieBreakers: SortKey[] = w.rowKey.filter((c) => !named.has(c)).map((expr) => ({ expr }));
  return `${fn} OVER (${partitionClause(w.partitionBy)}ORDER BY ${orderByKeys([...w.orderBy, ...tieBreakers])})`;
}

/** `ROW_NUMBER() OVER (…)` in a total order: the row numbers, so the rows kept, never vary. */
export function rowNumberOver(w: TotalOrderWindow): string {
  return totalOrderWindow('ROW_NUMBER()', w);
}

/**
 * `RANK() OVER (…)`: tied rows share a rank, so RANK needs no tie-breaker to be reproducible; its
 * keys still place NULLs explicitly, since that moves every other row's rank.
 */
export function rankOver(w: { partitionBy: readonly string[]; orderBy: readonly SortKey[] }): string {
  return `RANK() OVER (${partitionClause(w.partitionBy)}ORDER BY ${orderByKeys(w.orderBy)})`;
}

function partitionClause(columns: readonly string[]): string {
  return columns.length > 0 ? `PARTITION BY ${columns.join(', ')} ` : '';
}

/**
 * SQL building blocks shared by every phase and the engine (dialect-neutral through Dialect).
 */
import type { Dialect, TableRef } from '../warehouse/types';

/** `(SELECT count(*) FROM table WHERE dateColumn = date)`: a scalar subquery for requiredInput. */
export function rowsOnDate(d: Dialect, ref: TableRef, dateColumn = 'game_date'): string {
  return `(SELECT count(*) FROM ${d.table(ref)} WHERE ${dateColumn} = ${d.dateParam('date')})`;
}

/**
 * requiredInput over one or more inputs: n is the smallest of their row counts on the date, so any
 * one of them being empty makes the date's input missing. (LEAST over non-NULL counts behaves the
 * same on DuckDB and BigQuery; they differ only on NULL arguments.)
 */
export function requireAll(d: Dialect, inputs: ReadonlyArray<{ ref: TableRef; dateColumn?: string }>): string {
  const counts = inputs.map((i) => rowsOnDate(d, i.ref, i.dateColumn));
  return `SELECT ${counts.length === 1 ? counts[0] : `LEAST(${counts.join(', ')})`} AS n`;
}

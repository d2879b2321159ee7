/** DuckDB's spelling of what processor SQL needs (datasets are schemas in one database file). */
import { identifier } from '../identifiers';
import { type ColumnType, type Dialect, roundingPlaces } from '../types';

export const duckdbTypes: Record<ColumnType, string> = {
  STRING: 'VARCHAR',
  INT64: 'BIGINT',
  FLOAT64: 'DOUBLE',
  BOOL: 'BOOLEAN',
  DATE: 'DATE',
  TIMESTAMP: 'TIMESTAMP',
};

/**
 * BigQuery's NULL rule for a variadic function DuckDB implements NULL-skipping: any NULL argument
 * makes the result NULL, otherwise DuckDB's function decides. A NaN argument would still differ
 * (BigQuery returns NaN, DuckDB sorts NaN above every number), but our SQL makes none: division
 * goes through safeDivide.
 */
function nullIfAnyNull(fn: string, args: readonly string[]): string {
  if (args.length === 0) throw new Error(`${fn} needs at least one argument`);
  const anyNull = args.map((a) => `(${a}) IS NULL`).join(' OR ');
  return `(CASE WHEN ${anyNull} THEN NULL ELSE ${fn}(${args.join(', ')}) END)`;
}

/**
 * Every method gives BigQuery's meaning (see Dialect): where DuckDB's same-named construct means
 * something else, the spelling here differs from BigQuery's.
 */
export const duckdbDialect: Dialect = {
  name: 'duckdb',
  table: (ref) => `${identifier(ref.dataset, 'dataset')}.${identifier(ref.table, 'table')}`,
  param: (name) => `$${identifier(name, 'parameter')}`,
  dateParam: (name) => `CAST($${identifier(name, 'parameter')} AS DATE)`,
  addDays: (dateExpr, days) => `CAST((${dateExpr}) + (${days}) * INTERVAL 1 DAY AS DATE)`,
  dateDiffDays: (later, earlier) => `DATE_DIFF('day', ${earlier}, ${later})`,
  // DuckDB's `/` by zero is ±Infinity or NaN, not an error and not NULL.
  safeDivide: (num, den) => `(CASE WHEN (${den}) = 0 THEN NULL ELSE CAST(${num} AS DOUBLE) / (${den}) END)`,
  // DuckDB's GREATEST and LEAST skip NULL arguments.
  greatest: (...args) => nullIfAnyNull('GREATEST', args),
  least: (...args) => nullIfAnyNull('LEAST', args),
  // DuckDB's CONCAT skips NULLs; its `||` is NULL when either side is.
  concat: (...args) => {
    if (args.length === 0) throw new Error('concat needs at least one argument');
    return `(${args.map((a) => `(${a})`).join(' || ')})`;
  },
  // On DOUBLE, DuckDB's ROUND rounds halfway cases away from zero as BigQuery's does; the cast
  // keeps a DECIMAL argument from being rounded in exact decimal and returned as DECIMAL.
  roundHalfAwayFromZero: (x, places = 0) => `ROUND(CAST(${x} AS DOUBLE), ${roundingPlaces(places)})`,
  // CAST(DOUBLE AS BIGINT) rounds halfway cases to even; ROUND first makes the cast exact.
  float64ToInt64: (x) => `CAST(ROUND(CAST(${x} AS DOUBLE)) AS BIGINT)`,
  logicalAnd: (x) => `BOOL_AND(${x})`,
  logicalOr: (x) => `BOOL_OR(${x})`,
  columnType: (type) => duckdbTypes[type],
  now: () => 'CAST(now() AS TIMESTAMP)',
};

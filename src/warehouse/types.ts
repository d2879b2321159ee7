/**
 * The warehouse seam. Processor SQL is written once against `Dialect`; every difference between
 * DuckDB (embedded default) and BigQuery (production) lives in a Dialect implementation and the
 * engine behind `Warehouse`.
 */

export type ColumnType = 'STRING' | 'INT64' | 'FLOAT64' | 'BOOL' | 'DATE' | 'TIMESTAMP';

export interface ColumnDef {
  name: string;
  type: ColumnType;
}

export interface TableRef {
  dataset: string;
  table: string;
}

export interface TableSpec extends TableRef {
  columns: readonly ColumnDef[];
  /**
   * Physical layout hints for engines that have them (BigQuery: PARTITION BY this DATE column, one
   * partition per day, so a per-date write or read touches one partition); DuckDB ignores them.
   */
  partitionColumn?: string;
  /** Columns to cluster by within a partition, most selective first (BigQuery keeps up to 4). */
  clusterColumns?: readonly string[];
}

/**
 * A DATE query parameter. Dates are typed, not strings: BigQuery receives a DATE parameter (a
 * STRING compared with a DATE column does not even analyse there), DuckDB casts it.
 */
export interface SqlDate {
  readonly sqlType: 'DATE';
  readonly value: string;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Wraps 'YYYY-MM-DD' as a DATE parameter; anything else is a programming error. */
export function sqlDate(value: string): SqlDate {
  if (!ISO_DATE.test(value)) throw new TypeError(`not a YYYY-MM-DD date: ${JSON.stringify(value)}`);
  return { sqlType: 'DATE', value };
}

export function isSqlDate(v: unknown): v is SqlDate {
  return typeof v === 'object' && v !== null && (v as { sqlType?: unknown }).sqlType === 'DATE';
}

/**
 * Scalar query parameters, bound by the engine, never spliced into SQL text. A number is INT64
 * when it is an integer and FLOAT64 otherwise; a date is `sqlDate(…)` and read with `dateParam`.
 */
export type SqlValue = string | number | boolean | null | SqlDate;
export type SqlParams = Record<string, SqlValue>;

/** One result row: numbers as JS numbers, DATE as 'YYYY-MM-DD', TIMESTAMP as ISO string. */
export type Row = Record<string, string | number | boolean | null>;

/** A TIMESTAMP as the engines return it ('2024-11-05 10:00:00.123' on DuckDB, ISO on BigQuery), as UTC milliseconds. */
export function parseTimestamp(value: string): number {
  const iso = value.includes('T') ? value : value.replace(' ', 'T');
  return Date.parse(/(Z|[+-]\d{2}:?\d{2})$/.test(iso) ? iso : `${iso}Z`);
}

/** Decimal places of a rounding are spliced into SQL text, so they must be a small integer. */
export function roundingPlaces(places: number): number {
  if (!Number.isInteger(places) || Math.abs(places) > 30) throw new TypeError(`invalid rounding places: ${places}`);
  return places;
}

export interface Dialect {
  /** The engine this dialect speaks for (its registration's kind). */
  readonly name: string;
  /** Fully qualified table reference, e.g. nba_raw.schedule or `project.nba_raw.schedule`. */
  table(ref: TableRef): string;
  /** Placeholder for a scalar parameter. */
  param(name: string): string;
  /** A DATE parameter (passed as `sqlDate(…)`). */
  dateParam(name: string): string;
  /** date + n days (n may be negative or an SQL expression). */
  addDays(dateExpr: string, days: number | string): string;
  /**
   * Whole days from `earlier` to `later` (later - earlier). Only DAY is offered: the engines agree
   * on day boundaries but not on weeks (BigQuery's WEEK starts on Sunday, DuckDB's on Monday).
   */
  dateDiffDays(later: string, earlier: string): string;
  /**
   * num / den as FLOAT64, NULL when den is 0 or NULL. Plain `/` is only for a non-zero literal
   * denominator: BigQuery's `/` raises an error on zero, DuckDB's returns ±Infinity or NaN.
   */
  safeDivide(num: string, den: string): string;
  /**
   * The largest argument, NULL when any argument is NULL (BigQuery's GREATEST; DuckDB's own
   * GREATEST skips NULLs). Wrap arguments in COALESCE to skip NULLs on purpose.
   */
  greatest(...args: string[]): string;
  /** The smallest argument, NULL when any argument is NULL (BigQuery's LEAST; DuckDB's skips NULLs). */
  least(...args: string[]): string;
  /**
   * STRING arguments joined, NULL when any argument is NULL (BigQuery's CONCAT; DuckDB's CONCAT
   * skips NULLs). Cast non-strings first and never a FLOAT64: BigQuery promises only "an
   * approximate string representation" of one, and DuckDB prints 1.0 where BigQuery may print 1.
   */
  concat(...args: string[]): string;
  /**
   * `x` rounded to `places` decimals as FLOAT64, halfway cases away from zero (BigQuery's ROUND).
   * DuckDB would round a DECIMAL argument (its type for a literal such as 1.005, and for arithmetic
   * on one) exactly in decimal and return a DECIMAL; here x is FLOAT64 on both engines. A double
   * within rounding error of a halfway point may still round apart (DuckDB scales by 10^places in
   * double: 2.675 → 2.68; ZetaSQL's reference code in long double: 2.67), so never compare rounded
   * values across engines for equality; round for presentation.
   */
  roundHalfAwayFromZero(x: string, places?: number): string;
  /**
   * A FLOAT64 to the nearest INT64, halfway cases away from zero (BigQuery's CAST; DuckDB's CAST
   * from DOUBLE rounds halfway cases to even: 2.5 → 2).
   */
  float64ToInt64(x: string): string;
  /** Aggregate: TRUE when every non-NULL value is TRUE; NULL over no non-NULL value. */
  logicalAnd(x: string): string;
  /** Aggregate: TRUE when any non-NULL value is TRUE; NULL over no non-NULL value. */
  logicalOr(x: string): string;
  /** The engine's spelling of a logical column type. */
  columnType(type: ColumnType): string;
  /** Current timestamp expression. */
  now(): string;
}

export interface QueryOptions {
  /** Aborts the running statement (activity cancellation). */
  signal?: AbortSignal;
  /** Attached to the job where the engine supports it (BigQuery job labels). */
  labels?: Record<string, string>;
  /**
   * Called once for each job the call ran, when the job finished (also when it failed), with what
   * the engine reports of it; engines that bill nothing (DuckDB) never call it. Metrics use it.
   */
  onJobStatistics?: (stats: JobStatistics) => void;
}

/** What a finished job cost, as the engine reports it. */
export interface JobStatistics {
  /** Bytes the job was billed for (BigQuery's totalBytesBilled: rounded up, with a per-table minimum). */
  bytesBilled: number;
  /** Bytes the job processed (BigQuery's totalBytesProcessed). */
  bytesProcessed: number;
}

export interface ReplacePartitionArgs {
  target: TableSpec;
  dateColumn: string;
  date: string;
  /** SELECT producing the date's rows, columns in `target.columns` order (tracking columns excluded). */
  selectSql: string;
  params: SqlParams;
  /** Values for trailing columns of target not produced by selectSql (e.g. backfill_id). */
  extraColumns?: Record<string, string>;
}

export interface DeduplicateArgs {
  target: TableSpec;
  keyColumns: readonly string[];
  dateColumn: string;
  from: string;
  to: string;
  orderBy: string;
}

export interface Warehouse {
  /** The registered engine kind (see engines.ts). */
  readonly kind: string;
  readonly dialect: Dialect;
  query<T extends Row = Row>(sql: string, params?: SqlParams, opts?: QueryOptions): Promise<T[]>;
  /** Runs a statement that returns no rows (DDL, DELETE …). */
  execute(sql: string, params?: SqlParams, opts?: QueryOptions): Promise<void>;
  /** CREATE SCHEMA / TABLE IF NOT EXISTS. */
  ensureTable(spec: TableSpec): Promise<void>;
  tableExists(ref: TableRef): Promise<boolean>;
  /**
   * The idempotent write: delete the date's rows and insert the SELECT's rows as one atomic unit,
   * so running a date any number of times leaves exactly one copy of its rows.
   */
  replacePartition(args: ReplacePartitionArgs, opts?: QueryOptions): Promise<{ rowsWritten: number }>;
  /**
   * Keeps one row per key among rows whose date is in [from, to] (the newest by `orderBy`, a
   * column of the table) and returns how many rows were removed. Atomic.
   */
  deduplicate(args: DeduplicateArgs, opts?: QueryOptions): Promise<{ rowsRemoved: number }>;
  /** Bulk append (seeding). Rows are objects keyed by column name. */
  appendRows(spec: TableSpec, rows: readonly Row[]): Promise<void>;
  close(): Promise<void>;
}

/** Errors normalised by the engines, so activities can classify them without knowing the engine. */
export type WarehouseErrorKind =
  | 'syntax' // bad SQL: never fixed by retrying
  | 'schema' // missing column/table, type mismatch
  | 'missing_input' // an input the processor needs has no rows
  | 'transient' // time-outs, rate limits, backend errors, lock contention
  | 'cancelled'
  | 'refused'; // the warehouse said no for a reason retries cannot fix: access, billing, byte cap, quota

export class WarehouseError extends Error {
  constructor(
    message: string,
    readonly kind: WarehouseErrorKind,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'WarehouseError';
  }
}

/**
 * Optional capability: pricing a statement before running it. BigQuery answers a dry-run job with
 * the bytes the statement would scan (what on-demand pricing bills); DuckDB has nothing to bill.
 */
export interface BytesEstimator {
  dryRunQuery(sql: string, params?: SqlParams): Promise<{ bytesProcessed: number }>;
  /** The bytes the per-date write (statement and all) would process. */
  dryRunReplacePartition(args: ReplacePartitionArgs): Promise<{ bytesProcessed: number }>;
}

export function canEstimateBytes(w: Warehouse): w is Warehouse & BytesEstimator {
  const c = w as Partial<BytesEstimator>;
  return typeof c.dryRunQuery === 'function' && typeof c.dryRunReplacePartition === 'function';
}

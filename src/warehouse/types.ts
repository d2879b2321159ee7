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
}

/** Scalar query parameters. Dates travel as 'YYYY-MM-DD' strings and are cast with `dateParam`. */
export type SqlParams = Record<string, string | number | boolean | null>;

/** One result row: numbers as JS numbers, DATE as 'YYYY-MM-DD', TIMESTAMP as ISO string. */
export type Row = Record<string, string | number | boolean | null>;

export interface Dialect {
  readonly name: 'duckdb' | 'bigquery';
  /** Fully qualified table reference, e.g. nba_raw.schedule or `project.nba_raw.schedule`. */
  table(ref: TableRef): string;
  /** Placeholder for a scalar parameter. */
  param(name: string): string;
  /** A parameter given as 'YYYY-MM-DD', typed DATE. */
  dateParam(name: string): string;
  /** date + n days (n may be negative or an SQL expression). */
  addDays(dateExpr: string, days: number | string): string;
  /** Whole days from `earlier` to `later` (later - earlier). */
  dateDiffDays(later: string, earlier: string): string;
  /** num / den, NULL when den is 0 or NULL. */
  safeDivide(num: string, den: string): string;
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
  readonly kind: 'duckdb' | 'bigquery';
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
  | 'cancelled';

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

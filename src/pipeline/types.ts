/**
 * Declarative processors: what a phase computes, never how it is scheduled. Pure data plus SQL
 * builders, testable on DuckDB without Temporal.
 */
import type { Dialect, TableRef, TableSpec } from '../warehouse/types';

export type PhaseNumber = 3 | 4 | 5 | 6;

export interface FieldCoverageRule {
  column: string;
  /** Minimum share (0..1) of rows where the column is not NULL. */
  min: number;
  /** Why the threshold is what it is, shown in gate reports. */
  note?: string;
}

/** A stricter-than-bootstrap need, e.g. TDZA needs enough games per team. */
export interface SkipRule {
  /** One line for humans, e.g. "fewer than 10 prior games for some team". */
  describe: string;
  /**
   * SQL with params `from` and `to` (DATE, via d.dateParam) returning rows (skip_date DATE,
   * reason STRING) for the dates in [from, to] this processor must skip.
   */
  sql(d: Dialect): string;
}

interface ProcessorBase {
  readonly name: string;
  readonly phase: PhaseNumber;
  /** Dependency group inside the phase, 1-based; groups run in order, members concurrently. */
  readonly group: number;
  readonly description: string;
  /** Phase 4+ skip the first `bootstrapDays` days of every season (not enough history). */
  readonly bootstrap: boolean;
  readonly skipRule?: SkipRule;
}

export interface TableProcessorDef extends ProcessorBase {
  readonly kind: 'table';
  /** Target table; the engine appends the source-tracking columns (see TRACKING_COLUMNS). */
  readonly target: TableSpec;
  readonly keyColumns: readonly string[];
  readonly dateColumn: string;
  /** Tables read; the worker creates missing ones empty so a query never fails on a missing table. */
  readonly inputs: readonly TableRef[];
  /** SELECT yielding the date's rows in target column order; the date is d.dateParam('date'). */
  select(d: Dialect): string;
  /**
   * SQL (param `date`) returning one row {n}: how many input rows the date has. 0 while the
   * schedule has games that day means the input is missing: a non-retryable failure.
   */
  requiredInput?(d: Dialect): string;
  readonly fieldCoverage?: readonly FieldCoverageRule[];
}

export interface ExportProcessorDef extends ProcessorBase {
  readonly kind: 'export';
  /** Tables read by the export (for validation and missing-input checks). */
  readonly inputs: readonly TableRef[];
}

export type ProcessorDef = TableProcessorDef | ExportProcessorDef;

/** Columns the engine adds to every processor table: which backfill wrote the row, and when. */
export const TRACKING_COLUMNS = [
  { name: 'source_backfill_id', type: 'STRING' },
  { name: 'processed_at', type: 'TIMESTAMP' },
] as const;

export function withTrackingColumns(spec: TableSpec): TableSpec {
  return { ...spec, columns: [...spec.columns, ...TRACKING_COLUMNS] };
}

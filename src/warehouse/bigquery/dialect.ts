/**
 * BigQuery's spelling of what processor SQL needs. Tables are `project.dataset.table` with the
 * dataset renamed by the validated mapping (so `nba_analytics` can be `prod_nba_analytics`);
 * parameters are named (`@date`) and typed by the engine, a date being a DATE parameter.
 */
import { identifier } from '../identifiers';
import { type ColumnType, type Dialect, roundingPlaces } from '../types';

export const bigqueryTypes: Record<ColumnType, string> = {
  STRING: 'STRING',
  INT64: 'INT64',
  FLOAT64: 'FLOAT64',
  BOOL: 'BOOL',
  DATE: 'DATE',
  TIMESTAMP: 'TIMESTAMP',
};

/** GCP project ids: 6–30 of lowercase letters, digits, hyphens; optionally domain-scoped. */
export const PROJECT_ID = /^(?:[a-z0-9][a-z0-9.-]{0,61}[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
/** BigQuery dataset names: letters, digits and underscores, at most 1024. */
export const DATASET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,1023}$/;

export interface DatasetMapping {
  /** Prepended to every logical dataset name without an explicit entry. */
  prefix: string;
  /** Logical name (nba_analytics) → BigQuery dataset (prod_nba_analytics). */
  datasets: Readonly<Record<string, string>>;
}

/** The BigQuery dataset a logical dataset of ours lives in. */
export function mapDataset(mapping: DatasetMapping, logical: string): string {
  const name = mapping.datasets[identifier(logical, 'dataset')] ?? `${mapping.prefix}${logical}`;
  if (!DATASET_NAME.test(name)) throw new TypeError(`invalid BigQuery dataset name ${JSON.stringify(name)}`);
  return name;
}

function atLeastOne(fn: string, args: readonly string[]): string {
  if (args.length === 0) throw new Error(`${fn} needs at least one argument`);
  return args.join(', ');
}

export function bigqueryDialect(options: { project: string; mapping: DatasetMapping }): Dialect {
  if (!PROJECT_ID.test(options.project)) throw new TypeError(`invalid BigQuery project id ${JSON.stringify(options.project)}`);
  const project = options.project;
  return {
    name: 'bigquery',
    table: (ref) => `\`${project}.${mapDataset(options.mapping, ref.dataset)}.${identifier(ref.table, 'table')}\``,
    param: (name) => `@${identifier(name, 'parameter')}`,
    dateParam: (name) => `@${identifier(name, 'parameter')}`,
    addDays: (dateExpr, days) => `DATE_ADD(${dateExpr}, INTERVAL (${days}) DAY)`,
    dateDiffDays: (later, earlier) => `DATE_DIFF(${later}, ${earlier}, DAY)`,
    safeDivide: (num, den) => `SAFE_DIVIDE(${num}, ${den})`,
    // The Dialect's meanings are BigQuery's own, so these are the plain functions.
    greatest: (...args) => `GREATEST(${atLeastOne('greatest', args)})`,
    least: (...args) => `LEAST(${atLeastOne('least', args)})`,
    concat: (...args) => `CONCAT(${atLeastOne('concat', args)})`,
    roundHalfAwayFromZero: (x, places = 0) => `ROUND(${x}, ${roundingPlaces(places)})`,
    float64ToInt64: (x) => `CAST(${x} AS INT64)`,
    logicalAnd: (x) => `LOGICAL_AND(${x})`,
    logicalOr: (x) => `LOGICAL_OR(${x})`,
    columnType: (type) => bigqueryTypes[type],
    now: () => 'CURRENT_TIMESTAMP()',
  };
}

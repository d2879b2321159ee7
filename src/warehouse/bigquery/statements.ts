/**
 * The BigQuery engine's own statements, as pure functions of their inputs: DDL, the per-date write
 * and the deduplication. Each returns GoogleSQL text whose only values are named parameters, so the
 * text can be fed as it is to a GoogleSQL analyser (ZetaSQL) and checked without a cloud account.
 *
 * Identifiers pass `identifier()` and are back-quoted (a column named like a keyword still works);
 * table names come qualified from the dialect (`project.dataset.table`, validated there).
 */
import { identifier } from '../identifiers';
import type { ColumnDef, ColumnType, DeduplicateArgs, ReplacePartitionArgs, TableSpec } from '../types';
import { bigqueryTypes, DATASET_NAME, PROJECT_ID } from './dialect';

/** Parameter names the engine adds to a caller's; a caller's parameter of the same name is refused. */
export const REPLACE_DATE_PARAM = 'replace_date';
export const DEDUPE_FROM_PARAM = 'dedupe_from';
export const DEDUPE_TO_PARAM = 'dedupe_to';
export const APPEND_ROWS_PARAM = 'append_rows';

/** Column types BigQuery can cluster by (FLOAT64 cannot). */
const CLUSTERABLE = new Set<ColumnType>(['STRING', 'INT64', 'BOOL', 'DATE', 'TIMESTAMP']);
/** BigQuery's limit on clustering columns. */
export const MAX_CLUSTER_COLUMNS = 4;

/** A back-quoted column name, after the identifier check. */
export function column(name: string): string {
  return `\`${identifier(name, 'column')}\``;
}

/**
 * CREATE SCHEMA for a dataset. No `OPTIONS (location = …)`: without it BigQuery creates the
 * dataset in the location the job runs in, and the job's location travels as a job setting (the
 * API's `location`), so no setting value is ever spliced into SQL text; DDL options take no query
 * parameters.
 */
export function createSchemaStatement(args: { project: string; dataset: string }): string {
  if (!PROJECT_ID.test(args.project)) throw new TypeError(`invalid BigQuery project id ${JSON.stringify(args.project)}`);
  if (!DATASET_NAME.test(args.dataset)) throw new TypeError(`invalid BigQuery dataset name ${JSON.stringify(args.dataset)}`);
  return `CREATE SCHEMA IF NOT EXISTS \`${args.project}.${args.dataset}\``;
}

/** The clustering columns BigQuery accepts: clusterable types, not the partition column, at most 4. */
export function clusterColumnsFor(spec: TableSpec): string[] {
  const byName = new Map(spec.columns.map((c) => [c.name, c]));
  const out: string[] = [];
  for (const name of spec.clusterColumns ?? []) {
    const col = byName.get(name);
    if (!col) throw new TypeError(`cluster column ${JSON.stringify(name)} is not a column of ${spec.dataset}.${spec.table}`);
    // One partition holds one date: clustering by the partition column sorts nothing.
    if (name === spec.partitionColumn || !CLUSTERABLE.has(col.type) || out.includes(name)) continue;
    out.push(name);
    if (out.length === MAX_CLUSTER_COLUMNS) break;
  }
  return out;
}

/**
 * CREATE TABLE IF NOT EXISTS, day-partitioned by `spec.partitionColumn` (DATE, or TIMESTAMP by its
 * date) and clustered by `spec.clusterColumns` when given. An existing table is left as it is.
 */
export function createTableStatement(table: string, spec: TableSpec): string {
  const cols = spec.columns.map((c) => `${column(c.name)} ${bigqueryTypes[c.type]}`).join(', ');
  let sql = `CREATE TABLE IF NOT EXISTS ${table} (${cols})`;
  if (spec.partitionColumn !== undefined) {
    const col: ColumnDef | undefined = spec.columns.find((c) => c.name === spec.partitionColumn);
    if (!col) throw new TypeError(`partition column ${JSON.stringify(spec.partitionColumn)} is not a column of ${spec.dataset}.${spec.table}`);
    if (col.type === 'DATE') sql += ` PARTITION BY ${column(col.name)}`;
    else if (col.type === 'TIMESTAMP') sql += ` PARTITION BY DATE(${column(col.name)})`;
    else throw new TypeError(`partition column ${spec.dataset}.${spec.table}.${col.name} is ${col.type}; only DATE or TIMESTAMP partition by day`);
  }
  const cluster = clusterColumnsFor(spec);
  if (cluster.length > 0) sql += ` CLUSTER BY ${cluster.map(column).join(', ')}`;
  return sql;
}

function refuseEngineParam(params: Record<string, unknown>, name: string): void {
  if (Object.prototype.hasOwnProperty.call(params, name)) {
    throw new TypeError(`the parameter name "${name}" is the engine's own; rename the caller's parameter`);
  }
}

function insertClause(names: readonly string[]): string {
  const cols = names.map(column).join(', ');
  return `INSERT (${cols}) VALUES (${cols})`;
}

/**
 * The per-date write as ONE MERGE, atomic on its own (no session, no multi-statement transaction):
 *
 *   MERGE target T
 *   USING (SELECT <produced columns>, <extra expressions> FROM (<select>) src WHERE src.d = @replace_date) S
 *   ON FALSE
 *   WHEN NOT MATCHED BY SOURCE AND T.d = @replace_date THEN DELETE
 *   WHEN NOT MATCHED THEN INSERT (<columns>) VALUES (<columns>)
 *
 * ON FALSE matches nothing, so every target row is "not matched by source" and every source row
 * "not matched": the first clause deletes the date's old rows, the second inserts the new ones.
 *
 * Why one MERGE rather than BEGIN; DELETE; INSERT; COMMIT: BigQuery queues mutating DML (UPDATE,
 * DELETE, MERGE) per table — a couple run at once, a bounded queue waits, more fail with "Too many
 * DML statements outstanding" — so one job per date holds one place in that queue, where a
 * transaction's DELETE and INSERT would take two and need a session (or a script) around them.
 *
 * Pruning: BigQuery's DML-on-partitioned-tables guide lists three places a MERGE may filter the
 * partitioning column to limit what it scans: a subquery on the source, the search condition of a
 * WHEN clause, and the merge condition. With ON FALSE the target side can only be limited in the
 * WHEN NOT MATCHED BY SOURCE clause's search condition — a filter in ON would not shrink the set
 * of unmatched target rows — so the constant `T.d = @replace_date` sits there (as the guide's
 * replace-a-partition example does), and the source is filtered in its subquery. The filter is a
 * parameter, i.e. a constant of the statement: no subquery, no column of another table.
 */
export function replacePartitionStatement(table: string, args: ReplacePartitionArgs): { sql: string } {
  refuseEngineParam(args.params, REPLACE_DATE_PARAM);
  const extra = args.extraColumns ?? {};
  const targetNames = args.target.columns.map((c) => c.name);
  for (const name of Object.keys(extra)) {
    if (!targetNames.includes(name)) throw new TypeError(`extra column ${JSON.stringify(name)} is not a column of ${args.target.dataset}.${args.target.table}`);
  }
  // Target column order throughout: the SELECT produces the non-extra columns, in that order.
  const sourceList = targetNames
    .map((name) => (Object.prototype.hasOwnProperty.call(extra, name) ? `${extra[name] as string} AS ${column(name)}` : `src.${column(name)} AS ${column(name)}`))
    .join(', ');
  const dateCol = column(args.dateColumn);
  const date = `@${REPLACE_DATE_PARAM}`;
  const sql =
    `MERGE ${table} AS T\n` +
    `USING (\n` +
    `  SELECT ${sourceList}\n` +
    `  FROM (${args.selectSql}) AS src\n` +
    // Only the date being replaced: a SELECT that strayed outside it must not duplicate other dates' rows.
    `  WHERE src.${dateCol} = ${date}\n` +
    `) AS S\n` +
    `ON FALSE\n` +
    `WHEN NOT MATCHED BY SOURCE AND T.${dateCol} = ${date} THEN DELETE\n` +
    `WHEN NOT MATCHED THEN ${insertClause(targetNames)}`;
  return { sql };
}

/**
 * Deduplication over [from, to] as ONE MERGE: the range's rows are deleted and one row per key is
 * inserted back — the newest by `orderBy`, ties broken by every other column in order, so the same
 * table always keeps the same row. rowsRemoved = deleted − inserted (from the job's dmlStats).
 * Same shape, same reasons and same pruning as `replacePartitionStatement`.
 */
export function deduplicateStatement(table: string, args: DeduplicateArgs): { sql: string } {
  const names = args.target.columns.map((c) => c.name);
  if (args.keyColumns.length === 0) throw new TypeError('deduplicate needs at least one key column');
  for (const k of [...args.keyColumns, args.orderBy, args.dateColumn]) {
    if (!names.includes(k)) throw new TypeError(`${JSON.stringify(k)} is not a column of ${args.target.dataset}.${args.target.table}`);
  }
  const cols = names.map(column).join(', ');
  const tieBreak = names.filter((n) => n !== args.orderBy && !args.keyColumns.includes(n)).map(column);
  const order = [`${column(args.orderBy)} DESC`, ...tieBreak].join(', ');
  const inRange = (qualifier: string): string =>
    `${qualifier}${column(args.dateColumn)} BETWEEN @${DEDUPE_FROM_PARAM} AND @${DEDUPE_TO_PARAM}`;
  const sql =
    `MERGE ${table} AS T\n` +
    `USING (\n` +
    `  SELECT ${cols} FROM (\n` +
    `    SELECT ${cols}, ROW_NUMBER() OVER (PARTITION BY ${args.keyColumns.map(column).join(', ')} ORDER BY ${order}) AS dedupe_rank\n` +
    `    FROM ${table}\n` +
    `    WHERE ${inRange('')}\n` +
    `  ) WHERE dedupe_rank = 1\n` +
    `) AS S\n` +
    `ON FALSE\n` +
    `WHEN NOT MATCHED BY SOURCE AND ${inRange('T.')} THEN DELETE\n` +
    `WHEN NOT MATCHED THEN ${insertClause(names)}`;
  return { sql };
}

/**
 * Seeding: one DML INSERT from an ARRAY<STRUCT<…>> parameter (`@append_rows`). DML rather than
 * the streaming API (tabledata.insertAll) because streamed rows cannot be changed by DML for a while
 * after they land, and seeding deletes and re-inserts ranges; DML rather than a load job so that
 * every statement is a query job under the same byte cap, labels and time-out.
 */
export function appendRowsStatement(table: string, spec: TableSpec): string {
  const cols = spec.columns.map((c) => column(c.name)).join(', ');
  return `INSERT INTO ${table} (${cols}) SELECT ${cols} FROM UNNEST(@${APPEND_ROWS_PARAM})`;
}

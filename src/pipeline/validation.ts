/**
 * Phase gates: the checks the handoff note's engineers typed by hand after every phase — date
 * coverage against the plan, duplicate keys (must be 0), field coverage against thresholds, and
 * the dates that failed — computed the same way for `backfill validate` and inside the workflow.
 */
import type { FieldCoverageResult, PhaseGateReport, TableGateResult } from '../shared/types';
import { type QueryOptions, sqlDate, type Warehouse } from '../warehouse/types';
import { planProcessorDates } from './dates';
import { ensureProcessorTable } from './engine';
import type { ProcessorDef, TableProcessorDef } from './types';

export interface ValidateOptions {
  from: string;
  to: string;
  bootstrapDays: number;
  /** processor → date → error, as recorded by the workflow. */
  failedDates?: Record<string, Record<string, string>>;
  /** Overrides of field-coverage minimums: "table.column" → min (0..1). */
  thresholds?: Record<string, number>;
  /** For export processors: the dates whose export exists (checked by the caller). */
  exportedDates?: (def: ProcessorDef, dates: string[]) => Promise<Set<string>>;
  /** Cancellation and job labels for every query of the gate. */
  queryOptions?: QueryOptions;
}


export async function validateProcessor(
  warehouse: Warehouse,
  def: ProcessorDef,
  options: ValidateOptions,
): Promise<TableGateResult> {
  const opts: QueryOptions = { ...options.queryOptions, labels: { ...options.queryOptions?.labels, processor: def.name } };
  const plan = await planProcessorDates(warehouse, def, options.from, options.to, options.bootstrapDays, opts);
  const failedMap = options.failedDates?.[def.name] ?? {};
  const failedDates = Object.entries(failedMap).map(([date, error]) => ({ date, error }));
  const skipReasons: Record<string, number> = {};
  for (const s of plan.skipped) skipReasons[s.reason] = (skipReasons[s.reason] ?? 0) + 1;

  let present: Set<string>;
  let duplicateKeys = 0;
  let duplicateDates: string[] = [];
  let rows: number;
  const fieldCoverage: FieldCoverageResult[] = [];
  let table: string;

  if (def.kind === 'table') {
    await ensureProcessorTable(warehouse, def);
    table = `${def.target.dataset}.${def.target.table}`;
    const stats = await tableStats(warehouse, def, options, opts);
    present = stats.dates;
    duplicateKeys = stats.duplicateKeys;
    duplicateDates = stats.duplicateDates;
    rows = stats.rows;
    for (const rule of def.fieldCoverage ?? []) {
      const min = options.thresholds?.[`${def.target.table}.${rule.column}`] ?? rule.min;
      const coverage = stats.coverage[rule.column] ?? null;
      fieldCoverage.push({
        column: rule.column,
        coverage,
        min,
        // A table with no rows has no coverage to judge; the missing dates already fail the gate.
        ok: coverage === null || coverage + 1e-9 >= min,
        ...(rule.note ? { note: rule.note } : {}),
      });
    }
  } else {
    table = `exports/${def.name}`;
    present = options.exportedDates ? await options.exportedDates(def, plan.dates) : new Set();
    rows = present.size;
  }

  const skippedSet = new Set(plan.skipped.map((s) => s.date));
  const missingDates = plan.dates.filter((d) => !present.has(d) && !(d in failedMap));
  const unexpectedDates = [...present].filter((d) => skippedSet.has(d)).sort();
  const actualDates = plan.dates.filter((d) => present.has(d)).length;

  const problems: string[] = [];
  if (missingDates.length > 0) {
    problems.push(
      `${table}: ${missingDates.length} expected date(s) have no rows (${listed(missingDates)})`,
    );
  }
  if (failedDates.length > 0) {
    problems.push(`${table}: ${failedDates.length} date(s) failed (${listed(failedDates.map((f) => f.date))})`);
  }
  if (duplicateKeys > 0) {
    problems.push(`${table}: ${duplicateKeys} duplicate key(s) (must be 0) on ${duplicateDates.length} date(s) (${listed(duplicateDates)})`);
  }
  if (unexpectedDates.length > 0) {
    // Rows on a date the plan skips were written by something else (an older run with another
    // bootstrap, a manual load): the table holds data the gate cannot vouch for.
    problems.push(`${table}: ${unexpectedDates.length} date(s) have rows although the plan skips them (${listed(unexpectedDates)})`);
  }
  for (const f of fieldCoverage.filter((x) => !x.ok)) {
    problems.push(`${table}.${f.column}: coverage ${pct(f.coverage)} below the ${pct(f.min)} threshold`);
  }
  return {
    processor: def.name,
    table,
    expectedDates: plan.dates.length,
    actualDates,
    // Every one: a rerun re-runs exactly these.
    missingDates,
    unexpectedDates,
    skippedDates: plan.skipped.length,
    skipReasons,
    duplicateKeys,
    duplicateDates,
    rows,
    fieldCoverage,
    failedDates,
    ok: problems.length === 0,
    problems,
  };
}

async function tableStats(
  warehouse: Warehouse,
  def: TableProcessorDef,
  options: ValidateOptions,
  opts: QueryOptions,
): Promise<{
  dates: Set<string>;
  duplicateKeys: number;
  duplicateDates: string[];
  rows: number;
  coverage: Record<string, number | null>;
}> {
  const d = warehouse.dialect;
  const t = d.table(def.target);
  const inRange = `${def.dateColumn} BETWEEN ${d.dateParam('from')} AND ${d.dateParam('to')}`;
  const params = { from: sqlDate(options.from), to: sqlDate(options.to) };
  const dateRows = await warehouse.query(`SELECT DISTINCT ${def.dateColumn} AS d FROM ${t} WHERE ${inRange}`, params, opts);
  const keys = def.keyColumns.join(', ');
  const [dup] = await warehouse.query(
    `SELECT count(*) AS n FROM (SELECT ${keys} FROM ${t} WHERE ${inRange} GROUP BY ${keys} HAVING count(*) > 1) AS dup_keys`,
    params,
    opts,
  );
  // The date column joins the grouping so each duplicated key is attributed to its date(s). It is
  // listed once: usually it is a key column already, and BigQuery rejects a GROUP BY name that
  // matches two select-list columns as ambiguous.
  const keysWithDate = [...new Set([...def.keyColumns, def.dateColumn])].join(', ');
  const dupRows = await warehouse.query(
    `SELECT ${def.dateColumn} AS d, count(*) AS n FROM (
       SELECT ${keysWithDate} FROM ${t} WHERE ${inRange} GROUP BY ${keysWithDate} HAVING count(*) > 1
     ) AS dup_keys GROUP BY ${def.dateColumn} ORDER BY ${def.dateColumn}`,
    params,
    opts,
  );
  const rules = def.fieldCoverage ?? [];
  const coverageSelect = rules.map((r, i) => `, count(${r.column}) AS c${i}`).join('');
  const [cov] = await warehouse.query(`SELECT count(*) AS n${coverageSelect} FROM ${t} WHERE ${inRange}`, params, opts);
  const rows = Number(cov?.n ?? 0);
  const coverage: Record<string, number | null> = {};
  rules.forEach((r, i) => {
    coverage[r.column] = rows === 0 ? null : Number(cov?.[`c${i}`] ?? 0) / rows;
  });
  return {
    dates: new Set(dateRows.map((r) => String(r.d))),
    duplicateKeys: Number(dup?.n ?? 0),
    duplicateDates: dupRows.map((r) => String(r.d)),
    rows,
    coverage,
  };
}

export async function validatePhase(
  warehouse: Warehouse,
  phase: number,
  processors: readonly ProcessorDef[],
  options: ValidateOptions,
): Promise<PhaseGateReport> {
  const tables: TableGateResult[] = [];
  for (const def of processors) tables.push(await validateProcessor(warehouse, def, options));
  const problems = tables.flatMap((t) => t.problems);
  return {
    phase,
    from: options.from,
    to: options.to,
    checkedAt: new Date().toISOString(),
    ok: problems.length === 0,
    tables,
    problems,
  };
}

function listed(dates: string[]): string {
  const head = dates.slice(0, 5).join(', ');
  return dates.length > 5 ? `${head}, … +${dates.length - 5} more` : head;
}

function pct(x: number | null): string {
  return x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`;
}


/**
 * The backfill report's data: for every processor of the request and every game date of its range,
 * what happened — done, skipped (with the plan's reason), failed (with the run's error) or missing
 * — plus the coverage explanation, the gate reports and the processors' rates next to the seed's.
 *
 * Two sources, each for what only it knows: the workflow's status (failures and their errors, the
 * gates, the live rate) and the warehouse (the plan with its skip reasons, the dates each table
 * holds, and when this backfill wrote them). Reads only: the report never creates or writes a
 * table, so it is safe against production. On DuckDB the caller must be the process holding the
 * file (`npm start` at the end of a run) or run while no worker holds it (the CLI).
 */
import type { BackfillStatus } from '../client/backfill-client';
import type { ExportSink } from '../exports/types';
import { listGameDates, planProcessorDates } from '../pipeline/dates';
import { listExportedDates } from '../pipeline/phase6';
import { getProcessor, planPhases } from '../pipeline/registry';
import type { ProcessorDef, TableProcessorDef } from '../pipeline/types';
import type { CostStatus, PauseReason, PhaseGateReport, ProcessorProgress } from '../shared/types';
import { formatFailureBudget } from '../shared/failure-budget';
import { formatWarehouseLoad } from '../client/warehouse-load';
import { parseTimestamp, type QueryOptions, sqlDate, type Warehouse } from '../warehouse/types';
import { classifyDates, type CoverageExplanation, type DateCell, type DateState, explainDateCoverage } from './coverage';

/** What the report needs of the request (the backfill's start input). */
export interface ReportRequest {
  from: string;
  to: string;
  phases: number[];
  processors?: string[];
  bootstrapDays: number;
}

/**
 * The handoff's measured sequential rates on BigQuery (dates per hour), for comparison only:
 * PCF 10.5 h for 848 dates, PDC 15 h for 847, MLFS estimated at 5–6 h.
 */
export const SEED_RATES: Readonly<Record<string, { datesPerHour: number; label: string }>> = {
  player_composite_factors: { datesPerHour: 80, label: '80' },
  player_daily_cache: { datesPerHour: 56, label: '56' },
  ml_feature_store_v2: { datesPerHour: 140, label: '~140 (estimated)' },
};

export interface ReportCell extends DateCell {
  /** Rows the table holds for the date (null for exports and dates without rows). */
  rows: number | null;
}

export interface ProcessorTiming {
  /** Dates whose rows this backfill wrote (table processors; null for exports, which carry no write time). */
  datesWritten: number | null;
  firstWriteAt: string | null;
  lastWriteAt: string | null;
  /** (dates written − 1) / (last write − first write): the whole run's throughput. */
  datesPerHour: number | null;
  /** The workflow's own rate over its most recent dates, when it reported one. */
  workflowDatesPerHour: number | null;
  /** The handoff's figure for this processor, when it gave one. */
  seed: { datesPerHour: number; label: string } | null;
}

export interface ProcessorReport {
  processor: string;
  phase: number;
  group: number;
  kind: 'table' | 'export';
  /** dataset.table, or exports/<name>. */
  target: string;
  /** One cell per game date of the report, in its order. */
  cells: ReportCell[];
  counts: Record<DateState, number>;
  coverage: CoverageExplanation;
  /** What the workflow reported for the processor, when it reported (null without live progress). */
  run: { status: string; done: number; skipped: number; failed: number; total: number } | null;
  timing: ProcessorTiming;
}

export interface BackfillReport {
  id: string;
  /** Temporal's execution status of the backfill: RUNNING, COMPLETED, FAILED, … */
  status: string;
  /** The workflow's stage, when live progress was available. */
  stage: string | null;
  generatedAt: string;
  from: string;
  to: string;
  phases: number[];
  processorsRequested: string[] | null;
  bootstrapDays: number;
  warehouse: string;
  exportLocation: string;
  gameDates: string[];
  /** Seasons in date order with the index of their first date in gameDates (axis labels). */
  seasons: Array<{ season: string; firstIndex: number; dates: number }>;
  processors: ProcessorReport[];
  gates: PhaseGateReport[];
  notes: string[];
  /** Why the backfill paused itself (failure or cost budget), while it is so paused. */
  pauseReason: PauseReason | null;
  /** The failure budget as the flag writes it ("5/20,3", "off"); null: the default. */
  failureBudget: string | null;
  /** Bytes billed against the budget, when a budget is set or bytes were billed. */
  cost: CostStatus | null;
  /** The warehouse load admitted deployment-wide (adaptive load), as the slots workflow last recorded it. */
  warehouseLoad: string | null;
}

export interface BuildReportOptions {
  warehouse: Warehouse;
  exportSink: ExportSink;
  status: BackfillStatus;
  request: ReportRequest;
  /** The report's timestamp (default: now). */
  now?: Date;
  queryOptions?: QueryOptions;
}

export async function buildBackfillReport(options: BuildReportOptions): Promise<BackfillReport> {
  const { warehouse, exportSink, status, request } = options;
  const opts: QueryOptions = { ...options.queryOptions, labels: { ...options.queryOptions?.labels, backfill: status.id } };
  const games = await listGameDates(warehouse, request.from, request.to, opts);
  const gameDates = games.map((g) => g.date);
  const seasons: BackfillReport['seasons'] = [];
  games.forEach((g, i) => {
    const last = seasons[seasons.length - 1];
    if (last?.season === g.season) last.dates += 1;
    else seasons.push({ season: g.season, firstIndex: i, dates: 1 });
  });

  const live = new Map((status.progress?.processors ?? []).map((p) => [p.processor, p]));
  const failedByProcessor = new Map<string, Record<string, string>>();
  for (const p of status.progress?.processors ?? []) failedByProcessor.set(p.processor, Object.fromEntries(p.failures.map((f) => [f.date, f.error])));
  if (!status.progress) for (const r of status.result?.processors ?? []) failedByProcessor.set(r.processor, r.failed);

  const processors: ProcessorReport[] = [];
  for (const phase of planPhases(request.phases, request.processors)) {
    for (const [gi, names] of phase.groups.entries()) {
      for (const name of names) {
        const def = getProcessor(name);
        if (!def) throw new Error(`unknown processor "${name}"`);
        processors.push(await processorReport(warehouse, exportSink, def, gi + 1, gameDates, request, status.id, failedByProcessor.get(name) ?? {}, live.get(name), opts));
      }
    }
  }

  const notes: string[] = [];
  const why = status.note ? ` (${status.note})` : '';
  if (!status.progress && !status.result) {
    notes.push(`the backfill is ${status.status} and its live progress is unavailable${why}: dates are classified from the warehouse; failures and gate reports are unknown`);
  } else if (!status.progress) {
    notes.push(`live progress is unavailable${why}: failures and gate reports come from the stored result; the workflow's own rate is unknown`);
  } else if (status.note) {
    notes.push(status.note);
  }
  return {
    id: status.id,
    status: status.status,
    stage: status.progress ? stageText(status.progress.stage) : null,
    generatedAt: (options.now ?? new Date()).toISOString(),
    from: request.from,
    to: request.to,
    phases: [...request.phases],
    processorsRequested: request.processors ? [...request.processors] : null,
    bootstrapDays: request.bootstrapDays,
    warehouse: warehouse.kind,
    exportLocation: exportSink.describe(),
    gameDates,
    seasons,
    processors,
    gates: status.progress?.gates ?? status.result?.gates ?? [],
    notes,
    pauseReason: status.progress?.pauseReason ?? null,
    failureBudget: status.progress?.failureBudget !== undefined ? formatFailureBudget(status.progress.failureBudget) : null,
    cost: status.progress?.cost ?? null,
    warehouseLoad: status.warehouseLoad ? formatWarehouseLoad(status.warehouseLoad).replace(/^warehouse load: /, '') : null,
  };
}

async function processorReport(
  warehouse: Warehouse,
  exportSink: ExportSink,
  def: ProcessorDef,
  group: number,
  gameDates: string[],
  request: ReportRequest,
  backfillId: string,
  failed: Record<string, string>,
  live: ProcessorProgress | undefined,
  opts: QueryOptions,
): Promise<ProcessorReport> {
  const labelled: QueryOptions = { ...opts, labels: { ...opts.labels, processor: def.name } };
  const plan = await planProcessorDates(warehouse, def, request.from, request.to, request.bootstrapDays, labelled);
  let written: Map<string, { rows: number; at: string | null }>;
  let target: string;
  if (def.kind === 'table') {
    target = `${def.target.dataset}.${def.target.table}`;
    written = await datesWritten(warehouse, def, request, backfillId, labelled);
  } else {
    target = `exports/${def.name}`;
    const exported = await listExportedDates(exportSink, gameDates);
    written = new Map([...exported].map((d) => [d, { rows: 0, at: null }]));
  }
  const picture = { processor: def.name, table: target, gameDates, skipped: plan.skipped, present: new Set(written.keys()), failed };
  const dateCells = classifyDates(picture);
  const cells: ReportCell[] = dateCells.map((c) => ({ ...c, rows: def.kind === 'table' ? (written.get(c.date)?.rows ?? null) : null }));
  const counts: Record<DateState, number> = { done: 0, skipped: 0, failed: 0, missing: 0 };
  for (const c of cells) counts[c.state] += 1;

  const times = [...written.values()]
    .map((w) => (w.at === null ? Number.NaN : parseTimestamp(w.at)))
    .filter((t) => Number.isFinite(t))
    .sort((a, b) => a - b);
  const first = times[0];
  const last = times[times.length - 1];
  const span = first !== undefined && last !== undefined ? last - first : 0;
  return {
    processor: def.name,
    phase: def.phase,
    group,
    kind: def.kind,
    target,
    cells,
    counts,
    coverage: explainDateCoverage(picture, dateCells),
    run: live ? { status: live.status, done: live.done, skipped: live.skipped, failed: live.failed, total: live.total } : null,
    timing: {
      datesWritten: def.kind === 'table' ? times.length : null,
      firstWriteAt: first === undefined ? null : new Date(first).toISOString(),
      lastWriteAt: last === undefined ? null : new Date(last).toISOString(),
      datesPerHour: times.length >= 2 && span > 0 ? ((times.length - 1) / span) * 3_600_000 : null,
      workflowDatesPerHour: live?.ratePerMinute != null ? live.ratePerMinute * 60 : null,
      seed: SEED_RATES[def.name] ?? null,
    },
  };
}

/**
 * Per date of the range: the rows the table holds and when this backfill last wrote the date. The
 * tracking columns (source_backfill_id, processed_at) are on every processor table.
 */
async function datesWritten(
  warehouse: Warehouse,
  def: TableProcessorDef,
  request: ReportRequest,
  backfillId: string,
  opts: QueryOptions,
): Promise<Map<string, { rows: number; at: string | null }>> {
  if (!(await warehouse.tableExists(def.target))) return new Map();
  const d = warehouse.dialect;
  const rows = await warehouse.query(
    `SELECT ${def.dateColumn} AS d, count(*) AS n,
            MAX(CASE WHEN source_backfill_id = ${d.param('backfill_id')} THEN processed_at END) AS written_at
     FROM ${d.table(def.target)}
     WHERE ${def.dateColumn} BETWEEN ${d.dateParam('from')} AND ${d.dateParam('to')}
     GROUP BY ${def.dateColumn}`,
    { from: sqlDate(request.from), to: sqlDate(request.to), backfill_id: backfillId },
    opts,
  );
  return new Map(rows.map((r) => [String(r.d), { rows: Number(r.n), at: r.written_at === null || r.written_at === undefined ? null : String(r.written_at) }]));
}

function stageText(stage: NonNullable<BackfillStatus['progress']>['stage']): string {
  switch (stage.kind) {
    case 'running':
      return stage.group === 0 ? `phase ${stage.phase}, re-running dates` : `phase ${stage.phase}, group ${stage.group}`;
    case 'validating':
    case 'remediating':
      return `${stage.kind} phase ${stage.phase}`;
    case 'gate_failed':
      return `phase ${stage.phase} gate failed: waiting for an operator`;
    default:
      return stage.kind;
  }
}

/**
 * The dry run: what a backfill request would do, computed from the warehouse without writing
 * anything — per phase, group and processor the dates to run, the dates skipped with their reasons,
 * the coverage each table should end with, and, on engines that price statements (BigQuery), the
 * bytes each processor's per-date write would scan, from dry-run jobs on a sample of its dates, and
 * an estimate of the duration from the rates earlier runs of the same processors achieved.
 *
 * The rates are read from the processors' own tables: every row carries the backfill that wrote it
 * and when (TRACKING_COLUMNS), so a run's dates per hour is its distinct dates over the span of its
 * write times. Nothing else records a finished run's pace once its workflow history is gone.
 */
import { canEstimateBytes, parseTimestamp, type Warehouse } from '../warehouse/types';
import { planProcessorDates } from './dates';
import { replaceArgs } from './engine';
import { getProcessor, planPhases } from './registry';
import type { TableProcessorDef } from './types';

export interface BytesEstimate {
  /** Dates whose write was priced by a dry-run job. */
  sampledDates: string[];
  /** Mean bytes per date over the sample. */
  bytesPerDate: number;
  /** bytesPerDate × dates to run. */
  totalBytes: number;
  /** On-demand cost of totalBytes at the configured price per TiB. */
  costUsd: number;
}

/** The pace of a processor's most recent earlier run, from the tracking columns of its table. */
export interface ObservedRate {
  backfillId: string;
  /** Distinct dates the run's rows still cover in the table. */
  dates: number;
  firstProcessedAt: string;
  lastProcessedAt: string;
  /** (dates − 1) / (last − first write): the first write ends the first date, so n dates span n − 1 intervals. */
  datesPerHour: number;
}

export interface ProcessorPlan {
  processor: string;
  phase: number;
  group: number;
  /** dataset.table, or exports/<name> for an export processor. */
  target: string;
  gameDates: number;
  datesToRun: number;
  firstDate: string | null;
  lastDate: string | null;
  skipped: number;
  /** reason → number of dates skipped for it. */
  skipReasons: Record<string, number>;
  /** The coverage the gate will expect: datesToRun of gameDates. */
  expectedCoverage: { expected: number; of: number };
  bytes?: BytesEstimate;
  /** Its most recent earlier run with at least MIN_RATE_DATES dates; null for exports (no table) and when there is none. */
  observedRate: ObservedRate | null;
  /** The rate behind estimatedSeconds: its own observed one, or the mean of the others' (borrowed). */
  estimateRate: { datesPerHour: number; borrowed: boolean } | null;
  /** datesToRun / rate in seconds (0 with nothing to run); null when no processor of the plan has a rate. */
  estimatedSeconds: number | null;
}

export interface BackfillPlan {
  from: string;
  to: string;
  phases: Array<{ phase: number; groups: ProcessorPlan[][] }>;
  totals: {
    dateTasks: number;
    skipped: number;
    bytes?: { totalBytes: number; costUsd: number; pricePerTib: number };
    /** Groups as long as their slowest processor, phases in sequence; null when no processor has a rate. */
    estimatedSeconds: number | null;
  };
  notes: string[];
}

export interface PlanOptions {
  from: string;
  to: string;
  phases: number[];
  processors?: string[];
  bootstrapDays: number;
  /** Dates priced per processor on engines that support dry runs (spread over the range). */
  bytesSampleSize?: number;
  pricePerTib?: number;
}

const TIB = 2 ** 40;

/** A run with fewer dates says little about a pace (two dates are one interval): it is passed over. */
export const MIN_RATE_DATES = 3;
/** Recent runs looked at per processor, newest first, for one with a measurable span. */
const RATE_CANDIDATES = 5;

/**
 * The most recent earlier run of a table processor with at least MIN_RATE_DATES dates and a
 * non-zero span of write times, or null. Reads only: a missing table means no run, not a CREATE.
 * The span is computed here from the returned timestamps, so the SQL needs no engine's timestamp maths.
 */
export async function observedRate(warehouse: Warehouse, def: TableProcessorDef): Promise<ObservedRate | null> {
  if (!(await warehouse.tableExists(def.target))) return null;
  const d = warehouse.dialect;
  const rows = await warehouse.query(
    `SELECT source_backfill_id AS backfill_id, count(DISTINCT ${def.dateColumn}) AS dates,
            MIN(processed_at) AS first_processed_at, MAX(processed_at) AS last_processed_at
     FROM ${d.table(def.target)}
     WHERE source_backfill_id IS NOT NULL AND processed_at IS NOT NULL
     GROUP BY source_backfill_id
     HAVING count(DISTINCT ${def.dateColumn}) >= ${d.param('min_count')}
     ORDER BY last_processed_at DESC
     LIMIT ${RATE_CANDIDATES}`,
    { min_count: MIN_RATE_DATES },
    { labels: { processor: def.name } },
  );
  for (const r of rows) {
    if (r.first_processed_at === null || r.last_processed_at === null || r.backfill_id === null) continue;
    const first = parseTimestamp(String(r.first_processed_at));
    const last = parseTimestamp(String(r.last_processed_at));
    const dates = Number(r.dates);
    if (!Number.isFinite(first) || !Number.isFinite(last) || last <= first || dates < MIN_RATE_DATES) continue;
    return {
      backfillId: String(r.backfill_id),
      dates,
      firstProcessedAt: new Date(first).toISOString(),
      lastProcessedAt: new Date(last).toISOString(),
      datesPerHour: ((dates - 1) / (last - first)) * 3_600_000,
    };
  }
  return null;
}

/** What the duration estimate needs of a processor's plan. */
export interface EstimateInput {
  processor: string;
  datesToRun: number;
  observedRate: Pick<ObservedRate, 'datesPerHour'> | null;
}

export interface DurationEstimate {
  /** processor → its rate and seconds (see ProcessorPlan.estimateRate / estimatedSeconds). */
  processors: Map<string, { rate: { datesPerHour: number; borrowed: boolean } | null; seconds: number | null }>;
  /** Mean of the observed rates, which processors without one borrow; null when none was observed. */
  meanDatesPerHour: number | null;
  /** Processors with dates to run and no rate of their own. */
  borrowers: string[];
  totalSeconds: number | null;
}

/**
 * The plan's duration: each processor datesToRun / its rate (its own, else the mean of the observed
 * ones), a group as long as its slowest member (they run concurrently), phases and groups in
 * sequence. Pure, so the arithmetic is tested without a warehouse.
 */
export function estimatePlanDuration(phases: ReadonlyArray<{ groups: ReadonlyArray<ReadonlyArray<EstimateInput>> }>): DurationEstimate {
  const all = phases.flatMap((p) => p.groups.flat());
  const observed = all.map((p) => p.observedRate?.datesPerHour).filter((r): r is number => r !== undefined && r > 0);
  const meanDatesPerHour = observed.length > 0 ? observed.reduce((a, b) => a + b, 0) / observed.length : null;
  const processors: DurationEstimate['processors'] = new Map();
  const borrowers: string[] = [];
  let totalSeconds: number | null = meanDatesPerHour === null ? null : 0;
  for (const phase of phases) {
    for (const group of phase.groups) {
      let slowest = 0;
      for (const p of group) {
        const own = p.observedRate !== null && p.observedRate.datesPerHour > 0 ? p.observedRate.datesPerHour : null;
        // Nothing to run needs no rate: it takes no time, and borrows nothing.
        const borrows = own === null && meanDatesPerHour !== null && p.datesToRun > 0;
        if (borrows) borrowers.push(p.processor);
        const rate = own !== null ? { datesPerHour: own, borrowed: false } : borrows && meanDatesPerHour !== null ? { datesPerHour: meanDatesPerHour, borrowed: true } : null;
        const seconds = meanDatesPerHour === null ? null : rate === null ? 0 : Math.round((p.datesToRun / rate.datesPerHour) * 3600);
        processors.set(p.processor, { rate, seconds });
        slowest = Math.max(slowest, seconds ?? 0);
      }
      if (totalSeconds !== null) totalSeconds += slowest;
    }
  }
  return { processors, meanDatesPerHour, borrowers, totalSeconds };
}

/** Up to n dates spread evenly over the list, first and last included. */
export function sampleDates(dates: readonly string[], n: number): string[] {
  if (dates.length <= n) return [...dates];
  if (n <= 1) return dates.slice(0, Math.max(0, n));
  const picked = new Set<string>();
  for (let i = 0; i < n; i++) picked.add(dates[Math.round((i * (dates.length - 1)) / (n - 1))] as string);
  return [...picked];
}

export async function planBackfill(warehouse: Warehouse, options: PlanOptions): Promise<BackfillPlan> {
  const phasePlans = planPhases(options.phases, options.processors);
  const sampleSize = options.bytesSampleSize ?? 3;
  const pricePerTib = options.pricePerTib ?? 6.25;
  const priced = canEstimateBytes(warehouse);
  const phases: BackfillPlan['phases'] = [];
  let dateTasks = 0;
  let skippedTotal = 0;
  let totalBytes = 0;
  for (const pp of phasePlans) {
    const groups: ProcessorPlan[][] = [];
    for (const [gi, names] of pp.groups.entries()) {
      const group: ProcessorPlan[] = [];
      for (const name of names) {
        const def = getProcessor(name);
        if (!def) throw new Error(`unknown processor "${name}"`);
        const plan = await planProcessorDates(warehouse, def, options.from, options.to, options.bootstrapDays);
        const skipReasons: Record<string, number> = {};
        for (const s of plan.skipped) skipReasons[s.reason] = (skipReasons[s.reason] ?? 0) + 1;
        const gameDates = plan.dates.length + plan.skipped.length;
        const entry: ProcessorPlan = {
          processor: def.name,
          phase: def.phase,
          group: gi + 1,
          target: def.kind === 'table' ? `${def.target.dataset}.${def.target.table}` : `exports/${def.name}`,
          gameDates,
          datesToRun: plan.dates.length,
          firstDate: plan.dates[0] ?? null,
          lastDate: plan.dates[plan.dates.length - 1] ?? null,
          skipped: plan.skipped.length,
          skipReasons,
          expectedCoverage: { expected: plan.dates.length, of: gameDates },
          observedRate: def.kind === 'table' ? await observedRate(warehouse, def) : null,
          estimateRate: null,
          estimatedSeconds: null,
        };
        if (priced && def.kind === 'table' && plan.dates.length > 0) {
          const sampled = sampleDates(plan.dates, sampleSize);
          let sum = 0;
          for (const date of sampled) {
            const { bytesProcessed } = await warehouse.dryRunReplacePartition(
              replaceArgs(warehouse.dialect, def, date, { backfillId: 'dry-run' }),
            );
            sum += bytesProcessed;
          }
          const bytesPerDate = sum / sampled.length;
          const total = bytesPerDate * plan.dates.length;
          totalBytes += total;
          entry.bytes = { sampledDates: sampled, bytesPerDate, totalBytes: total, costUsd: (total / TIB) * pricePerTib };
        }
        dateTasks += plan.dates.length;
        skippedTotal += plan.skipped.length;
        group.push(entry);
      }
      groups.push(group);
    }
    phases.push({ phase: pp.phase, groups });
  }
  const estimate = estimatePlanDuration(phases);
  for (const p of phases.flatMap((x) => x.groups.flat())) {
    const e = estimate.processors.get(p.processor);
    p.estimateRate = e?.rate ?? null;
    p.estimatedSeconds = e?.seconds ?? null;
  }
  const notes: string[] = [];
  notes.push(...estimateNotes(phases, estimate));
  if (priced) {
    notes.push(
      `bytes are BigQuery dry-run estimates on ${sampleSize} sampled date(s) per processor, against the tables as they are now: inputs that earlier phases have not written yet count as empty`,
    );
  } else {
    notes.push(`${warehouse.kind} bills no bytes: no scan estimate`);
  }
  return {
    from: options.from,
    to: options.to,
    phases,
    totals: {
      dateTasks,
      skipped: skippedTotal,
      ...(priced ? { bytes: { totalBytes, costUsd: (totalBytes / TIB) * pricePerTib, pricePerTib } } : {}),
      estimatedSeconds: estimate.totalSeconds,
    },
    notes,
  };
}

function estimateNotes(phases: BackfillPlan['phases'], estimate: DurationEstimate): string[] {
  const all = phases.flatMap((p) => p.groups.flat());
  const exportProcessors = new Set(all.filter((p) => p.target.startsWith('exports/')).map((p) => p.processor));
  const noTable = (names: string[]): string => {
    const e = names.filter((n) => exportProcessors.has(n));
    return e.length === 0 ? '' : ` (${e.join(', ')} ${e.length === 1 ? 'is an export and writes' : 'are exports and write'} no table to measure)`;
  };
  if (estimate.totalSeconds === null) {
    return [
      `no duration estimate: no earlier run of these processors wrote at least ${MIN_RATE_DATES} dates to its table${noTable([...exportProcessors])}; ` +
        'after a first backfill, the dry run estimates from its rates',
    ];
  }
  const notes = [
    "duration estimated from each processor's most recent earlier run (its dates over the span of its write times), " +
      'at whatever window, warehouse cap and date range that run had, pauses and re-runs included; ' +
      'a group takes as long as its slowest processor, phases run in sequence, gates are not counted',
  ];
  if (estimate.borrowers.length > 0 && estimate.meanDatesPerHour !== null) {
    notes.push(
      `no earlier run to measure for ${estimate.borrowers.join(', ')}${noTable(estimate.borrowers)}: ` +
        `${estimate.borrowers.length === 1 ? 'it borrows' : 'they borrow'} the mean of the others' rates, ${estimate.meanDatesPerHour.toFixed(1)} dates/h`,
    );
  }
  return notes;
}

/**
 * The dry run: what a backfill request would do, computed from the warehouse without writing
 * anything — per phase, group and processor the dates to run, the dates skipped with their reasons,
 * the coverage each table should end with, and, on engines that price statements (BigQuery), the
 * bytes each processor's per-date write would scan, from dry-run jobs on a sample of its dates.
 */
import { canEstimateBytes, type Warehouse } from '../warehouse/types';
import { planProcessorDates } from './dates';
import { replaceArgs } from './engine';
import { getProcessor, planPhases } from './registry';

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
}

export interface BackfillPlan {
  from: string;
  to: string;
  phases: Array<{ phase: number; groups: ProcessorPlan[][] }>;
  totals: { dateTasks: number; skipped: number; bytes?: { totalBytes: number; costUsd: number; pricePerTib: number } };
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
  const notes: string[] = [];
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
    },
    notes,
  };
}

/**
 * Commands that work on the warehouse directly: seed the demo data, show a phase gate report
 * without running anything, and remove duplicate keys.
 */
import type { Command } from 'commander';
import { createExportSink, ExportLocationError, type ExportSink } from '../exports';
import { listExportedDates } from '../pipeline/phase6';
import { getProcessor, planPhases } from '../pipeline/registry';
import { validatePhase } from '../pipeline/validation';
import { withTrackingColumns } from '../pipeline/types';
import { createWarehouse, WarehouseError, type Warehouse } from '../warehouse';
import { ensureWarehouseTables } from '../pipeline/tables';
import { CliError, UsageError } from './errors';
import { backfillIdFor } from '../client/backfill-client';
import { bytes, formatGate, formatPlan } from './format';
import type { BackfillPlan } from '../pipeline/plan';
import type { CliContext } from './index';
import { parseDate, parseRange } from './parse';

async function withWarehouse<T>(ctx: CliContext, fn: (w: Warehouse) => Promise<T>): Promise<T> {
  const config = ctx.config();
  const warehouse = createWarehouse(config);
  try {
    return await fn(warehouse);
  } catch (err) {
    if (err instanceof WarehouseError) throw new CliError(err.message);
    throw err;
  } finally {
    await warehouse.close();
  }
}

/** `start --dry-run`: the plan, read from the warehouse with reads and dry-run jobs only. */
export async function dryRunPlan(
  ctx: CliContext,
  request: { from: string; to: string; phases: number[]; processors?: string[]; json: boolean; maxBytesBilledTotal?: number },
): Promise<BackfillPlan> {
  const plan = await estimatePlan(ctx, request);
  const id = backfillIdFor({ from: request.from, to: request.to, phases: request.phases, ...(request.processors ? { processors: request.processors } : {}) });
  const budget = request.maxBytesBilledTotal;
  const estimate = plan.totals.bytes?.totalBytes;
  const vsBudget =
    budget === undefined
      ? null
      : estimate === undefined
        ? { budgetBytes: budget, estimateBytes: null, within: null, note: `--max-bytes-billed-total ${bytes(budget)}: not applicable on ${ctx.config().warehouse}, which bills no bytes` }
        : { budgetBytes: budget, estimateBytes: estimate, within: estimate <= budget, note: `estimated scan ${bytes(estimate)} against a budget of ${bytes(budget)} (${((estimate / budget) * 100).toFixed(1)}%)` };
  if (request.json) ctx.io.out(`${JSON.stringify({ id, dryRun: true, ...plan, ...(vsBudget ? { costBudget: vsBudget } : {}) }, null, 2)}\n`);
  else ctx.io.out(`${formatPlan(id, plan)}${vsBudget ? `\nbudget: ${vsBudget.note}` : ''}\n`);
  return plan;
}

/** The dry run's plan (reads and dry-run jobs only), for `--dry-run` and for the budget check of `start`. */
export async function estimatePlan(
  ctx: CliContext,
  request: { from: string; to: string; phases: number[]; processors?: string[] },
): Promise<BackfillPlan> {
  const config = ctx.config();
  const { planBackfill } = await import('../pipeline/plan');
  return withWarehouse(ctx, (w) =>
    planBackfill(w, {
      from: request.from,
      to: request.to,
      phases: request.phases,
      ...(request.processors ? { processors: request.processors } : {}),
      bootstrapDays: config.bootstrapDays,
      pricePerTib: config.bigqueryPricePerTib,
    }),
  );
}

export function registerWarehouseCommands(program: Command, ctx: CliContext): void {
  program
    .command('seed-demo')
    .description('load the deterministic synthetic nba_raw data into the warehouse (idempotent per date range)')
    .option('--from <date>', 'first date (default: the preset\'s)')
    .option('--to <date>', 'last date (default: the preset\'s)')
    .option('--preset <name>', 'full | small | tiny', 'full')
    .option('--seed <n>', 'generator seed')
    .action(async (opts: { from?: string; to?: string; preset: string; seed?: string }) => {
      const { DEMO_PRESETS, seedDemoData } = await import('../pipeline/demo');
      if (!(opts.preset in DEMO_PRESETS)) {
        throw new UsageError(`--preset must be one of ${Object.keys(DEMO_PRESETS).join(', ')}, got "${opts.preset}"`);
      }
      const from = opts.from === undefined ? undefined : parseDate(opts.from, '--from');
      const to = opts.to === undefined ? undefined : parseDate(opts.to, '--to');
      if (from && to && from > to) throw new UsageError(`--from ${from} is after --to ${to}`);
      let seed: number | undefined;
      if (opts.seed !== undefined) {
        if (!/^\d+$/.test(opts.seed)) throw new UsageError(`--seed must be a non-negative integer, got "${opts.seed}"`);
        seed = Number(opts.seed);
      }
      const summary = await withWarehouse(ctx, async (w) => {
        await ensureWarehouseTables(w);
        return seedDemoData(w, {
          preset: opts.preset as keyof typeof DEMO_PRESETS,
          ...(from ? { from } : {}),
          ...(to ? { to } : {}),
          ...(seed !== undefined ? { seed } : {}),
        });
      });
      ctx.io.out(`${JSON.stringify(summary, null, 2)}\n`);
    });

  program
    .command('validate')
    .description('the phase gate report for a range, without running anything')
    .requiredOption('--phase <n>', 'phase number')
    .requiredOption('--from <date>', 'first date')
    .requiredOption('--to <date>', 'last date')
    .option('--json', 'print JSON')
    .action(async (opts: { phase: string; from: string; to: string; json?: boolean }) => {
      const { from, to } = parseRange(opts.from, opts.to);
      const phase = Number(opts.phase);
      let names: string[];
      try {
        names = planPhases([phase]).flatMap((p) => p.groups.flat());
      } catch (err) {
        throw new UsageError(`--phase: ${err instanceof Error ? err.message : String(err)}`);
      }
      const defs = names.map((n) => getProcessor(n)).filter((d) => d !== undefined);
      const config = ctx.config();
      let exportSink: ExportSink;
      try {
        exportSink = createExportSink({ exportDir: config.exportDir, gcsApiEndpoint: config.gcsApiEndpoint });
      } catch (err) {
        throw err instanceof ExportLocationError ? new UsageError(err.message) : err;
      }
      const report = await withWarehouse(ctx, async (w) => {
        await ensureWarehouseTables(w);
        return validatePhase(w, phase, defs, {
          from,
          to,
          bootstrapDays: config.bootstrapDays,
          exportedDates: (_def, dates) => listExportedDates(exportSink, dates),
          thresholds: config.gateThresholds,
        });
      });
      ctx.io.out(`${opts.json ? JSON.stringify(report, null, 2) : formatGate(report)}\n`);
      if (!report.ok) throw new CliError(`phase ${phase} gate failed (${report.problems.length} problem(s))`);
    });

  program
    .command('dedupe')
    .description('remove duplicate keys from a processor table over a date range, keeping the newest row')
    .requiredOption('--table <name>', 'processor table, e.g. player_game_summary')
    .requiredOption('--from <date>', 'first date')
    .requiredOption('--to <date>', 'last date')
    .action(async (opts: { table: string; from: string; to: string }) => {
      const { from, to } = parseRange(opts.from, opts.to);
      const name = opts.table.includes('.') ? opts.table.split('.').pop() ?? '' : opts.table;
      const def = getProcessor(name);
      if (!def || def.kind !== 'table') throw new UsageError(`--table: unknown processor table "${opts.table}"`);
      const result = await withWarehouse(ctx, async (w) => {
        await ensureWarehouseTables(w);
        return w.deduplicate({
          target: withTrackingColumns(def.target),
          keyColumns: def.keyColumns,
          dateColumn: def.dateColumn,
          from,
          to,
          orderBy: 'processed_at',
        });
      });
      ctx.io.out(`${def.target.dataset}.${def.target.table}: removed ${result.rowsRemoved} duplicate row(s) between ${from} and ${to}\n`);
    });
}

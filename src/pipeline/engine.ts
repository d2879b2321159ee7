/**
 * Turns (processor, date) into one idempotent write: the date's rows are replaced atomically, so a
 * date run any number of times — by a retry, a restarted worker or a re-run backfill — leaves one
 * copy of each key.
 */
import type { Dialect, QueryOptions, ReplacePartitionArgs, Warehouse } from '../warehouse/types';
import { sqlDate, WarehouseError } from '../warehouse/types';
import { rawSchedule } from './raw';
import { requireAll } from './sql';
import { type TableProcessorDef, withTrackingColumns } from './types';

export interface ProcessorRunResult {
  rowsWritten: number;
}

/**
 * Creates the processor's target table (with tracking columns) if it does not exist, partitioned by
 * its date column and clustered by its key where the engine has such things, so a per-date write
 * replaces one partition.
 */
export async function ensureProcessorTable(warehouse: Warehouse, def: TableProcessorDef): Promise<void> {
  await warehouse.ensureTable({ ...withTrackingColumns(def.target), partitionColumn: def.dateColumn, clusterColumns: def.keyColumns });
}

export async function runTableProcessor(
  warehouse: Warehouse,
  def: TableProcessorDef,
  date: string,
  ctx: { backfillId: string },
  opts?: QueryOptions,
): Promise<ProcessorRunResult> {
  const d = warehouse.dialect;
  if (def.requiredInput) {
    const [inputRow] = await warehouse.query(def.requiredInput(d), { date: sqlDate(date) }, opts);
    if (Number(inputRow?.n ?? 0) === 0) {
      const [games] = await warehouse.query(requireAll(d, [{ ref: rawSchedule }]), { date: sqlDate(date) }, opts);
      if (Number(games?.n ?? 0) > 0) {
        throw new WarehouseError(
          `missing input for ${def.name} on ${date}: the schedule has ${String(games?.n)} game(s) but ${def.inputs
            .map((t) => `${t.dataset}.${t.table}`)
            .join(', ')} has no rows for it`,
          'missing_input',
        );
      }
    }
  }
  return warehouse.replacePartition(replaceArgs(d, def, date, ctx), opts);
}

/** The per-date write of a processor, as the engine receives it (also priced by the dry run). */
export function replaceArgs(d: Dialect, def: TableProcessorDef, date: string, ctx: { backfillId: string }): ReplacePartitionArgs {
  return {
    target: withTrackingColumns(def.target),
    dateColumn: def.dateColumn,
    date,
    selectSql: def.select(d),
    params: { date: sqlDate(date), backfill_id: ctx.backfillId },
    extraColumns: { source_backfill_id: d.param('backfill_id'), processed_at: d.now() },
  };
}

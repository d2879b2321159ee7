/**
 * The warehouse load admitted deployment-wide now (adaptive load), read from the slots workflow's
 * memo through the server alone: no worker needs to answer, so `status` never waits on a query.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { slotsWorkflowId } from '../activities/temporal-slots';
import { WAREHOUSE_LOAD_MEMO, type WarehouseLoadMemo } from '../shared/messages';

/** Undefined until a worker has reported (or when no slots workflow runs for this warehouse). */
export async function warehouseLoad(client: Client, warehouseKey: string): Promise<WarehouseLoadMemo | undefined> {
  try {
    const description = await client.workflow.getHandle(slotsWorkflowId(warehouseKey)).describe();
    const memo = description.memo?.[WAREHOUSE_LOAD_MEMO] as WarehouseLoadMemo | undefined;
    return memo && typeof memo.limit === 'number' ? memo : undefined;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/** One line for `status` and the report: "3 of 4 warehouse operations admitted (adaptive, floor 1) — 4 → 3: reason". */
export function formatWarehouseLoad(load: WarehouseLoadMemo | undefined): string {
  if (!load) return 'warehouse load: no worker has reported yet';
  const how = load.adaptive ? `adaptive, floor ${Math.min(load.floor, load.ceiling)}` : 'adaptive load off';
  const change = load.lastChange ? ` — last change ${load.lastChange.from} → ${load.lastChange.to}: ${load.lastChange.reason}` : '';
  return `warehouse load: ${load.limit} of ${load.ceiling} operations admitted at once (${how})${change}`;
}

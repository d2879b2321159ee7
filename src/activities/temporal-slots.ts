/**
 * The deployment-wide warehouse cap, client side: each acquire is an update-with-start on the one
 * slots workflow of the warehouse (keyed by what it is, not by task queue), so every worker
 * process of every backfill that writes to that warehouse asks the same counter. The slots
 * workflow runs on its own task queue, which every worker process polls.
 */
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import { acquireSlotUpdate, releaseSlotSignal, renewSlotSignal } from '../shared/messages';
import type { warehouseSlotsWorkflow } from '../workflows/warehouse-slots';
import type { ReleaseSlot, WarehouseSlots } from './warehouse-slots';

export function slotsWorkflowId(warehouseKey: string): string {
  return `warehouse-slots/${warehouseKey}`;
}

export class TemporalWarehouseSlots implements WarehouseSlots {
  private held = 0;

  constructor(
    private readonly client: Client,
    /** The task queue the slots workflow runs on (every worker process polls it). */
    private readonly slotsTaskQueue: string,
    /** Identity of the warehouse being protected, e.g. duckdb:/abs/path or bigquery:project. */
    private readonly warehouseKey: string,
    private readonly capacity: number,
  ) {}

  inUse(): number {
    return this.held;
  }

  async acquire(holder: string, signal?: AbortSignal): Promise<ReleaseSlot> {
    const workflowId = slotsWorkflowId(this.warehouseKey);
    let leaseMs: number;
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
      try {
        const startWorkflowOperation = new WithStartWorkflowOperation<typeof warehouseSlotsWorkflow>('warehouseSlotsWorkflow', {
          workflowId,
          taskQueue: this.slotsTaskQueue,
          args: [{ capacity: this.capacity }],
          workflowIdConflictPolicy: 'USE_EXISTING',
          staticSummary: `At most ${this.capacity} warehouse operations in flight on ${this.warehouseKey}`,
        });
        const pending = this.client.workflow.executeUpdateWithStart(acquireSlotUpdate, {
          args: [{ holder, capacity: this.capacity }],
          startWorkflowOperation,
        });
        const granted = await abortable(pending, signal, () => {
          // Cancelled while queued: when the grant arrives, hand the slot straight back.
          pending.then(() => this.client.workflow.getHandle(workflowId).signal(releaseSlotSignal, holder)).catch(() => undefined);
        });
        leaseMs = granted.leaseMs;
        break;
      } catch (err) {
        if (signal?.aborted) throw err;
        // Rolling over (continue-as-new) or a closed run: ask the next run.
        if (attempt >= 50) throw err;
        await new Promise((r) => setTimeout(r, Math.min(1_000, 50 * (attempt + 1))));
      }
    }
    this.held += 1;
    const handle = this.client.workflow.getHandle(workflowId);
    const renew = setInterval(() => {
      handle.signal(renewSlotSignal, holder).catch(() => undefined);
    }, Math.max(1_000, leaseMs / 4));
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      clearInterval(renew);
      this.held -= 1;
      // If this fails the lease still expires; the cap self-heals.
      await handle.signal(releaseSlotSignal, holder).catch(() => undefined);
    };
  }
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined, onAbort: () => void): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => {
      onAbort();
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    if (signal.aborted) return abort();
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', abort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

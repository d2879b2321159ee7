/**
 * The deployment-wide warehouse cap, client side: each acquire is an update-with-start on the one
 * slots workflow of the warehouse (keyed by what it is, not by task queue), so every worker
 * process of every backfill that writes to that warehouse asks the same counter. The slots
 * workflow runs on its own task queue, which every worker process polls.
 *
 * Leases are renewed by the process, for all its slots in one signal every third of the lease: a
 * live process keeps its slots, a dead one loses them within one lease, and the slots workflow's
 * history grows by one signal per period however many slots the process holds.
 */
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import { acquireSlotUpdate, releaseSlotSignal, renewSlotsSignal } from '../shared/messages';
import type { warehouseSlotsWorkflow } from '../workflows/warehouse-slots';
import type { ReleaseSlot, WarehouseSlots } from './warehouse-slots';

export function slotsWorkflowId(warehouseKey: string): string {
  return `warehouse-slots/${warehouseKey}`;
}

export class TemporalWarehouseSlots implements WarehouseSlots {
  /** holder → slots this process holds for it (more than one only when a retry overlaps its own attempt). */
  private readonly holders = new Map<string, number>();
  private renewal: { timer: NodeJS.Timeout; periodMs: number } | undefined;

  constructor(
    private readonly client: Client,
    /** The task queue the slots workflow runs on (every worker process polls it). */
    private readonly slotsTaskQueue: string,
    /** Identity of the warehouse being protected, e.g. duckdb:/abs/path or bigquery:project. */
    private readonly warehouseKey: string,
    private readonly capacity: number,
  ) {}

  inUse(): number {
    let n = 0;
    for (const count of this.holders.values()) n += count;
    return n;
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
    this.holders.set(holder, (this.holders.get(holder) ?? 0) + 1);
    this.renewEvery(Math.max(1_000, Math.floor(leaseMs / 3)));
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      const left = (this.holders.get(holder) ?? 1) - 1;
      if (left > 0) this.holders.set(holder, left);
      else this.holders.delete(holder);
      if (this.holders.size === 0) this.stopRenewing();
      // If this fails the lease still expires; the cap self-heals.
      await this.client.workflow.getHandle(workflowId).signal(releaseSlotSignal, holder).catch(() => undefined);
    };
  }

  /** One renewal loop per process while it holds any slot; the shortest lease granted sets its pace. */
  private renewEvery(periodMs: number): void {
    if (this.renewal && this.renewal.periodMs <= periodMs) return;
    this.stopRenewing();
    const handle = this.client.workflow.getHandle(slotsWorkflowId(this.warehouseKey));
    const timer = setInterval(() => {
      if (this.holders.size === 0) return;
      // A lost renewal is retried next period; a lease outlives two of them.
      handle.signal(renewSlotsSignal, [...this.holders.keys()]).catch(() => undefined);
    }, periodMs);
    this.renewal = { timer, periodMs };
  }

  private stopRenewing(): void {
    if (this.renewal) clearInterval(this.renewal.timer);
    this.renewal = undefined;
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

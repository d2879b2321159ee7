/**
 * The deployment-wide warehouse cap, client side: each acquire is an update-with-start on the one
 * slots workflow of the warehouse (keyed by what it is, not by task queue), so every worker
 * process of every backfill that writes to that warehouse asks the same counter. The slots
 * workflow runs on its own task queue, which every worker process polls.
 *
 * Leases are renewed by the process, for every slot it holds or waits for, in one signal every
 * third of the lease: a live process keeps its slots and its places in the queue, a dead one loses
 * them within one lease, and the slots workflow's history grows by one signal per period however
 * many slots the process has.
 *
 * A waiting request is an update in flight, and the server admits only a few of those per workflow
 * (`history.maxInFlightUpdates`, 10 by default); the rest are refused and retried by the client
 * with back-off from a second, so under contention late-comers overtook them and a date could wait
 * tens of seconds. So each process sends at most `maxWaitingPerProcess` requests at a time (one by
 * default: ten worker processes fit under the server's limit) and queues the rest itself, first
 * come first served; the slots workflow keeps the order between processes.
 */
import { WithStartWorkflowOperation, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { SLOT_LEASE_MS, acquireSlotUpdate, releaseSlotSignal, renewSlotsSignal } from '../shared/messages';
import type { warehouseSlotsWorkflow } from '../workflows/warehouse-slots';
import type { ReleaseSlot, WarehouseSlots } from './warehouse-slots';

export function slotsWorkflowId(warehouseKey: string): string {
  return `warehouse-slots/${warehouseKey}`;
}

/** Failures of an acquire that mean "ask again", not "this request is wrong". */
const ASK_AGAIN = new Set(['SlotsRollover', 'SlotRequestLapsed']);
const MAX_RETRY_DELAY_MS = 1_000;

export class TemporalWarehouseSlots implements WarehouseSlots {
  /** holder → slots this process holds for it (more than one only when a retry overlaps its own attempt). */
  private readonly held = new Map<string, number>();
  /** holder → this process's requests for it waiting at the slots workflow. */
  private readonly asking = new Map<string, number>();
  private renewal: { timer: NodeJS.Timeout; periodMs: number } | undefined;
  private renewPeriodMs = Math.floor(SLOT_LEASE_MS / 3);
  /** Requests of this process now waiting at the slots workflow. */
  private sent = 0;
  /** Requests waiting for their turn to be sent, oldest first. */
  private readonly turns: Array<() => void> = [];

  constructor(
    private readonly client: Client,
    /** The task queue the slots workflow runs on (every worker process polls it). */
    private readonly slotsTaskQueue: string,
    /** Identity of the warehouse being protected, e.g. duckdb:/abs/path or bigquery:project. */
    private readonly warehouseKey: string,
    private readonly capacity: number,
    private readonly maxWaitingPerProcess = 1,
  ) {}

  inUse(): number {
    let n = 0;
    for (const count of this.held.values()) n += count;
    return n;
  }

  async acquire(holder: string, signal?: AbortSignal): Promise<ReleaseSlot> {
    const workflowId = slotsWorkflowId(this.warehouseKey);
    const handle = this.client.workflow.getHandle(workflowId);
    let leaseMs: number;
    await this.takeTurn(signal);
    // Renewed from now on: a request waiting its turn inside the process is nothing to the workflow yet.
    count(this.asking, holder, +1);
    this.syncRenewal();
    try {
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
            // Cancelled while queued: withdraw the request, and should the grant arrive anyway, hand it straight back.
            const release = (): Promise<void> => handle.signal(releaseSlotSignal, holder);
            release().catch(() => undefined);
            pending.then(release).catch(() => undefined);
          });
          leaseMs = granted.leaseMs;
          break;
        } catch (err) {
          if (signal?.aborted) throw err;
          // The workflow refused the request itself (its validator): asking again cannot help.
          if (err instanceof WorkflowUpdateFailedError && !(err.cause instanceof ApplicationFailure && ASK_AGAIN.has(err.cause.type ?? ''))) throw err;
          // Rolling over (continue-as-new), a closed run, the server's limit of updates in flight, the
          // server restarting: ask again for as long as the activity lives (its heartbeat and
          // cancellation bound the wait).
          await new Promise((r) => setTimeout(r, Math.min(MAX_RETRY_DELAY_MS, 50 * (attempt + 1))));
        }
      }
    } catch (err) {
      count(this.asking, holder, -1);
      this.passTurn();
      this.syncRenewal();
      throw err;
    }
    count(this.asking, holder, -1);
    this.passTurn();
    count(this.held, holder, +1);
    this.renewPeriodMs = Math.min(this.renewPeriodMs, Math.max(1_000, Math.floor(leaseMs / 3)));
    this.syncRenewal();
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      count(this.held, holder, -1);
      this.syncRenewal();
      // If this fails the lease still lapses; the cap heals itself.
      await handle.signal(releaseSlotSignal, holder).catch(() => undefined);
    };
  }

  /** Resolves when this request may be sent to the slots workflow (first come, first served). */
  private takeTurn(signal: AbortSignal | undefined): Promise<void> {
    if (this.sent < this.maxWaitingPerProcess) {
      this.sent += 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const turn = (): void => {
        signal?.removeEventListener('abort', abort);
        resolve();
      };
      const abort = (): void => {
        const i = this.turns.indexOf(turn);
        if (i >= 0) this.turns.splice(i, 1);
        reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      if (signal?.aborted) return abort();
      signal?.addEventListener('abort', abort, { once: true });
      this.turns.push(turn);
    });
  }

  /** Hands this request's turn to the oldest one waiting for it. */
  private passTurn(): void {
    const next = this.turns.shift();
    if (next) next();
    else this.sent -= 1;
  }

  /** One renewal loop per process, running while it holds or waits for any slot. */
  private syncRenewal(): void {
    const active = this.held.size + this.asking.size > 0;
    if (this.renewal && (!active || this.renewal.periodMs !== this.renewPeriodMs)) {
      clearInterval(this.renewal.timer);
      this.renewal = undefined;
    }
    if (!active || this.renewal) return;
    const handle = this.client.workflow.getHandle(slotsWorkflowId(this.warehouseKey));
    const timer = setInterval(() => {
      const holders = [...new Set([...this.held.keys(), ...this.asking.keys()])];
      // A lost renewal is made up next period; a lease outlives two of them.
      if (holders.length > 0) handle.signal(renewSlotsSignal, holders).catch(() => undefined);
    }, this.renewPeriodMs);
    this.renewal = { timer, periodMs: this.renewPeriodMs };
  }
}

function count(map: Map<string, number>, key: string, delta: number): void {
  const n = (map.get(key) ?? 0) + delta;
  if (n > 0) map.set(key, n);
  else map.delete(key);
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

/**
 * The cap on warehouse work in flight. The seed's 8-worker parallel run opened 256 connections and
 * hung BigQuery; every warehouse-touching activity holds a slot for the duration of its queries.
 */

export type ReleaseSlot = () => Promise<void>;

export interface WarehouseSlots {
  /**
   * Waits for a free slot. `holder` identifies the work (stable across retries of one activity),
   * so a retry after a crash can take over the slot its previous attempt held.
   */
  acquire(holder: string, signal?: AbortSignal): Promise<ReleaseSlot>;
  /** Slots currently held (for metrics and tests). */
  inUse(): number;
}

/** A counting semaphore for one process. */
export class LocalWarehouseSlots implements WarehouseSlots {
  private held = 0;
  private readonly waiters: Array<{ grant: () => void; reject: (err: unknown) => void }> = [];

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`warehouse slot capacity must be ≥ 1, got ${capacity}`);
  }

  inUse(): number {
    return this.held;
  }

  async acquire(_holder: string, signal?: AbortSignal): Promise<ReleaseSlot> {
    if (signal?.aborted) throw signal.reason ?? new Error('aborted');
    if (this.held < this.capacity) {
      this.held += 1;
      return this.releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject,
      };
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal?.reason ?? new Error('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
    return this.releaser();
  }

  private releaser(): ReleaseSlot {
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      // Hand the slot straight to the next waiter: `held` stays the same.
      if (next) next.grant();
      else this.held -= 1;
    };
  }
}

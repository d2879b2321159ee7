/**
 * The warehouse cap inside one process, for the bench's plain loop: a first-come-first-served
 * semaphore implementing the same `WarehouseSlots` interface the activities use, with no Temporal
 * round trip. The orchestrated run uses the deployment-wide TemporalWarehouseSlots instead; the
 * difference between the two is part of what the bench measures.
 */
import type { ReleaseSlot, WarehouseSlots } from '../../src/activities/warehouse-slots';

export class LocalWarehouseSlots implements WarehouseSlots {
  private held = 0;
  private readonly waiting: Array<{ grant: () => void }> = [];

  constructor(private readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`capacity must be at least 1, got ${capacity}`);
  }

  inUse(): number {
    return this.held;
  }

  async acquire(_holder: string, signal?: AbortSignal): Promise<ReleaseSlot> {
    if (signal?.aborted) throw new Error('aborted while waiting for a warehouse slot');
    if (this.held < this.capacity && this.waiting.length === 0) {
      this.held += 1;
    } else {
      await new Promise<void>((resolve, reject) => {
        const entry = {
          grant: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        const onAbort = (): void => {
          const i = this.waiting.indexOf(entry);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(new Error('aborted while waiting for a warehouse slot'));
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiting.push(entry);
      });
    }
    let released = false;
    return () => {
      if (!released) {
        released = true;
        const next = this.waiting.shift();
        // The slot passes straight to the next waiter: `held` stays the same.
        if (next) next.grant();
        else this.held -= 1;
      }
      return Promise.resolve();
    };
  }
}

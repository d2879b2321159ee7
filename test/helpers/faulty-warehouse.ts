/**
 * A `Warehouse` decorator for the fault tests: it injects failures at the warehouse interface — the
 * seam every engine sits behind — and measures the calls in flight, so a test sees what the
 * warehouse saw. Used in-process through the harness (`startWorker(…, { wrapWarehouse })`) and in
 * worker processes through `runWorker`'s `wrapWarehouse` (test/helpers/fault-worker.ts).
 */
import { hashKey } from '../../src/pipeline/demo/random';
import { WORK_METHODS, WarehouseDecorator, type WarehouseCall } from '../../src/warehouse/decorator';
import { WarehouseError, type QueryOptions, type Warehouse } from '../../src/warehouse/types';
import { abortableSleep } from '../../src/warehouse/abortable-sleep';

export interface WarehouseFaults {
  /**
   * Fails this share of the calls activities make (query, execute, replacePartition, deduplicate,
   * tableExists) with a transient WarehouseError. Each call's fate is a hash of the seed, the call
   * and how many times that same call came before, so it does not depend on how concurrent calls
   * interleave, and a retried call gets a fresh draw.
   */
  transient?: { rate: number; seed: number; active?: () => boolean };
  /** A permanent error (a schema mismatch) on every call of one date's work while `active()` says so. */
  poison?: { date: string; processor?: string; message: string; active?: () => boolean };
  /** Holds every per-date write this long before running it (abortable), so a stop finds dates in flight. */
  holdWritesMs?: number;
  /** Like holdWritesMs, asked at each write: a warehouse whose latency changes during the run. */
  writeLatencyMs?: () => number;
  /** Called when the calls in flight reach a new peak. */
  onPeak?: (inFlight: number) => void;
}

export interface FaultCounts {
  calls: number;
  transient: number;
  poison: number;
  peakInFlight: number;
}

export class FaultyWarehouse extends WarehouseDecorator {
  readonly counts: FaultCounts = { calls: 0, transient: 0, poison: 0, peakInFlight: 0 };
  private inFlight = 0;
  private readonly occurrences = new Map<number, number>();

  constructor(
    inner: Warehouse,
    private readonly faults: WarehouseFaults,
  ) {
    super(inner);
  }

  // Set-up calls (a worker's start-up creates the tables) are passed through untouched.
  protected around<T>(call: WarehouseCall, run: (opts: QueryOptions | undefined) => Promise<T>): Promise<T> {
    if (!WORK_METHODS.has(call.method)) return run(call.opts);
    const hold = call.method === 'replacePartition' ? (this.faults.holdWritesMs ?? 0) + (this.faults.writeLatencyMs?.() ?? 0) : 0;
    return this.call(call.describe(), call.opts, () => run(call.opts), hold);
  }
  private async call<T>(identity: string, opts: QueryOptions | undefined, run: () => Promise<T>, holdMs = 0): Promise<T> {
    this.counts.calls += 1;
    this.inFlight += 1;
    if (this.inFlight > this.counts.peakInFlight) {
      this.counts.peakInFlight = this.inFlight;
      this.faults.onPeak?.(this.inFlight);
    }
    try {
      this.inject(identity, opts?.labels);
      if (holdMs > 0) await abortableSleep(holdMs, opts?.signal);
      return await run();
    } finally {
      this.inFlight -= 1;
    }
  }

  private inject(identity: string, labels: Record<string, string> | undefined): void {
    const poison = this.faults.poison;
    if (
      poison &&
      labels?.date === poison.date &&
      (poison.processor === undefined || labels.processor === poison.processor) &&
      (poison.active?.() ?? true)
    ) {
      this.counts.poison += 1;
      throw new WarehouseError(poison.message, 'schema');
    }
    const transient = this.faults.transient;
    if (transient && (transient.active?.() ?? true)) {
      const key = hashKey(transient.seed, identity);
      const nth = (this.occurrences.get(key) ?? 0) + 1;
      this.occurrences.set(key, nth);
      if (hashKey(transient.seed, identity, nth) / 2 ** 32 < transient.rate) {
        this.counts.transient += 1;
        throw new WarehouseError(`injected transient failure (${identity.slice(0, 60)}…)`, 'transient');
      }
    }
  }
}

/**
 * The bench's `Warehouse` decorator: it measures what the warehouse sees — every call the
 * activities make (query, execute, replacePartition, deduplicate, tableExists) with its labels and
 * times, and the most calls ever in flight at once, which must never exceed the cap — and, for
 * `npm run bench:scale`, adds a latency model: the first call of each (processor, date) waits the
 * processor's modelled time first, so a date holds its warehouse slot about as long as it would on
 * BigQuery (scaled down), plus DuckDB's own real work.
 *
 * Set-up calls (ensureTable at worker start, appendRows when seeding) pass through unmeasured.
 */
import { OPERATION_NAMES, WORK_METHODS, WarehouseDecorator, type WarehouseCall } from '../../src/warehouse/decorator';
import type { QueryOptions, Warehouse } from '../../src/warehouse/types';
import type { CallInterval } from './schedule';
import { abortableSleep } from '../../src/warehouse/abortable-sleep';

export interface BenchWarehouseOptions {
  /** The cap the run promises; a call that finds more than this in flight is counted and reported. */
  cap: number;
  /** processor → milliseconds one date waits at its first call (the latency model); none by default. */
  dateLatencyMs?: Readonly<Record<string, number>>;
  /** Called the first time the calls in flight exceed the cap (the bench prints a loud line). */
  onOverCap?: (inFlight: number) => void;
}

export interface BenchWarehouseStats {
  calls: number;
  maxInFlight: number;
  /** Calls that started with more than the cap in flight (0 when the cap held). */
  overCapCalls: number;
}

/** Wall clock with sub-millisecond resolution, comparable across processes of one machine. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

export class BenchWarehouse extends WarehouseDecorator {
  readonly intervals: CallInterval[] = [];
  private inFlight = 0;
  private readonly stats: BenchWarehouseStats = { calls: 0, maxInFlight: 0, overCapCalls: 0 };
  private readonly delayed = new Set<string>();

  constructor(
    inner: Warehouse,
    private readonly options: BenchWarehouseOptions,
  ) {
    super(inner);
  }

  /** The activities' calls are measured; set-up (tables, seeding) passes through. */
  protected around<T>(call: WarehouseCall, run: (opts: QueryOptions | undefined) => Promise<T>): Promise<T> {
    return WORK_METHODS.has(call.method) ? this.call(OPERATION_NAMES[call.method], call.opts, () => run(call.opts)) : run(call.opts);
  }

  snapshot(): BenchWarehouseStats {
    return { ...this.stats };
  }

  private async call<T>(op: string, opts: QueryOptions | undefined, run: () => Promise<T>): Promise<T> {
    const labels = opts?.labels;
    const startMs = epochMs();
    this.stats.calls += 1;
    this.inFlight += 1;
    this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.inFlight);
    if (this.inFlight > this.options.cap) {
      if (this.stats.overCapCalls === 0) this.options.onOverCap?.(this.inFlight);
      this.stats.overCapCalls += 1;
    }
    try {
      const processor = labels?.processor;
      const date = labels?.date;
      const latency = processor !== undefined && date !== undefined ? this.options.dateLatencyMs?.[processor] : undefined;
      if (latency !== undefined && latency > 0 && processor !== undefined && date !== undefined) {
        const key = `${processor}@${date}`;
        if (!this.delayed.has(key)) {
          this.delayed.add(key);
          await abortableSleep(latency, opts?.signal);
        }
      }
      return await run();
    } finally {
      this.inFlight -= 1;
      this.intervals.push({
        op,
        startMs,
        endMs: epochMs(),
        ...(labels?.processor !== undefined ? { processor: labels.processor } : {}),
        ...(labels?.date !== undefined ? { date: labels.date } : {}),
        ...(labels?.phase !== undefined ? { phase: labels.phase } : {}),
      });
    }
  }
}

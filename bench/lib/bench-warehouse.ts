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
import {
  type DeduplicateArgs,
  type QueryOptions,
  type ReplacePartitionArgs,
  type Row,
  type SqlParams,
  type TableRef,
  type TableSpec,
  type Warehouse,
} from '../../src/warehouse/types';
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

export class BenchWarehouse implements Warehouse {
  readonly kind: string;
  readonly dialect: Warehouse['dialect'];
  readonly intervals: CallInterval[] = [];
  private inFlight = 0;
  private readonly stats: BenchWarehouseStats = { calls: 0, maxInFlight: 0, overCapCalls: 0 };
  private readonly delayed = new Set<string>();

  constructor(
    private readonly inner: Warehouse,
    private readonly options: BenchWarehouseOptions,
  ) {
    this.kind = inner.kind;
    this.dialect = inner.dialect;
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

  query<T extends Row = Row>(sql: string, params?: SqlParams, opts?: QueryOptions): Promise<T[]> {
    return this.call('query', opts, () => this.inner.query<T>(sql, params, opts));
  }

  execute(sql: string, params?: SqlParams, opts?: QueryOptions): Promise<void> {
    return this.call('execute', opts, () => this.inner.execute(sql, params, opts));
  }

  replacePartition(args: ReplacePartitionArgs, opts?: QueryOptions): Promise<{ rowsWritten: number }> {
    return this.call('replace_partition', opts, () => this.inner.replacePartition(args, opts));
  }

  deduplicate(args: DeduplicateArgs, opts?: QueryOptions): Promise<{ rowsRemoved: number }> {
    return this.call('deduplicate', opts, () => this.inner.deduplicate(args, opts));
  }

  tableExists(ref: TableRef): Promise<boolean> {
    return this.call('table_exists', undefined, () => this.inner.tableExists(ref));
  }

  ensureTable(spec: TableSpec): Promise<void> {
    return this.inner.ensureTable(spec);
  }

  appendRows(spec: TableSpec, rows: readonly Row[]): Promise<void> {
    return this.inner.appendRows(spec, rows);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * A `Warehouse` decorator that measures every call — in flight, duration and outcome — and adds
 * up the bytes BigQuery bills, so the engines stay free of metrics code. It keeps the wrapped
 * engine's optional capabilities: a BytesEstimator stays one.
 */
import {
  type BytesEstimator,
  type DeduplicateArgs,
  type QueryOptions,
  type ReplacePartitionArgs,
  type Row,
  type SqlParams,
  type TableRef,
  type TableSpec,
  type Warehouse,
  WarehouseError,
  canEstimateBytes,
} from '../warehouse/types';
import type { BackfillMetrics } from './registry';

export class InstrumentedWarehouse implements Warehouse {
  readonly kind: string;
  readonly dialect: Warehouse['dialect'];

  constructor(
    protected readonly inner: Warehouse,
    protected readonly metrics: BackfillMetrics,
  ) {
    this.kind = inner.kind;
    this.dialect = inner.dialect;
  }

  /** The engine underneath (tests, and code that needs an engine's own members). */
  get engine(): Warehouse {
    return this.inner;
  }

  protected async measured<T>(operation: string, call: () => Promise<T>): Promise<T> {
    const { warehouseInFlight, warehouseDuration } = this.metrics;
    const stop = warehouseDuration.startTimer({ operation });
    warehouseInFlight.inc({ operation });
    try {
      const value = await call();
      stop({ outcome: 'ok' });
      return value;
    } catch (err) {
      stop({ outcome: err instanceof WarehouseError ? err.kind : 'error' });
      throw err;
    } finally {
      warehouseInFlight.dec({ operation });
    }
  }

  /** The caller's options plus an observer adding each job's billed bytes (chained to the caller's own). */
  protected billed(operation: string, opts: QueryOptions | undefined): QueryOptions {
    const own = opts?.onJobStatistics;
    const processor = opts?.labels?.processor ?? '';
    return {
      ...opts,
      onJobStatistics: (stats) => {
        if (stats.bytesBilled > 0) this.metrics.bytesBilled.inc({ operation, processor }, stats.bytesBilled);
        own?.(stats);
      },
    };
  }

  query<T extends Row = Row>(sql: string, params?: SqlParams, opts?: QueryOptions): Promise<T[]> {
    return this.measured('query', () => this.inner.query<T>(sql, params, this.billed('query', opts)));
  }

  execute(sql: string, params?: SqlParams, opts?: QueryOptions): Promise<void> {
    return this.measured('execute', () => this.inner.execute(sql, params, this.billed('execute', opts)));
  }

  ensureTable(spec: TableSpec): Promise<void> {
    return this.measured('ensure_table', () => this.inner.ensureTable(spec));
  }

  tableExists(ref: TableRef): Promise<boolean> {
    return this.measured('table_exists', () => this.inner.tableExists(ref));
  }

  replacePartition(args: ReplacePartitionArgs, opts?: QueryOptions): Promise<{ rowsWritten: number }> {
    return this.measured('replace_partition', () => this.inner.replacePartition(args, this.billed('replace_partition', opts)));
  }

  deduplicate(args: DeduplicateArgs, opts?: QueryOptions): Promise<{ rowsRemoved: number }> {
    return this.measured('deduplicate', () => this.inner.deduplicate(args, this.billed('deduplicate', opts)));
  }

  appendRows(spec: TableSpec, rows: readonly Row[]): Promise<void> {
    return this.measured('append_rows', () => this.inner.appendRows(spec, rows));
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** The same, for an engine that prices statements with dry runs (those bill nothing). */
class InstrumentedEstimatingWarehouse extends InstrumentedWarehouse implements BytesEstimator {
  constructor(
    private readonly estimator: Warehouse & BytesEstimator,
    metrics: BackfillMetrics,
  ) {
    super(estimator, metrics);
  }

  dryRunQuery(sql: string, params?: SqlParams): Promise<{ bytesProcessed: number }> {
    return this.measured('dry_run_query', () => this.estimator.dryRunQuery(sql, params));
  }

  dryRunReplacePartition(args: ReplacePartitionArgs): Promise<{ bytesProcessed: number }> {
    return this.measured('dry_run_replace_partition', () => this.estimator.dryRunReplacePartition(args));
  }
}

export function instrumentWarehouse(warehouse: Warehouse & BytesEstimator, metrics: BackfillMetrics): InstrumentedWarehouse & BytesEstimator;
export function instrumentWarehouse(warehouse: Warehouse, metrics: BackfillMetrics): InstrumentedWarehouse;
export function instrumentWarehouse(warehouse: Warehouse, metrics: BackfillMetrics): InstrumentedWarehouse {
  return canEstimateBytes(warehouse) ? new InstrumentedEstimatingWarehouse(warehouse, metrics) : new InstrumentedWarehouse(warehouse, metrics);
}

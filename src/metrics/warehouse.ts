/**
 * A `Warehouse` decorator that measures every call — in flight, duration and outcome — and adds
 * up the bytes BigQuery bills, so the engines stay free of metrics code. It keeps the wrapped
 * engine's optional capabilities: a BytesEstimator stays one.
 */
import { METHODS_WITH_OPTIONS, OPERATION_NAMES, WarehouseDecorator, type WarehouseCall } from '../warehouse/decorator';
import { type BytesEstimator, type QueryOptions, type ReplacePartitionArgs, type SqlParams, type Warehouse, WarehouseError, canEstimateBytes } from '../warehouse/types';
import type { BackfillMetrics } from './registry';

export class InstrumentedWarehouse extends WarehouseDecorator {
  constructor(
    inner: Warehouse,
    protected readonly metrics: BackfillMetrics,
  ) {
    super(inner);
  }

  /** The engine underneath (tests, and code that needs an engine's own members). */
  get engine(): Warehouse {
    return this.inner;
  }

  protected around<T>(call: WarehouseCall, run: (opts: QueryOptions | undefined) => Promise<T>): Promise<T> {
    const operation = OPERATION_NAMES[call.method];
    return this.measured(operation, () => run(METHODS_WITH_OPTIONS.has(call.method) ? this.billed(operation, call.opts) : call.opts));
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

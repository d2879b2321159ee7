/**
 * Our Prometheus metrics (prom-client), one registry per worker so two workers in one process (the
 * tests, `npm start`) never share or clash. The Temporal runtime's own metrics (task slots,
 * poll latencies, workflow/activity counts) come from Core's exporter and are merged into the same
 * scrape by server.ts.
 *
 * Names and what they count:
 * - `backfill_processor_dates_total{processor,phase,result}`: dates finished by this worker's
 *   activities, result `done` (written) or `failed` (the last attempt failed, or a non-retryable
 *   error), and `skipped` (the plan's skipped dates, counted when the plan activity returns them).
 * - `backfill_rows_written_total{processor}`: rows the per-date writes wrote.
 * - `backfill_warehouse_operations_in_flight{operation}`: warehouse calls running now.
 * - `backfill_warehouse_operation_duration_seconds{operation,outcome}`: every warehouse call,
 *   outcome `ok` or the error kind (transient, syntax, schema, missing_input, cancelled, refused, error).
 * - `backfill_warehouse_slot_wait_seconds{activity}`: time spent waiting for a deployment-wide
 *   warehouse slot; its `_count` is the number of slots waited for.
 * - `backfill_bigquery_bytes_billed_total{operation,processor}`: bytes BigQuery billed for the jobs.
 * - `backfill_warehouse_admitted_limit` / `backfill_warehouse_ceiling`: warehouse operations admitted
 *   at once deployment-wide now (adaptive load) and the cap it may reach, as this worker last heard.
 * - `backfill_temporal_runtime_metrics_up`: whether the scrape carries the runtime's metrics.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export type DateResult = 'done' | 'failed' | 'skipped';

/** The activities that take a warehouse slot. */
export type SlotActivity = 'write' | 'plan' | 'validate' | 'deduplicate';

export interface BackfillMetrics {
  readonly registry: Registry;
  readonly processorDates: Counter<'processor' | 'phase' | 'result'>;
  readonly rowsWritten: Counter<'processor'>;
  readonly warehouseInFlight: Gauge<'operation'>;
  readonly warehouseDuration: Histogram<'operation' | 'outcome'>;
  readonly slotWait: Histogram<'activity'>;
  readonly bytesBilled: Counter<'operation' | 'processor'>;
  /** 1 when the last scrape carried the Temporal runtime's metrics too, 0 when they could not be read. */
  readonly temporalRuntimeUp: Gauge;
  readonly warehouseAdmitted: Gauge;
  readonly warehouseCeiling: Gauge;
}

export const METRIC_NAMES = {
  processorDates: 'backfill_processor_dates_total',
  rowsWritten: 'backfill_rows_written_total',
  warehouseInFlight: 'backfill_warehouse_operations_in_flight',
  warehouseDuration: 'backfill_warehouse_operation_duration_seconds',
  slotWait: 'backfill_warehouse_slot_wait_seconds',
  bytesBilled: 'backfill_bigquery_bytes_billed_total',
  temporalRuntimeUp: 'backfill_temporal_runtime_metrics_up',
  warehouseAdmitted: 'backfill_warehouse_admitted_limit',
  warehouseCeiling: 'backfill_warehouse_ceiling',
} as const;

/** DuckDB statements take milliseconds, BigQuery jobs seconds to many minutes: one range for both. */
const WAREHOUSE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];
/** A free slot answers in one update round trip (milliseconds); a full cap makes dates wait for minutes. */
const SLOT_WAIT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];

export function createBackfillMetrics(): BackfillMetrics {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    processorDates: new Counter({
      name: METRIC_NAMES.processorDates,
      help: 'Processor-dates finished by this worker: done (written), failed (last attempt failed), skipped (by the plan)',
      labelNames: ['processor', 'phase', 'result'] as const,
      registers,
    }),
    rowsWritten: new Counter({
      name: METRIC_NAMES.rowsWritten,
      help: 'Rows written by per-date processor writes',
      labelNames: ['processor'] as const,
      registers,
    }),
    warehouseInFlight: new Gauge({
      name: METRIC_NAMES.warehouseInFlight,
      help: 'Warehouse operations running now in this worker',
      labelNames: ['operation'] as const,
      registers,
    }),
    warehouseDuration: new Histogram({
      name: METRIC_NAMES.warehouseDuration,
      help: 'Duration of warehouse operations, by operation and outcome (ok or the error kind)',
      labelNames: ['operation', 'outcome'] as const,
      buckets: WAREHOUSE_BUCKETS,
      registers,
    }),
    slotWait: new Histogram({
      name: METRIC_NAMES.slotWait,
      help: 'Time activities waited for a deployment-wide warehouse slot (count: slots waited for)',
      labelNames: ['activity'] as const,
      buckets: SLOT_WAIT_BUCKETS,
      registers,
    }),
    bytesBilled: new Counter({
      name: METRIC_NAMES.bytesBilled,
      help: 'Bytes BigQuery billed for the jobs this worker ran',
      labelNames: ['operation', 'processor'] as const,
      registers,
    }),
    temporalRuntimeUp: new Gauge({
      name: METRIC_NAMES.temporalRuntimeUp,
      help: "1 when this scrape includes the Temporal runtime's own metrics, 0 when they are off or could not be read",
      registers,
    }),
    warehouseAdmitted: new Gauge({
      name: METRIC_NAMES.warehouseAdmitted,
      help: 'Warehouse operations admitted at once deployment-wide now (adaptive load; the cap when it is off)',
      registers,
    }),
    warehouseCeiling: new Gauge({
      name: METRIC_NAMES.warehouseCeiling,
      help: 'The deployment-wide cap on warehouse operations in flight (the ceiling of adaptive load)',
      registers,
    }),
  };
}

/** Prometheus metrics: our registry, the warehouse decorator that feeds it, and the worker's endpoint. */
export { createBackfillMetrics, METRIC_NAMES, type BackfillMetrics, type DateResult, type SlotActivity } from './registry';
export { instrumentWarehouse, InstrumentedWarehouse } from './warehouse';
export { MetricsAddressError, parseHostPort, startMetricsServer, type MetricsServer, type MetricsServerOptions } from './server';

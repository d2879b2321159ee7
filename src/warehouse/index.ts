export * from './types';
export { identifier, isIdentifier } from './identifiers';
export { defineEngine, type WarehouseEngine } from './engine';
export {
  createWarehouse,
  describeWarehouse,
  ENGINE_KINDS,
  getEngine,
  WAREHOUSE_ENGINES,
  warehouseDialect,
  warehouseKey,
  type EngineConfig,
  type EngineKind,
} from './engines';
export { DuckDbWarehouse, duckdbDialect } from './duckdb';
export { BigQueryWarehouse, bigqueryDialect } from './bigquery';

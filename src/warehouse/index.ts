import { DuckDbWarehouse } from './duckdb';
import type { Warehouse } from './types';

export * from './types';
export { DuckDbWarehouse, duckdbDialect } from './duckdb';

export interface WarehouseConfig {
  kind: 'duckdb';
  duckdbPath: string;
}

/** The one place that turns configuration into an engine. */
export function createWarehouse(config: WarehouseConfig): Warehouse {
  switch (config.kind) {
    case 'duckdb':
      return new DuckDbWarehouse({ path: config.duckdbPath });
  }
}

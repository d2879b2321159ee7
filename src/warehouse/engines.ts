/**
 * The registered warehouse engines: the one place an engine is added. Each brings its settings,
 * checks, cap key, dialect and factory (see engine.ts); config, the worker, the CLI and `npm start`
 * go through `createWarehouse(config)` and `warehouseKey(config)` and never name an engine.
 */
import { bigqueryEngine } from './bigquery';
import { duckdbEngine } from './duckdb';
import type { WarehouseEngine } from './engine';
import type { Dialect, Warehouse } from './types';

export const WAREHOUSE_ENGINES = [duckdbEngine, bigqueryEngine] as const;

type Registered = (typeof WAREHOUSE_ENGINES)[number];
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/** Every engine's settings, merged into the config schema. */
export const ENGINE_SETTINGS = Object.assign({}, ...WAREHOUSE_ENGINES.map((e) => e.settings)) as UnionToIntersection<
  Registered['settings']
>;
/** Every engine's environment variables → settings keys. */
export const ENGINE_ENV: Readonly<Record<string, string>> = Object.fromEntries(WAREHOUSE_ENGINES.flatMap((e) => Object.entries(e.env)));

export const ENGINE_KINDS = WAREHOUSE_ENGINES.map((e) => e.kind) as [Registered['kind'], ...Registered['kind'][]];
export type EngineKind = Registered['kind'];

/** What the engines need of a configuration: the choice and every engine's settings. */
export type EngineConfig = { warehouse: EngineKind } & { [K in keyof typeof ENGINE_SETTINGS]: unknown };

export function getEngine(kind: string): WarehouseEngine {
  const engine = WAREHOUSE_ENGINES.find((e) => e.kind === kind);
  if (!engine) throw new TypeError(`unknown warehouse engine "${kind}"; known: ${ENGINE_KINDS.join(', ')}`);
  // Each registration reads its own settings out of the full, already-validated config.
  return engine as unknown as WarehouseEngine;
}

/** The one place that turns configuration into an engine. */
export function createWarehouse(config: EngineConfig): Warehouse {
  return getEngine(config.warehouse).create(config);
}

export function warehouseDialect(config: EngineConfig): Dialect {
  return getEngine(config.warehouse).dialect(config);
}

/** What the warehouse cap protects: one key per warehouse, whatever the task queue. */
export function warehouseKey(config: EngineConfig): string {
  return getEngine(config.warehouse).capKey(config);
}

/** Non-secret settings of the selected engine, for a log line or `doctor`. */
export function describeWarehouse(config: EngineConfig): Record<string, unknown> {
  return { warehouse: config.warehouse, ...getEngine(config.warehouse).describe(config) };
}

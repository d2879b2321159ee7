/**
 * What an engine registers: its settings (zod fields merged into the one config schema, with
 * their environment names), checks that apply only when it is selected, the key its
 * deployment-wide cap is held under, its dialect and its factory. `engines.ts` lists the
 * registrations; nothing else in the code base names an engine.
 */
import type { z } from 'zod';
import type { Dialect, Warehouse } from './types';

/** What the pipeline tells an engine's checks about itself. */
export interface EngineCheckContext {
  /** The logical datasets the pipeline reads and writes (a mapping may rename only these). */
  datasets: readonly string[];
}

export interface WarehouseEngine<S extends z.ZodRawShape = z.ZodRawShape> {
  /** The value of WAREHOUSE that selects this engine. */
  readonly kind: string;
  readonly description: string;
  /** Config fields of this engine (flat, prefixed by the engine's name). */
  readonly settings: S;
  /** Environment variable → settings key. */
  readonly env: Readonly<Record<string, keyof S & string>>;
  /**
   * Checks across settings, run only when this engine is selected; returns the first problem as
   * [environment variable, message], or undefined.
   */
  check?(settings: z.output<z.ZodObject<S>>, context: EngineCheckContext): readonly [string, string] | undefined;
  /** What the deployment-wide warehouse cap protects: one key per warehouse, whatever the queue. */
  capKey(settings: z.output<z.ZodObject<S>>): string;
  dialect(settings: z.output<z.ZodObject<S>>): Dialect;
  create(settings: z.output<z.ZodObject<S>>): Warehouse;
  /** Settings worth a line in logs (never a secret). */
  describe(settings: z.output<z.ZodObject<S>>): Record<string, unknown>;
}

/** Identity, for type inference of a registration's settings. */
export function defineEngine<S extends z.ZodRawShape>(engine: WarehouseEngine<S>): WarehouseEngine<S> {
  return engine;
}

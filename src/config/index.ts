/**
 * Configuration: one zod schema, defaults < environment < flags, parsed once and failing fast with
 * one line naming the bad setting.
 */
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_TASK_QUEUE } from '../shared/types';

const positiveInt = z.coerce.number().int().positive();

export const configSchema = z.object({
  temporalAddress: z.string().min(1).default('localhost:7233'),
  /** True when the address came from the environment or a flag, not the default. */
  temporalAddressExplicit: z.boolean().default(false),
  temporalNamespace: z.string().min(1).default('default'),
  taskQueue: z.string().min(1).default(DEFAULT_TASK_QUEUE),
  /** Task queue of the warehouse-slots workflow; every worker process polls it. */
  slotsTaskQueue: z.string().min(1).default(`${DEFAULT_TASK_QUEUE}-warehouse-slots`),
  warehouse: z.enum(['duckdb']).default('duckdb'),
  duckdbPath: z.string().min(1).default(path.join('.data', 'warehouse.duckdb')),
  exportDir: z.string().min(1).default(path.join('.data', 'exports')),
  dataDir: z.string().min(1).default('.data'),
  /** Warehouse queries in flight across the whole deployment. */
  warehouseMaxInFlight: positiveInt.max(64).default(4),
  /** Default window of dates in flight per processor. */
  defaultConcurrency: positiveInt.max(64).default(4),
  bootstrapDays: z.coerce.number().int().min(0).max(60).default(14),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'silent']).default('info'),
  /**
   * Field-coverage minimums overriding the processors' defaults, "table.column=min" comma-separated
   * (e.g. "player_game_summary.usage_rate=0.85,player_game_summary.minutes_played=0.95").
   */
  gateThresholds: z
    .string()
    .default('')
    .transform((value, ctx) => {
      const out: Record<string, number> = {};
      for (const part of value.split(',').map((s) => s.trim()).filter(Boolean)) {
        const m = /^([a-z0-9_]+\.[a-z0-9_]+)=(0(\.\d+)?|1(\.0+)?)$/.exec(part);
        if (!m?.[1] || !m[2]) {
          ctx.addIssue({ code: 'custom', message: `"${part}" is not table.column=min with min between 0 and 1` });
          return z.NEVER;
        }
        out[m[1]] = Number(m[2]);
      }
      return out;
    }),
  /** host:port for the worker's Prometheus endpoint; off when empty. */
  metricsAddress: z.string().default(''),
});

export type Config = z.infer<typeof configSchema>;
/** Settings as given (strings or values), before parsing. */
export type ConfigOverrides = Partial<z.input<typeof configSchema>>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const envMap: Record<string, keyof Config> = {
  TEMPORAL_ADDRESS: 'temporalAddress',
  TEMPORAL_NAMESPACE: 'temporalNamespace',
  BACKFILL_TASK_QUEUE: 'taskQueue',
  WAREHOUSE_SLOTS_TASK_QUEUE: 'slotsTaskQueue',
  WAREHOUSE: 'warehouse',
  DUCKDB_PATH: 'duckdbPath',
  EXPORT_DIR: 'exportDir',
  BACKFILL_DATA_DIR: 'dataDir',
  WAREHOUSE_MAX_IN_FLIGHT: 'warehouseMaxInFlight',
  BACKFILL_CONCURRENCY: 'defaultConcurrency',
  BOOTSTRAP_DAYS: 'bootstrapDays',
  LOG_LEVEL: 'logLevel',
  METRICS_ADDRESS: 'metricsAddress',
  GATE_THRESHOLDS: 'gateThresholds',
};

/** Reads the environment (and overrides) into a Config, or throws ConfigError with one clear line. */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: ConfigOverrides = {},
): Config {
  const raw: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(envMap)) {
    const v = env[name];
    if (v !== undefined && v !== '') raw[key] = v;
  }
  if (raw.temporalAddress !== undefined) raw.temporalAddressExplicit = true;
  Object.assign(raw, overrides);
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue?.path[0] ?? '');
    const envName = Object.entries(envMap).find(([, k]) => k === key)?.[0];
    throw new ConfigError(`invalid setting ${envName ?? key}: ${issue?.message ?? 'invalid value'}`);
  }
  return parsed.data;
}

/** What the warehouse cap protects: one key per warehouse, whatever the task queue. */
export function warehouseKey(config: Config): string {
  return `duckdb:${path.resolve(config.duckdbPath)}`;
}

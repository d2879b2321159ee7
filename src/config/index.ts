/**
 * Configuration: one zod schema, defaults < environment < flags, parsed once and failing fast with
 * one line naming the bad setting.
 */
import path from 'node:path';
import { z } from 'zod';
import { parseExportDir } from '../exports/location';
import { parseHostPort } from '../metrics/server';
import { PIPELINE_DATASETS } from '../pipeline/datasets';
import { checkGateThresholds } from '../pipeline/registry';
import { DEFAULT_TASK_QUEUE, type DateDispatch } from '../shared/types';
import { checkTemporalConnection, TEMPORAL_CONNECTION_ENV, TEMPORAL_CONNECTION_SETTINGS } from './temporal-connection';
import { ENGINE_ENV, ENGINE_KINDS, ENGINE_SETTINGS, getEngine, warehouseKey as engineWarehouseKey } from '../warehouse/engines';

const positiveInt = z.coerce.number().int().positive();

/**
 * "table.column=min,…" → { "table.column": min }, each key a field-coverage rule that exists (a
 * typo would otherwise be ignored silently) and each min between 0 and 1. Throws one line.
 */
export function parseGateThresholds(value: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z0-9_]+\.[a-z0-9_]+)=(0(\.\d+)?|1(\.0+)?)$/.exec(part);
    if (!m?.[1] || !m[2]) throw new Error(`"${part}" is not table.column=min with min between 0 and 1`);
    out[m[1]] = Number(m[2]);
  }
  checkGateThresholds(out);
  return out;
}

const baseSchema = z.object({
  temporalAddress: z.string().min(1).default('localhost:7233'),
  /** True when the address came from the environment or a flag, not the default. */
  temporalAddressExplicit: z.boolean().default(false),
  temporalNamespace: z.string().min(1).default('default'),
  taskQueue: z.string().min(1).default(DEFAULT_TASK_QUEUE),
  /** Task queue of the warehouse-slots workflow; every worker process polls it. */
  slotsTaskQueue: z.string().min(1).default(`${DEFAULT_TASK_QUEUE}-warehouse-slots`),
  /** The warehouse engine (see src/warehouse/engines.ts); its own settings are merged in below. */
  warehouse: z
    .string()
    .default('duckdb')
    .refine((v) => (ENGINE_KINDS as readonly string[]).includes(v), { message: `must be one of ${ENGINE_KINDS.join(', ')}` }),
  /** A local folder, or gs://bucket/prefix for Google Cloud Storage. */
  exportDir: z
    .string()
    .default(path.join('.data', 'exports'))
    .superRefine((v, ctx) => {
      try {
        parseExportDir(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
      }
    }),
  /** Another endpoint for the Cloud Storage API (emulators, tests); empty: Google's. */
  gcsApiEndpoint: z.string().default(''),
  dataDir: z.string().min(1).default('.data'),
  /** Warehouse queries in flight across the whole deployment. */
  warehouseMaxInFlight: positiveInt.max(64).default(4),
  /**
   * Adaptive load: the operations admitted move between warehouseMinInFlight and the cap from what
   * the warehouse shows (latency, transient errors). `off` admits the cap at all times.
   */
  warehouseAdaptive: z.enum(['on', 'off']).default('on'),
  warehouseMinInFlight: positiveInt.max(64).default(1),
  /**
   * Default window of dates in flight per processor: a little above the default cap, so that when a
   * processor runs alone its next date already waits at a slot and the cap never idles while a date
   * is dispatched (dates beyond the cap wait for a slot, not in the warehouse).
   */
  defaultConcurrency: positiveInt.max(64).default(6),
  /**
   * How dates' activities are dispatched (DateDispatch): `auto` is `local` on DuckDB (dates of
   * milliseconds, one process holds the file) and `activity` on BigQuery.
   */
  dateDispatch: z.enum(['auto', 'activity', 'local']).default('auto'),
  /**
   * The Temporal SDK's workflow stack traces (the Web UI's "Stack Trace" tab), collected by promise
   * hooks every promise of the worker goes through: `auto` is `off` on DuckDB (dates of
   * milliseconds, where the hooks cost ~10 % of the run) and `on` on BigQuery. Applies to workflow
   * code run in process (the default runtime).
   */
  workflowStackTraces: z.enum(['auto', 'on', 'off']).default('auto'),
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
      try {
        return parseGateThresholds(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
        return z.NEVER;
      }
    }),
  /** host:port for the worker's Prometheus endpoint; off when empty. */
  metricsAddress: z
    .string()
    .default('')
    .superRefine((v, ctx) => {
      if (v === '') return;
      try {
        parseHostPort(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
      }
    }),
});

/** One schema: the common settings, the Temporal connection's (TLS, API key) and every registered engine's own. */
export const configSchema = baseSchema.extend(TEMPORAL_CONNECTION_SETTINGS).extend(ENGINE_SETTINGS).superRefine((c, ctx) => {
  const temporalProblem = checkTemporalConnection(c);
  if (temporalProblem) {
    ctx.addIssue({ code: 'custom', path: [`env:${temporalProblem[0]}`], message: temporalProblem[1] });
    return;
  }
  // An unknown engine is already reported on WAREHOUSE.
  if (!(ENGINE_KINDS as readonly string[]).includes(c.warehouse)) return;
  const problem = getEngine(c.warehouse).check?.(c, { datasets: PIPELINE_DATASETS });
  if (problem) ctx.addIssue({ code: 'custom', path: [`env:${problem[0]}`], message: problem[1] });
});

export type Config = z.infer<typeof configSchema>;
/** Settings as given (strings or values), before parsing. */
export type ConfigOverrides = Partial<z.input<typeof configSchema>>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const envMap: Record<string, string> = {
  ...ENGINE_ENV,
  TEMPORAL_ADDRESS: 'temporalAddress',
  TEMPORAL_NAMESPACE: 'temporalNamespace',
  ...TEMPORAL_CONNECTION_ENV,
  BACKFILL_TASK_QUEUE: 'taskQueue',
  WAREHOUSE_SLOTS_TASK_QUEUE: 'slotsTaskQueue',
  WAREHOUSE: 'warehouse',
  EXPORT_DIR: 'exportDir',
  GCS_API_ENDPOINT: 'gcsApiEndpoint',
  BACKFILL_DATA_DIR: 'dataDir',
  WAREHOUSE_MAX_IN_FLIGHT: 'warehouseMaxInFlight',
  WAREHOUSE_ADAPTIVE: 'warehouseAdaptive',
  WAREHOUSE_MIN_IN_FLIGHT: 'warehouseMinInFlight',
  BACKFILL_CONCURRENCY: 'defaultConcurrency',
  DATE_DISPATCH: 'dateDispatch',
  WORKFLOW_STACK_TRACES: 'workflowStackTraces',
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
    const envName = key.startsWith('env:') ? key.slice(4) : Object.entries(envMap).find(([, k]) => k === key)?.[0];
    throw new ConfigError(`invalid setting ${envName ?? key}: ${issue?.message ?? 'invalid value'}`);
  }
  return parsed.data;
}

/** The dispatch of dates' activities a backfill started with this configuration asks for. */
export function dateDispatchOf(config: Pick<Config, 'dateDispatch' | 'warehouse'>): DateDispatch {
  if (config.dateDispatch !== 'auto') return config.dateDispatch;
  return config.warehouse === 'duckdb' ? 'local' : 'activity';
}

/** Whether the worker collects workflow stack traces (WORKFLOW_STACK_TRACES, `auto` resolved). */
export function workflowStackTracesOf(config: Pick<Config, 'workflowStackTraces' | 'warehouse'>): boolean {
  if (config.workflowStackTraces !== 'auto') return config.workflowStackTraces === 'on';
  return config.warehouse !== 'duckdb';
}

/** What the warehouse cap protects: one key per warehouse, whatever the task queue. */
export function warehouseKey(config: Config): string {
  return engineWarehouseKey(config);
}

/** Every environment variable the configuration reads, with its config key. */
export function configEnvironment(): Readonly<Record<string, string>> {
  return envMap;
}

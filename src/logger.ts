/**
 * The pino root logger and its bridge into the Temporal runtime, so SDK, Core and workflow logs
 * land in the same JSON stream as ours. Logs go to stderr; stdout is for what the user asked for.
 *
 * Fields: per-date lines carry `backfill`, `phase`, `processor`, `date` and `attempt`; gate, plan
 * and dedupe lines carry `backfill` and `phase`; Temporal's own lines `temporal: true` with the
 * workflow or activity they are about.
 *
 * Secrets never reach a line, by two layers: pino's `redact` paths for the keys we know, and a
 * scrub of every logged value (message, fields at any depth, errors' messages and stacks, child
 * bindings) that blanks secret-named keys (API keys, passwords, tokens, private keys, client
 * secrets, credentials) and secret-shaped text (PEM private keys, bearer and OAuth tokens, JWTs,
 * `key=value` pairs naming a secret, and the values of secret environment variables), so a config
 * object or an error that carries one is logged without it.
 */
import pino, { type DestinationStream, type Logger as PinoLogger } from 'pino';
import { Runtime, type LogLevel, type LogMetadata, type Logger } from '@temporalio/worker';

export type { PinoLogger };

export interface LoggerOptions {
  level?: string;
  /** Human-readable lines instead of JSON; defaults to "stderr is a terminal". */
  pretty?: boolean;
  /** Where JSON lines go instead of stderr (tests capture them). */
  destination?: DestinationStream;
  /** Exact strings to blank wherever they appear; defaults to the values of secret environment variables. */
  secrets?: readonly string[];
}

export const REDACTED = '[redacted]';

/** Paths pino blanks before anything else sees the line (the scrub below catches the rest, at any depth). */
const REDACT_PATHS = [
  'apiKey',
  'temporalApiKey',
  'TEMPORAL_API_KEY',
  'password',
  'token',
  'accessToken',
  'access_token',
  'clientSecret',
  'client_secret',
  'privateKey',
  'private_key',
  'credentials',
  'authorization',
  'headers.authorization',
  '*.apiKey',
  '*.temporalApiKey',
  '*.TEMPORAL_API_KEY',
  '*.password',
  '*.token',
  '*.accessToken',
  '*.access_token',
  '*.clientSecret',
  '*.client_secret',
  '*.privateKey',
  '*.private_key',
  '*.credentials',
  '*.authorization',
];

/**
 * A key names a secret when, lower-cased without `_` and `-`, it ends in one of these (so
 * `temporalApiKey`, `TEMPORAL_API_KEY`, `client_secret`, `accessToken` match, while
 * `bigqueryCredentialsFile`, a path, and `tokenCount` do not).
 */
const SECRET_KEY_ENDINGS = [
  'apikey',
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'privatekey',
  'privatekeyid',
  'accesskey',
  'authorization',
  'cookie',
  'credentials',
];

export function isSecretKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[-_]/g, '');
  return SECRET_KEY_ENDINGS.some((end) => k.endsWith(end));
}

const SECRET_NAMES = 'access_token|refresh_token|id_token|client_secret|private_key_id|private_key|password|passwd|api[_-]?key|temporal_api_key|secret';
const SECRET_TEXT: Array<[RegExp, string]> = [
  // Whole PEM private keys, also when JSON-escaped (`\\n`) inside a credentials file's text.
  [/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g, '[redacted private key]'],
  [/\bBearer\s+[A-Za-z0-9._~+/=-]+/gi, `Bearer ${REDACTED}`],
  [/\bya29\.[A-Za-z0-9._-]+/g, REDACTED],
  // JWTs (Temporal Cloud API keys among them).
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, REDACTED],
  // name=value, name: value, "name": "value" for a secret's name.
  [new RegExp(`((?:${SECRET_NAMES})["']?\\s*[=:]\\s*["']?)(?!\\[redacted)[^"'&\\s,;}]+`, 'gi'), `$1${REDACTED}`],
];

/** Values of environment variables that hold a secret by their name (long enough to be one). */
export function secretEnvValues(env: NodeJS.ProcessEnv = process.env): string[] {
  return Object.entries(env)
    .filter(([name, value]) => /(API_KEY|TOKEN|SECRET|PASSWORD|PRIVATE_KEY)/i.test(name) && typeof value === 'string' && value.length >= 8)
    .map(([, value]) => value as string);
}

export function scrubText(text: string, known: readonly string[] = []): string {
  let out = text;
  for (const secret of known) if (secret.length >= 8 && out.includes(secret)) out = out.split(secret).join(REDACTED);
  for (const [re, replacement] of SECRET_TEXT) out = out.replace(re, replacement);
  return out;
}

const MAX_DEPTH = 8;

/**
 * A copy of `value` with secret-named keys blanked and secret-shaped text removed, at any depth.
 * Errors stay errors (same prototype, so pino's err serializer still names their type) with their
 * message, stack, cause and own fields scrubbed; binary buffers are dropped (key material travels
 * as Buffers).
 */
export function scrubSecrets(value: unknown, known: readonly string[] = [], depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return scrubText(value, known);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return '[binary]';
  seen.add(value);
  const next = (v: unknown): unknown => scrubSecrets(v, known, depth + 1, seen);
  if (Array.isArray(value)) return value.map(next);
  if (value instanceof Error) {
    const copy = Object.create(Object.getPrototypeOf(value) as object) as Error & Record<string, unknown>;
    // Defined, not assigned: some error classes (Temporal's ApplicationFailure) make `name` a
    // read-only property of their prototype, and assigning it would throw from inside a log call.
    const set = (k: string, v: unknown, enumerable = true): void => {
      Object.defineProperty(copy, k, { value: v, writable: true, configurable: true, enumerable });
    };
    for (const [k, v] of Object.entries(value)) set(k, isSecretKey(k) ? REDACTED : next(v));
    set('name', value.name, false);
    set('message', scrubText(value.message, known), false);
    if (value.stack !== undefined) set('stack', scrubText(value.stack, known), false);
    if (value.cause !== undefined) set('cause', next(value.cause), false);
    return copy;
  }
  if (value instanceof Date || value instanceof RegExp) return value;
  // What JSON would print: a Secret prints "[redacted]", a URL its href.
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return next((toJSON as () => unknown).call(value));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = isSecretKey(k) ? REDACTED : next(v);
  return out;
}

export function createLogger(options: LoggerOptions = {}): PinoLogger {
  const level = options.level ?? process.env.LOG_LEVEL ?? 'info';
  const pretty = options.pretty ?? (options.destination === undefined && process.stderr.isTTY === true && process.env.LOG_FORMAT !== 'json');
  const known = [...(options.secrets ?? secretEnvValues())];
  const base: pino.LoggerOptions = {
    level,
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    hooks: {
      // Every argument of every call: the message, its fields, an error passed alone.
      logMethod(args, method) {
        const scrubbed = args.map((a) => scrubSecrets(a, known)) as typeof args;
        method.apply(this, scrubbed);
      },
    },
  };
  const root = pretty
    ? pino({ ...base, transport: { target: 'pino-pretty', options: { destination: 2, colorize: true, ignore: 'pid,hostname' } } })
    : pino(base, options.destination ?? pino.destination({ fd: 2, sync: false }));
  return scrubChildBindings(root, known);
}

/**
 * A child's fields (`logger.child({...})`) are serialised once, when it is made, and pass through
 * neither logMethod nor a formatter pino lets children keep; so `child` itself scrubs them. Children
 * are made with the root as prototype, so every descendant inherits this `child`.
 */
function scrubChildBindings(root: PinoLogger, known: readonly string[]): PinoLogger {
  type ChildFn = (this: PinoLogger, bindings: pino.Bindings, options?: unknown) => PinoLogger;
  const original = Reflect.get(root, 'child') as unknown as ChildFn;
  const child: ChildFn = function (this: PinoLogger, bindings, options) {
    return original.call(this, scrubSecrets(bindings, known) as pino.Bindings, options);
  };
  root.child = child as unknown as PinoLogger['child'];
  return root;
}

const pinoLevel: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * SDK warnings that are expected in this design and would only alarm an operator: the slots worker
 * has no activities by design, and a completion racing a task time-out is retried by the server.
 */
const BENIGN_WARNINGS = [/^No activities registered, not polling for activity tasks/, /^Task not found when completing/];

/** Temporal's Logger on top of pino (pino takes the metadata object first). */
export class PinoTemporalLogger implements Logger {
  constructor(private readonly pinoLogger: PinoLogger) {}
  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    const { workflowId, activityType, workflowType, ...rest } = (meta ?? {}) as Record<string, unknown>;
    const effective = level === 'WARN' && BENIGN_WARNINGS.some((re) => re.test(message)) ? 'DEBUG' : level;
    this.pinoLogger[pinoLevel[effective]]({ temporal: true, workflowId, workflowType, activityType, ...rest }, message);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

let runtimeInstalled = false;
let runtimePrometheusAddress: string | undefined;

/** host:port of the Temporal runtime's Prometheus exporter, when this process installed one. */
export function temporalRuntimeMetricsAddress(): string | undefined {
  return runtimePrometheusAddress;
}

/**
 * Runtime.install must run once per process, before any connection or worker exists. Later calls
 * (a second worker in the same process, a test file) reuse the first installation.
 */
export function installTemporalRuntime(logger: PinoLogger, options: { prometheusBindAddress?: string } = {}): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const coreLevel = (process.env.TEMPORAL_CORE_LOG_LEVEL ?? 'WARN') as LogLevel;
  try {
    Runtime.install({
      logger: new PinoTemporalLogger(logger.child({ component: 'temporal' })),
      telemetryOptions: {
        logging: { filter: { core: coreLevel, other: coreLevel }, forward: {} },
        ...(options.prometheusBindAddress ? { metrics: { prometheus: { bindAddress: options.prometheusBindAddress } } } : {}),
      },
    });
    runtimePrometheusAddress = options.prometheusBindAddress;
  } catch (err) {
    // Already installed by someone else in this process (e.g. the SDK's test environment).
    logger.debug({ err }, 'Temporal runtime already installed');
  }
}


/**
 * The pino root logger and its bridge into the Temporal runtime, so SDK, Core and workflow logs
 * land in the same JSON stream as ours. Logs go to stderr; stdout is for what the user asked for.
 */
import pino, { type Logger as PinoLogger } from 'pino';
import { Runtime, type LogLevel, type LogMetadata, type Logger } from '@temporalio/worker';

export type { PinoLogger };

export interface LoggerOptions {
  level?: string;
  /** Human-readable lines instead of JSON; defaults to "stderr is a terminal". */
  pretty?: boolean;
}

/** Keys whose values never reach a log line. */
const REDACT = ['apiKey', 'password', 'token', 'credentials', '*.apiKey', '*.password', '*.token', '*.credentials'];

export function createLogger(options: LoggerOptions = {}): PinoLogger {
  const level = options.level ?? process.env.LOG_LEVEL ?? 'info';
  const pretty = options.pretty ?? (process.stderr.isTTY === true && process.env.LOG_FORMAT !== 'json');
  if (pretty) {
    return pino({
      level,
      redact: REDACT,
      transport: { target: 'pino-pretty', options: { destination: 2, colorize: true, ignore: 'pid,hostname' } },
    });
  }
  return pino({ level, redact: REDACT }, pino.destination({ fd: 2, sync: false }));
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
  } catch (err) {
    // Already installed by someone else in this process (e.g. the SDK's test environment).
    logger.debug({ err }, 'Temporal runtime already installed');
  }
}


/**
 * The overloaded warehouse of bench:scale's second section: a `Warehouse` decorator that applies
 * the latency model (the first call of each attempt at a (processor, date) waits the processor's
 * modelled time) and, on top, the overload model of latency-model.ts: with n calls in flight here
 * (the new one included) above the healthy concurrency H, that wait is multiplied by (n/H)^k and
 * the call may fail with a transient WarehouseError, as BigQuery answers rateLimitExceeded.
 *
 * A failed attempt does not count as the date's modelled work: the retry waits (and draws) again,
 * keyed by its attempt number. Only modelled calls are slowed or failed; the rest of a date's calls
 * and plans and gates run at DuckDB speed. Counts what it did (stats) for the bench's report.
 */
import { WORK_METHODS, WarehouseDecorator, type WarehouseCall } from '../../src/warehouse/decorator';
import { WarehouseError, type QueryOptions, type Warehouse } from '../../src/warehouse/types';
import { overloadCallKey, overloadOutcome, type OverloadModel } from './latency-model';
import { abortableSleep } from '../../src/warehouse/abortable-sleep';

export interface OverloadStats {
  /** Calls that carried a date's modelled latency (attempts included). */
  modelledCalls: number;
  /** Of those, failed with the simulated transient error. */
  transientErrors: number;
  /** Modelled calls for a (processor, date) that had failed before: the retries. */
  retries: number;
  /** Dates that needed more than one attempt. */
  datesRetried: number;
  maxInFlight: number;
  /** n (calls in flight when a modelled call started, itself included) → modelled calls started at n. */
  startsByInFlight: Record<string, number>;
  /** n → of those, failed. */
  errorsByInFlight: Record<string, number>;
  /** Sum of the latency multipliers applied (÷ modelledCalls: the mean slow-down). */
  latencyFactorSum: number;
  /** Modelled milliseconds waited in all (successes and failures). */
  modelledWaitMs: number;
}

export function emptyOverloadStats(): OverloadStats {
  return {
    modelledCalls: 0,
    transientErrors: 0,
    retries: 0,
    datesRetried: 0,
    maxInFlight: 0,
    startsByInFlight: {},
    errorsByInFlight: {},
    latencyFactorSum: 0,
    modelledWaitMs: 0,
  };
}

export class OverloadWarehouse extends WarehouseDecorator {
  private inFlight = 0;
  /** (processor, date) → attempts made at its modelled call so far. */
  private readonly attempts = new Map<string, number>();
  /** (processor, date) whose modelled call succeeded: later calls run at DuckDB speed. */
  private readonly done = new Set<string>();
  private readonly stats: OverloadStats = emptyOverloadStats();

  constructor(
    inner: Warehouse,
    private readonly options: { dateLatencyMs: Readonly<Record<string, number>>; model: OverloadModel },
  ) {
    super(inner);
  }

  /** The activities' calls meet the model; set-up (tables, seeding) passes through. */
  protected around<T>(call: WarehouseCall, run: (opts: QueryOptions | undefined) => Promise<T>): Promise<T> {
    return WORK_METHODS.has(call.method) ? this.call(call.opts, () => run(call.opts)) : run(call.opts);
  }

  snapshot(): OverloadStats {
    return { ...this.stats, startsByInFlight: { ...this.stats.startsByInFlight }, errorsByInFlight: { ...this.stats.errorsByInFlight } };
  }

  private async call<T>(opts: QueryOptions | undefined, run: () => Promise<T>): Promise<T> {
    this.inFlight += 1;
    const n = this.inFlight;
    this.stats.maxInFlight = Math.max(this.stats.maxInFlight, n);
    try {
      const processor = opts?.labels?.processor;
      const date = opts?.labels?.date;
      const baseMs = processor !== undefined ? this.options.dateLatencyMs[processor] : undefined;
      if (processor !== undefined && date !== undefined && baseMs !== undefined && baseMs > 0) {
        const id = `${processor}@${date}`;
        if (!this.done.has(id)) await this.modelled(id, processor, date, n, baseMs, opts?.signal);
      }
      return await run();
    } finally {
      this.inFlight -= 1;
    }
  }

  /** The date's modelled wait at this load; throws the simulated transient error when the draw says so. */
  private async modelled(id: string, processor: string, date: string, n: number, baseMs: number, signal: AbortSignal | undefined): Promise<void> {
    const attempt = (this.attempts.get(id) ?? 0) + 1;
    this.attempts.set(id, attempt);
    const s = this.stats;
    s.modelledCalls += 1;
    if (attempt > 1) s.retries += 1;
    if (attempt === 2) s.datesRetried += 1;
    s.startsByInFlight[n] = (s.startsByInFlight[n] ?? 0) + 1;
    const outcome = overloadOutcome(n, baseMs, overloadCallKey(processor, date, attempt), this.options.model);
    s.latencyFactorSum += outcome.latencyFactor;
    s.modelledWaitMs += outcome.waitMs;
    await abortableSleep(outcome.waitMs, signal);
    if (outcome.fails) {
      s.transientErrors += 1;
      s.errorsByInFlight[n] = (s.errorsByInFlight[n] ?? 0) + 1;
      throw new WarehouseError(
        `rateLimitExceeded: simulated overload, ${n} operations in flight above the healthy ${this.options.model.healthy} (attempt ${attempt} of ${processor} ${date})`,
        'transient',
      );
    }
    this.done.add(id);
  }
}

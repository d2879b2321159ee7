/**
 * The BigQuery latency model of `npm run bench:scale`: how long one date of each processor keeps
 * the warehouse busy on BigQuery, in the seed's proportions, and the same scaled down by a factor
 * so a simulated run takes minutes instead of days.
 *
 * Sources (the handoff note, /work/shared/seed/000_a93cb7c4e3507b49.txt, all run sequentially):
 * - measured: PCF 80 dates/h (10.5 h), PDC 56 dates/h (15 h), MLFS ~140 dates/h (~6 h est.);
 * - derived: Phase 4 took 30–35 h in all. PCF + PDC + MLFS ≈ 31.6 h over 848 dates, which leaves
 *   ≈ 3 h for group 1: TDZA and PSZA 1.5 h each (≈ 565 dates/h, 6.4 s a date);
 * - assumed, no measurement in the seed: Phase 3 processors 12.5 h each over 918 dates (the design
 *   brief's "10–15 hours each" per processor script; 49 s a date); Phase 5 ≈ 16 h (the handoff's
 *   plan: start ~4 PM, done the next morning), 12 h predictions (51 s) and 4 h accuracy (17 s);
 *   Phase 6 "expected duration 1 hour" for ~848 exports (4.2 s).
 * Plans and gates are not modelled: they run at DuckDB speed (about a second each), which on
 * BigQuery would add minutes to a run of days.
 *
 * Below that, the overload model: a warehouse with a healthy concurrency H, slower and failing
 * transiently when more than H operations are in flight (see OverloadModel).
 */

export interface ModelledProcessor {
  /** Seconds one date keeps BigQuery busy. */
  secondsPerDate: number;
  basis: 'measured' | 'derived' | 'assumed';
  note: string;
}

const PHASE4_DATES = 848;
const PHASE3_DATES = 918;
const perDate = (hours: number, dates: number): number => (hours * 3600) / dates;

export const SEED_LATENCY_MODEL: Readonly<Record<string, ModelledProcessor>> = Object.freeze({
  player_game_summary: { secondsPerDate: perDate(12.5, PHASE3_DATES), basis: 'assumed', note: '12.5 h per Phase 3 processor (design: 10–15 h each)' },
  team_offense_game_summary: { secondsPerDate: perDate(12.5, PHASE3_DATES), basis: 'assumed', note: 'as player_game_summary' },
  team_defense_game_summary: { secondsPerDate: perDate(12.5, PHASE3_DATES), basis: 'assumed', note: 'as player_game_summary' },
  upcoming_player_game_context: { secondsPerDate: perDate(12.5, PHASE3_DATES), basis: 'assumed', note: 'as player_game_summary' },
  upcoming_team_game_context: { secondsPerDate: perDate(12.5, PHASE3_DATES), basis: 'assumed', note: 'as player_game_summary' },
  team_defense_zone_analysis: { secondsPerDate: perDate(1.5, PHASE4_DATES), basis: 'derived', note: 'Phase 4 30–35 h − PCF − PDC − MLFS ≈ 3 h for group 1, half each' },
  player_shot_zone_analysis: { secondsPerDate: perDate(1.5, PHASE4_DATES), basis: 'derived', note: 'as team_defense_zone_analysis' },
  player_composite_factors: { secondsPerDate: 3600 / 80, basis: 'measured', note: '80 dates/h sequential' },
  player_daily_cache: { secondsPerDate: 3600 / 56, basis: 'measured', note: '56 dates/h sequential' },
  ml_feature_store_v2: { secondsPerDate: 3600 / 140, basis: 'measured', note: '~140 dates/h sequential (the handoff\'s estimate)' },
  player_prop_predictions: { secondsPerDate: perDate(12, PHASE4_DATES), basis: 'assumed', note: 'Phase 5 ≈ 16 h (handoff timeline): 12 h predictions' },
  prediction_accuracy: { secondsPerDate: perDate(4, PHASE4_DATES), basis: 'assumed', note: 'Phase 5 ≈ 16 h: 4 h grading' },
  prediction_exports: { secondsPerDate: perDate(1, PHASE4_DATES), basis: 'assumed', note: 'Phase 6 "expected duration 1 hour"' },
});

/** Milliseconds one date of `processor` is held at the warehouse in a run scaled down by `factor`; 0 if unmodelled. */
export function scaledDateMs(processor: string, factor: number, model: Readonly<Record<string, ModelledProcessor>> = SEED_LATENCY_MODEL): number {
  if (!(factor > 0)) throw new RangeError(`scale factor must be positive, got ${factor}`);
  const m = model[processor];
  return m === undefined ? 0 : (m.secondsPerDate * 1000) / factor;
}

/** Every modelled processor's scaled milliseconds per date. */
export function scaledModel(factor: number, model: Readonly<Record<string, ModelledProcessor>> = SEED_LATENCY_MODEL): Record<string, number> {
  return Object.fromEntries(Object.keys(model).map((name) => [name, Number(scaledDateMs(name, factor, model).toFixed(2))]));
}

/** Hours the model gives a set of processors run one date at a time (the seed's sequential mode). */
export function sequentialHours(dates: Readonly<Record<string, number>>, model: Readonly<Record<string, ModelledProcessor>> = SEED_LATENCY_MODEL): number {
  let seconds = 0;
  for (const [name, n] of Object.entries(dates)) seconds += n * (model[name]?.secondsPerDate ?? 0);
  return seconds / 3600;
}

/*
 * The overload model (bench:scale's second section): a warehouse that degrades when pushed beyond
 * what it can take, as the seed's BigQuery did at 8 parallel workers (it hung). The warehouse has
 * a stated healthy concurrency H: operations in flight across the whole deployment it serves at
 * full speed. With n operations in flight (the new one included) when an operation starts:
 *
 * - n ≤ H: nothing changes — the modelled latency, no failures;
 * - n > H: the operation's modelled latency is multiplied by (n ÷ H)^latencyExponent (2: at H = 5,
 *   n = 8 takes 2.56×), and it fails with a transient WarehouseError ("rateLimitExceeded…") with
 *   probability min(maxErrorRate, errorRatePerExcess × (n − H)), after failAfterFraction of its
 *   inflated latency (a rate-limit or backend error arrives after part of the work).
 *
 * The draw is seeded and deterministic per call: a hash of (seed, processor, date, attempt) gives a
 * uniform number u in [0, 1), and the call fails when u < the probability at its n. Which calls see
 * which n depends on the schedule; the same call at the same n always has the same outcome.
 * Throughput at n > H falls as H² ÷ n per modelled second (with exponent 2): past H, more load
 * means less done, the behaviour adaptive load must find and stay below.
 */
export interface OverloadModel {
  /** H: operations in flight (deployment-wide) the warehouse takes at full speed. */
  healthy: number;
  /** Latency multiplier (n ÷ H)^latencyExponent above H. */
  latencyExponent: number;
  /** Transient-failure probability per operation in flight above H. */
  errorRatePerExcess: number;
  /** The failure probability never exceeds this. */
  maxErrorRate: number;
  /** A failing operation fails after this share of its inflated latency. */
  failAfterFraction: number;
  seed: number;
}

export const DEFAULT_OVERLOAD_MODEL: Readonly<OverloadModel> = Object.freeze({
  healthy: 5,
  latencyExponent: 2,
  errorRatePerExcess: 0.05,
  maxErrorRate: 0.5,
  failAfterFraction: 0.5,
  seed: 1,
});

/** The latency multiplier of an operation that starts with `inFlight` operations in flight (itself included). */
export function overloadLatencyFactor(inFlight: number, model: Pick<OverloadModel, 'healthy' | 'latencyExponent'>): number {
  if (!(model.healthy >= 1)) throw new RangeError(`healthy concurrency must be at least 1, got ${model.healthy}`);
  return inFlight <= model.healthy ? 1 : (inFlight / model.healthy) ** model.latencyExponent;
}

/** The probability that an operation starting with `inFlight` in flight fails transiently. */
export function overloadErrorProbability(inFlight: number, model: Pick<OverloadModel, 'healthy' | 'errorRatePerExcess' | 'maxErrorRate'>): number {
  if (!(model.healthy >= 1)) throw new RangeError(`healthy concurrency must be at least 1, got ${model.healthy}`);
  if (inFlight <= model.healthy) return 0;
  return Math.max(0, Math.min(model.maxErrorRate, model.errorRatePerExcess * (inFlight - model.healthy)));
}

/** A uniform number in [0, 1) from a seed and a key: FNV-1a over "seed|key", then a 32-bit avalanche. */
export function seededUniform(seed: number, key: string): number {
  let h = 0x811c9dc5;
  const text = `${seed}|${key}`;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // murmur3's finaliser, so neighbouring keys (attempt 1, 2…) land far apart.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}

/** The key of one modelled call: a date of a processor, and which attempt at it (1, 2, …). */
export function overloadCallKey(processor: string, date: string, attempt: number): string {
  return `${processor}@${date}#${attempt}`;
}

export interface OverloadOutcome {
  /** How long the call waits at the warehouse before it succeeds (or fails), ms. */
  waitMs: number;
  fails: boolean;
  latencyFactor: number;
  errorProbability: number;
}

/** What the overloaded warehouse does with one modelled call of `baseMs` that starts with `inFlight` in flight. */
export function overloadOutcome(inFlight: number, baseMs: number, key: string, model: OverloadModel): OverloadOutcome {
  const latencyFactor = overloadLatencyFactor(inFlight, model);
  const errorProbability = overloadErrorProbability(inFlight, model);
  const fails = errorProbability > 0 && seededUniform(model.seed, key) < errorProbability;
  const inflated = baseMs * latencyFactor;
  return { waitMs: fails ? inflated * model.failAfterFraction : inflated, fails, latencyFactor, errorProbability };
}

/** The model in one sentence, for the bench's output and results file. */
export function describeOverload(model: OverloadModel): string {
  const at = (n: number): string =>
    `n = ${n}: latency ×${overloadLatencyFactor(n, model).toFixed(2)}, ${(overloadErrorProbability(n, model) * 100).toFixed(0)}% transient errors`;
  return (
    `healthy concurrency H = ${model.healthy} operations in flight; with n > H in flight a new operation's latency × (n/H)^${model.latencyExponent} ` +
    `and it fails transiently (rateLimitExceeded) with probability min(${model.maxErrorRate}, ${model.errorRatePerExcess} × (n − H)), ` +
    `after ${model.failAfterFraction} of its inflated latency; seeded per (processor, date, attempt), seed ${model.seed} ` +
    `(${[model.healthy, model.healthy + 1, model.healthy + 3].map(at).join('; ')})`
  );
}

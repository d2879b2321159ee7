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

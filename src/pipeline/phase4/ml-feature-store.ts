/**
 * ml_feature_store_v2 (MLFS): one feature vector per player-game, the only table the prediction
 * systems read. It joins, for the same date, the player's cache (PDC), composite factors (PCF) and
 * shot profile (PSZA), the opponent's defence (TDZA) and the pre-game context (home/away, rest, the
 * points line). Every Phase 4 input was computed from history strictly before the date.
 *
 * One row per player with a game who has played this season before it (PDC's players), lined or
 * not: the store describes players, the prediction systems choose the lined ones. points_line is
 * carried for them but is not a feature (it is what a prediction is compared with).
 *
 * feature_count counts the non-NULL features; feature_completeness = feature_count / FEATURE_COUNT.
 * Features are legitimately NULL when an input cannot say: no TDZA on the dates TDZA skips, no
 * usage in feeds without it, no spread after a single game, no zone rates without attempts.
 */
import type { Dialect } from '../../warehouse/types';
import { upcomingPlayerGameContext } from '../phase3';
import { projection } from '../phase3/sql';
import type { TableProcessorDef } from '../types';
import { playerCompositeFactors } from './player-composite-factors';
import { playerDailyCache } from './player-daily-cache';
import { playerShotZoneAnalysis } from './player-shot-zone-analysis';
import { notNullCount, PRECOMPUTE_DATASET } from './sql';
import { requireAll } from '../sql';
import { teamDefenseZoneAnalysis } from './team-defense-zone-analysis';

/** The feature columns, in table order, with their source expression. */
const features = [
  { name: 'points_avg_last_5', type: 'FLOAT64', expr: 'pdc.points_avg_last_5' },
  { name: 'points_avg_last_10', type: 'FLOAT64', expr: 'pdc.points_avg_last_10' },
  { name: 'points_avg_season', type: 'FLOAT64', expr: 'pdc.points_avg_season' },
  { name: 'points_std_last_10', type: 'FLOAT64', expr: 'pdc.points_std_last_10' },
  { name: 'minutes_avg_last_10', type: 'FLOAT64', expr: 'pdc.minutes_avg_last_10' },
  { name: 'games_played_season', type: 'INT64', expr: 'pdc.games_played_season' },
  { name: 'days_since_last_game', type: 'INT64', expr: 'pdc.days_since_last_game' },
  { name: 'is_home', type: 'BOOL', expr: 'ctx.is_home' },
  { name: 'days_rest', type: 'INT64', expr: 'ctx.days_rest' },
  { name: 'back_to_back', type: 'BOOL', expr: 'ctx.back_to_back' },
  { name: 'games_in_last_7_days', type: 'INT64', expr: 'ctx.games_in_last_7_days' },
  { name: 'paint_attempt_share', type: 'FLOAT64', expr: 'psza.paint_attempt_share' },
  { name: 'mid_attempt_share', type: 'FLOAT64', expr: 'psza.mid_attempt_share' },
  { name: 'three_attempt_share', type: 'FLOAT64', expr: 'psza.three_attempt_share' },
  { name: 'paint_fg_pct', type: 'FLOAT64', expr: 'psza.paint_fg_pct' },
  { name: 'mid_fg_pct', type: 'FLOAT64', expr: 'psza.mid_fg_pct' },
  { name: 'three_fg_pct', type: 'FLOAT64', expr: 'psza.three_fg_pct' },
  { name: 'opp_paint_fg_pct_allowed', type: 'FLOAT64', expr: 'opp.paint_fg_pct_allowed' },
  { name: 'opp_mid_fg_pct_allowed', type: 'FLOAT64', expr: 'opp.mid_fg_pct_allowed' },
  { name: 'opp_three_fg_pct_allowed', type: 'FLOAT64', expr: 'opp.three_fg_pct_allowed' },
  { name: 'opp_points_allowed_per_game', type: 'FLOAT64', expr: 'opp.points_allowed_per_game' },
  { name: 'fatigue_adjustment', type: 'FLOAT64', expr: 'pcf.fatigue_adjustment' },
  { name: 'zone_matchup_adjustment', type: 'FLOAT64', expr: 'pcf.zone_matchup_adjustment' },
  { name: 'pace_factor', type: 'FLOAT64', expr: 'pcf.pace_factor' },
  { name: 'usage_trend', type: 'FLOAT64', expr: 'pcf.usage_trend' },
  { name: 'composite_adjustment', type: 'FLOAT64', expr: 'pcf.composite_adjustment' },
] as const;

/** How many features a complete vector has (the denominator of feature_completeness). */
export const FEATURE_COUNT = features.length;
export const FEATURE_NAMES: readonly string[] = features.map((f) => f.name);

const columns = [
  { name: 'game_date', type: 'DATE' },
  { name: 'player_lookup', type: 'STRING' },
  { name: 'player_name', type: 'STRING' },
  { name: 'game_id', type: 'STRING' },
  { name: 'season', type: 'STRING' },
  { name: 'team_abbr', type: 'STRING' },
  { name: 'opponent_team_abbr', type: 'STRING' },
  { name: 'points_line', type: 'FLOAT64' },
  ...features.map(({ name, type }) => ({ name, type })),
  { name: 'feature_count', type: 'INT64' },
  { name: 'feature_completeness', type: 'FLOAT64' },
] as const;

function select(d: Dialect): string {
  const date = d.dateParam('date');
  const featureExprs = Object.fromEntries(features.map((f) => [f.name, f.expr])) as Record<
    (typeof features)[number]['name'],
    string
  >;
  const count = notNullCount(features.map((f) => f.expr));
  return `WITH
ctx AS (
  SELECT game_id, season, player_lookup, player_name, team_abbr, opponent_team_abbr,
         is_home, days_rest, back_to_back, games_in_last_7_days, points_line
  FROM ${d.table(upcomingPlayerGameContext.target)}
  WHERE game_date = ${date}
),
pdc AS (
  SELECT player_lookup, game_id, points_avg_last_5, points_avg_last_10, points_avg_season, points_std_last_10,
         minutes_avg_last_10, games_played_season, days_since_last_game
  FROM ${d.table(playerDailyCache.target)}
  WHERE cache_date = ${date}
),
pcf AS (
  SELECT player_lookup, fatigue_adjustment, zone_matchup_adjustment, pace_factor, usage_trend, composite_adjustment
  FROM ${d.table(playerCompositeFactors.target)}
  WHERE game_date = ${date}
),
psza AS (
  SELECT player_lookup, paint_attempt_share, mid_attempt_share, three_attempt_share,
         paint_fg_pct, mid_fg_pct, three_fg_pct
  FROM ${d.table(playerShotZoneAnalysis.target)}
  WHERE analysis_date = ${date}
),
opp AS (
  SELECT team_abbr, paint_fg_pct_allowed, mid_fg_pct_allowed, three_fg_pct_allowed, points_allowed_per_game
  FROM ${d.table(teamDefenseZoneAnalysis.target)}
  WHERE analysis_date = ${date}
)
SELECT
  ${projection(d, columns, {
    game_date: date,
    player_lookup: 'ctx.player_lookup',
    player_name: 'ctx.player_name',
    game_id: 'ctx.game_id',
    season: 'ctx.season',
    team_abbr: 'ctx.team_abbr',
    opponent_team_abbr: 'ctx.opponent_team_abbr',
    points_line: 'ctx.points_line',
    ...featureExprs,
    feature_count: count,
    feature_completeness: `CAST(${count} AS ${d.columnType('FLOAT64')}) / ${FEATURE_COUNT}`,
  })}
FROM ctx
JOIN pdc ON pdc.player_lookup = ctx.player_lookup AND pdc.game_id = ctx.game_id
LEFT JOIN pcf ON pcf.player_lookup = ctx.player_lookup
LEFT JOIN psza ON psza.player_lookup = ctx.player_lookup
LEFT JOIN opp ON opp.team_abbr = ctx.opponent_team_abbr`;
}

export const mlFeatureStoreV2: TableProcessorDef = {
  kind: 'table',
  name: 'ml_feature_store_v2',
  phase: 4,
  group: 4,
  bootstrap: true,
  description: `One feature vector (${FEATURE_COUNT} features) per player-game from PDC, PCF, PSZA, the opponent's TDZA and the pre-game context, with the points line and feature completeness`,
  target: { dataset: PRECOMPUTE_DATASET, table: 'ml_feature_store_v2', columns },
  keyColumns: ['game_date', 'player_lookup'],
  dateColumn: 'game_date',
  inputs: [
    upcomingPlayerGameContext.target,
    playerDailyCache.target,
    playerCompositeFactors.target,
    playerShotZoneAnalysis.target,
    teamDefenseZoneAnalysis.target,
  ],
  select,
  // PDC, PCF and PSZA must have run for the date; TDZA legitimately skips dates.
  requiredInput: (d) =>
    requireAll(d, [
      { ref: playerDailyCache.target, dateColumn: 'cache_date' },
      { ref: playerCompositeFactors.target, dateColumn: 'game_date' },
      { ref: playerShotZoneAnalysis.target, dateColumn: 'analysis_date' },
    ]),
  // No threshold on the opponent (TDZA) features: they are NULL on every date TDZA skips, a share
  // that depends on the range (~5% of rows over the whole backfill, ~30% over one season's first
  // month), so any fixed minimum would be wrong for some range.
  fieldCoverage: [
    { column: 'points_avg_last_10', min: 1.0 },
    {
      column: 'composite_adjustment',
      min: 1.0,
      note: 'PCF covers the same players as PDC on every date, so a NULL means PCF did not run',
    },
  ],
};

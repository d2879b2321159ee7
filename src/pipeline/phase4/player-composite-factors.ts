/**
 * player_composite_factors (PCF): the situational factors that move a player's expected points
 * away from his recent scoring, each expressed in points so they add up to one composite:
 *
 *   fatigue   −1.0 on the second night of a back-to-back, +0.5 with 3+ days of rest (0 otherwise),
 *             and −0.5 more when the team plays its 5th+ game in 8 days (4+ in the last 7).
 *   matchup   Σ_zone share(zone) × (opponent's FG% allowed − league FG%)(zone) × points per make
 *             (2, 2, 3) gives the extra points per field-goal attempt this defence concedes for his
 *             shot mix (PSZA × the opponent's TDZA row); × his FGA per game gives points.
 *   pace      expected pace = mean of his team's and the opponent's last-10 pace; pace factor =
 *             expected / league pace this season; adjustment = season points avg × (factor − 1).
 *   usage     trend = usage last 5 − usage last 15 (NULLs left out of both averages); adjustment =
 *             ½ × season points avg × trend / usage last 15. NULL when usage is unknown.
 *
 * composite_adjustment = the sum of the available factors (a missing one counts 0), clamped to
 * ±5 points; factors_available says how many were there. The opponent's TDZA row is missing on the
 * dates TDZA skips (a team with fewer than 10 games), so on those dates the matchup factor is NULL
 * and the composite carries on without it, which is why PCF covers every date TDZA does not.
 *
 * Reads group 1's PSZA and TDZA rows for the same date (computed from history before it) and
 * Phase 3 history strictly before the date. One row per player with a game who has played this
 * season before it (the same players as PSZA and PDC).
 */
import type { Dialect } from '../../warehouse/types';
import { playerGameSummary, teamOffenseGameSummary, upcomingPlayerGameContext } from '../phase3';
import { projection } from '../phase3/sql';
import type { TableProcessorDef } from '../types';
import { playerShotZoneAnalysis } from './player-shot-zone-analysis';
import {
  COMPOSITE_CLAMP_POINTS,
  newestGameFirst,
  notNullCount,
  PACE_WINDOW_GAMES,
  PRECOMPUTE_DATASET,
  priorSeasonRows,
  USAGE_LONG_WINDOW,
  USAGE_SHORT_WINDOW,
} from './sql';
import { requireAll } from '../sql';
import { teamDefenseZoneAnalysis } from './team-defense-zone-analysis';

const columns = [
  { name: 'game_date', type: 'DATE' },
  { name: 'player_lookup', type: 'STRING' },
  { name: 'game_id', type: 'STRING' },
  { name: 'season', type: 'STRING' },
  { name: 'team_abbr', type: 'STRING' },
  { name: 'opponent_team_abbr', type: 'STRING' },
  { name: 'days_rest', type: 'INT64' },
  { name: 'back_to_back', type: 'BOOL' },
  { name: 'games_in_last_7_days', type: 'INT64' },
  { name: 'fatigue_adjustment', type: 'FLOAT64' },
  /** Extra points per field-goal attempt conceded by the opponent for this player's shot mix. */
  { name: 'zone_matchup_factor', type: 'FLOAT64' },
  { name: 'zone_matchup_adjustment', type: 'FLOAT64' },
  { name: 'team_pace', type: 'FLOAT64' },
  { name: 'opponent_pace', type: 'FLOAT64' },
  { name: 'league_pace', type: 'FLOAT64' },
  { name: 'pace_factor', type: 'FLOAT64' },
  { name: 'pace_adjustment', type: 'FLOAT64' },
  { name: 'points_avg_season', type: 'FLOAT64' },
  { name: 'usage_rate_last_5', type: 'FLOAT64' },
  { name: 'usage_rate_last_15', type: 'FLOAT64' },
  { name: 'usage_trend', type: 'FLOAT64' },
  { name: 'usage_adjustment', type: 'FLOAT64' },
  { name: 'composite_adjustment', type: 'FLOAT64' },
  /** How many of the four factors (fatigue, matchup, pace, usage) were available. */
  { name: 'factors_available', type: 'INT64' },
] as const;

function select(d: Dialect): string {
  const date = d.dateParam('date');
  const fatigue = `(CASE WHEN dp.back_to_back THEN -1.0 WHEN dp.days_rest >= 3 THEN 0.5 ELSE 0.0 END
      + CASE WHEN dp.games_in_last_7_days >= 4 THEN -0.5 ELSE 0.0 END)`;
  const matchupFactor = `(z.paint_attempt_share * od.paint_fg_pct_vs_league * 2
      + z.mid_attempt_share * od.mid_fg_pct_vs_league * 2
      + z.three_attempt_share * od.three_fg_pct_vs_league * 3)`;
  const factors = ['f.fatigue_adjustment', 'f.zone_matchup_adjustment', 'f.pace_adjustment', 'f.usage_adjustment'];
  const rawComposite = factors.map((e) => `COALESCE(${e}, 0)`).join(' + ');
  const clamp = COMPOSITE_CLAMP_POINTS;
  return `WITH
date_players AS (
  SELECT game_id, season, player_lookup, team_abbr, opponent_team_abbr, days_rest, back_to_back, games_in_last_7_days
  FROM ${d.table(upcomingPlayerGameContext.target)}
  WHERE game_date = ${date}
),
player_history AS (
  SELECT pgs.season, pgs.player_lookup, pgs.points, pgs.usage_rate,
         ${newestGameFirst('pgs', 'player_lookup', playerGameSummary)} AS game_rank
  FROM ${d.table(playerGameSummary.target)} AS pgs
  WHERE ${priorSeasonRows(d, 'date_players', 'pgs')}
    AND pgs.player_lookup IN (SELECT player_lookup FROM date_players)
),
player_form AS (
  SELECT season, player_lookup,
         AVG(points) AS points_avg_season,
         AVG(CASE WHEN game_rank <= ${USAGE_SHORT_WINDOW} THEN usage_rate END) AS usage_short,
         AVG(CASE WHEN game_rank <= ${USAGE_LONG_WINDOW} THEN usage_rate END) AS usage_long
  FROM player_history
  GROUP BY season, player_lookup
),
team_history AS (
  SELECT tog.season, tog.team_abbr, tog.pace,
         ${newestGameFirst('tog', 'team_abbr', teamOffenseGameSummary)} AS game_rank
  FROM ${d.table(teamOffenseGameSummary.target)} AS tog
  WHERE ${priorSeasonRows(d, 'date_players', 'tog')}
),
team_pace AS (
  SELECT season, team_abbr, AVG(CASE WHEN game_rank <= ${PACE_WINDOW_GAMES} THEN pace END) AS recent_pace
  FROM team_history
  GROUP BY season, team_abbr
),
league_pace AS (
  SELECT season, AVG(pace) AS pace FROM team_history GROUP BY season
),
zones AS (
  SELECT player_lookup, fga_per_game, paint_attempt_share, mid_attempt_share, three_attempt_share
  FROM ${d.table(playerShotZoneAnalysis.target)}
  WHERE analysis_date = ${date}
),
opponent_defense AS (
  SELECT team_abbr, paint_fg_pct_vs_league, mid_fg_pct_vs_league, three_fg_pct_vs_league
  FROM ${d.table(teamDefenseZoneAnalysis.target)}
  WHERE analysis_date = ${date}
),
base AS (
  SELECT dp.game_id, dp.season, dp.player_lookup, dp.team_abbr, dp.opponent_team_abbr,
         dp.days_rest, dp.back_to_back, dp.games_in_last_7_days,
         ${fatigue} AS fatigue_adjustment,
         ${matchupFactor} AS zone_matchup_factor,
         z.fga_per_game,
         tp.recent_pace AS team_pace, op.recent_pace AS opponent_pace, lp.pace AS league_pace,
         pf.points_avg_season, pf.usage_short, pf.usage_long
  FROM date_players AS dp
  JOIN player_form AS pf ON pf.season = dp.season AND pf.player_lookup = dp.player_lookup
  LEFT JOIN team_pace AS tp ON tp.season = dp.season AND tp.team_abbr = dp.team_abbr
  LEFT JOIN team_pace AS op ON op.season = dp.season AND op.team_abbr = dp.opponent_team_abbr
  LEFT JOIN league_pace AS lp ON lp.season = dp.season
  LEFT JOIN zones AS z ON z.player_lookup = dp.player_lookup
  LEFT JOIN opponent_defense AS od ON od.team_abbr = dp.opponent_team_abbr
),
with_factors AS (
  SELECT b.*,
         b.zone_matchup_factor * b.fga_per_game AS zone_matchup_adjustment,
         ${d.safeDivide('(b.team_pace + b.opponent_pace) / 2', 'b.league_pace')} AS pace_factor,
         b.usage_short - b.usage_long AS usage_trend,
         0.5 * b.points_avg_season * ${d.safeDivide('b.usage_short - b.usage_long', 'b.usage_long')} AS usage_adjustment
  FROM base AS b
),
f AS (
  SELECT w.*, w.points_avg_season * (w.pace_factor - 1) AS pace_adjustment
  FROM with_factors AS w
)
SELECT
  ${projection(d, columns, {
    game_date: date,
    player_lookup: 'f.player_lookup',
    game_id: 'f.game_id',
    season: 'f.season',
    team_abbr: 'f.team_abbr',
    opponent_team_abbr: 'f.opponent_team_abbr',
    days_rest: 'f.days_rest',
    back_to_back: 'f.back_to_back',
    games_in_last_7_days: 'f.games_in_last_7_days',
    fatigue_adjustment: 'f.fatigue_adjustment',
    zone_matchup_factor: 'f.zone_matchup_factor',
    zone_matchup_adjustment: 'f.zone_matchup_adjustment',
    team_pace: 'f.team_pace',
    opponent_pace: 'f.opponent_pace',
    league_pace: 'f.league_pace',
    pace_factor: 'f.pace_factor',
    pace_adjustment: 'f.pace_adjustment',
    points_avg_season: 'f.points_avg_season',
    usage_rate_last_5: 'f.usage_short',
    usage_rate_last_15: 'f.usage_long',
    usage_trend: 'f.usage_trend',
    usage_adjustment: 'f.usage_adjustment',
    composite_adjustment: `CASE
      WHEN ${rawComposite} > ${clamp} THEN ${clamp}
      WHEN ${rawComposite} < -${clamp} THEN -${clamp}
      ELSE ${rawComposite}
    END`,
    factors_available: notNullCount(factors),
  })}
FROM f`;
}

export const playerCompositeFactors: TableProcessorDef = {
  kind: 'table',
  name: 'player_composite_factors',
  phase: 4,
  group: 2,
  bootstrap: true,
  description:
    "For every player with a game who has played this season: fatigue/rest, zone matchup against the opponent's defence, pace and usage-trend adjustments in points, and their clamped composite",
  target: { dataset: PRECOMPUTE_DATASET, table: 'player_composite_factors', columns },
  keyColumns: ['game_date', 'player_lookup'],
  dateColumn: 'game_date',
  inputs: [
    upcomingPlayerGameContext.target,
    playerGameSummary.target,
    teamOffenseGameSummary.target,
    playerShotZoneAnalysis.target,
    teamDefenseZoneAnalysis.target,
  ],
  select,
  // PSZA is required (group 1 must have run); TDZA is not: it legitimately skips dates.
  requiredInput: (d) =>
    requireAll(d, [
      { ref: upcomingPlayerGameContext.target, dateColumn: 'game_date' },
      { ref: playerShotZoneAnalysis.target, dateColumn: 'analysis_date' },
    ]),
  fieldCoverage: [
    { column: 'composite_adjustment', min: 1.0 },
    { column: 'fatigue_adjustment', min: 1.0 },
    { column: 'pace_factor', min: 1.0, note: 'after the bootstrap every team has recent games' },
  ],
};

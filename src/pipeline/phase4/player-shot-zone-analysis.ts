/**
 * player_shot_zone_analysis (PSZA): for every player with a game on the date, where his shots come
 * from — paint, mid-range, three — and how well he converts each, over his last 10 games this
 * season before the date. Shares and percentages are pooled over the sample (Σ attempts / Σ FGA,
 * Σ makes / Σ attempts). PCF multiplies these shares by the opponent's TDZA zone FG% allowed.
 *
 * A player with no game this season before the date has no shot profile and gets no row (rather
 * than a row of NULLs that reads like a player who never shoots). A player whose sampled games had
 * no field-goal attempts gets a row with NULL shares.
 */
import type { Dialect } from '../../warehouse/types';
import { playerGameSummary, upcomingPlayerGameContext } from '../phase3';
import { projection } from '../phase3/sql';
import type { TableProcessorDef } from '../types';
import { newestGameFirst, PRECOMPUTE_DATASET, priorSeasonRows, PSZA_WINDOW_GAMES } from './sql';
import { requireAll } from '../sql';

const columns = [
  { name: 'analysis_date', type: 'DATE' },
  { name: 'player_lookup', type: 'STRING' },
  { name: 'player_name', type: 'STRING' },
  { name: 'game_id', type: 'STRING' },
  { name: 'season', type: 'STRING' },
  { name: 'team_abbr', type: 'STRING' },
  { name: 'opponent_team_abbr', type: 'STRING' },
  /** Games in the sample: min(10, his games this season before the date); at least 1. */
  { name: 'games_in_sample', type: 'INT64' },
  { name: 'fga_per_game', type: 'FLOAT64' },
  /** Shares of his field-goal attempts by zone (they sum to 1); NULL without attempts. */
  { name: 'paint_attempt_share', type: 'FLOAT64' },
  { name: 'mid_attempt_share', type: 'FLOAT64' },
  { name: 'three_attempt_share', type: 'FLOAT64' },
  { name: 'paint_fg_pct', type: 'FLOAT64' },
  { name: 'mid_fg_pct', type: 'FLOAT64' },
  { name: 'three_fg_pct', type: 'FLOAT64' },
  /** 'paint' | 'mid' | 'three': the zone with the largest share (paint, then mid, wins ties). */
  { name: 'primary_scoring_zone', type: 'STRING' },
] as const;

function select(d: Dialect): string {
  const date = d.dateParam('date');
  return `WITH
date_players AS (
  SELECT game_id, season, player_lookup, player_name, team_abbr, opponent_team_abbr
  FROM ${d.table(upcomingPlayerGameContext.target)}
  WHERE game_date = ${date}
),
recent_games AS (
  SELECT * FROM (
    SELECT pgs.season, pgs.player_lookup, pgs.game_date, pgs.fga, pgs.fg3m, pgs.fg3a,
           pgs.paint_fgm, pgs.paint_fga, pgs.mid_fgm, pgs.mid_fga,
           ${newestGameFirst('pgs', 'player_lookup', playerGameSummary)} AS game_rank
    FROM ${d.table(playerGameSummary.target)} AS pgs
    WHERE ${priorSeasonRows(d, 'date_players', 'pgs')}
      AND pgs.player_lookup IN (SELECT player_lookup FROM date_players)
  ) AS ranked
  WHERE game_rank <= ${PSZA_WINDOW_GAMES}
),
player_sample AS (
  SELECT season, player_lookup,
         COUNT(*) AS games,
         AVG(fga) AS fga_per_game,
         SUM(fga) AS fga, SUM(fg3m) AS fg3m, SUM(fg3a) AS fg3a,
         SUM(paint_fgm) AS paint_fgm, SUM(paint_fga) AS paint_fga,
         SUM(mid_fgm) AS mid_fgm, SUM(mid_fga) AS mid_fga
  FROM recent_games
  GROUP BY season, player_lookup
),
player_rates AS (
  SELECT season, player_lookup, games, fga_per_game,
         ${d.safeDivide('paint_fga', 'fga')} AS paint_share,
         ${d.safeDivide('mid_fga', 'fga')} AS mid_share,
         ${d.safeDivide('fg3a', 'fga')} AS three_share,
         ${d.safeDivide('paint_fgm', 'paint_fga')} AS paint_fg_pct,
         ${d.safeDivide('mid_fgm', 'mid_fga')} AS mid_fg_pct,
         ${d.safeDivide('fg3m', 'fg3a')} AS three_fg_pct
  FROM player_sample
)
SELECT
  ${projection(d, columns, {
    analysis_date: date,
    player_lookup: 'dp.player_lookup',
    player_name: 'dp.player_name',
    game_id: 'dp.game_id',
    season: 'dp.season',
    team_abbr: 'dp.team_abbr',
    opponent_team_abbr: 'dp.opponent_team_abbr',
    games_in_sample: 'pr.games',
    fga_per_game: 'pr.fga_per_game',
    paint_attempt_share: 'pr.paint_share',
    mid_attempt_share: 'pr.mid_share',
    three_attempt_share: 'pr.three_share',
    paint_fg_pct: 'pr.paint_fg_pct',
    mid_fg_pct: 'pr.mid_fg_pct',
    three_fg_pct: 'pr.three_fg_pct',
    primary_scoring_zone: `CASE
      WHEN pr.paint_share IS NULL THEN NULL
      WHEN pr.paint_share >= pr.mid_share AND pr.paint_share >= pr.three_share THEN 'paint'
      WHEN pr.mid_share >= pr.three_share THEN 'mid'
      ELSE 'three'
    END`,
  })}
FROM date_players AS dp
JOIN player_rates AS pr ON pr.season = dp.season AND pr.player_lookup = dp.player_lookup`;
}

export const playerShotZoneAnalysis: TableProcessorDef = {
  kind: 'table',
  name: 'player_shot_zone_analysis',
  phase: 4,
  group: 1,
  bootstrap: true,
  description:
    "For every player with a game: his attempt shares and FG% by zone (paint / mid / three) over his last 10 games this season",
  target: { dataset: PRECOMPUTE_DATASET, table: 'player_shot_zone_analysis', columns },
  keyColumns: ['analysis_date', 'player_lookup'],
  dateColumn: 'analysis_date',
  inputs: [upcomingPlayerGameContext.target, playerGameSummary.target],
  select,
  requiredInput: (d) => requireAll(d, [{ ref: upcomingPlayerGameContext.target, dateColumn: 'game_date' }]),
  fieldCoverage: [
    {
      column: 'paint_attempt_share',
      min: 0.9,
      note: 'NULL for players whose sampled games had no field-goal attempts (deep bench): ~1% of rows over the synthetic range, ~3% early in a season',
    },
  ],
};

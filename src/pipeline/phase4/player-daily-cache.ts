/**
 * player_daily_cache (PDC): the per-player numbers every downstream model reads, cached once per
 * game date: scoring over the last 5, last 10 and all games this season before the date, the
 * spread of his scoring (sample standard deviation, last 10), minutes and usage (last 10; feed gaps
 * are NULL and simply left out of the averages), games played and days since his last game.
 *
 * One row per player with a game on the date who has played this season before it; a player on
 * the roster with no game yet has nothing to cache.
 */
import type { Dialect } from '../../warehouse/types';
import { playerGameSummary, upcomingPlayerGameContext } from '../phase3';
import { projection } from '../phase3/sql';
import type { TableProcessorDef } from '../types';
import { newestGameFirst, PRECOMPUTE_DATASET, priorSeasonRows } from './sql';
import { requireAll } from '../sql';

const columns = [
  { name: 'cache_date', type: 'DATE' },
  { name: 'player_lookup', type: 'STRING' },
  { name: 'player_name', type: 'STRING' },
  { name: 'game_id', type: 'STRING' },
  { name: 'season', type: 'STRING' },
  { name: 'team_abbr', type: 'STRING' },
  { name: 'opponent_team_abbr', type: 'STRING' },
  { name: 'games_played_season', type: 'INT64' },
  { name: 'last_game_date', type: 'DATE' },
  /** The player's own rest (his team's is in the upcoming context): days since his last game. */
  { name: 'days_since_last_game', type: 'INT64' },
  { name: 'points_avg_last_5', type: 'FLOAT64' },
  { name: 'points_avg_last_10', type: 'FLOAT64' },
  { name: 'points_avg_season', type: 'FLOAT64' },
  /** Sample standard deviation; NULL with a single game. */
  { name: 'points_std_last_10', type: 'FLOAT64' },
  { name: 'minutes_avg_last_10', type: 'FLOAT64' },
  { name: 'usage_rate_avg_last_10', type: 'FLOAT64' },
] as const;

function select(d: Dialect): string {
  const date = d.dateParam('date');
  return `WITH
date_players AS (
  SELECT game_id, season, player_lookup, player_name, team_abbr, opponent_team_abbr
  FROM ${d.table(upcomingPlayerGameContext.target)}
  WHERE game_date = ${date}
),
history AS (
  SELECT pgs.season, pgs.player_lookup, pgs.game_date, pgs.points, pgs.minutes_played, pgs.usage_rate,
         ${newestGameFirst('pgs', 'player_lookup', playerGameSummary)} AS game_rank
  FROM ${d.table(playerGameSummary.target)} AS pgs
  WHERE ${priorSeasonRows(d, 'date_players', 'pgs')}
    AND pgs.player_lookup IN (SELECT player_lookup FROM date_players)
),
player_cache AS (
  SELECT season, player_lookup,
         COUNT(*) AS games_played,
         MAX(game_date) AS last_game_date,
         AVG(CASE WHEN game_rank <= 5 THEN points END) AS points_last_5,
         AVG(CASE WHEN game_rank <= 10 THEN points END) AS points_last_10,
         AVG(points) AS points_season,
         STDDEV_SAMP(CASE WHEN game_rank <= 10 THEN points END) AS points_std_10,
         AVG(CASE WHEN game_rank <= 10 THEN minutes_played END) AS minutes_last_10,
         AVG(CASE WHEN game_rank <= 10 THEN usage_rate END) AS usage_last_10
  FROM history
  GROUP BY season, player_lookup
)
SELECT
  ${projection(d, columns, {
    cache_date: date,
    player_lookup: 'dp.player_lookup',
    player_name: 'dp.player_name',
    game_id: 'dp.game_id',
    season: 'dp.season',
    team_abbr: 'dp.team_abbr',
    opponent_team_abbr: 'dp.opponent_team_abbr',
    games_played_season: 'pc.games_played',
    last_game_date: 'pc.last_game_date',
    days_since_last_game: d.dateDiffDays(date, 'pc.last_game_date'),
    points_avg_last_5: 'pc.points_last_5',
    points_avg_last_10: 'pc.points_last_10',
    points_avg_season: 'pc.points_season',
    points_std_last_10: 'pc.points_std_10',
    minutes_avg_last_10: 'pc.minutes_last_10',
    usage_rate_avg_last_10: 'pc.usage_last_10',
  })}
FROM date_players AS dp
JOIN player_cache AS pc ON pc.season = dp.season AND pc.player_lookup = dp.player_lookup`;
}

export const playerDailyCache: TableProcessorDef = {
  kind: 'table',
  name: 'player_daily_cache',
  phase: 4,
  group: 3,
  bootstrap: true,
  description:
    'For every player with a game who has played this season: points averages (last 5, last 10, season), points spread, minutes and usage (last 10), games played, days since his last game',
  target: { dataset: PRECOMPUTE_DATASET, table: 'player_daily_cache', columns },
  keyColumns: ['cache_date', 'player_lookup'],
  dateColumn: 'cache_date',
  inputs: [upcomingPlayerGameContext.target, playerGameSummary.target],
  select,
  requiredInput: (d) => requireAll(d, [{ ref: upcomingPlayerGameContext.target, dateColumn: 'game_date' }]),
  fieldCoverage: [
    { column: 'points_avg_last_5', min: 1.0, note: 'every cached player has at least one game this season' },
    { column: 'points_avg_season', min: 1.0 },
    {
      column: 'minutes_avg_last_10',
      min: 0.95,
      note: 'NULL only when every sampled game lacks minutes (feed gaps): under 1% of rows',
    },
  ],
};

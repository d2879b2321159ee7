/**
 * upcoming_player_game_context: one row per rostered player of both teams in every game of the
 * date — everyone who could play, not only those who did, which is why this table is larger than
 * player_game_summary. Each row carries the team's pre-game context, the player's season so far
 * (box scores strictly before the date) and the consensus points line.
 *
 * Rosters are per season, so a player traded mid-season is listed by both teams. When those two
 * teams meet he would appear twice under one key; he is kept once, for the team he most recently
 * played for this season (alphabetical team when he has not played for either).
 */
import type { Dialect } from '../../warehouse/types';
import { rawPlayerBoxscores, rawPropLines, rawRosters, rawSchedule, rawTeamBoxscores } from '../raw';
import { rowNumberOver } from '../sql';
import type { TableProcessorDef } from '../types';
import { ANALYTICS_DATASET, consensusLinesCte, projection, SEASON_LOOKBACK_DAYS } from './sql';
import { backToBackExpr, teamContextCtes } from './team-context';

const columns = [
  { name: 'game_id', type: 'STRING' },
  { name: 'game_date', type: 'DATE' },
  { name: 'season', type: 'STRING' },
  { name: 'season_type', type: 'STRING' },
  { name: 'player_lookup', type: 'STRING' },
  { name: 'player_name', type: 'STRING' },
  { name: 'position', type: 'STRING' },
  { name: 'team_abbr', type: 'STRING' },
  { name: 'opponent_team_abbr', type: 'STRING' },
  { name: 'is_home', type: 'BOOL' },
  /** The team's rest: days since its previous game this season; NULL for its first game. */
  { name: 'days_rest', type: 'INT64' },
  { name: 'back_to_back', type: 'BOOL' },
  { name: 'games_in_last_7_days', type: 'INT64' },
  /** The player's games this season before the date (box-score appearances, any team). */
  { name: 'games_played_season', type: 'INT64' },
  /** The player's average points over those games; NULL before his first game. */
  { name: 'points_avg_season', type: 'FLOAT64' },
  { name: 'points_line', type: 'FLOAT64' },
] as const;

function select(d: Dialect): string {
  const date = d.dateParam('date');
  return `WITH
${teamContextCtes(d)},
rostered AS (
  SELECT tc.game_id, tc.game_date, tc.season, tc.season_type, tc.team_abbr, tc.opponent_team_abbr,
         tc.is_home, tc.days_rest, tc.games_in_last_7_days,
         r.player_lookup, r.player_name, r.position
  FROM team_context AS tc
  JOIN ${d.table(rawRosters)} AS r ON r.season = tc.season AND r.team_abbr = tc.team_abbr
),
prior_player_games AS (
  SELECT game_id, game_date, season, team_abbr, player_lookup, points
  FROM ${d.table(rawPlayerBoxscores)}
  WHERE game_date < ${date} AND game_date >= ${d.addDays(date, -SEASON_LOOKBACK_DAYS)}
    AND season IN (SELECT season FROM date_games)
),
player_season AS (
  SELECT season, player_lookup, COUNT(DISTINCT game_id) AS games_played, AVG(points) AS points_avg
  FROM prior_player_games
  GROUP BY season, player_lookup
),
player_team_last_game AS (
  SELECT season, player_lookup, team_abbr, MAX(game_date) AS last_game_date
  FROM prior_player_games
  GROUP BY season, player_lookup, team_abbr
),
ranked AS (
  SELECT ro.*,
         ${rowNumberOver({
           partitionBy: ['ro.game_id', 'ro.player_lookup'],
           // Never played for the team this season (NULL) sorts after any date.
           orderBy: [{ expr: 'lg.last_game_date', desc: true, nulls: 'last' }],
           rowKey: ['ro.team_abbr'],
         })} AS roster_rank
  FROM rostered AS ro
  LEFT JOIN player_team_last_game AS lg
    ON lg.season = ro.season AND lg.player_lookup = ro.player_lookup AND lg.team_abbr = ro.team_abbr
),
${consensusLinesCte(d, 'cl')}
SELECT
  ${projection(d, columns, {
    game_id: 'rk.game_id',
    game_date: 'rk.game_date',
    season: 'rk.season',
    season_type: 'rk.season_type',
    player_lookup: 'rk.player_lookup',
    player_name: 'rk.player_name',
    position: 'rk.position',
    team_abbr: 'rk.team_abbr',
    opponent_team_abbr: 'rk.opponent_team_abbr',
    is_home: 'rk.is_home',
    days_rest: 'rk.days_rest',
    back_to_back: backToBackExpr('rk.days_rest'),
    games_in_last_7_days: 'rk.games_in_last_7_days',
    games_played_season: 'COALESCE(ps.games_played, 0)',
    points_avg_season: 'ps.points_avg',
    points_line: 'cl.points_line',
  })}
FROM ranked AS rk
LEFT JOIN player_season AS ps ON ps.season = rk.season AND ps.player_lookup = rk.player_lookup
LEFT JOIN cl ON cl.game_id = rk.game_id AND cl.player_lookup = rk.player_lookup
WHERE rk.roster_rank = 1`;
}

export const upcomingPlayerGameContext: TableProcessorDef = {
  kind: 'table',
  name: 'upcoming_player_game_context',
  phase: 3,
  group: 1,
  bootstrap: false,
  description:
    "One row per rostered player per scheduled game: team rest and schedule load, the player's season games and points average before the date, the consensus points line",
  target: { dataset: ANALYTICS_DATASET, table: 'upcoming_player_game_context', columns },
  keyColumns: ['game_id', 'player_lookup'],
  dateColumn: 'game_date',
  inputs: [rawSchedule, rawRosters, rawPlayerBoxscores, rawTeamBoxscores, rawPropLines],
  select,
  // Rostered players of the teams scheduled that day: 0 while games are scheduled means the
  // season's rosters were never loaded.
  requiredInput: (d) => `SELECT count(*) AS n
FROM ${d.table(rawSchedule)} AS s
JOIN ${d.table(rawRosters)} AS r
  ON r.season = s.season AND (r.team_abbr = s.home_team_abbr OR r.team_abbr = s.away_team_abbr)
WHERE s.game_date = ${d.dateParam('date')}`,
};

/**
 * upcoming_team_game_context: one row per team per scheduled game, known before tip-off: opponent,
 * home/away, rest for both sides and the difference, back-to-backs, schedule load over the last
 * week and the season record so far.
 */
import type { Dialect } from '../../warehouse/types';
import { rawSchedule, rawTeamBoxscores } from '../raw';
import { requireAll } from '../sql';
import type { TableProcessorDef } from '../types';
import { ANALYTICS_DATASET, projection } from './sql';
import { backToBackExpr, teamContextCtes } from './team-context';

const columns = [
  { name: 'game_id', type: 'STRING' },
  { name: 'game_date', type: 'DATE' },
  { name: 'season', type: 'STRING' },
  { name: 'season_type', type: 'STRING' },
  { name: 'team_abbr', type: 'STRING' },
  { name: 'opponent_team_abbr', type: 'STRING' },
  { name: 'is_home', type: 'BOOL' },
  /** Days since the team's previous game this season; NULL for its first game of the season. */
  { name: 'days_rest', type: 'INT64' },
  { name: 'opponent_days_rest', type: 'INT64' },
  /** days_rest − opponent_days_rest; NULL when either side has no previous game. */
  { name: 'rest_advantage', type: 'INT64' },
  { name: 'back_to_back', type: 'BOOL' },
  /** Games in the 7 days before the date (the date itself excluded). */
  { name: 'games_in_last_7_days', type: 'INT64' },
  /** Games with a box score this season before the date (all season types). */
  { name: 'season_games_played', type: 'INT64' },
  { name: 'season_wins', type: 'INT64' },
  /** season_wins / season_games_played; NULL before the team's first game. */
  { name: 'season_win_pct', type: 'FLOAT64' },
] as const;

function select(d: Dialect): string {
  return `WITH
${teamContextCtes(d)}
SELECT
  ${projection(d, columns, {
    game_id: 'tc.game_id',
    game_date: 'tc.game_date',
    season: 'tc.season',
    season_type: 'tc.season_type',
    team_abbr: 'tc.team_abbr',
    opponent_team_abbr: 'tc.opponent_team_abbr',
    is_home: 'tc.is_home',
    days_rest: 'tc.days_rest',
    opponent_days_rest: 'opp.days_rest',
    rest_advantage: 'tc.days_rest - opp.days_rest',
    back_to_back: backToBackExpr('tc.days_rest'),
    games_in_last_7_days: 'tc.games_in_last_7_days',
    season_games_played: 'tc.season_games_played',
    season_wins: 'tc.season_wins',
    season_win_pct: 'tc.season_win_pct',
  })}
FROM team_context AS tc
LEFT JOIN team_context AS opp ON opp.game_id = tc.game_id AND opp.team_abbr = tc.opponent_team_abbr`;
}

export const upcomingTeamGameContext: TableProcessorDef = {
  kind: 'table',
  name: 'upcoming_team_game_context',
  phase: 3,
  group: 1,
  bootstrap: false,
  description:
    'One row per team per scheduled game: opponent, home/away, rest and rest advantage, back-to-back, games in the last 7 days, season record before the date',
  target: { dataset: ANALYTICS_DATASET, table: 'upcoming_team_game_context', columns },
  keyColumns: ['game_id', 'team_abbr'],
  dateColumn: 'game_date',
  inputs: [rawSchedule, rawTeamBoxscores],
  select,
  requiredInput: (d) => requireAll(d, [{ ref: rawSchedule }]),
};

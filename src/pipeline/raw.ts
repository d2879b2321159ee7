/**
 * nba_raw: the Phase 2 inputs. Loaded upstream in production; generated locally by demo/.
 * Column names here are the contract between the generator and the Phase 3 SQL.
 */
import type { TableSpec } from '../warehouse/types';

export const RAW_DATASET = 'nba_raw';

export const rawTeams: TableSpec = {
  dataset: RAW_DATASET,
  table: 'teams',
  columns: [
    { name: 'team_abbr', type: 'STRING' },
    { name: 'team_name', type: 'STRING' },
    { name: 'conference', type: 'STRING' },
  ],
};

/** One row per game. season like '2021-22'; season_type 'regular' | 'play_in' | 'playoffs'. */
export const rawSchedule: TableSpec = {
  dataset: RAW_DATASET,
  table: 'schedule',
  columns: [
    { name: 'game_id', type: 'STRING' },
    { name: 'game_date', type: 'DATE' },
    { name: 'season', type: 'STRING' },
    { name: 'season_type', type: 'STRING' },
    { name: 'home_team_abbr', type: 'STRING' },
    { name: 'away_team_abbr', type: 'STRING' },
  ],
  partitionColumn: 'game_date',
  clusterColumns: ['game_id'],
};

/** Season rosters: every player who can appear for a team that season (~15 per team). */
export const rawRosters: TableSpec = {
  dataset: RAW_DATASET,
  table: 'rosters',
  columns: [
    { name: 'season', type: 'STRING' },
    { name: 'team_abbr', type: 'STRING' },
    { name: 'player_lookup', type: 'STRING' },
    { name: 'player_name', type: 'STRING' },
    { name: 'position', type: 'STRING' },
  ],
};

const shootingColumns = [
  { name: 'points', type: 'INT64' },
  { name: 'fgm', type: 'INT64' },
  { name: 'fga', type: 'INT64' },
  { name: 'fg3m', type: 'INT64' },
  { name: 'fg3a', type: 'INT64' },
  { name: 'ftm', type: 'INT64' },
  { name: 'fta', type: 'INT64' },
  { name: 'oreb', type: 'INT64' },
  { name: 'dreb', type: 'INT64' },
  { name: 'assists', type: 'INT64' },
  { name: 'steals', type: 'INT64' },
  { name: 'blocks', type: 'INT64' },
  /** NULL for ~10% of historical player rows: one of the usage-rate inputs. */
  { name: 'turnovers', type: 'INT64' },
  { name: 'fouls', type: 'INT64' },
  /** Shot-zone splits: paint (restricted area + paint), mid-range; threes are fg3m/fg3a. */
  { name: 'paint_fgm', type: 'INT64' },
  { name: 'paint_fga', type: 'INT64' },
  { name: 'mid_fgm', type: 'INT64' },
  { name: 'mid_fga', type: 'INT64' },
] as const;

/** One row per player who appeared in a game (~11 per team per game). */
export const rawPlayerBoxscores: TableSpec = {
  dataset: RAW_DATASET,
  table: 'player_boxscores',
  columns: [
    { name: 'game_id', type: 'STRING' },
    { name: 'game_date', type: 'DATE' },
    { name: 'season', type: 'STRING' },
    { name: 'team_abbr', type: 'STRING' },
    { name: 'opponent_team_abbr', type: 'STRING' },
    { name: 'player_lookup', type: 'STRING' },
    { name: 'player_name', type: 'STRING' },
    { name: 'starter', type: 'BOOL' },
    /** NULL for ~3.7% of rows (feed gaps). */
    { name: 'minutes', type: 'FLOAT64' },
    ...shootingColumns,
  ],
  partitionColumn: 'game_date',
  // Later phases read a player's (or team's) history: cluster so those reads skip other players' blocks.
  clusterColumns: ['player_lookup', 'team_abbr', 'game_id'],
};

/** One row per team per game (two per game). minutes is 240 plus 25 per overtime. */
export const rawTeamBoxscores: TableSpec = {
  dataset: RAW_DATASET,
  table: 'team_boxscores',
  columns: [
    { name: 'game_id', type: 'STRING' },
    { name: 'game_date', type: 'DATE' },
    { name: 'season', type: 'STRING' },
    { name: 'team_abbr', type: 'STRING' },
    { name: 'opponent_team_abbr', type: 'STRING' },
    { name: 'is_home', type: 'BOOL' },
    { name: 'minutes', type: 'FLOAT64' },
    ...shootingColumns,
  ],
  partitionColumn: 'game_date',
  clusterColumns: ['team_abbr', 'game_id'],
};

/** Pre-game player points lines, one row per player per game per bookmaker. */
export const rawPropLines: TableSpec = {
  dataset: RAW_DATASET,
  table: 'prop_lines',
  columns: [
    { name: 'game_id', type: 'STRING' },
    { name: 'game_date', type: 'DATE' },
    { name: 'player_lookup', type: 'STRING' },
    { name: 'bookmaker', type: 'STRING' },
    { name: 'points_line', type: 'FLOAT64' },
    { name: 'over_price', type: 'INT64' },
    { name: 'under_price', type: 'INT64' },
  ],
  partitionColumn: 'game_date',
  clusterColumns: ['player_lookup', 'bookmaker'],
};

export const RAW_TABLES: readonly TableSpec[] = [
  rawTeams,
  rawSchedule,
  rawRosters,
  rawPlayerBoxscores,
  rawTeamBoxscores,
  rawPropLines,
];

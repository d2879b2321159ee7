/**
 * player_game_summary: one row per player who appeared in a game (a row in the raw player box
 * score), with shooting efficiency, usage rate and the result against the consensus points line.
 */
import type { Dialect } from '../../warehouse/types';
import { rawPlayerBoxscores, rawPropLines, rawSchedule, rawTeamBoxscores } from '../raw';
import { requireAll } from '../sql';
import type { TableProcessorDef } from '../types';
import {
  ANALYTICS_DATASET,
  consensusLinesCte,
  efgPctExpr,
  freeThrowPossessionsExpr,
  onDateCte,
  projection,
  tsPctExpr,
} from './sql';

const columns = [
  { name: 'game_id', type: 'STRING' },
  { name: 'game_date', type: 'DATE' },
  { name: 'season', type: 'STRING' },
  { name: 'season_type', type: 'STRING' },
  { name: 'player_lookup', type: 'STRING' },
  { name: 'player_name', type: 'STRING' },
  { name: 'team_abbr', type: 'STRING' },
  { name: 'opponent_team_abbr', type: 'STRING' },
  { name: 'is_home', type: 'BOOL' },
  { name: 'starter', type: 'BOOL' },
  { name: 'minutes_played', type: 'FLOAT64' },
  { name: 'points', type: 'INT64' },
  { name: 'fgm', type: 'INT64' },
  { name: 'fga', type: 'INT64' },
  { name: 'fg3m', type: 'INT64' },
  { name: 'fg3a', type: 'INT64' },
  { name: 'ftm', type: 'INT64' },
  { name: 'fta', type: 'INT64' },
  { name: 'oreb', type: 'INT64' },
  { name: 'dreb', type: 'INT64' },
  { name: 'rebounds', type: 'INT64' },
  { name: 'assists', type: 'INT64' },
  { name: 'steals', type: 'INT64' },
  { name: 'blocks', type: 'INT64' },
  { name: 'turnovers', type: 'INT64' },
  { name: 'fouls', type: 'INT64' },
  { name: 'paint_fgm', type: 'INT64' },
  { name: 'paint_fga', type: 'INT64' },
  { name: 'mid_fgm', type: 'INT64' },
  { name: 'mid_fga', type: 'INT64' },
  { name: 'ts_pct', type: 'FLOAT64' },
  { name: 'efg_pct', type: 'FLOAT64' },
  { name: 'usage_rate', type: 'FLOAT64' },
  { name: 'points_line', type: 'FLOAT64' },
  { name: 'over_under_result', type: 'STRING' },
] as const;

function select(d: Dialect): string {
  // Usage rate: the share of team possessions a player used while on the floor,
  //   100 · (FGA + 0.44·FTA + TOV) · (team minutes / 5) / (minutes · (team FGA + 0.44·team FTA + team TOV)).
  // Historical feeds lack player turnovers or minutes for ~14% of rows; those rows get NULL rather
  // than a number computed from a guess.
  const usageRate = `CASE
      WHEN pb.minutes IS NULL OR pb.minutes = 0 OR pb.turnovers IS NULL THEN NULL
      ELSE ${d.safeDivide(
        `100 * (pb.fga + ${freeThrowPossessionsExpr(d, 'pb')} + pb.turnovers) * tb.minutes`,
        `5 * pb.minutes * (tb.fga + ${freeThrowPossessionsExpr(d, 'tb')} + tb.turnovers)`,
      )}
    END`;
  const overUnder = `CASE
      WHEN cl.points_line IS NULL OR pb.points IS NULL THEN NULL
      WHEN pb.points > cl.points_line THEN 'OVER'
      WHEN pb.points < cl.points_line THEN 'UNDER'
      ELSE 'PUSH'
    END`;
  return `WITH
${onDateCte(d, 'pb', rawPlayerBoxscores)},
${onDateCte(d, 'tb', rawTeamBoxscores, 'game_id, team_abbr, minutes, fga, fta, turnovers')},
${onDateCte(d, 'sch', rawSchedule, 'game_id, season_type, home_team_abbr')},
${consensusLinesCte(d, 'cl')}
SELECT
  ${projection(d, columns, {
    game_id: 'pb.game_id',
    game_date: 'pb.game_date',
    season: 'pb.season',
    season_type: 'sch.season_type',
    player_lookup: 'pb.player_lookup',
    player_name: 'pb.player_name',
    team_abbr: 'pb.team_abbr',
    opponent_team_abbr: 'pb.opponent_team_abbr',
    is_home: 'sch.home_team_abbr = pb.team_abbr',
    starter: 'pb.starter',
    minutes_played: 'pb.minutes',
    points: 'pb.points',
    fgm: 'pb.fgm',
    fga: 'pb.fga',
    fg3m: 'pb.fg3m',
    fg3a: 'pb.fg3a',
    ftm: 'pb.ftm',
    fta: 'pb.fta',
    oreb: 'pb.oreb',
    dreb: 'pb.dreb',
    rebounds: 'pb.oreb + pb.dreb',
    assists: 'pb.assists',
    steals: 'pb.steals',
    blocks: 'pb.blocks',
    turnovers: 'pb.turnovers',
    fouls: 'pb.fouls',
    paint_fgm: 'pb.paint_fgm',
    paint_fga: 'pb.paint_fga',
    mid_fgm: 'pb.mid_fgm',
    mid_fga: 'pb.mid_fga',
    ts_pct: tsPctExpr(d, 'pb'),
    efg_pct: efgPctExpr(d, 'pb'),
    usage_rate: usageRate,
    points_line: 'cl.points_line',
    over_under_result: overUnder,
  })}
FROM pb
LEFT JOIN tb ON tb.game_id = pb.game_id AND tb.team_abbr = pb.team_abbr
LEFT JOIN sch ON sch.game_id = pb.game_id
LEFT JOIN cl ON cl.game_id = pb.game_id AND cl.player_lookup = pb.player_lookup`;
}

export const playerGameSummary: TableProcessorDef = {
  kind: 'table',
  name: 'player_game_summary',
  phase: 3,
  group: 1,
  bootstrap: false,
  description:
    'One row per player per game played: box score, true shooting, eFG%, usage rate and the result against the consensus points line',
  target: { dataset: ANALYTICS_DATASET, table: 'player_game_summary', columns },
  keyColumns: ['game_id', 'player_lookup'],
  dateColumn: 'game_date',
  inputs: [rawPlayerBoxscores, rawTeamBoxscores, rawSchedule, rawPropLines],
  select,
  requiredInput: (d) => requireAll(d, [{ ref: rawPlayerBoxscores }]),
  fieldCoverage: [
    { column: 'points', min: 1.0 },
    { column: 'minutes_played', min: 0.95, note: 'raw minutes are missing for ~3.7% of historical rows (feed gaps)' },
    {
      column: 'usage_rate',
      min: 0.85,
      note: 'historical limitation: ~14% of rows lack player minutes or turnovers, so usage rate is NULL',
    },
  ],
};

/**
 * team_defense_game_summary: one row per team per game, seen from the defensive end: what the
 * opponent scored and shot against this team (overall and by zone, which Phase 4's team defense
 * zone analysis aggregates), the opponent's possessions, defensive rating, and the defending
 * team's own steals, blocks, defensive rebounds and forced turnovers.
 *
 * Both teams' box scores are needed: a game whose opponent row is missing has no defensive view
 * and yields no row, rather than a row of NULLs that would pass for a shut-out.
 */
import type { Dialect } from '../../warehouse/types';
import { rawSchedule, rawTeamBoxscores } from '../raw';
import { requireAll } from '../sql';
import type { TableProcessorDef } from '../types';
import { ANALYTICS_DATASET, onDateCte, possessionsExpr, projection } from './sql';

const columns = [
  { name: 'game_id', type: 'STRING' },
  { name: 'game_date', type: 'DATE' },
  { name: 'season', type: 'STRING' },
  { name: 'season_type', type: 'STRING' },
  { name: 'defending_team_abbr', type: 'STRING' },
  { name: 'opponent_team_abbr', type: 'STRING' },
  { name: 'is_home', type: 'BOOL' },
  { name: 'points_allowed', type: 'INT64' },
  { name: 'opp_fgm', type: 'INT64' },
  { name: 'opp_fga', type: 'INT64' },
  { name: 'opp_fg_pct', type: 'FLOAT64' },
  { name: 'opp_fg3m', type: 'INT64' },
  { name: 'opp_fg3a', type: 'INT64' },
  { name: 'opp_three_fg_pct', type: 'FLOAT64' },
  { name: 'opp_ftm', type: 'INT64' },
  { name: 'opp_fta', type: 'INT64' },
  { name: 'opp_paint_fgm', type: 'INT64' },
  { name: 'opp_paint_fga', type: 'INT64' },
  { name: 'opp_paint_fg_pct', type: 'FLOAT64' },
  { name: 'opp_mid_fgm', type: 'INT64' },
  { name: 'opp_mid_fga', type: 'INT64' },
  { name: 'opp_mid_fg_pct', type: 'FLOAT64' },
  { name: 'opponent_possessions', type: 'FLOAT64' },
  { name: 'defensive_rating', type: 'FLOAT64' },
  { name: 'steals', type: 'INT64' },
  { name: 'blocks', type: 'INT64' },
  { name: 'defensive_rebounds', type: 'INT64' },
  { name: 'forced_turnovers', type: 'INT64' },
] as const;

function select(d: Dialect): string {
  const opponentPossessions = possessionsExpr(d, 'opp');
  return `WITH
${onDateCte(d, 'tb', rawTeamBoxscores)},
${onDateCte(d, 'sch', rawSchedule, 'game_id, season_type')}
SELECT
  ${projection(d, columns, {
    game_id: 'defense.game_id',
    game_date: 'defense.game_date',
    season: 'defense.season',
    season_type: 'sch.season_type',
    defending_team_abbr: 'defense.team_abbr',
    opponent_team_abbr: 'opp.team_abbr',
    is_home: 'defense.is_home',
    points_allowed: 'opp.points',
    opp_fgm: 'opp.fgm',
    opp_fga: 'opp.fga',
    opp_fg_pct: d.safeDivide('opp.fgm', 'opp.fga'),
    opp_fg3m: 'opp.fg3m',
    opp_fg3a: 'opp.fg3a',
    opp_three_fg_pct: d.safeDivide('opp.fg3m', 'opp.fg3a'),
    opp_ftm: 'opp.ftm',
    opp_fta: 'opp.fta',
    opp_paint_fgm: 'opp.paint_fgm',
    opp_paint_fga: 'opp.paint_fga',
    opp_paint_fg_pct: d.safeDivide('opp.paint_fgm', 'opp.paint_fga'),
    opp_mid_fgm: 'opp.mid_fgm',
    opp_mid_fga: 'opp.mid_fga',
    opp_mid_fg_pct: d.safeDivide('opp.mid_fgm', 'opp.mid_fga'),
    opponent_possessions: opponentPossessions,
    defensive_rating: d.safeDivide('100 * opp.points', opponentPossessions),
    steals: 'defense.steals',
    blocks: 'defense.blocks',
    defensive_rebounds: 'defense.dreb',
    forced_turnovers: 'opp.turnovers',
  })}
FROM tb AS defense
JOIN tb AS opp ON opp.game_id = defense.game_id AND opp.team_abbr = defense.opponent_team_abbr
LEFT JOIN sch ON sch.game_id = defense.game_id`;
}

export const teamDefenseGameSummary: TableProcessorDef = {
  kind: 'table',
  name: 'team_defense_game_summary',
  phase: 3,
  group: 1,
  bootstrap: false,
  description:
    "One row per team per game from the defensive end: opponent scoring and shooting by zone, opponent possessions, defensive rating, steals, blocks, defensive rebounds, forced turnovers",
  target: { dataset: ANALYTICS_DATASET, table: 'team_defense_game_summary', columns },
  keyColumns: ['game_id', 'defending_team_abbr'],
  dateColumn: 'game_date',
  inputs: [rawTeamBoxscores, rawSchedule],
  select,
  requiredInput: (d) => requireAll(d, [{ ref: rawTeamBoxscores }]),
  fieldCoverage: [{ column: 'points_allowed', min: 1.0 }],
};

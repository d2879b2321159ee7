/**
 * team_offense_game_summary: one row per team per game: the team box score plus possessions,
 * offensive rating, pace, shooting efficiency, shot-zone attempt shares and the result.
 */
import type { Dialect } from '../../warehouse/types';
import { rawSchedule, rawTeamBoxscores } from '../raw';
import { requireAll } from '../sql';
import type { TableProcessorDef } from '../types';
import { ANALYTICS_DATASET, efgPctExpr, onDateCte, possessionsExpr, projection, tsPctExpr } from './sql';

const columns = [
  { name: 'game_id', type: 'STRING' },
  { name: 'game_date', type: 'DATE' },
  { name: 'season', type: 'STRING' },
  { name: 'season_type', type: 'STRING' },
  { name: 'team_abbr', type: 'STRING' },
  { name: 'opponent_team_abbr', type: 'STRING' },
  { name: 'is_home', type: 'BOOL' },
  { name: 'minutes', type: 'FLOAT64' },
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
  { name: 'possessions', type: 'FLOAT64' },
  { name: 'offensive_rating', type: 'FLOAT64' },
  { name: 'pace', type: 'FLOAT64' },
  { name: 'ts_pct', type: 'FLOAT64' },
  { name: 'efg_pct', type: 'FLOAT64' },
  { name: 'paint_attempt_share', type: 'FLOAT64' },
  { name: 'mid_attempt_share', type: 'FLOAT64' },
  { name: 'three_attempt_share', type: 'FLOAT64' },
  { name: 'opponent_points', type: 'INT64' },
  { name: 'win', type: 'BOOL' },
  { name: 'margin', type: 'INT64' },
] as const;

function select(d: Dialect): string {
  const possessions = possessionsExpr(d, 'tb');
  return `WITH
${onDateCte(d, 'tb', rawTeamBoxscores)},
${onDateCte(d, 'sch', rawSchedule, 'game_id, season_type')}
SELECT
  ${projection(d, columns, {
    game_id: 'tb.game_id',
    game_date: 'tb.game_date',
    season: 'tb.season',
    season_type: 'sch.season_type',
    team_abbr: 'tb.team_abbr',
    opponent_team_abbr: 'tb.opponent_team_abbr',
    is_home: 'tb.is_home',
    minutes: 'tb.minutes',
    points: 'tb.points',
    fgm: 'tb.fgm',
    fga: 'tb.fga',
    fg3m: 'tb.fg3m',
    fg3a: 'tb.fg3a',
    ftm: 'tb.ftm',
    fta: 'tb.fta',
    oreb: 'tb.oreb',
    dreb: 'tb.dreb',
    rebounds: 'tb.oreb + tb.dreb',
    assists: 'tb.assists',
    steals: 'tb.steals',
    blocks: 'tb.blocks',
    turnovers: 'tb.turnovers',
    fouls: 'tb.fouls',
    paint_fgm: 'tb.paint_fgm',
    paint_fga: 'tb.paint_fga',
    mid_fgm: 'tb.mid_fgm',
    mid_fga: 'tb.mid_fga',
    possessions,
    offensive_rating: d.safeDivide(`100 * tb.points`, possessions),
    // Possessions per 48 minutes; team minutes count all five players (240 in regulation).
    pace: d.safeDivide(`${possessions} * 48 * 5`, 'tb.minutes'),
    ts_pct: tsPctExpr(d, 'tb'),
    efg_pct: efgPctExpr(d, 'tb'),
    paint_attempt_share: d.safeDivide('tb.paint_fga', 'tb.fga'),
    mid_attempt_share: d.safeDivide('tb.mid_fga', 'tb.fga'),
    three_attempt_share: d.safeDivide('tb.fg3a', 'tb.fga'),
    opponent_points: 'opp.points',
    win: `CASE WHEN tb.points IS NULL OR opp.points IS NULL THEN NULL
      WHEN tb.points > opp.points THEN TRUE ELSE FALSE END`,
    margin: 'tb.points - opp.points',
  })}
FROM tb
LEFT JOIN tb AS opp ON opp.game_id = tb.game_id AND opp.team_abbr = tb.opponent_team_abbr
LEFT JOIN sch ON sch.game_id = tb.game_id`;
}

export const teamOffenseGameSummary: TableProcessorDef = {
  kind: 'table',
  name: 'team_offense_game_summary',
  phase: 3,
  group: 1,
  bootstrap: false,
  description:
    'One row per team per game: team box score, possessions, offensive rating, pace, shooting efficiency, shot-zone shares and result',
  target: { dataset: ANALYTICS_DATASET, table: 'team_offense_game_summary', columns },
  keyColumns: ['game_id', 'team_abbr'],
  dateColumn: 'game_date',
  inputs: [rawTeamBoxscores, rawSchedule],
  select,
  requiredInput: (d) => requireAll(d, [{ ref: rawTeamBoxscores }]),
  fieldCoverage: [{ column: 'points', min: 1.0 }],
};

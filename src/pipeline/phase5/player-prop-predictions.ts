/**
 * player_prop_predictions: every prediction system's call on every lined player-game of the date,
 * from the MLFS feature vector alone (so a prediction for D knows only what was known before D).
 *
 * Systems (system_id):
 *   moving_average     0.5 · points last 5 + 0.3 · last 10 + 0.2 · season; when one of the
 *                      averages is missing the others' weights are renormalised.
 *   matchup_adjusted   moving_average + PCF's composite adjustment (fatigue, zone matchup, pace,
 *                      usage trend; 0 when PCF has no row).
 *
 * recommendation: 'PASS' when there is no line or |predicted − line| < PASS_MARGIN_POINTS (the
 * edge is inside the noise of a points prop), else 'OVER' or 'UNDER'.
 * confidence (0..1): how firmly the system backs its call: the edge measured in the player's
 * recent scoring spread (points_std_last_10, floored at 1 point, 6 points when unknown), capped at
 * 1, times the feature vector's completeness. A PASS has a small confidence by construction.
 *
 * Only player-games with a points line are predicted: there is nothing to call without one.
 */
import type { Dialect } from '../../warehouse/types';
import { mlFeatureStoreV2 } from '../phase4';
import { projection } from '../phase3/sql';
import { float64, requireAll } from '../sql';
import type { TableProcessorDef } from '../types';

export const PREDICTIONS_DATASET = 'nba_predictions';

export const PREDICTION_SYSTEMS = ['moving_average', 'matchup_adjusted'] as const;
export type PredictionSystemId = (typeof PREDICTION_SYSTEMS)[number];

/** Below this many points between prediction and line, a system passes. */
export const PASS_MARGIN_POINTS = 1.0;
/** Scoring spread assumed for a player whose spread is unknown (a single game so far). */
export const DEFAULT_POINTS_SPREAD = 6.0;
/** Moving-average weights of the last 5, last 10 and season averages. */
export const MOVING_AVERAGE_WEIGHTS = { last5: 0.5, last10: 0.3, season: 0.2 } as const;

const columns = [
  { name: 'game_date', type: 'DATE' },
  { name: 'player_lookup', type: 'STRING' },
  { name: 'system_id', type: 'STRING' },
  { name: 'game_id', type: 'STRING' },
  { name: 'player_name', type: 'STRING' },
  { name: 'team_abbr', type: 'STRING' },
  { name: 'opponent_team_abbr', type: 'STRING' },
  { name: 'points_line', type: 'FLOAT64' },
  { name: 'predicted_points', type: 'FLOAT64' },
  /** predicted_points − points_line. */
  { name: 'edge', type: 'FLOAT64' },
  /** 'OVER' | 'UNDER' | 'PASS'. */
  { name: 'recommendation', type: 'STRING' },
  { name: 'confidence', type: 'FLOAT64' },
  { name: 'feature_completeness', type: 'FLOAT64' },
] as const;

/**
 * Σ w·x over the averages present / Σ w over the averages present (NULL when none is). The
 * weights are FLOAT64 on both engines: as DuckDB DECIMALs, 0.3 + 0.2 would be summed exactly
 * while BigQuery sums binary doubles.
 */
function movingAverageExpr(d: Dialect, alias: string): string {
  const parts = [
    [float64(d, MOVING_AVERAGE_WEIGHTS.last5), `${alias}.points_avg_last_5`],
    [float64(d, MOVING_AVERAGE_WEIGHTS.last10), `${alias}.points_avg_last_10`],
    [float64(d, MOVING_AVERAGE_WEIGHTS.season), `${alias}.points_avg_season`],
  ] as const;
  const num = parts.map(([w, x]) => `COALESCE(${w} * ${x}, 0)`).join(' + ');
  const den = parts.map(([w, x]) => `(CASE WHEN ${x} IS NULL THEN 0 ELSE ${w} END)`).join(' + ');
  return d.safeDivide(num, den);
}

function select(d: Dialect): string {
  const date = d.dateParam('date');
  const systemColumns = `b.game_id, b.player_lookup, b.player_name, b.team_abbr, b.opponent_team_abbr,
         b.points_line, b.points_std_last_10, b.feature_completeness`;
  return `WITH
features AS (
  SELECT game_id, player_lookup, player_name, team_abbr, opponent_team_abbr, points_line,
         points_avg_last_5, points_avg_last_10, points_avg_season, points_std_last_10,
         composite_adjustment, feature_completeness
  FROM ${d.table(mlFeatureStoreV2.target)}
  WHERE game_date = ${date} AND points_line IS NOT NULL
),
baseline AS (
  SELECT f.*, ${movingAverageExpr(d, 'f')} AS moving_average_points
  FROM features AS f
),
systems AS (
  SELECT ${systemColumns}, 'moving_average' AS system_id, b.moving_average_points AS predicted_points
  FROM baseline AS b
  UNION ALL
  SELECT ${systemColumns}, 'matchup_adjusted' AS system_id,
         b.moving_average_points + COALESCE(b.composite_adjustment, 0) AS predicted_points
  FROM baseline AS b
),
scored AS (
  SELECT s.*,
         s.predicted_points - s.points_line AS edge,
         CASE
           WHEN s.points_std_last_10 IS NULL THEN ${DEFAULT_POINTS_SPREAD}
           WHEN s.points_std_last_10 < 1.0 THEN 1.0
           ELSE s.points_std_last_10
         END AS spread
  FROM systems AS s
  WHERE s.predicted_points IS NOT NULL
)
SELECT
  ${projection(d, columns, {
    game_date: date,
    player_lookup: 'sc.player_lookup',
    system_id: 'sc.system_id',
    game_id: 'sc.game_id',
    player_name: 'sc.player_name',
    team_abbr: 'sc.team_abbr',
    opponent_team_abbr: 'sc.opponent_team_abbr',
    points_line: 'sc.points_line',
    predicted_points: 'sc.predicted_points',
    edge: 'sc.edge',
    recommendation: `CASE
      WHEN sc.edge IS NULL THEN 'PASS'
      WHEN ABS(sc.edge) < ${PASS_MARGIN_POINTS} THEN 'PASS'
      WHEN sc.edge > 0 THEN 'OVER'
      ELSE 'UNDER'
    END`,
    confidence: `COALESCE(sc.feature_completeness, 0) * CASE
      WHEN sc.edge IS NULL THEN 0
      WHEN ABS(sc.edge) >= sc.spread THEN 1.0
      ELSE ${d.safeDivide('ABS(sc.edge)', 'sc.spread')}
    END`,
    feature_completeness: 'sc.feature_completeness',
  })}
FROM scored AS sc`;
}

export const playerPropPredictions: TableProcessorDef = {
  kind: 'table',
  name: 'player_prop_predictions',
  phase: 5,
  group: 1,
  bootstrap: true,
  description: `Predicted points and OVER / UNDER / PASS against the line for every lined player-game, by each system (${PREDICTION_SYSTEMS.join(', ')})`,
  target: { dataset: PREDICTIONS_DATASET, table: 'player_prop_predictions', columns },
  keyColumns: ['game_date', 'player_lookup', 'system_id'],
  dateColumn: 'game_date',
  inputs: [mlFeatureStoreV2.target],
  select,
  requiredInput: (d) => requireAll(d, [{ ref: mlFeatureStoreV2.target, dateColumn: 'game_date' }]),
  fieldCoverage: [
    { column: 'predicted_points', min: 1.0 },
    { column: 'points_line', min: 1.0, note: 'only lined player-games are predicted' },
    { column: 'recommendation', min: 1.0 },
    { column: 'confidence', min: 1.0 },
  ],
};

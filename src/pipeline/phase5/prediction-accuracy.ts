/**
 * prediction_accuracy: every prediction of the date graded against what the player scored
 * (player_game_summary). This is the one table that reads the date's own results, by design.
 *
 *   absolute_error  |predicted − actual|
 *   signed_error    predicted − actual (positive: the system expected more than he scored)
 *   actual_result   'OVER' | 'UNDER' | 'PUSH': the actual points against the line
 *   hit             TRUE when an OVER / UNDER call matched actual_result, FALSE when it did not,
 *                   NULL for a PASS (no call) and for a push (the bet is refunded).
 *
 * A prediction for a player who did not play (no box-score row, or no points recorded) is void and
 * gets no accuracy row: there is nothing to grade it against.
 */
import type { Dialect } from '../../warehouse/types';
import { playerGameSummary } from '../phase3';
import { projection } from '../phase3/sql';
import { requireAll } from '../sql';
import type { TableProcessorDef } from '../types';
import { playerPropPredictions, PREDICTIONS_DATASET } from './player-prop-predictions';

const columns = [
  { name: 'game_date', type: 'DATE' },
  { name: 'player_lookup', type: 'STRING' },
  { name: 'system_id', type: 'STRING' },
  { name: 'game_id', type: 'STRING' },
  { name: 'points_line', type: 'FLOAT64' },
  { name: 'predicted_points', type: 'FLOAT64' },
  { name: 'recommendation', type: 'STRING' },
  { name: 'actual_points', type: 'INT64' },
  { name: 'absolute_error', type: 'FLOAT64' },
  { name: 'signed_error', type: 'FLOAT64' },
  { name: 'actual_result', type: 'STRING' },
  { name: 'hit', type: 'BOOL' },
] as const;

function select(d: Dialect): string {
  const date = d.dateParam('date');
  return `WITH
predictions AS (
  SELECT game_id, player_lookup, system_id, points_line, predicted_points, recommendation
  FROM ${d.table(playerPropPredictions.target)}
  WHERE game_date = ${date}
),
results AS (
  SELECT game_id, player_lookup, points
  FROM ${d.table(playerGameSummary.target)}
  WHERE game_date = ${date} AND points IS NOT NULL
)
SELECT
  ${projection(d, columns, {
    game_date: date,
    player_lookup: 'p.player_lookup',
    system_id: 'p.system_id',
    game_id: 'p.game_id',
    points_line: 'p.points_line',
    predicted_points: 'p.predicted_points',
    recommendation: 'p.recommendation',
    actual_points: 'r.points',
    absolute_error: 'ABS(p.predicted_points - r.points)',
    signed_error: 'p.predicted_points - r.points',
    actual_result: `CASE
      WHEN p.points_line IS NULL THEN NULL
      WHEN r.points > p.points_line THEN 'OVER'
      WHEN r.points < p.points_line THEN 'UNDER'
      ELSE 'PUSH'
    END`,
    hit: `CASE
      WHEN p.recommendation = 'OVER' AND r.points > p.points_line THEN TRUE
      WHEN p.recommendation = 'UNDER' AND r.points < p.points_line THEN TRUE
      WHEN p.recommendation = 'OVER' AND r.points < p.points_line THEN FALSE
      WHEN p.recommendation = 'UNDER' AND r.points > p.points_line THEN FALSE
      ELSE NULL
    END`,
  })}
FROM predictions AS p
JOIN results AS r ON r.game_id = p.game_id AND r.player_lookup = p.player_lookup`;
}

export const predictionAccuracy: TableProcessorDef = {
  kind: 'table',
  name: 'prediction_accuracy',
  phase: 5,
  group: 2,
  bootstrap: true,
  description:
    'Every prediction against the points actually scored: absolute and signed error, the result against the line, hit / miss (NULL for PASS and pushes)',
  target: { dataset: PREDICTIONS_DATASET, table: 'prediction_accuracy', columns },
  keyColumns: ['game_date', 'player_lookup', 'system_id'],
  dateColumn: 'game_date',
  inputs: [playerPropPredictions.target, playerGameSummary.target],
  select,
  requiredInput: (d) =>
    requireAll(d, [
      { ref: playerPropPredictions.target, dateColumn: 'game_date' },
      { ref: playerGameSummary.target, dateColumn: 'game_date' },
    ]),
  fieldCoverage: [
    { column: 'actual_points', min: 1.0 },
    { column: 'absolute_error', min: 1.0 },
  ],
};

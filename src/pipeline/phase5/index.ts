/**
 * Phase 5 (nba_predictions): group 1 predicts every lined player-game from the MLFS features with
 * each prediction system; group 2 grades those predictions against the points actually scored.
 */
import type { TableProcessorDef } from '../types';
import { predictionAccuracy } from './prediction-accuracy';
import { playerPropPredictions } from './player-prop-predictions';

export {
  DEFAULT_POINTS_SPREAD,
  MOVING_AVERAGE_WEIGHTS,
  PASS_MARGIN_POINTS,
  PREDICTION_SYSTEMS,
  PREDICTIONS_DATASET,
  type PredictionSystemId,
} from './player-prop-predictions';
export { playerPropPredictions, predictionAccuracy };

export const phase5Processors: readonly TableProcessorDef[] = [playerPropPredictions, predictionAccuracy];

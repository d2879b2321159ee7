/**
 * Phase 4 (nba_precompute), in the seed's dependency groups:
 *   1. team_defense_zone_analysis, player_shot_zone_analysis   (from Phase 3 only)
 *   2. player_composite_factors                                 (needs group 1 for the same date)
 *   3. player_daily_cache                                       (from Phase 3 only; kept in the seed's order)
 *   4. ml_feature_store_v2                                      (needs all of the above)
 * Every table is computed from history strictly before its date, and skips each season's bootstrap
 * days; TDZA additionally skips dates where a team playing has fewer than 10 games.
 */
import type { TableProcessorDef } from '../types';
import { mlFeatureStoreV2 } from './ml-feature-store';
import { playerCompositeFactors } from './player-composite-factors';
import { playerDailyCache } from './player-daily-cache';
import { playerShotZoneAnalysis } from './player-shot-zone-analysis';
import { teamDefenseZoneAnalysis, tdzaSkipRule } from './team-defense-zone-analysis';

export { FEATURE_COUNT, FEATURE_NAMES } from './ml-feature-store';
export { PRECOMPUTE_DATASET } from './sql';
export {
  mlFeatureStoreV2,
  playerCompositeFactors,
  playerDailyCache,
  playerShotZoneAnalysis,
  tdzaSkipRule,
  teamDefenseZoneAnalysis,
};

export const phase4Processors: readonly TableProcessorDef[] = [
  teamDefenseZoneAnalysis,
  playerShotZoneAnalysis,
  playerCompositeFactors,
  playerDailyCache,
  mlFeatureStoreV2,
];

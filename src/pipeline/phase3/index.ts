/**
 * Phase 3 (nba_analytics): the five analytics tables, computed straight from nba_raw. They read
 * no other processor's output, so they form one group and run concurrently.
 */
import type { TableProcessorDef } from '../types';
import { playerGameSummary } from './player-game-summary';
import { teamDefenseGameSummary } from './team-defense-game-summary';
import { teamOffenseGameSummary } from './team-offense-game-summary';
import { upcomingPlayerGameContext } from './upcoming-player-game-context';
import { upcomingTeamGameContext } from './upcoming-team-game-context';

export { ANALYTICS_DATASET } from './sql';
export {
  playerGameSummary,
  teamDefenseGameSummary,
  teamOffenseGameSummary,
  upcomingPlayerGameContext,
  upcomingTeamGameContext,
};

export const phase3Processors: readonly TableProcessorDef[] = [
  playerGameSummary,
  teamOffenseGameSummary,
  teamDefenseGameSummary,
  upcomingPlayerGameContext,
  upcomingTeamGameContext,
];

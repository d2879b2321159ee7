/** Deterministic synthetic nba_raw data: the embedded demo's inputs at the seed's volumes. */
export {
  BOOTSTRAP_DAYS,
  FULL_RANGE,
  SEASONS,
  SEASON_STARTS,
  type DateRange,
  type SeasonDef,
  isIsoDate,
  validateDateRange,
} from './calendar';
export {
  DEFAULT_SEED,
  DEMO_TABLES,
  DEMO_TABLE_NAMES,
  type DemoData,
  type DemoDataOptions,
  type RawTableName,
  demoTeamRows,
  generateDemoData,
} from './generator';
export { BOOKMAKERS, MISSING_MINUTES_RATE, MISSING_TURNOVERS_RATE, OVERTIME_RATE } from './boxscore';
export {
  DEFAULT_DEMO_PRESET,
  DEMO_PRESETS,
  type DemoPreset,
  type DemoPresetName,
  type SeedDemoOptions,
  type SeedSummary,
  resolveDemoRange,
  seedDemoData,
} from './seed';

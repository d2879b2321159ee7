/**
 * seedDemoData: writes the generator's rows into a warehouse's nba_raw tables.
 *
 * Idempotent: the date-bearing tables lose their rows in the requested range before the new rows go
 * in, teams are replaced by abbreviation and rosters by season (a season's roster is generated
 * whole). Seeding twice, or seeding a sub-range of an earlier seed, never duplicates a row.
 *
 * It works one season at a time, which bounds memory to a season's rows; the generator guarantees
 * a season's slice equals the same dates of the full range, so the result does not depend on it.
 * The deletes and appends are separate statements (the Warehouse seam has no multi-statement
 * transaction): a run that dies half-way leaves a partial range, and running it again repairs it.
 */
import { type Row, sqlDate, type Warehouse } from '../../warehouse/types';
import { RAW_TABLES } from '../raw';
import { FULL_RANGE, type DateRange, validateDateRange, validateSeed } from './calendar';
import {
  DEFAULT_SEED,
  DEMO_TABLES,
  DEMO_TABLE_NAMES,
  type RawTableName,
  clipToFullRange,
  demoTeamRows,
  generateDemoData,
  seasonBounds,
} from './generator';

export type DemoPresetName = 'full' | 'small' | 'tiny';

export interface DemoPreset extends DateRange {
  description: string;
}

export const DEMO_PRESETS: Readonly<Record<DemoPresetName, DemoPreset>> = Object.freeze({
  full: { ...FULL_RANGE, description: 'the whole backfill: 2021-22 to 2026-01-07, 918 game dates' },
  small: {
    from: '2024-10-22',
    to: '2024-12-06',
    description: '2024-25: the 14 bootstrap days plus about a month',
  },
  tiny: { from: '2024-10-22', to: '2024-11-12', description: '2024-25: the 14 bootstrap days plus about a week' },
});

export const DEFAULT_DEMO_PRESET: DemoPresetName = 'full';

/** Rows per appendRows call: small enough for BigQuery's insert limits, large enough to be quick. */
const DEFAULT_CHUNK_SIZE = 10_000;

/** Tables whose rows belong to a game date, cleared over the requested range before seeding. */
const DATE_TABLES: readonly RawTableName[] = ['schedule', 'player_boxscores', 'team_boxscores', 'prop_lines'];

export interface SeedDemoOptions {
  /** Default 20211019. */
  seed?: number;
  /** 'YYYY-MM-DD'; overrides the preset's start. */
  from?: string;
  /** 'YYYY-MM-DD', inclusive; overrides the preset's end. */
  to?: string;
  /** Default 'full'. */
  preset?: DemoPresetName;
  chunkSize?: number;
  /** Called after each season is written, e.g. for a progress line. */
  onProgress?: (progress: { season: string; rows: Record<RawTableName, number> }) => void;
}

export interface SeedSummary {
  seed: number;
  preset: DemoPresetName;
  /** The requested range (after preset and overrides). */
  from: string;
  to: string;
  /** Distinct game dates written, and the first and last of them (null when none). */
  gameDates: number;
  firstGameDate: string | null;
  lastGameDate: string | null;
  /** Rows written per table by this run. */
  rows: Record<RawTableName, number>;
  generateMs: number;
  writeMs: number;
}

function isPresetName(name: string): name is DemoPresetName {
  return Object.prototype.hasOwnProperty.call(DEMO_PRESETS, name);
}

/** Preset, then from/to overrides, validated. Throws one clear message on bad input. */
export function resolveDemoRange(options: Pick<SeedDemoOptions, 'from' | 'to' | 'preset'>): DateRange & { preset: DemoPresetName } {
  const preset = options.preset ?? DEFAULT_DEMO_PRESET;
  if (!isPresetName(preset)) {
    throw new Error(
      `unknown demo data preset ${JSON.stringify(preset)}: expected one of ${Object.keys(DEMO_PRESETS).join(', ')}`,
    );
  }
  const base = DEMO_PRESETS[preset];
  const range = validateDateRange({ from: options.from ?? base.from, to: options.to ?? base.to });
  return { ...range, preset };
}

function zeroCounts(): Record<RawTableName, number> {
  return { teams: 0, schedule: 0, rosters: 0, player_boxscores: 0, team_boxscores: 0, prop_lines: 0 };
}

export async function seedDemoData(warehouse: Warehouse, options: SeedDemoOptions = {}): Promise<SeedSummary> {
  const seed = validateSeed(options.seed ?? DEFAULT_SEED);
  const { from, to, preset } = resolveDemoRange(options);
  const chunkSize = Math.max(1, options.chunkSize ?? DEFAULT_CHUNK_SIZE);
  const d = warehouse.dialect;
  const rows = zeroCounts();
  const dates = new Set<string>();
  let generateMs = 0;
  let writeMs = 0;

  const write = async (table: RawTableName, tableRows: readonly Row[]): Promise<void> => {
    const started = Date.now();
    for (let i = 0; i < tableRows.length; i += chunkSize) {
      await warehouse.appendRows(DEMO_TABLES[table], tableRows.slice(i, i + chunkSize));
    }
    rows[table] += tableRows.length;
    writeMs += Date.now() - started;
  };

  let started = Date.now();
  for (const spec of RAW_TABLES) await warehouse.ensureTable(spec);
  for (const table of DATE_TABLES) {
    await warehouse.execute(
      `DELETE FROM ${d.table(DEMO_TABLES[table])} WHERE game_date BETWEEN ${d.dateParam('from')} AND ${d.dateParam('to')}`,
      { from: sqlDate(from), to: sqlDate(to) },
    );
  }
  writeMs += Date.now() - started;

  // Teams are the same for every seed and range; replace them by key so they are always present.
  const teams = demoTeamRows();
  const teamParams = Object.fromEntries(teams.map((t, i) => [`team${i}`, String(t.team_abbr)]));
  started = Date.now();
  await warehouse.execute(
    `DELETE FROM ${d.table(DEMO_TABLES.teams)} WHERE team_abbr IN (${Object.keys(teamParams).map((k) => d.param(k)).join(', ')})`,
    teamParams,
  );
  writeMs += Date.now() - started;
  await write('teams', teams);

  const clipped = clipToFullRange({ from, to });
  for (const bound of clipped ? seasonBounds() : []) {
    if (!clipped || bound.to < clipped.from || bound.from > clipped.to) continue;
    started = Date.now();
    const data = generateDemoData({
      seed,
      from: bound.from > clipped.from ? bound.from : clipped.from,
      to: bound.to < clipped.to ? bound.to : clipped.to,
    });
    generateMs += Date.now() - started;
    if (data.schedule.length === 0) continue;

    started = Date.now();
    await warehouse.execute(`DELETE FROM ${d.table(DEMO_TABLES.rosters)} WHERE season = ${d.param('season')}`, {
      season: bound.season,
    });
    writeMs += Date.now() - started;
    const before = { ...rows };
    for (const table of DEMO_TABLE_NAMES) {
      if (table !== 'teams') await write(table, data[table]);
    }
    for (const r of data.schedule) dates.add(String(r.game_date));
    const seasonRows = zeroCounts();
    for (const table of DEMO_TABLE_NAMES) seasonRows[table] = rows[table] - before[table];
    options.onProgress?.({ season: bound.season, rows: seasonRows });
  }

  const sorted = [...dates].sort();
  return {
    seed,
    preset,
    from,
    to,
    gameDates: sorted.length,
    firstGameDate: sorted[0] ?? null,
    lastGameDate: sorted[sorted.length - 1] ?? null,
    rows,
    generateMs,
    writeMs,
  };
}

/**
 * generateDemoData: the nba_raw tables for a date range, from a seed.
 *
 * Byte-identical for the same (seed, range), and range-independent per game: a game's rows depend
 * on (seed, game_id) plus season-level state (rosters, ratings, the season's schedule), which is
 * always built whole for every season the range touches. Seeding a month therefore writes exactly
 * the rows the full range would have for that month, and a later wider seed agrees with it.
 */
import type { Row, TableSpec } from '../../warehouse/types';
import { rawPlayerBoxscores, rawPropLines, rawRosters, rawSchedule, rawTeamBoxscores, rawTeams } from '../raw';
import { generateGameRows } from './boxscore';
import { FULL_RANGE, SEASONS, type DateRange, toDay, toIso, validateDateRange, validateSeed } from './calendar';
import { TEAMS, buildLeague } from './league';
import { buildSeasonSchedule } from './schedule';

export const DEFAULT_SEED = 20211019;

export type RawTableName = 'teams' | 'schedule' | 'rosters' | 'player_boxscores' | 'team_boxscores' | 'prop_lines';

/** Rows per nba_raw table, keyed by table name; each row keyed by column name. */
export type DemoData = Record<RawTableName, Row[]>;

/** The raw table each DemoData key is written to. */
export const DEMO_TABLES: Readonly<Record<RawTableName, TableSpec>> = {
  teams: rawTeams,
  schedule: rawSchedule,
  rosters: rawRosters,
  player_boxscores: rawPlayerBoxscores,
  team_boxscores: rawTeamBoxscores,
  prop_lines: rawPropLines,
};

/** Written in this order: dimensions first, then the games that refer to them. */
export const DEMO_TABLE_NAMES: readonly RawTableName[] = [
  'teams',
  'schedule',
  'rosters',
  'player_boxscores',
  'team_boxscores',
  'prop_lines',
];

export interface DemoDataOptions {
  /** Default 20211019. */
  seed?: number;
  /** 'YYYY-MM-DD'; default FULL_RANGE.from. Dates outside FULL_RANGE simply have no games. */
  from?: string;
  /** 'YYYY-MM-DD', inclusive; default FULL_RANGE.to. */
  to?: string;
}

/** Calendar bounds of each season: opening night to the day before the next one (or +300 days). */
export function seasonBounds(): Array<{ season: string; from: string; to: string }> {
  return SEASONS.map((def, i) => {
    const next = SEASONS[i + 1];
    const last = next ? toDay(next.start) - 1 : toDay(def.start) + 300;
    return { season: def.season, from: def.start, to: toIso(last) };
  });
}

/** The range clipped to the league's history; undefined when nothing of it is left. */
export function clipToFullRange(range: DateRange): DateRange | undefined {
  const from = range.from > FULL_RANGE.from ? range.from : FULL_RANGE.from;
  const to = range.to < FULL_RANGE.to ? range.to : FULL_RANGE.to;
  return from <= to ? { from, to } : undefined;
}

export function emptyDemoData(): DemoData {
  return { teams: [], schedule: [], rosters: [], player_boxscores: [], team_boxscores: [], prop_lines: [] };
}

/** The 30 teams: the same for every seed and range. */
export function demoTeamRows(): Row[] {
  return TEAMS.map((t) => ({ team_abbr: t.abbr, team_name: t.name, conference: t.conference }));
}

export function generateDemoData(options: DemoDataOptions = {}): DemoData {
  const seed = validateSeed(options.seed ?? DEFAULT_SEED);
  const range = validateDateRange({ from: options.from ?? FULL_RANGE.from, to: options.to ?? FULL_RANGE.to });
  const data = emptyDemoData();
  data.teams = demoTeamRows();
  const clipped = clipToFullRange(range);
  if (!clipped) return data;

  const league = buildLeague(seed);
  const bounds = seasonBounds();
  league.seasons.forEach((seasonLeague, s) => {
    const bound = bounds[s];
    if (!bound || bound.to < clipped.from || bound.from > clipped.to) return;
    const schedule = buildSeasonSchedule(seed, seasonLeague);
    const games = schedule.games.filter((g) => g.date >= clipped.from && g.date <= clipped.to);
    if (games.length === 0) return;

    const season = seasonLeague.def.season;
    seasonLeague.rosters.forEach((roster, team) => {
      const teamAbbr = TEAMS[team]?.abbr ?? '';
      for (const sp of roster) {
        data.rosters.push({
          season,
          team_abbr: teamAbbr,
          player_lookup: sp.player.lookup,
          player_name: sp.player.name,
          position: sp.player.position,
        });
      }
    });
    for (const game of games) {
      data.schedule.push({
        game_id: game.gameId,
        game_date: game.date,
        season,
        season_type: game.seasonType,
        home_team_abbr: TEAMS[game.home]?.abbr ?? '',
        away_team_abbr: TEAMS[game.away]?.abbr ?? '',
      });
      const rows = generateGameRows(seed, seasonLeague, game);
      for (const r of rows.players) data.player_boxscores.push(r);
      for (const r of rows.teams) data.team_boxscores.push(r);
      for (const r of rows.props) data.prop_lines.push(r);
    }
  });
  return data;
}

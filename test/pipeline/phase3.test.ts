/**
 * Phase 3 SQL checked against numbers worked out by hand from test/pipeline/fixtures/phase3-fixture.ts.
 * Every expected value below is derived in the comment next to it, from the fixture's box scores.
 */
import { ensureProcessorTable, runTableProcessor } from '../../src/pipeline/engine';
import {
  phase3Processors,
  playerGameSummary,
  teamDefenseGameSummary,
  teamOffenseGameSummary,
  upcomingPlayerGameContext,
  upcomingTeamGameContext,
} from '../../src/pipeline/phase3';
import type { TableProcessorDef } from '../../src/pipeline/types';
import { DuckDbWarehouse, duckdbDialect } from '../../src/warehouse/duckdb';
import { type Row, WarehouseError } from '../../src/warehouse/types';
import { DATES, G1, G3, G5, G6, loadPhase3Fixture, phase3Fixture } from './fixtures/phase3-fixture';
import { DUCKDB_ONLY_SYNTAX, neutralDialect, renderedSql } from './fixtures/sql-helpers';

const BACKFILL_ID = 'test-phase3';

/** Dates with box scores: every processor can run. */
const LOADED_DATES = [DATES.previousSeason, DATES.opening, DATES.second, DATES.overtime];
/** Scheduled dates whose box scores are not loaded: only the pre-game processors can run. */
const SCHEDULED_ONLY_DATES = [DATES.notLoaded, DATES.weekLater];
const boxScoreProcessors = [playerGameSummary, teamOffenseGameSummary, teamDefenseGameSummary];
const preGameProcessors = [upcomingPlayerGameContext, upcomingTeamGameContext];

let warehouse: DuckDbWarehouse;

async function run(def: TableProcessorDef, date: string): Promise<number> {
  const { rowsWritten } = await runTableProcessor(warehouse, def, date, { backfillId: BACKFILL_ID });
  return rowsWritten;
}

async function rowsOf(def: TableProcessorDef, date: string): Promise<Row[]> {
  return warehouse.query(
    `SELECT * FROM ${duckdbDialect.table(def.target)} WHERE ${def.dateColumn} = CAST($date AS DATE)`,
    { date },
  );
}

async function countOf(def: TableProcessorDef, date: string): Promise<number> {
  return (await rowsOf(def, date)).length;
}

/** The one row of `def` on `date` whose columns equal `key`. */
async function rowOf(def: TableProcessorDef, date: string, key: Record<string, string>): Promise<Row> {
  const matches = (await rowsOf(def, date)).filter((r) => Object.entries(key).every(([k, v]) => r[k] === v));
  if (matches.length !== 1) throw new Error(`${def.name} ${date} ${JSON.stringify(key)}: ${matches.length} rows`);
  return matches[0] as Row;
}

beforeAll(async () => {
  warehouse = new DuckDbWarehouse({ path: ':memory:' });
  await loadPhase3Fixture(warehouse);
  for (const def of phase3Processors) await ensureProcessorTable(warehouse, def);
  for (const date of LOADED_DATES) for (const def of phase3Processors) await run(def, date);
  for (const date of SCHEDULED_ONLY_DATES) for (const def of preGameProcessors) await run(def, date);
});

afterAll(async () => {
  await warehouse.close();
});

describe('the fixture itself', () => {
  test('box scores are internally consistent', () => {
    const box = phase3Fixture.filter((t) => t.spec.table.endsWith('boxscores')).flatMap((t) => t.rows);
    expect(box.length).toBeGreaterThan(0);
    for (const r of box) {
      const n = (c: string): number => Number(r[c]);
      expect(n('points')).toBe(2 * (n('fgm') - n('fg3m')) + 3 * n('fg3m') + n('ftm'));
      expect(n('fga')).toBe(n('paint_fga') + n('mid_fga') + n('fg3a'));
      expect(n('fgm')).toBe(n('paint_fgm') + n('mid_fgm') + n('fg3m'));
    }
  });
});

describe('phase 3 definitions', () => {
  test('five table processors in order, phase 3, group 1, no bootstrap', () => {
    expect(phase3Processors.map((p) => p.name)).toEqual([
      'player_game_summary',
      'team_offense_game_summary',
      'team_defense_game_summary',
      'upcoming_player_game_context',
      'upcoming_team_game_context',
    ]);
    for (const p of phase3Processors) {
      expect(p).toMatchObject({ kind: 'table', phase: 3, group: 1, bootstrap: false, dateColumn: 'game_date' });
      expect(p.target).toMatchObject({ dataset: 'nba_analytics', table: p.name });
      const names = p.target.columns.map((c) => c.name);
      expect(new Set(names).size).toBe(names.length);
      for (const k of [...p.keyColumns, p.dateColumn]) expect(names).toContain(k);
      expect(p.inputs.every((t) => t.dataset === 'nba_raw')).toBe(true);
      expect(typeof p.requiredInput).toBe('function');
    }
  });

  test('each SELECT yields the target columns, in order, with the declared types', async () => {
    // The TableProcessorDef contract: target order, declared types. DuckDB's INSERT would coerce a
    // DECIMAL or HUGEINT silently; checking the SELECT itself keeps other engines from being surprised.
    await warehouse.execute('CREATE SCHEMA IF NOT EXISTS scratch');
    for (const p of phase3Processors) {
      await warehouse.execute(`CREATE OR REPLACE TABLE scratch.${p.name} AS ${p.select(duckdbDialect)}`, {
        date: DATES.opening,
      });
      const described = await warehouse.query(
        `SELECT column_name, data_type FROM information_schema.columns
         WHERE table_schema = 'scratch' AND table_name = $t ORDER BY ordinal_position`,
        { t: p.name },
      );
      expect(described).toEqual(
        p.target.columns.map((c) => ({ column_name: c.name, data_type: duckdbDialect.columnType(c.type) })),
      );
    }
  });

  test('the SQL uses no DuckDB-only syntax outside the Dialect', () => {
    // A dialect with no DuckDB spelling at all (BigQuery's names where they are harmless): any
    // DuckDB-ism left in the rendered SQL was written by a processor, not by the Dialect.
    for (const p of phase3Processors) {
      for (const sql of renderedSql(p, neutralDialect)) {
        for (const banned of DUCKDB_ONLY_SYNTAX) {
          expect({ processor: p.name, banned, found: sql.includes(banned) }).toEqual({
            processor: p.name,
            banned,
            found: false,
          });
        }
        // Unqualified raw table names would miss BigQuery's project and dataset prefix.
        expect(sql).not.toMatch(/\b(FROM|JOIN)\s+nba_raw\./);
      }
    }
  });
});

describe('player_game_summary', () => {
  test('one row per player who appeared', async () => {
    expect(await countOf(playerGameSummary, DATES.previousSeason)).toBe(3);
    expect(await countOf(playerGameSummary, DATES.opening)).toBe(6);
    expect(await countOf(playerGameSummary, DATES.second)).toBe(4);
    expect(await countOf(playerGameSummary, DATES.overtime)).toBe(4);
  });

  test('shooting, usage rate and the line for ajaxbrooks (BOS, G1)', async () => {
    const r = await rowOf(playerGameSummary, DATES.opening, { game_id: G1, player_lookup: 'ajaxbrooks' });
    expect(r).toMatchObject({
      game_date: DATES.opening,
      season: '2023-24',
      season_type: 'regular',
      player_name: 'Ajax Brooks',
      team_abbr: 'BOS',
      opponent_team_abbr: 'NYK',
      is_home: true,
      starter: true,
      minutes_played: 36,
      points: 30,
      rebounds: 8, // 1 offensive + 7 defensive
      turnovers: 3,
      source_backfill_id: BACKFILL_ID,
    });
    // TS% = 30 / (2 · (22 + 0.44·5)) = 30 / 48.4 = 0.619835
    expect(r.ts_pct as number).toBeCloseTo(0.619835, 5);
    // eFG% = (11 + 0.5·4) / 22 = 13 / 22 = 0.590909
    expect(r.efg_pct as number).toBeCloseTo(0.590909, 5);
    // Usage = 100 · (22 + 0.44·5 + 3) · (240 / 5) / (36 · (85 + 0.44·22 + 12))
    //       = 100 · 27.2 · 48 / (36 · 106.68) = 130560 / 3840.48 = 33.99575
    expect(r.usage_rate as number).toBeCloseTo(33.99575, 4);
    // Two books: (27.5 + 28.5) / 2 = 28.0; 30 points → OVER.
    expect(r.points_line).toBe(28);
    expect(r.over_under_result).toBe('OVER');
    expect(typeof r.processed_at).toBe('string');
  });

  test('NULL minutes give NULL minutes_played and NULL usage, shooting still computed', async () => {
    const r = await rowOf(playerGameSummary, DATES.opening, { game_id: G1, player_lookup: 'calebstone' });
    expect(r.minutes_played).toBeNull();
    expect(r.usage_rate).toBeNull();
    // TS% = 14 / (2 · (11 + 0.44·2)) = 14 / 23.76 = 0.589226
    expect(r.ts_pct as number).toBeCloseTo(0.589226, 5);
    // Line 15.5, 14 points → UNDER.
    expect(r).toMatchObject({ points_line: 15.5, over_under_result: 'UNDER' });
  });

  test('NULL turnovers give NULL usage; no line gives no result', async () => {
    const r = await rowOf(playerGameSummary, DATES.opening, { game_id: G1, player_lookup: 'devonmarsh' });
    expect(r).toMatchObject({ minutes_played: 24, turnovers: null, usage_rate: null, starter: false });
    expect(r).toMatchObject({ points_line: null, over_under_result: null });
  });

  test('zero minutes and no attempts: NULL usage and NULL percentages, not a division error', async () => {
    const r = await rowOf(playerGameSummary, DATES.opening, { game_id: G1, player_lookup: 'felixgrant' });
    expect(r).toMatchObject({ minutes_played: 0, points: 0, usage_rate: null, ts_pct: null, efg_pct: null });
  });

  test('a line equal to the points is a PUSH', async () => {
    const r = await rowOf(playerGameSummary, DATES.opening, { game_id: G1, player_lookup: 'ethanriver' });
    // (24.5 + 25.5) / 2 = 25.0 and he scored 25.
    expect(r).toMatchObject({ is_home: false, points: 25, points_line: 25, over_under_result: 'PUSH' });
  });
});

describe('team_offense_game_summary', () => {
  test('BOS in G1: possessions, ratings, pace, shooting, zone shares, result', async () => {
    const r = await rowOf(teamOffenseGameSummary, DATES.opening, { game_id: G1, team_abbr: 'BOS' });
    expect(r).toMatchObject({
      opponent_team_abbr: 'NYK',
      is_home: true,
      season_type: 'regular',
      points: 110,
      rebounds: 45,
      opponent_points: 102,
      win: true,
      margin: 8,
    });
    // Possessions = 85 − 10 + 12 + 0.44·22 = 96.68
    expect(r.possessions as number).toBeCloseTo(96.68, 6);
    // ORtg = 100 · 110 / 96.68 = 113.777410
    expect(r.offensive_rating as number).toBeCloseTo(113.77741, 4);
    // Pace = 96.68 · 48 / (240 / 5) = 96.68 (regulation)
    expect(r.pace as number).toBeCloseTo(96.68, 6);
    // TS% = 110 / (2 · (85 + 0.44·22)) = 110 / 189.36 = 0.580904
    expect(r.ts_pct as number).toBeCloseTo(0.580904, 5);
    // eFG% = (40 + 0.5·12) / 85 = 46 / 85 = 0.541176
    expect(r.efg_pct as number).toBeCloseTo(0.541176, 5);
    // Shares of 85 FGA: paint 36, mid 14, three 35.
    expect(r.paint_attempt_share as number).toBeCloseTo(36 / 85, 6);
    expect(r.mid_attempt_share as number).toBeCloseTo(14 / 85, 6);
    expect(r.three_attempt_share as number).toBeCloseTo(35 / 85, 6);
  });

  test('NYK in G1 lost by 8', async () => {
    const r = await rowOf(teamOffenseGameSummary, DATES.opening, { game_id: G1, team_abbr: 'NYK' });
    expect(r).toMatchObject({ is_home: false, win: false, margin: -8, opponent_points: 110 });
  });

  test('overtime pace is per 48 minutes', async () => {
    const r = await rowOf(teamOffenseGameSummary, DATES.overtime, { game_id: G3, team_abbr: 'NYK' });
    // Possessions = 95 − 11 + 13 + 0.44·25 = 108; pace = 108 · 48 / (265 / 5) = 5184 / 53 = 97.811321
    expect(r.possessions as number).toBeCloseTo(108, 6);
    expect(r.pace as number).toBeCloseTo(97.811321, 5);
    // ORtg = 100 · 121 / 108 = 112.037037
    expect(r.offensive_rating as number).toBeCloseTo(112.037037, 5);
    expect(r).toMatchObject({ minutes: 265, win: true, margin: 3 });
  });

  test('two rows per game', async () => {
    for (const date of LOADED_DATES) expect(await countOf(teamOffenseGameSummary, date)).toBe(2);
  });
});

describe('team_defense_game_summary', () => {
  test('BOS defending NYK in G1', async () => {
    const r = await rowOf(teamDefenseGameSummary, DATES.opening, { game_id: G1, defending_team_abbr: 'BOS' });
    expect(r).toMatchObject({
      opponent_team_abbr: 'NYK',
      is_home: true,
      points_allowed: 102,
      opp_fgm: 38,
      opp_fga: 88,
      opp_fg3m: 10,
      opp_fg3a: 30,
      opp_ftm: 16,
      opp_fta: 20,
      opp_paint_fgm: 18,
      opp_paint_fga: 34,
      opp_mid_fgm: 10,
      opp_mid_fga: 24,
      // BOS's own defensive plays; NYK's 14 turnovers were forced by BOS.
      steals: 8,
      blocks: 5,
      defensive_rebounds: 35,
      forced_turnovers: 14,
    });
    // NYK possessions = 88 − 12 + 14 + 0.44·20 = 98.8; DRtg = 100 · 102 / 98.8 = 103.238866
    expect(r.opponent_possessions as number).toBeCloseTo(98.8, 6);
    expect(r.defensive_rating as number).toBeCloseTo(103.238866, 5);
    expect(r.opp_fg_pct as number).toBeCloseTo(38 / 88, 6); // 0.431818
    expect(r.opp_three_fg_pct as number).toBeCloseTo(10 / 30, 6); // 0.333333
    expect(r.opp_paint_fg_pct as number).toBeCloseTo(18 / 34, 6); // 0.529412
    expect(r.opp_mid_fg_pct as number).toBeCloseTo(10 / 24, 6); // 0.416667
  });

  test("a team's defensive rating is its opponent's offensive rating", async () => {
    for (const date of LOADED_DATES) {
      const defense = await rowsOf(teamDefenseGameSummary, date);
      expect(defense).toHaveLength(2);
      for (const dr of defense) {
        const off = await rowOf(teamOffenseGameSummary, date, {
          game_id: dr.game_id as string,
          team_abbr: dr.opponent_team_abbr as string,
        });
        expect(dr.defensive_rating as number).toBeCloseTo(off.offensive_rating as number, 9);
        expect(dr.points_allowed).toBe(off.points);
      }
    }
  });
});

describe('upcoming_team_game_context', () => {
  test("the season's first game: no rest, no record, and last season does not count", async () => {
    // BOS played LAL on 2023-04-09, but that was 2022-23.
    const r = await rowOf(upcomingTeamGameContext, DATES.opening, { game_id: G1, team_abbr: 'BOS' });
    expect(r).toMatchObject({
      opponent_team_abbr: 'NYK',
      is_home: true,
      days_rest: null,
      opponent_days_rest: null,
      rest_advantage: null,
      back_to_back: false,
      games_in_last_7_days: 0,
      season_games_played: 0,
      season_wins: 0,
      season_win_pct: null,
    });
  });

  test('days of rest, back-to-back and rest advantage (G3, 2023-10-26)', async () => {
    // NYK last played 10-24 → 2 days; LAL played 10-25 → 1 day, a back-to-back.
    const nyk = await rowOf(upcomingTeamGameContext, DATES.overtime, { game_id: G3, team_abbr: 'NYK' });
    expect(nyk).toMatchObject({ days_rest: 2, opponent_days_rest: 1, rest_advantage: 1, back_to_back: false });
    const lal = await rowOf(upcomingTeamGameContext, DATES.overtime, { game_id: G3, team_abbr: 'LAL' });
    expect(lal).toMatchObject({ days_rest: 1, opponent_days_rest: 2, rest_advantage: -1, back_to_back: true });
    // LAL's only 2023-24 result so far is the 115–118 loss to GSW (the 2022-23 win is excluded).
    expect(lal).toMatchObject({ season_games_played: 1, season_wins: 0, season_win_pct: 0 });
    // The date's own result (NYK won G3) is not visible yet.
    expect(nyk).toMatchObject({ season_games_played: 1, season_wins: 0, season_win_pct: 0 });
  });

  test('records and schedule load on 2023-10-28', async () => {
    // LAL: 10-25, 10-26 in [10-21, 10-27] → 2 games; last game 10-26 → 2 days. Record 0–2.
    const lal = await rowOf(upcomingTeamGameContext, DATES.notLoaded, { game_id: G5, team_abbr: 'LAL' });
    expect(lal).toMatchObject({ days_rest: 2, games_in_last_7_days: 2, season_games_played: 2, season_wins: 0 });
    expect(lal.season_win_pct as number).toBeCloseTo(0, 9);
    // NYK: lost G1, won G3 121–118 → 1 / 2.
    const nyk = await rowOf(upcomingTeamGameContext, DATES.notLoaded, { game_id: G5, team_abbr: 'NYK' });
    expect(nyk).toMatchObject({ days_rest: 2, games_in_last_7_days: 2, season_games_played: 2, season_wins: 1 });
    expect(nyk.season_win_pct as number).toBeCloseTo(0.5, 9);
    // BOS last played 10-24 → 4 days; GSW 10-25 → 3 days: BOS +1. Both 1–0.
    const bos = await rowOf(upcomingTeamGameContext, DATES.notLoaded, { team_abbr: 'BOS' });
    expect(bos).toMatchObject({ opponent_team_abbr: 'GSW', days_rest: 4, opponent_days_rest: 3, rest_advantage: 1 });
    expect(bos).toMatchObject({ games_in_last_7_days: 1, season_games_played: 1, season_wins: 1, season_win_pct: 1 });
  });

  test('games in the last 7 days: 7 days before counts, 8 days before does not', async () => {
    // 2023-11-02 − 7 = 10-26. NYK played 10-24, 10-26, 10-28 → 10-26 and 10-28 count: 2.
    const nyk = await rowOf(upcomingTeamGameContext, DATES.weekLater, { game_id: G6, team_abbr: 'NYK' });
    expect(nyk).toMatchObject({ games_in_last_7_days: 2, days_rest: 5 });
    // GSW played 10-25 (8 days before) and 10-28 → 1.
    const gsw = await rowOf(upcomingTeamGameContext, DATES.weekLater, { game_id: G6, team_abbr: 'GSW' });
    expect(gsw).toMatchObject({ games_in_last_7_days: 1, days_rest: 5, is_home: true });
  });
});

describe('upcoming_player_game_context', () => {
  test('every rostered player of both teams, more rows than players who appeared', async () => {
    // 10-24: BOS 3 + NYK 3. 10-26: NYK 3 + LAL 4, tomashale on both rosters counted once.
    expect(await countOf(upcomingPlayerGameContext, DATES.opening)).toBe(6);
    expect(await countOf(upcomingPlayerGameContext, DATES.overtime)).toBe(6);
    // 10-28: G4 BOS 3 + GSW 2, G5 LAL 4 + NYK 3 − tomashale's second roster = 11.
    expect(await countOf(upcomingPlayerGameContext, DATES.notLoaded)).toBe(11);
    // Last season's rosters: LAL gavinwells, leoriley; BOS ajaxbrooks.
    expect(await countOf(upcomingPlayerGameContext, DATES.previousSeason)).toBe(3);
    expect(await countOf(upcomingPlayerGameContext, DATES.overtime)).toBeGreaterThan(
      await countOf(playerGameSummary, DATES.overtime),
    );
  });

  test("season points average before the date, without last season and without the date's own game", async () => {
    // gavinwells before 10-26: only G2 (28); the 40 in 2022-23 does not count, G3 (24) is the date itself.
    const before = await rowOf(upcomingPlayerGameContext, DATES.overtime, { player_lookup: 'gavinwells' });
    expect(before).toMatchObject({
      game_id: G3,
      team_abbr: 'LAL',
      opponent_team_abbr: 'NYK',
      is_home: false,
      position: 'F',
      days_rest: 1,
      back_to_back: true,
      games_played_season: 1,
      points_avg_season: 28,
      points_line: null,
    });
    // Before 10-28: (28 + 24) / 2 = 26.0, and the G5 line of 25.5.
    const later = await rowOf(upcomingPlayerGameContext, DATES.notLoaded, { player_lookup: 'gavinwells' });
    expect(later).toMatchObject({ game_id: G5, games_played_season: 2, days_rest: 2, back_to_back: false });
    expect(later.points_avg_season as number).toBeCloseTo(26, 9);
    expect(later.points_line).toBe(25.5);
  });

  test('a player without games yet has 0 games and a NULL average', async () => {
    const r = await rowOf(upcomingPlayerGameContext, DATES.overtime, { player_lookup: 'ivanpryor' });
    expect(r).toMatchObject({ games_played_season: 0, points_avg_season: null });
  });

  test("team context is the team's: days of rest and games in the last 7 days", async () => {
    // ethanriver (NYK) on 10-28: NYK rest 2, 2 games in [10-21, 10-27]; his points (25 + 33) / 2 = 29.
    const r = await rowOf(upcomingPlayerGameContext, DATES.notLoaded, { player_lookup: 'ethanriver' });
    expect(r).toMatchObject({ team_abbr: 'NYK', days_rest: 2, games_in_last_7_days: 2, games_played_season: 2 });
    expect(r.points_avg_season as number).toBeCloseTo(29, 9);
    // ajaxbrooks (BOS) on 10-28: BOS rest 4; 30 this season (the 22 of 2022-23 excluded).
    const a = await rowOf(upcomingPlayerGameContext, DATES.notLoaded, { player_lookup: 'ajaxbrooks' });
    expect(a).toMatchObject({ team_abbr: 'BOS', days_rest: 4, games_played_season: 1, points_avg_season: 30 });
  });

  test('a player on both rosters is kept once, for the team he last played for', async () => {
    // tomashale is on the NYK and LAL rosters and played only for NYK; alphabetical order would say LAL.
    for (const date of [DATES.overtime, DATES.notLoaded]) {
      const r = await rowOf(upcomingPlayerGameContext, date, { player_lookup: 'tomashale' });
      expect(r.team_abbr).toBe('NYK');
    }
  });
});

describe('idempotent, honest runs', () => {
  test('running every processor on every date again changes no row count and keeps keys unique', async () => {
    const runs: Array<[TableProcessorDef, string]> = [
      ...LOADED_DATES.flatMap((date) => phase3Processors.map((def): [TableProcessorDef, string] => [def, date])),
      ...SCHEDULED_ONLY_DATES.flatMap((date) => preGameProcessors.map((def): [TableProcessorDef, string] => [def, date])),
    ];
    const before = new Map<string, number>();
    for (const [def, date] of runs) before.set(`${def.name} ${date}`, await countOf(def, date));
    for (const [def, date] of runs) {
      const written = await run(def, date);
      expect(written).toBe(before.get(`${def.name} ${date}`));
    }
    for (const def of phase3Processors) {
      const [total] = await warehouse.query(`SELECT count(*) AS n FROM ${duckdbDialect.table(def.target)}`);
      const expected = runs.filter(([d]) => d === def).reduce((s, [, date]) => s + (before.get(`${def.name} ${date}`) ?? 0), 0);
      expect({ table: def.name, n: total?.n }).toEqual({ table: def.name, n: expected });
      const keys = def.keyColumns.join(', ');
      const dupes = await warehouse.query(
        `SELECT ${keys}, count(*) AS n FROM ${duckdbDialect.table(def.target)} GROUP BY ${keys} HAVING count(*) > 1`,
      );
      expect({ table: def.name, dupes }).toEqual({ table: def.name, dupes: [] });
    }
  });

  test('a scheduled date without box scores is a missing_input failure, and writes nothing', async () => {
    for (const def of boxScoreProcessors) {
      const attempt = run(def, DATES.notLoaded);
      await expect(attempt).rejects.toBeInstanceOf(WarehouseError);
      await expect(attempt).rejects.toMatchObject({ kind: 'missing_input' });
      expect(await countOf(def, DATES.notLoaded)).toBe(0);
    }
  });

  test('a scheduled date whose season has no rosters is a missing_input failure for the player context', async () => {
    await warehouse.execute(
      `INSERT INTO nba_raw.schedule VALUES ('0022400001', DATE '2024-10-22', '2024-25', 'regular', 'BOS', 'NYK')`,
    );
    try {
      await expect(run(upcomingPlayerGameContext, '2024-10-22')).rejects.toMatchObject({ kind: 'missing_input' });
      // The team context needs only the schedule.
      expect(await run(upcomingTeamGameContext, '2024-10-22')).toBe(2);
    } finally {
      await warehouse.execute(`DELETE FROM nba_raw.schedule WHERE game_id = '0022400001'`);
      await warehouse.execute(`DELETE FROM nba_analytics.upcoming_team_game_context WHERE game_id = '0022400001'`);
    }
  });

  test('a date without games writes 0 rows and does not throw', async () => {
    for (const def of phase3Processors) {
      expect(await run(def, DATES.noGames)).toBe(0);
      expect(await countOf(def, DATES.noGames)).toBe(0);
    }
  });
});

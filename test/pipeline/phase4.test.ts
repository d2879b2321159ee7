/**
 * Phase 4 SQL checked against numbers worked out by hand from test/pipeline/fixtures/phase45-fixture.ts.
 * Every expected value is derived in the comment next to it from the fixture's per-game numbers.
 */
import { planProcessorDates } from '../../src/pipeline/dates';
import {
  mlFeatureStoreV2,
  phase4Processors,
  playerCompositeFactors,
  playerDailyCache,
  playerShotZoneAnalysis,
  teamDefenseZoneAnalysis,
} from '../../src/pipeline/phase4';
import { DuckDbWarehouse, duckdbDialect } from '../../src/warehouse/duckdb';
import { WarehouseError } from '../../src/warehouse/types';
import {
  DATE,
  GAME,
  loadPhase45Fixture,
  SEASON,
  SEASON_OPENER,
  TDZA_SKIPPED_DATE,
} from './fixtures/phase45-fixture';
import {
  BACKFILL_ID,
  describeSelect,
  DUCKDB_ONLY_SYNTAX,
  neutralDialect,
  renderedSql,
  rowOf,
  rowsOf,
  run,
  runAll,
  withoutTracking,
} from './fixtures/sql-helpers';

let warehouse: DuckDbWarehouse;

beforeAll(async () => {
  warehouse = new DuckDbWarehouse({ path: ':memory:' });
  await loadPhase45Fixture(warehouse);
  await runAll(warehouse, phase4Processors, DATE);
});

afterAll(async () => {
  await warehouse.close();
});

// League zone FG% in 2023-24 before DATE, over all 34 defensive games (BOS 17, NYK 17):
//   paint (2·30 + 15·20 + 2·5 + 15·18) / (17·40 + 17·30) = 640 / 1190 = 64/119
//   mid   (17·4 + 17·8) / (17·10 + 17·20) = 204 / 510 = 0.4
//   three (17·10 + 17·12) / (34·30) = 374 / 1020 = 11/30
const LEAGUE_PAINT = 64 / 119;
const LEAGUE_THREE = 11 / 30;

describe('phase 4 definitions', () => {
  test('five table processors in group order, phase 4, bootstrap, in nba_precompute', () => {
    expect(phase4Processors.map((p) => [p.name, p.group])).toEqual([
      ['team_defense_zone_analysis', 1],
      ['player_shot_zone_analysis', 1],
      ['player_composite_factors', 2],
      ['player_daily_cache', 3],
      ['ml_feature_store_v2', 4],
    ]);
    for (const p of phase4Processors) {
      expect(p).toMatchObject({ kind: 'table', phase: 4, bootstrap: true });
      expect(p.target).toMatchObject({ dataset: 'nba_precompute', table: p.name });
      const names = p.target.columns.map((c) => c.name);
      expect(new Set(names).size).toBe(names.length);
      for (const k of [...p.keyColumns, p.dateColumn]) expect(names).toContain(k);
      expect(p.keyColumns[0]).toBe(p.dateColumn);
      expect(typeof p.requiredInput).toBe('function');
      for (const rule of p.fieldCoverage ?? []) expect(names).toContain(rule.column);
    }
    expect(teamDefenseZoneAnalysis.keyColumns).toEqual(['analysis_date', 'team_abbr']);
    expect(playerShotZoneAnalysis.keyColumns).toEqual(['analysis_date', 'player_lookup']);
    expect(playerCompositeFactors.keyColumns).toEqual(['game_date', 'player_lookup']);
    expect(playerDailyCache.keyColumns).toEqual(['cache_date', 'player_lookup']);
    expect(mlFeatureStoreV2.keyColumns).toEqual(['game_date', 'player_lookup']);
    expect(teamDefenseZoneAnalysis.skipRule).toBeDefined();
  });

  test('each SELECT yields the target columns, in order, with the declared types', async () => {
    for (const p of phase4Processors) {
      expect(await describeSelect(warehouse, p, DATE)).toEqual(
        p.target.columns.map((c) => ({ column_name: c.name, data_type: duckdbDialect.columnType(c.type) })),
      );
    }
  });

  test('the SQL uses no DuckDB-only syntax outside the Dialect', () => {
    for (const p of phase4Processors) {
      for (const sql of renderedSql(p, neutralDialect)) {
        for (const banned of DUCKDB_ONLY_SYNTAX) {
          expect({ processor: p.name, banned, found: sql.includes(banned) }).toEqual({
            processor: p.name,
            banned,
            found: false,
          });
        }
        expect(sql).not.toMatch(/\b(FROM|JOIN)\s+nba_\w+\./);
      }
    }
  });
});

describe('team_defense_zone_analysis', () => {
  test('one row per team playing on the date', async () => {
    expect((await rowsOf(warehouse, teamDefenseZoneAnalysis, DATE)).map((r) => r.team_abbr)).toEqual(['BOS', 'NYK']);
  });

  test('NYK: opponent shooting by zone over its last 15 games (k = 3 … 17)', async () => {
    const r = await rowOf(warehouse, teamDefenseZoneAnalysis, DATE, { team_abbr: 'NYK' });
    expect(r).toMatchObject({
      game_id: GAME,
      season: SEASON,
      opponent_team_abbr: 'BOS',
      games_in_sample: 15,
      sample_first_game_date: '2023-10-26', // k = 3: games 1 and 2 fall outside the 15
      sample_last_game_date: '2023-11-09',
      points_allowed_per_game: 110, // k ≥ 3 all 110 (k 1–2 allowed 80: outside)
      source_backfill_id: BACKFILL_ID,
    });
    expect(r.paint_fg_pct_allowed as number).toBeCloseTo(0.6, 9); // 15·18 / 15·30
    expect(r.mid_fg_pct_allowed as number).toBeCloseTo(0.4, 9); // 8/20
    expect(r.three_fg_pct_allowed as number).toBeCloseTo(0.4, 9); // 12/30
    expect(r.opp_fg_pct_allowed as number).toBeCloseTo(0.475, 9); // 38/80
    expect(r.paint_attempt_share_allowed as number).toBeCloseTo(0.375, 9); // 30/80
    expect(r.mid_attempt_share_allowed as number).toBeCloseTo(0.25, 9); // 20/80
    expect(r.three_attempt_share_allowed as number).toBeCloseTo(0.375, 9); // 30/80
    expect(r.defensive_rating as number).toBeCloseTo(110, 9); // 100 · 1650 / 1500
    expect(r.league_paint_fg_pct as number).toBeCloseTo(LEAGUE_PAINT, 9);
    expect(r.league_mid_fg_pct as number).toBeCloseTo(0.4, 9);
    expect(r.league_three_fg_pct as number).toBeCloseTo(LEAGUE_THREE, 9);
    // (2·140 + 15·100 + 2·80 + 15·110) / 34 = 3590 / 34
    expect(r.league_points_allowed_per_game as number).toBeCloseTo(3590 / 34, 9);
    expect(r.paint_fg_pct_vs_league as number).toBeCloseTo(0.6 - LEAGUE_PAINT, 9); // +0.062185
    expect(r.mid_fg_pct_vs_league as number).toBeCloseTo(0, 9);
    expect(r.three_fg_pct_vs_league as number).toBeCloseTo(0.4 - LEAGUE_THREE, 9); // +0.033333
  });

  test('BOS: the 15-game window drops games 1–2 (with them paint would be 360/680)', async () => {
    const r = await rowOf(warehouse, teamDefenseZoneAnalysis, DATE, { team_abbr: 'BOS' });
    expect(r.games_in_sample).toBe(15);
    expect(r.paint_fg_pct_allowed as number).toBeCloseTo(0.5, 9); // 15·20 / 15·40
    expect(r.three_fg_pct_allowed as number).toBeCloseTo(1 / 3, 9); // 10/30
    expect(r.points_allowed_per_game).toBeCloseTo(100, 9); // not (2·140 + 15·100)/17
    expect(r.paint_fg_pct_vs_league as number).toBeCloseTo(0.5 - LEAGUE_PAINT, 9); // −0.037815
  });

  test('skip rule: past the bootstrap, a date is skipped when a team playing has < 10 prior games', async () => {
    const plan = await planProcessorDates(warehouse, teamDefenseZoneAnalysis, SEASON_OPENER, DATE, 14);
    // 18 game dates 10-24 … 11-10; 10-24 … 11-06 are the 14 bootstrap days. On 11-08 LAL and GSW
    // play their 6th game (prior: 10-24, 10-27, 10-30, 11-02, 11-05), so the date is skipped and its
    // reason names both teams with their counts, by team; 11-07, 11-09 and 11-10 only have BOS–NYK
    // (14+ prior), so neither BOS nor NYK is ever named.
    expect(plan.dates).toEqual(['2023-11-07', '2023-11-09', DATE]);
    expect(plan.skipped).toHaveLength(15);
    expect(plan.skipped.filter((s) => s.reason.startsWith('bootstrap'))).toHaveLength(14);
    expect(plan.skipped.find((s) => s.date === TDZA_SKIPPED_DATE)).toEqual({
      date: TDZA_SKIPPED_DATE,
      reason: 'TDZA: fewer than 10 prior games for some team playing (GSW 5, LAL 5)',
    });
  });

  test('the other Phase 4 processors skip the bootstrap only', async () => {
    for (const def of phase4Processors.filter((p) => p !== teamDefenseZoneAnalysis)) {
      const plan = await planProcessorDates(warehouse, def, SEASON_OPENER, DATE, 14);
      expect({ def: def.name, dates: plan.dates }).toEqual({
        def: def.name,
        dates: ['2023-11-07', TDZA_SKIPPED_DATE, '2023-11-09', DATE],
      });
    }
  });
});

describe('player_shot_zone_analysis', () => {
  test('players with a game and a prior game this season; felixgrant (debut) has no row', async () => {
    expect((await rowsOf(warehouse, playerShotZoneAnalysis, DATE)).map((r) => r.player_lookup)).toEqual([
      'ajaxbrooks',
      'calebstone',
      'devonmarsh',
      'ethanriver',
    ]);
  });

  test('ajaxbrooks: zone mix and FG% over his last 10 games (k = 8 … 17)', async () => {
    const r = await rowOf(warehouse, playerShotZoneAnalysis, DATE, { player_lookup: 'ajaxbrooks' });
    expect(r).toMatchObject({ games_in_sample: 10, team_abbr: 'BOS', opponent_team_abbr: 'NYK' });
    // FGA: 9·20 + 10 = 190 → 19 per game. Paint 9·10 + 5 = 95, mid 9·4 + 2 = 38, three 9·6 + 3 = 57.
    expect(r.fga_per_game as number).toBeCloseTo(19, 9);
    expect(r.paint_attempt_share as number).toBeCloseTo(0.5, 9); // 95/190 (k 1–7 were all paint: outside)
    expect(r.mid_attempt_share as number).toBeCloseTo(0.2, 9); // 38/190
    expect(r.three_attempt_share as number).toBeCloseTo(0.3, 9); // 57/190
    expect(r.paint_fg_pct as number).toBeCloseTo(56 / 95, 9); // (9·6 + 2) / 95 = 0.589474
    expect(r.mid_fg_pct as number).toBeCloseTo(0.5, 9); // (9·2 + 1) / 38
    expect(r.three_fg_pct as number).toBeCloseTo(1 / 3, 9); // (9·2 + 1) / 57
    expect(r.primary_scoring_zone).toBe('paint');
  });

  test('no attempts in the sample: NULL shares, not a division error', async () => {
    const r = await rowOf(warehouse, playerShotZoneAnalysis, DATE, { player_lookup: 'devonmarsh' });
    expect(r).toMatchObject({
      games_in_sample: 1,
      fga_per_game: 0,
      paint_attempt_share: null,
      paint_fg_pct: null,
      primary_scoring_zone: null,
    });
  });
});

describe('player_daily_cache', () => {
  test('ajaxbrooks: rolling points, spread, minutes, usage', async () => {
    const r = await rowOf(warehouse, playerDailyCache, DATE, { player_lookup: 'ajaxbrooks' });
    expect(r).toMatchObject({
      games_played_season: 17, // the 2022-23 game does not count
      last_game_date: '2023-11-09',
      days_since_last_game: 1,
    });
    expect(r.points_avg_last_5 as number).toBeCloseTo(30, 9); // (30+28+26+32+34) / 5
    expect(r.points_avg_last_10 as number).toBeCloseTo(27, 9); // (5·24 + 150) / 10
    expect(r.points_avg_season as number).toBeCloseTo(24, 9); // (6·20 + 18 + 270) / 17 = 408/17
    // Last 10: 24×5, 30, 28, 26, 32, 34; mean 27; Σ(x−27)² = 5·9 + 9 + 1 + 1 + 25 + 49 = 130;
    // sample sd = √(130/9) = 3.800585
    expect(r.points_std_last_10 as number).toBeCloseTo(Math.sqrt(130 / 9), 9);
    // Minutes k8–17: 36 ×8, NULL (k15, left out), 27 → 315 / 9 = 35
    expect(r.minutes_avg_last_10 as number).toBeCloseTo(35, 9);
    // Usage k8–12: 25 ×5, k13–17: 30 ×4 (k15 NULL) → (125 + 120) / 9
    expect(r.usage_rate_avg_last_10 as number).toBeCloseTo(245 / 9, 9);
  });

  test('a single game: no spread; constant scoring: spread 0', async () => {
    const devon = await rowOf(warehouse, playerDailyCache, DATE, { player_lookup: 'devonmarsh' });
    expect(devon).toMatchObject({ games_played_season: 1, points_avg_last_5: 6, points_std_last_10: null });
    const ethan = await rowOf(warehouse, playerDailyCache, DATE, { player_lookup: 'ethanriver' });
    expect(ethan).toMatchObject({ points_avg_season: 15, points_std_last_10: 0, usage_rate_avg_last_10: null });
  });
});

describe('player_composite_factors', () => {
  test('ajaxbrooks: fatigue, zone matchup against NYK, pace, usage trend and the composite', async () => {
    const r = await rowOf(warehouse, playerCompositeFactors, DATE, { player_lookup: 'ajaxbrooks' });
    expect(r).toMatchObject({ days_rest: 1, back_to_back: true, games_in_last_7_days: 7, factors_available: 4 });
    // Back-to-back −1.0, and 7 games in the last 7 days (≥ 4) −0.5.
    expect(r.fatigue_adjustment as number).toBeCloseTo(-1.5, 9);
    // Σ share × (NYK allowed − league) × points per make
    //   = 0.5·(0.6 − 64/119)·2 + 0.2·0·2 + 0.3·(0.4 − 11/30)·3 = 0.0621849 + 0 + 0.03 = 0.0921849
    const factor = 0.5 * (0.6 - LEAGUE_PAINT) * 2 + 0.3 * (0.4 - LEAGUE_THREE) * 3;
    expect(r.zone_matchup_factor as number).toBeCloseTo(factor, 9);
    expect(r.zone_matchup_adjustment as number).toBeCloseTo(factor * 19, 9); // × 19 FGA = 1.751513
    // Pace: BOS last 10 = 100, NYK last 10 = 96 → 98; league = (7·90 + 10·100 + 7·120 + 10·96) / 34
    //   = 3430/34; factor = 98·34/3430 = 34/35; adjustment = 24 · (34/35 − 1) = −24/35 = −0.685714
    expect(r.team_pace as number).toBeCloseTo(100, 9);
    expect(r.opponent_pace as number).toBeCloseTo(96, 9);
    expect(r.league_pace as number).toBeCloseTo(3430 / 34, 9);
    expect(r.pace_factor as number).toBeCloseTo(34 / 35, 9);
    expect(r.pace_adjustment as number).toBeCloseTo(-24 / 35, 9);
    // Usage last 5 (k13–17, k15 NULL) = 30; last 15 (k3–17) = (10·25 + 4·30) / 14 = 370/14;
    // trend = 30 − 26.428571 = 3.571429; adjustment = ½ · 24 · 3.571429 / 26.428571 = 60/37 = 1.621622
    expect(r.usage_rate_last_5 as number).toBeCloseTo(30, 9);
    expect(r.usage_rate_last_15 as number).toBeCloseTo(370 / 14, 9);
    expect(r.usage_trend as number).toBeCloseTo(30 - 370 / 14, 9);
    expect(r.usage_adjustment as number).toBeCloseTo(60 / 37, 9);
    // −1.5 + 1.751513 − 0.685714 + 1.621622 = 1.187420
    expect(r.composite_adjustment as number).toBeCloseTo(-1.5 + factor * 19 - 24 / 35 + 60 / 37, 9);
  });

  test('NULL-tolerant: no usage → no usage factor; no shots → no matchup factor', async () => {
    const ethan = await rowOf(warehouse, playerCompositeFactors, DATE, { player_lookup: 'ethanriver' });
    expect(ethan).toMatchObject({ usage_rate_last_5: null, usage_trend: null, usage_adjustment: null, factors_available: 3 });
    // vs BOS: 0.4·(0.5 − 64/119)·2 + 0.2·0·2 + 0.4·(1/3 − 11/30)·3 = −0.0302521 − 0.04; × 10 FGA
    const matchup = (0.4 * (0.5 - LEAGUE_PAINT) * 2 + 0.4 * (1 / 3 - LEAGUE_THREE) * 3) * 10;
    expect(ethan.zone_matchup_adjustment as number).toBeCloseTo(matchup, 9); // −0.702521
    // −1.5 − 0.702521 + 15·(34/35 − 1) = −2.631092
    expect(ethan.composite_adjustment as number).toBeCloseTo(-1.5 + matchup - 15 / 35, 9);

    const devon = await rowOf(warehouse, playerCompositeFactors, DATE, { player_lookup: 'devonmarsh' });
    expect(devon).toMatchObject({ zone_matchup_adjustment: null, usage_adjustment: null, factors_available: 2 });
    expect(devon.composite_adjustment as number).toBeCloseTo(-1.5 - 6 / 35, 9);
  });
});

describe('ml_feature_store_v2', () => {
  test('one vector per player with history, lined or not', async () => {
    const rows = await rowsOf(warehouse, mlFeatureStoreV2, DATE);
    expect(rows.map((r) => [r.player_lookup, r.points_line])).toEqual([
      ['ajaxbrooks', 27.5],
      ['calebstone', 10],
      ['devonmarsh', null],
      ['ethanriver', 18.5],
    ]);
  });

  test('ajaxbrooks: features from PDC, PSZA, PCF, NYK TDZA and the context; complete', async () => {
    const r = await rowOf(warehouse, mlFeatureStoreV2, DATE, { player_lookup: 'ajaxbrooks' });
    expect(r).toMatchObject({
      game_id: GAME,
      opponent_team_abbr: 'NYK',
      is_home: true,
      days_rest: 1,
      back_to_back: true,
      games_played_season: 17,
      feature_count: 26,
      feature_completeness: 1,
    });
    expect(r.points_avg_last_5 as number).toBeCloseTo(30, 9);
    expect(r.paint_attempt_share as number).toBeCloseTo(0.5, 9);
    expect(r.opp_paint_fg_pct_allowed as number).toBeCloseTo(0.6, 9);
    expect(r.opp_points_allowed_per_game as number).toBeCloseTo(110, 9);
    expect(r.composite_adjustment as number).toBeCloseTo(1.18742, 5);
  });

  test('completeness counts the NULL features', async () => {
    // ethanriver: usage_trend NULL → 25/26. calebstone: no mid or three attempts → mid_fg_pct and
    // three_fg_pct NULL → 24/26. devonmarsh: one shotless game → 3 shares, 3 FG%, points spread,
    // zone matchup, usage trend NULL → 17/26.
    const completeness = Object.fromEntries(
      (await rowsOf(warehouse, mlFeatureStoreV2, DATE)).map((r) => [r.player_lookup, [r.feature_count, r.feature_completeness]]),
    );
    expect(completeness).toEqual({
      ajaxbrooks: [26, 1],
      calebstone: [24, 24 / 26],
      devonmarsh: [17, 17 / 26],
      ethanriver: [25, 25 / 26],
    });
  });
});

describe('idempotence, no peeking, missing inputs', () => {
  test('running every processor on the date again leaves every row count unchanged', async () => {
    const counts = async (): Promise<number[]> =>
      Promise.all(phase4Processors.map(async (p) => (await rowsOf(warehouse, p, DATE)).length));
    const before = await counts();
    expect(before).toEqual([2, 4, 4, 4, 4]);
    const written: number[] = [];
    for (const p of phase4Processors) written.push(await run(warehouse, p, DATE));
    expect(written).toEqual(before);
    expect(await counts()).toEqual(before);
  });

  test("changing the date's own Phase 3 results does not change its Phase 4 rows", async () => {
    const other = new DuckDbWarehouse({ path: ':memory:' });
    try {
      await loadPhase45Fixture(other);
      await runAll(other, phase4Processors, DATE);
      const snapshot = async (): Promise<unknown[]> =>
        Promise.all(phase4Processors.map(async (p) => withoutTracking(await rowsOf(other, p, DATE))));
      const before = await snapshot();
      await other.execute(
        `UPDATE nba_analytics.player_game_summary
         SET points = points + 40, usage_rate = 80, fga = 40, paint_fga = 40, paint_fgm = 40, mid_fga = 0, fg3a = 0, minutes_played = 48
         WHERE game_date = CAST($date AS DATE)`,
        { date: DATE },
      );
      await other.execute(
        `UPDATE nba_analytics.team_defense_game_summary SET points_allowed = 200, opp_paint_fgm = opp_paint_fga
         WHERE game_date = CAST($date AS DATE)`,
        { date: DATE },
      );
      await other.execute(
        `UPDATE nba_analytics.team_offense_game_summary SET pace = 500 WHERE game_date = CAST($date AS DATE)`,
        { date: DATE },
      );
      await runAll(other, phase4Processors, DATE);
      expect(await snapshot()).toEqual(before);
    } finally {
      await other.close();
    }
  });

  test('PCF before group 1, or MLFS before PDC, is a missing-input failure', async () => {
    const other = new DuckDbWarehouse({ path: ':memory:' });
    try {
      await loadPhase45Fixture(other);
      await expect(run(other, playerCompositeFactors, DATE)).rejects.toMatchObject({
        name: 'WarehouseError',
        kind: 'missing_input',
      });
      await run(other, playerShotZoneAnalysis, DATE);
      await run(other, playerCompositeFactors, DATE);
      const err: unknown = await run(other, mlFeatureStoreV2, DATE).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WarehouseError);
      expect((err as WarehouseError).kind).toBe('missing_input');
      expect((err as WarehouseError).message).toContain('ml_feature_store_v2');
    } finally {
      await other.close();
    }
  });
});

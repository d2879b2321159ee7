/**
 * Phase 5 predictions and their grading, on the Phase 4 rows of the hand-made fixture
 * (test/pipeline/fixtures/phase45-fixture.ts; the Phase 4 numbers are derived in phase4.test.ts).
 *
 * MLFS inputs on DATE used below:
 *   ajaxbrooks  last 5 30, last 10 27, season 24, spread √(130/9) = 3.800585, composite 1.187420,
 *               completeness 26/26, line 27.5, scored 31
 *   calebstone  12 / 12 / 12, spread 0, composite −0.847899, completeness 24/26, line 10.0, scored 10
 *   ethanriver  15 / 15 / 15, spread 0, composite −2.631092, completeness 25/26, line 18.5, scored 20
 *   devonmarsh  no line: no prediction.  felixgrant: line, but no history, so no MLFS row.
 */
import { phase4Processors } from '../../src/pipeline/phase4';
import {
  PASS_MARGIN_POINTS,
  phase5Processors,
  playerPropPredictions,
  predictionAccuracy,
} from '../../src/pipeline/phase5';
import { DuckDbWarehouse, duckdbDialect } from '../../src/warehouse/duckdb';
import { DATE, DAY_BEFORE, GAME, loadPhase45Fixture } from './fixtures/phase45-fixture';
import {
  describeSelect,
  DUCKDB_ONLY_SYNTAX,
  neutralDialect,
  renderedSql,
  rowOf,
  rowsOf,
  run,
  runAll,
} from './fixtures/sql-helpers';

let warehouse: DuckDbWarehouse;

beforeAll(async () => {
  warehouse = new DuckDbWarehouse({ path: ':memory:' });
  await loadPhase45Fixture(warehouse);
  await runAll(warehouse, [...phase4Processors, ...phase5Processors], DATE);
});

afterAll(async () => {
  await warehouse.close();
});

const SPREAD_AJAX = Math.sqrt(130 / 9);
// PCF composites (phase4.test.ts): ajax −1.5 + 1.751513 − 24/35 + 60/37; caleb −1.5 + 0.994958 − 12/35;
// ethan −1.5 − 0.702521 − 15/35.
const LEAGUE_PAINT = 64 / 119;
const COMPOSITE_AJAX = -1.5 + (0.5 * (0.6 - LEAGUE_PAINT) * 2 + 0.3 * (0.4 - 11 / 30) * 3) * 19 - 24 / 35 + 60 / 37;
const COMPOSITE_CALEB = -1.5 + (0.6 - LEAGUE_PAINT) * 2 * 8 - 12 / 35;
const COMPOSITE_ETHAN = -1.5 + (0.4 * (0.5 - LEAGUE_PAINT) * 2 + 0.4 * (1 / 3 - 11 / 30) * 3) * 10 - 15 / 35;

describe('phase 5 definitions', () => {
  test('two table processors: predictions (group 1) then accuracy (group 2), in nba_predictions', () => {
    expect(phase5Processors.map((p) => [p.name, p.group])).toEqual([
      ['player_prop_predictions', 1],
      ['prediction_accuracy', 2],
    ]);
    for (const p of phase5Processors) {
      expect(p).toMatchObject({ kind: 'table', phase: 5, bootstrap: true, dateColumn: 'game_date' });
      expect(p.keyColumns).toEqual(['game_date', 'player_lookup', 'system_id']);
      expect(p.target).toMatchObject({ dataset: 'nba_predictions', table: p.name });
      const names = p.target.columns.map((c) => c.name);
      for (const rule of p.fieldCoverage ?? []) expect(names).toContain(rule.column);
    }
  });

  test('each SELECT yields the target columns, in order, with the declared types', async () => {
    for (const p of phase5Processors) {
      expect(await describeSelect(warehouse, p, DATE)).toEqual(
        p.target.columns.map((c) => ({ column_name: c.name, data_type: duckdbDialect.columnType(c.type) })),
      );
    }
  });

  test('the SQL uses no DuckDB-only syntax outside the Dialect', () => {
    for (const p of phase5Processors) {
      for (const sql of renderedSql(p, neutralDialect)) {
        for (const banned of DUCKDB_ONLY_SYNTAX) expect({ p: p.name, banned, found: sql.includes(banned) }).toEqual({ p: p.name, banned, found: false });
      }
    }
  });
});

describe('player_prop_predictions', () => {
  test('two systems for each lined player with features; no line or no history, no prediction', async () => {
    const rows = await rowsOf(warehouse, playerPropPredictions, DATE);
    expect(rows.map((r) => `${String(r.player_lookup)}/${String(r.system_id)}`)).toEqual([
      'ajaxbrooks/matchup_adjusted',
      'ajaxbrooks/moving_average',
      'calebstone/matchup_adjusted',
      'calebstone/moving_average',
      'ethanriver/matchup_adjusted',
      'ethanriver/moving_average',
    ]);
  });

  test('ajaxbrooks: moving average 27.9 is within 1 point of 27.5 → PASS; adjusted 29.09 → OVER', async () => {
    const ma = await rowOf(warehouse, playerPropPredictions, DATE, { player_lookup: 'ajaxbrooks', system_id: 'moving_average' });
    // 0.5·30 + 0.3·27 + 0.2·24 = 15 + 8.1 + 4.8 = 27.9; edge 0.4 < 1.0
    expect(ma).toMatchObject({ game_id: GAME, player_name: 'Ajax Brooks', points_line: 27.5, recommendation: 'PASS' });
    expect(ma.predicted_points as number).toBeCloseTo(27.9, 9);
    expect(ma.edge as number).toBeCloseTo(0.4, 9);
    // confidence = min(1, 0.4 / 3.800585) · 1 = 0.105247
    expect(ma.confidence as number).toBeCloseTo(0.4 / SPREAD_AJAX, 9);

    const adj = await rowOf(warehouse, playerPropPredictions, DATE, { player_lookup: 'ajaxbrooks', system_id: 'matchup_adjusted' });
    // 27.9 + 1.187420 = 29.087420; edge 1.587420 ≥ 1 → OVER; confidence 1.587420 / 3.800585 = 0.417677
    expect(adj.recommendation).toBe('OVER');
    expect(adj.predicted_points as number).toBeCloseTo(27.9 + COMPOSITE_AJAX, 9);
    expect(adj.confidence as number).toBeCloseTo((27.9 + COMPOSITE_AJAX - 27.5) / SPREAD_AJAX, 9);
    expect(COMPOSITE_AJAX).toBeCloseTo(1.18742, 5);
  });

  test('ethanriver: 15 vs 18.5 → UNDER for both systems; confidence capped at 1 × completeness', async () => {
    const ma = await rowOf(warehouse, playerPropPredictions, DATE, { player_lookup: 'ethanriver', system_id: 'moving_average' });
    expect(ma).toMatchObject({ predicted_points: 15, recommendation: 'UNDER' });
    // spread 0 is floored at 1 point; |−3.5| ≥ 1 → 1 · 25/26
    expect(ma.confidence as number).toBeCloseTo(25 / 26, 9);
    const adj = await rowOf(warehouse, playerPropPredictions, DATE, { player_lookup: 'ethanriver', system_id: 'matchup_adjusted' });
    expect(adj.recommendation).toBe('UNDER');
    expect(adj.predicted_points as number).toBeCloseTo(15 + COMPOSITE_ETHAN, 9); // 12.368908
  });

  test('calebstone: 12 vs 10 → OVER; adjusted 11.15 → OVER', async () => {
    const ma = await rowOf(warehouse, playerPropPredictions, DATE, { player_lookup: 'calebstone', system_id: 'moving_average' });
    expect(ma).toMatchObject({ predicted_points: 12, edge: 2, recommendation: 'OVER' });
    expect(ma.confidence as number).toBeCloseTo(24 / 26, 9);
    const adj = await rowOf(warehouse, playerPropPredictions, DATE, { player_lookup: 'calebstone', system_id: 'matchup_adjusted' });
    expect(adj.predicted_points as number).toBeCloseTo(12 + COMPOSITE_CALEB, 9); // 11.152101
    expect(adj.recommendation).toBe('OVER');
  });

  test('the PASS margin is one point', () => {
    expect(PASS_MARGIN_POINTS).toBe(1);
  });
});

describe('prediction_accuracy', () => {
  test('a hit, a PASS (NULL) and errors for ajaxbrooks (scored 31 against 27.5)', async () => {
    const ma = await rowOf(warehouse, predictionAccuracy, DATE, { player_lookup: 'ajaxbrooks', system_id: 'moving_average' });
    expect(ma).toMatchObject({ actual_points: 31, recommendation: 'PASS', actual_result: 'OVER', hit: null });
    expect(ma.absolute_error as number).toBeCloseTo(3.1, 9); // |27.9 − 31|
    expect(ma.signed_error as number).toBeCloseTo(-3.1, 9); // predicted − actual
    const adj = await rowOf(warehouse, predictionAccuracy, DATE, { player_lookup: 'ajaxbrooks', system_id: 'matchup_adjusted' });
    expect(adj).toMatchObject({ recommendation: 'OVER', hit: true });
    expect(adj.absolute_error as number).toBeCloseTo(31 - 27.9 - COMPOSITE_AJAX, 9); // 1.912580
  });

  test('a miss: ethanriver called UNDER 18.5 and scored 20', async () => {
    for (const system_id of ['moving_average', 'matchup_adjusted']) {
      const r = await rowOf(warehouse, predictionAccuracy, DATE, { player_lookup: 'ethanriver', system_id });
      expect(r).toMatchObject({ recommendation: 'UNDER', actual_points: 20, actual_result: 'OVER', hit: false });
    }
    const ma = await rowOf(warehouse, predictionAccuracy, DATE, { player_lookup: 'ethanriver', system_id: 'moving_average' });
    expect(ma).toMatchObject({ absolute_error: 5, signed_error: -5 });
  });

  test('a push: calebstone called OVER 10 and scored exactly 10 → hit NULL', async () => {
    const r = await rowOf(warehouse, predictionAccuracy, DATE, { player_lookup: 'calebstone', system_id: 'moving_average' });
    expect(r).toMatchObject({ recommendation: 'OVER', actual_points: 10, actual_result: 'PUSH', hit: null, signed_error: 2 });
  });

  test('every prediction is graded (all predicted players played)', async () => {
    expect(await rowsOf(warehouse, predictionAccuracy, DATE)).toHaveLength(6);
  });
});

describe('idempotence and missing inputs', () => {
  test('running both processors on the date again leaves the row counts unchanged', async () => {
    for (const p of phase5Processors) {
      const before = (await rowsOf(warehouse, p, DATE)).length;
      expect(await run(warehouse, p, DATE)).toBe(before);
      expect((await rowsOf(warehouse, p, DATE)).length).toBe(before);
    }
  });

  test('predictions for a scheduled date without MLFS rows, or accuracy without predictions, fail as missing input', async () => {
    for (const p of phase5Processors) {
      await expect(run(warehouse, p, DAY_BEFORE)).rejects.toMatchObject({ name: 'WarehouseError', kind: 'missing_input' });
    }
  });
});

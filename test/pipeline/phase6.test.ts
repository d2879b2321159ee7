/**
 * Phase 6: the per-date JSON export of predictions and results, on the fixture's Phase 5 rows
 * (values derived in phase5.test.ts), written through every export sink — a local folder and GCS
 * (fake-gcs-server) — and counted by the phase gate through the same sink.
 */
import { phase4Processors } from '../../src/pipeline/phase4';
import { phase5Processors } from '../../src/pipeline/phase5';
import {
  dateExportSchema,
  exportDate,
  exportObjectName,
  listExportedDates,
  phase6Processors,
  predictionExports,
} from '../../src/pipeline/phase6';
import { validatePhase } from '../../src/pipeline/validation';
import { DuckDbWarehouse } from '../../src/warehouse/duckdb';
import { WarehouseError } from '../../src/warehouse/types';
import { SINK_BACKENDS, type SinkUnderTest } from '../helpers/export-sinks';
import { DATE, DAY_BEFORE, GAME, loadPhase45Fixture } from './fixtures/phase45-fixture';
import { BACKFILL_ID, runAll } from './fixtures/sql-helpers';

let warehouse: DuckDbWarehouse;

beforeAll(async () => {
  warehouse = new DuckDbWarehouse({ path: ':memory:' });
  await loadPhase45Fixture(warehouse);
  await runAll(warehouse, [...phase4Processors, ...phase5Processors], DATE);
});

afterAll(async () => {
  await warehouse.close();
});

test('one export processor: phase 6, group 1, bootstrap, reading both Phase 5 tables', () => {
  expect(phase6Processors).toEqual([predictionExports]);
  expect(predictionExports).toMatchObject({ kind: 'export', name: 'prediction_exports', phase: 6, group: 1, bootstrap: true });
  expect(predictionExports.inputs.map((t) => `${t.dataset}.${t.table}`)).toEqual([
    'nba_predictions.player_prop_predictions',
    'nba_predictions.prediction_accuracy',
  ]);
});

describe.each(SINK_BACKENDS)('through the $kind export sink', (backend) => {
  let sink: SinkUnderTest['sink'];
  let allNames: SinkUnderTest['allNames'];
  beforeAll(() => backend.setUp());
  afterAll(() => backend.tearDown());
  // A fresh, empty root per test: no test depends on another's files.
  beforeEach(() => {
    ({ sink, allNames } = backend.newSink());
  });

  test('the export: one file, valid, grouped by game, sorted, with the day summary', async () => {
    const result = await exportDate(warehouse, DATE, sink, { backfillId: BACKFILL_ID });
    expect(exportObjectName(DATE)).toBe(`predictions/${DATE}.json`);
    expect(result).toEqual({ location: sink.locationOf(`predictions/${DATE}.json`), predictions: 6 });
    const doc = dateExportSchema.parse(JSON.parse((await sink.read(exportObjectName(DATE))) ?? 'null'));
    expect(doc).toMatchObject({ schema_version: 1, game_date: DATE, generated_by: BACKFILL_ID });
    expect(doc.games).toHaveLength(1);
    const game = doc.games[0];
    expect(game).toMatchObject({ game_id: GAME, home_team_abbr: 'BOS', away_team_abbr: 'NYK' });
    // Players by lookup, predictions by system id; devonmarsh (no line) and felixgrant (no history) absent.
    expect(game?.players.map((p) => [p.player_lookup, p.points_line, p.actual_points])).toEqual([
      ['ajaxbrooks', 27.5, 31],
      ['calebstone', 10, 10],
      ['ethanriver', 18.5, 20],
    ]);
    expect(game?.players[0]).toEqual({
      player_lookup: 'ajaxbrooks',
      player_name: 'Ajax Brooks',
      points_line: 27.5,
      actual_points: 31,
      predictions: [
        // 29.087420 → 29.09; confidence 0.417677 → 0.418
        { system_id: 'matchup_adjusted', predicted_points: 29.09, recommendation: 'OVER', confidence: 0.418, hit: true },
        // 27.9; confidence 0.105247 → 0.105
        { system_id: 'moving_average', predicted_points: 27.9, recommendation: 'PASS', confidence: 0.105, hit: null },
      ],
    });
    // Hits: ajaxbrooks matchup_adjusted. Misses: ethanriver × 2. PASS and calebstone's pushes: NULL.
    expect(doc.summary).toEqual({ predictions: 6, hits: 1, misses: 2, hit_rate: 0.3333 });
    // Key order is part of the contract (diffable files).
    expect(Object.keys(doc)).toEqual(['schema_version', 'game_date', 'generated_by', 'games', 'summary']);
  });

  test('re-exporting the date leaves exactly one, identical file', async () => {
    const first = await exportDate(warehouse, DATE, sink, { backfillId: BACKFILL_ID });
    const before = await sink.read(exportObjectName(DATE));
    const second = await exportDate(warehouse, DATE, sink, { backfillId: BACKFILL_ID });
    expect(second.location).toBe(first.location);
    expect(await sink.read(exportObjectName(DATE))).toBe(before);
    expect(await allNames()).toEqual([`predictions/${DATE}.json`]);
  });

  test('listExportedDates finds exactly the exported dates', async () => {
    await exportDate(warehouse, DATE, sink, { backfillId: BACKFILL_ID });
    expect(await listExportedDates(sink, [DAY_BEFORE, DATE])).toEqual(new Set([DATE]));
    expect(await listExportedDates(backend.newSink().sink, [DATE])).toEqual(new Set());
  });

  test('the phase 6 gate counts the dates exported through the sink', async () => {
    const gate = (from: string) =>
      validatePhase(warehouse, 6, phase6Processors, {
        from,
        to: DATE,
        bootstrapDays: 14,
        exportedDates: (_def, dates) => listExportedDates(sink, dates),
      });
    await exportDate(warehouse, DATE, sink, { backfillId: BACKFILL_ID });
    const passed = await gate(DATE);
    expect(passed.ok).toBe(true);
    expect(passed.tables[0]).toMatchObject({ table: 'exports/prediction_exports', expectedDates: 1, actualDates: 1, missingDates: [] });
    // DAY_BEFORE is a planned game date with no predictions, so nothing was exported for it.
    const failed = await gate(DAY_BEFORE);
    expect(failed.ok).toBe(false);
    expect(failed.tables[0]).toMatchObject({ expectedDates: 2, actualDates: 1, missingDates: [DAY_BEFORE] });
  });

  test('a date without Phase 5 rows is a missing_input failure and writes nothing', async () => {
    const err: unknown = await exportDate(warehouse, DAY_BEFORE, sink, { backfillId: BACKFILL_ID }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WarehouseError);
    expect((err as WarehouseError).kind).toBe('missing_input');
    expect((err as WarehouseError).message).toContain('player_prop_predictions');
    expect(await sink.read(exportObjectName(DAY_BEFORE))).toBeUndefined();
  });

  test('predictions without graded results are a missing_input failure too', async () => {
    const other = new DuckDbWarehouse({ path: ':memory:' });
    try {
      await loadPhase45Fixture(other);
      await runAll(other, [...phase4Processors, phase5Processors[0]!], DATE);
      await expect(exportDate(other, DATE, sink, { backfillId: BACKFILL_ID })).rejects.toMatchObject({
        kind: 'missing_input',
        message: expect.stringContaining('prediction_accuracy') as unknown,
      });
    } finally {
      await other.close();
    }
  });

  test('the schema rejects a document whose summary disagrees with its games', async () => {
    await exportDate(warehouse, DATE, sink, { backfillId: BACKFILL_ID });
    const doc = JSON.parse((await sink.read(exportObjectName(DATE))) ?? 'null') as { summary: { hits: number } };
    doc.summary.hits = 5;
    expect(dateExportSchema.safeParse(doc).success).toBe(false);
  });
});

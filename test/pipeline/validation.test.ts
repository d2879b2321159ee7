/**
 * The gate checks on DuckDB without Temporal: coverage against the plan, duplicate keys named by
 * date, field-coverage thresholds (overridable by config), and deduplication repairing a table.
 */
import { planProcessorDates } from '../../src/pipeline/dates';
import { runTableProcessor } from '../../src/pipeline/engine';
import { seedDemoData } from '../../src/pipeline/demo';
import { getProcessor } from '../../src/pipeline/registry';
import { withTrackingColumns, type TableProcessorDef } from '../../src/pipeline/types';
import { validateProcessor } from '../../src/pipeline/validation';
import { DuckDbWarehouse } from '../../src/warehouse';
import { ensureWarehouseTables } from '../../src/pipeline/tables';

const FROM = '2024-10-22';
const TO = '2024-11-05';

describe('validateProcessor and deduplicate', () => {
  const warehouse = new DuckDbWarehouse({ path: ':memory:' });
  const def = getProcessor('player_game_summary') as TableProcessorDef;
  let dates: string[];

  beforeAll(async () => {
    await ensureWarehouseTables(warehouse);
    await seedDemoData(warehouse, { from: FROM, to: TO });
    dates = (await planProcessorDates(warehouse, def, FROM, TO, 14)).dates;
  });
  afterAll(async () => {
    await warehouse.close();
  });

  const validate = (options: { thresholds?: Record<string, number>; failedDates?: Record<string, Record<string, string>> } = {}) =>
    validateProcessor(warehouse, def, { from: FROM, to: TO, bootstrapDays: 14, ...options });

  test('nothing written: every expected date is missing', async () => {
    const r = await validate();
    expect(r.ok).toBe(false);
    expect(r.missingDates).toEqual(dates);
    expect(r.problems[0]).toMatch(new RegExp(`${dates.length} expected date\\(s\\) have no rows`));
  });

  test('a failed date is reported as failed, not missing', async () => {
    for (const d of dates.slice(1)) await runTableProcessor(warehouse, def, d, { backfillId: 't' });
    const r = await validate({ failedDates: { player_game_summary: { [dates[0] as string]: 'MissingInputError: no box scores' } } });
    expect(r.missingDates).toEqual([]);
    expect(r.failedDates).toEqual([{ date: dates[0], error: 'MissingInputError: no box scores' }]);
    expect(r.ok).toBe(false);
  });

  test('all written: the gate passes with the seed thresholds, and fails on a stricter configured one', async () => {
    await runTableProcessor(warehouse, def, dates[0] as string, { backfillId: 't' });
    const r = await validate();
    expect(r.ok).toBe(true);
    expect(r.actualDates).toBe(dates.length);
    const usage = r.fieldCoverage.find((f) => f.column === 'usage_rate');
    expect(usage?.min).toBe(0.85);
    expect(usage?.coverage).toBeGreaterThan(0.85);
    expect(usage?.coverage).toBeLessThan(0.9);

    const strict = await validate({ thresholds: { 'player_game_summary.usage_rate': 0.95 } });
    expect(strict.ok).toBe(false);
    expect(strict.problems).toEqual([expect.stringMatching(/usage_rate: coverage 8\d\.\d% below the 95\.0% threshold/)]);
  });

  test('duplicates are counted and named by date; deduplicate removes exactly them', async () => {
    const table = `${def.target.dataset}.${def.target.table}`;
    const [before] = await warehouse.query(`SELECT count(*) AS n FROM ${table}`);
    const dup = dates[3] as string;
    await warehouse.execute(`INSERT INTO ${table} SELECT * FROM ${table} WHERE game_date = CAST($d AS DATE) AND starter`, { d: dup });
    const [injected] = await warehouse.query(`SELECT count(*) AS n FROM ${table} WHERE game_date = CAST($d AS DATE) AND starter`, { d: dup });
    const r = await validate();
    expect(r.ok).toBe(false);
    expect(r.duplicateKeys).toBe(Number(injected?.n) / 2);
    expect(r.duplicateDates).toEqual([dup]);

    const removed = await warehouse.deduplicate({
      target: withTrackingColumns(def.target),
      keyColumns: def.keyColumns,
      dateColumn: def.dateColumn,
      from: FROM,
      to: TO,
      orderBy: 'processed_at',
    });
    expect(removed.rowsRemoved).toBe(Number(injected?.n) / 2);
    const [after] = await warehouse.query(`SELECT count(*) AS n FROM ${table}`);
    expect(Number(after?.n)).toBe(Number(before?.n));
    expect((await validate()).ok).toBe(true);
  });
});

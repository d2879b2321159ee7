/**
 * The DuckDB engine keeps a connection for the next call once a call ends cleanly, and closes one
 * that failed or was interrupted, so no transaction or interrupt carries over. Counted at
 * DuckDB's own DuckDBInstance.connect (spied on and called through), on a real DuckDB file.
 */
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { WarehouseError } from '../../src/warehouse';
import { DuckDbWarehouse } from '../../src/warehouse/duckdb';
import { tempDir } from '../helpers/harness';

const spec = {
  dataset: 'test_ds',
  table: 'scores',
  columns: [
    { name: 'game_date', type: 'DATE' as const },
    { name: 'player', type: 'STRING' as const },
    { name: 'points', type: 'INT64' as const },
  ],
};

describe('DuckDB connections', () => {
  let warehouse: DuckDbWarehouse;
  let connects: jest.SpyInstance;

  beforeEach(async () => {
    warehouse = new DuckDbWarehouse({ path: path.join(tempDir('duck-conn'), 'w.duckdb') });
    await warehouse.ensureTable(spec);
    connects = jest.spyOn(DuckDBInstance.prototype, 'connect');
  });
  afterEach(async () => {
    connects.mockRestore();
    await warehouse.close();
  });

  const count = async (): Promise<number> => Number((await warehouse.query<{ n: number }>('SELECT count(*) AS n FROM test_ds.scores'))[0]?.n);
  const write = (date: string, selectSql: string, params: Record<string, string | number> = {}) =>
    warehouse.replacePartition({ target: spec, date, dateColumn: 'game_date', selectSql, params });

  test('calls one after another reuse one connection; calls at once open one each (control)', async () => {
    for (let i = 0; i < 5; i++) await warehouse.query('SELECT $x::INTEGER AS x', { x: i });
    expect(connects).toHaveBeenCalledTimes(0); // ensureTable's connection was kept
    await Promise.all([1, 2, 3].map((i) => warehouse.query('SELECT $x::INTEGER AS x, (SELECT count(*) FROM range(200000)) AS n', { x: i })));
    // One of the three took the kept connection, the other two opened their own; all three are kept now.
    expect(connects).toHaveBeenCalledTimes(2);
    await Promise.all([1, 2, 3].map((i) => warehouse.query('SELECT $x::INTEGER AS x', { x: i })));
    expect((await warehouse.query<{ x: number }>('SELECT $x::INTEGER AS x', { x: 7 }))[0]?.x).toBe(7);
    expect(connects).toHaveBeenCalledTimes(2);
  });

  test('a write that fails mid-transaction rolls back, its connection is closed, and the next write starts clean', async () => {
    await write('2024-11-01', `SELECT CAST($d AS DATE) AS game_date, 'a' AS player, 10 AS points`, { d: '2024-11-01' });
    expect(await count()).toBe(1);
    const before = connects.mock.calls.length;
    // The DELETE runs, then the INSERT's SELECT fails: the date's old row must survive.
    await expect(write('2024-11-01', `SELECT CAST($d AS DATE) AS game_date, 'a' AS player, CAST('x' AS INTEGER) AS points`, { d: '2024-11-01' })).rejects.toThrow(
      WarehouseError,
    );
    expect(await count()).toBe(1);
    expect(connects.mock.calls.length).toBe(before + 1); // the failed one was not reused
    await write('2024-11-02', `SELECT CAST($d AS DATE) AS game_date, 'b' AS player, 12 AS points`, { d: '2024-11-02' });
    // Written twice, still one row per date: the write is idempotent on its key.
    await write('2024-11-02', `SELECT CAST($d AS DATE) AS game_date, 'b' AS player, 12 AS points`, { d: '2024-11-02' });
    expect(await count()).toBe(2);
  });

  test('an interrupted call is cancelled, its connection is closed, and the next call runs', async () => {
    const controller = new AbortController();
    const slow = warehouse.query('SELECT count(*) AS n FROM range(100000000000) a', {}, { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expect(slow).rejects.toMatchObject({ kind: 'cancelled' });
    const before = connects.mock.calls.length;
    expect((await warehouse.query<{ x: number }>('SELECT 1 AS x'))[0]?.x).toBe(1);
    expect(connects.mock.calls.length).toBe(before + 1);
  });
});

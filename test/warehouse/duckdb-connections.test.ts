/**
 * The DuckDB engine keeps connections open between statements, with the statements they prepared
 * (src/warehouse/duckdb/warehouse.ts): a statement run again is bound and executed, not prepared
 * again, and a call opens no connection. What must hold: every result is the one for its own
 * parameters, a connection whose statement failed or was interrupted is never reused (its
 * transaction rolled back, the next call on a fresh connection), a table changed under a prepared
 * statement is read as it is now, and close() closes everything. Real DuckDB, in a temp file.
 */
import path from 'node:path';
import { DuckDbWarehouse, IDLE_CONNECTIONS } from '../../src/warehouse/duckdb/warehouse';
import type { TableSpec } from '../../src/warehouse/types';
import { tempDir } from '../helpers/harness';

const games: TableSpec = {
  dataset: 'pool_test',
  table: 'games',
  columns: [
    { name: 'game_date', type: 'DATE' },
    { name: 'game_id', type: 'STRING' },
    { name: 'points', type: 'INT64' },
  ],
};

describe('DuckDB connections kept between statements', () => {
  const dir = tempDir('duckdb-pool');
  let warehouse: DuckDbWarehouse;

  beforeEach(async () => {
    warehouse = new DuckDbWarehouse({ path: path.join(dir, `${Date.now()}-${Math.random().toString(16).slice(2)}.duckdb`), threads: 1 });
    await warehouse.ensureTable(games);
    await warehouse.appendRows(
      games,
      Array.from({ length: 30 }, (_, i) => ({ game_date: `2024-01-${String((i % 10) + 1).padStart(2, '0')}`, game_id: `g${i}`, points: i })),
    );
  });
  afterEach(async () => {
    await warehouse.close();
  });

  const sumFor = (day: number): Promise<Array<{ n: number; total: number }>> =>
    warehouse.query<{ n: number; total: number }>(
      'SELECT count(*) AS n, sum(points) AS total FROM pool_test.games WHERE game_date = CAST($d AS DATE)',
      { d: `2024-01-${String(day).padStart(2, '0')}` },
    );

  test('the same statement with other parameters: each result is its own, on one connection', async () => {
    const opened = warehouse.connectionStats().opened;
    for (let round = 0; round < 3; round++) {
      for (let day = 1; day <= 10; day++) {
        // Day d holds games d-1, d+9 and d+19: 3d + 27 points.
        expect(await sumFor(day)).toEqual([{ n: 3, total: 3 * day + 27 }]);
      }
    }
    // Sequential calls: the one connection is taken back each time (none opened for these 30), and
    // the statement was prepared once on it, then only bound and run.
    expect(warehouse.connectionStats()).toMatchObject({ opened, idle: 1, prepared: 1 });
  });

  test('concurrent calls each get a connection of their own; at most IDLE_CONNECTIONS stay open', async () => {
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => sumFor((i % 10) + 1)));
    results.forEach((rows, i) => expect(rows).toEqual([{ n: 3, total: 3 * ((i % 10) + 1) + 27 }]));
    expect(warehouse.connectionStats().idle).toBeLessThanOrEqual(IDLE_CONNECTIONS);
  });

  test('a write that fails is rolled back and its connection is not reused', async () => {
    await sumFor(1); // one idle connection, with a statement prepared
    const before = warehouse.connectionStats();
    const failing = warehouse.replacePartition({
      target: games,
      dateColumn: 'game_date',
      date: '2024-01-02',
      // Fails at its third row while the INSERT runs, after the DELETE of the date in the same transaction.
      selectSql:
        "SELECT CAST($d AS DATE) AS game_date, 'n' || r AS game_id, CAST(CASE WHEN r = 2 THEN 'oops' ELSE CAST(r AS VARCHAR) END AS BIGINT) AS points FROM range(3) AS t(r)",
      params: { d: '2024-01-02' },
    });
    await expect(failing).rejects.toThrow(/Conversion Error/);
    // The connection it used was closed, not put back; the date's rows are all still there.
    expect(warehouse.connectionStats().idle).toBe(before.idle - 1);
    expect(await sumFor(2)).toEqual([{ n: 3, total: 33 }]);
    // The same write, correct now, on a fresh connection.
    const { rowsWritten } = await warehouse.replacePartition({
      target: games,
      dateColumn: 'game_date',
      date: '2024-01-02',
      selectSql: "SELECT CAST($d AS DATE) AS game_date, 'n' || r AS game_id, r * 10 AS points FROM range(3) AS t(r)",
      params: { d: '2024-01-02' },
    });
    expect(rowsWritten).toBe(3);
    expect(await sumFor(2)).toEqual([{ n: 3, total: 30 }]);
    // Control: a write that succeeds gives its connection back.
    expect(warehouse.connectionStats().idle).toBeGreaterThanOrEqual(1);
  });

  test('an interrupted statement: cancelled, its connection closed, the next call answers', async () => {
    const before = warehouse.connectionStats();
    const controller = new AbortController();
    const slow = warehouse.query('SELECT count(*) AS n FROM range(400000000) a WHERE a.range % $m = 0', { m: 7 }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expect(slow).rejects.toMatchObject({ kind: 'cancelled' });
    // The idle connection it took was closed, not put back.
    expect(warehouse.connectionStats().idle).toBe(before.idle - 1);
    expect(await sumFor(3)).toEqual([{ n: 3, total: 36 }]);
    expect(warehouse.connectionStats()).toMatchObject({ opened: before.opened + 1, idle: before.idle });
  });

  test('a table changed under a prepared statement is read as it is now', async () => {
    expect(await sumFor(4)).toEqual([{ n: 3, total: 39 }]);
    await warehouse.execute('DROP TABLE pool_test.games');
    await warehouse.execute('CREATE TABLE pool_test.games (game_date DATE, points BIGINT, game_id VARCHAR)');
    await warehouse.execute("INSERT INTO pool_test.games VALUES (DATE '2024-01-04', 100, 'x')");
    expect(await sumFor(4)).toEqual([{ n: 1, total: 100 }]);
  });

  test('close() closes the kept connections; later calls are refused', async () => {
    await Promise.all([sumFor(1), sumFor(2)]);
    expect(warehouse.connectionStats().idle).toBeGreaterThan(0);
    await warehouse.close();
    expect(warehouse.connectionStats().idle).toBe(0);
    await expect(sumFor(1)).rejects.toThrow('warehouse is closed');
  });
});

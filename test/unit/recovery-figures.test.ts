/**
 * The figures of `npm run bench:recovery` (bench/lib/recovery-figures.ts): gaps, the per-kill
 * recovery times against the bound, dates run again, the duplicate check's SQL, and the log
 * parsing — on hand-made timelines whose answers are known, with negative controls (a slow
 * recovery is reported as over the bound; a pending date never written is reported missing).
 */
import {
  duplicateCheckSql,
  firstKillAfter,
  killFigures,
  longestGap,
  parseDateWrites,
  rerunAfterCompletion,
  type DateWrite,
} from '../../bench/lib/recovery-figures';

const w = (key: string, timeMs: number, worker: number): DateWrite => ({ key, timeMs, worker });

describe('longestGap', () => {
  test('counts the window edges as ends of a stretch and ignores times outside the window', () => {
    expect(longestGap([12, 15, 30], 10, 40)).toEqual({ ms: 15, fromMs: 15, toMs: 30 });
    expect(longestGap([11, 38], 10, 40)).toEqual({ ms: 27, fromMs: 11, toMs: 38 });
    expect(longestGap([5, 50], 10, 40)).toEqual({ ms: 30, fromMs: 10, toMs: 40 });
    expect(longestGap([], 10, 10)).toEqual({ ms: 0, fromMs: 10, toMs: 10 });
  });

  test('unordered input gives the same answer', () => {
    expect(longestGap([30, 12, 15], 10, 40)).toEqual(longestGap([12, 15, 30], 10, 40));
  });

  test('an inverted window is an error', () => {
    expect(() => longestGap([], 10, 5)).toThrow(RangeError);
  });
});

describe('killFigures', () => {
  const bound = 35_000;
  const kill = { killedAtMs: 100_000, nextWorker: 1, pending: ['a@1', 'b@1'], segmentEndMs: 200_000 };

  test('a prompt recovery: first write, in-flight done and the longest gap, all within the bound', () => {
    const writes = [
      w('x@0', 99_000, 0),
      // the dead worker's last write; then the new worker's
      w('c@2', 131_000, 1),
      w('a@1', 133_000, 1),
      w('b@1', 134_500, 1),
      ...Array.from({ length: 33 }, (_, i) => w(`d@${i}`, 135_000 + i * 2_000, 1)),
    ];
    const f = killFigures(kill, writes, bound);
    expect(f.firstWriteMs).toBe(31_000);
    expect(f.firstInFlightWriteMs).toBe(33_000);
    expect(f.inFlightDoneMs).toBe(34_500);
    expect(f.inFlightMissing).toBe(0);
    expect(f.longestGap).toEqual({ ms: 31_000, startsAfterKillMs: 0 });
    expect(f.firstWriteVsBoundMs).toBe(-4_000);
    expect(f.withinBound).toEqual({ firstWrite: true, inFlightDone: true, longestGap: true });
  });

  test('negative control: the stall the issue describes (3 dates, then 90 s of nothing) is over the bound', () => {
    const writes = [w('a@1', 110_000, 1), w('b@1', 120_000, 1), w('c@1', 130_000, 1), w('d@1', 220_000, 1)];
    const f = killFigures({ ...kill, segmentEndMs: 230_000 }, writes, bound);
    expect(f.firstWriteMs).toBe(10_000);
    expect(f.inFlightDoneMs).toBe(20_000);
    expect(f.longestGap).toEqual({ ms: 90_000, startsAfterKillMs: 30_000 });
    expect(f.longestGapVsBoundMs).toBe(55_000);
    expect(f.withinBound).toEqual({ firstWrite: true, inFlightDone: true, longestGap: false });
  });

  test('negative control: a pending date written only by the dead worker (before the kill) or never is missing', () => {
    const writes = [w('a@1', 99_500, 0), w('b@1', 140_000, 1)];
    const f = killFigures(kill, writes, bound);
    expect(f.inFlightMissing).toBe(1);
    expect(f.firstInFlightWriteMs).toBe(40_000);
    expect(f.inFlightDoneMs).toBeNull();
    expect(f.inFlightDoneVsBoundMs).toBeNull();
    expect(f.withinBound.inFlightDone).toBe(false);
    // 40 s to the first write: over the bound, and reported so.
    expect(f.firstWriteMs).toBe(40_000);
    expect(f.withinBound.firstWrite).toBe(false);
  });

  test('no write at all after the kill: the whole segment is the gap, first write null', () => {
    const f = killFigures(kill, [w('a@1', 90_000, 0)], bound);
    expect(f.firstWriteMs).toBeNull();
    expect(f.longestGap.ms).toBe(100_000);
    expect(f.withinBound).toEqual({ firstWrite: false, inFlightDone: false, longestGap: false });
  });

  test('a date in flight at kill 1 may be written by a worker started after a later kill', () => {
    const f = killFigures(kill, [w('a@1', 120_000, 1), w('b@1', 160_000, 2)], bound);
    expect(f.inFlightDoneMs).toBe(60_000);
    expect(f.firstWriteMs).toBe(20_000);
  });
});

test('rerunAfterCompletion lists completed dates written again by later workers, and only those', () => {
  const completed = new Set(['a@1', 'b@1']);
  const writes = [w('a@1', 1, 0), w('b@1', 2, 0), w('c@1', 3, 1), w('b@1', 4, 2)];
  expect(rerunAfterCompletion(completed, 1, writes)).toEqual(['b@1']);
  expect(rerunAfterCompletion(completed, 1, writes.slice(0, 3))).toEqual([]);
});

test('firstKillAfter lands between 10 % and 25 % of the dates', () => {
  expect(firstKillAfter(400, 0)).toBe(40);
  expect(firstKillAfter(400, 1)).toBe(100);
  expect(firstKillAfter(3, 0)).toBe(1);
});

describe('duplicateCheckSql', () => {
  test('counts rows and distinct keys', () => {
    expect(duplicateCheckSql('nba_analytics.player_game_summary', ['game_id', 'player_lookup'])).toBe(
      'SELECT (SELECT count(*) FROM nba_analytics.player_game_summary) AS row_count, ' +
        '(SELECT count(*) FROM (SELECT DISTINCT game_id, player_lookup FROM nba_analytics.player_game_summary) AS k) AS distinct_keys',
    );
  });
  test('refuses no keys and anything but identifiers', () => {
    expect(() => duplicateCheckSql('t', [])).toThrow(/no key columns/);
    expect(() => duplicateCheckSql('t; DROP TABLE x', ['k'])).toThrow(/not an identifier/);
  });
});

test('parseDateWrites keeps the "date written" lines, skipping others and a line cut short by SIGKILL', () => {
  const log = [
    JSON.stringify({ level: 30, time: 1000, msg: 'worker started' }),
    JSON.stringify({ level: 30, time: 1500, processor: 'p', date: '2024-10-22', msg: 'date written' }),
    'not json',
    JSON.stringify({ level: 40, time: 1600, processor: 'p', date: '2024-10-23', msg: 'date attempt failed' }),
    '{"level":30,"time":1700,"processor":"p","date":"2024-10-24","msg":"date wri',
  ].join('\n');
  expect(parseDateWrites(log, 2)).toEqual([{ key: 'p@2024-10-22', timeMs: 1500, worker: 2 }]);
});

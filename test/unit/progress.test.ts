/** The progress arithmetic shared by the workflows and the CLI, without a server. */
import {
  backfillEtaSeconds,
  completeRun,
  ledgerFromPlan,
  ledgerProgress,
  percentFinished,
  startRun,
} from '../../src/shared/progress';
import type { DatePlan, ProcessorProgress, ProcessorResult } from '../../src/shared/types';

const plan: DatePlan = {
  processor: 'team_defense_zone_analysis',
  dates: ['2024-11-05', '2024-11-06', '2024-11-07', '2024-11-08'],
  skipped: [
    { date: '2024-10-22', reason: 'bootstrap: first 14 days of season 2024-25' },
    { date: '2024-10-23', reason: 'bootstrap: first 14 days of season 2024-25' },
    { date: '2024-11-04', reason: 'TDZA: fewer than 10 prior games for some team playing (min 9)' },
  ],
};

function result(done: number, failed: Record<string, string> = {}, rowsWritten = 10): ProcessorResult {
  return { processor: plan.processor, total: 0, done, skipped: 0, failed, rowsWritten };
}

function live(p: Partial<ProcessorProgress>): ProcessorProgress {
  return {
    processor: plan.processor, phase: 4, status: 'running', total: 0, done: 0, skipped: 0, failed: 0, inFlight: [], concurrency: 2,
    rowsWritten: 0, ratePerMinute: null, etaSeconds: null, failures: [], skipReasons: {}, runNumber: 1, ...p,
  };
}

test('a planned processor: totals and skip reasons from the plan, nothing done, pending', () => {
  const p = ledgerProgress(ledgerFromPlan(4, plan));
  expect(p).toMatchObject({ status: 'pending', total: 7, skipped: 3, done: 0, failed: 0, etaSeconds: null });
  expect(p.skipReasons).toEqual({
    'bootstrap: first 14 days of season 2024-25': 2,
    'TDZA: fewer than 10 prior games for some team playing (min 9)': 1,
  });
});

test('the first run: live numbers while it runs, settled by dates when it ends', () => {
  let l = startRun(ledgerFromPlan(4, plan), plan.dates);
  expect(ledgerProgress(l, live({ done: 2, ratePerMinute: 4, inFlight: ['2024-11-07'] }))).toMatchObject({ done: 2, status: 'running', etaSeconds: 30, inFlight: ['2024-11-07'] });
  l = completeRun(l, plan.dates, result(3, { '2024-11-06': 'boom' }));
  const p = ledgerProgress(l);
  expect(p).toMatchObject({ status: 'completed', total: 7, done: 3, failed: 1, skipped: 3, rowsWritten: 10 });
  expect(p.failures).toEqual([{ date: '2024-11-06', error: 'boom' }]);
});

test('retrying failed dates: the retry run reports its own small totals, the processor keeps its own', () => {
  let l = completeRun(startRun(ledgerFromPlan(4, plan), plan.dates), plan.dates, result(2, { '2024-11-06': 'boom', '2024-11-08': 'bang' }));
  l = startRun(l, ['2024-11-06', '2024-11-08']);
  // The retry child knows only its two dates: total 2, no skips.
  const during = ledgerProgress(l, live({ total: 2, skipped: 0, done: 1, failures: [{ date: '2024-11-08', error: 'bang again' }], failed: 1, runNumber: 1 }));
  expect(during).toMatchObject({ total: 7, skipped: 3, done: 3, failed: 1, status: 'running' });
  expect(during.skipReasons).toEqual(ledgerProgress(ledgerFromPlan(4, plan)).skipReasons);
  l = completeRun(l, ['2024-11-06', '2024-11-08'], result(1, { '2024-11-08': 'bang again' }));
  const after = ledgerProgress(l);
  expect(after).toMatchObject({ total: 7, done: 3, failed: 1, status: 'completed', runNumber: 2 });
  expect(after.failures).toEqual([{ date: '2024-11-08', error: 'bang again' }]);
});

test('re-running dates that were already done (missing rows, duplicates) never counts them twice', () => {
  let l = completeRun(startRun(ledgerFromPlan(4, plan), plan.dates), plan.dates, result(4));
  expect(ledgerProgress(l).done).toBe(4);
  l = startRun(l, ['2024-11-05', '2024-11-07']);
  expect(ledgerProgress(l, live({ done: 2 })).done).toBe(4);
  l = completeRun(l, ['2024-11-05', '2024-11-07'], result(2));
  const p = ledgerProgress(l);
  expect(p.done).toBe(4);
  expect(p.done + p.failed).toBeLessThanOrEqual(p.total - p.skipped);
  // A date outside the plan cannot sneak in.
  l = completeRun(startRun(l, ['2030-01-01']), ['2030-01-01'], result(0, { '2030-01-01': 'x' }));
  expect(ledgerProgress(l)).toMatchObject({ done: 4, failed: 0 });
});

test('a live report can never push done past the dates of its run', () => {
  const l = startRun(ledgerFromPlan(4, plan), ['2024-11-05']);
  expect(ledgerProgress(l, live({ done: 9 })).done).toBe(1);
});

test('percent finished counts done and failed over runnable dates', () => {
  expect(percentFinished([])).toBe(100);
  expect(percentFinished([{ total: 10, skipped: 2, done: 3, failed: 1 }, { total: 4, skipped: 0, done: 4, failed: 0 }])).toBe(66);
});

describe('one ETA for the whole backfill', () => {
  const p = (name: string, remaining: number, rate: number | null, phase = 3): ProcessorProgress =>
    live({ processor: name, phase, total: remaining + 2, skipped: 2, done: 0, failed: 0, ratePerMinute: rate });

  test('groups in sequence, processors of a group side by side (the slowest decides)', () => {
    const progress = new Map([
      ['a', p('a', 10, 5)], // 2 min
      ['b', p('b', 30, 10)], // 3 min
      ['c', p('c', 20, 20, 4)], // 1 min
    ]);
    expect(backfillEtaSeconds({ phases: [{ phase: 3, groups: [['a', 'b']] }, { phase: 4, groups: [['c']] }], progress })).toBe(240);
  });

  test('a processor without a rate yet takes its reference rate, else the mean of the rates observed', () => {
    const progress = new Map([
      ['a', p('a', 10, 5)],
      ['b', p('b', 10, 15)],
      ['later', p('later', 40, null, 5)],
    ]);
    const phases = [{ phase: 3, groups: [['a', 'b']] }, { phase: 5, groups: [['later']] }];
    // Mean of 5 and 15 = 10 dates/min → 4 min for the later phase, after 2 min for group 1.
    expect(backfillEtaSeconds({ phases, progress })).toBe(360);
    expect(backfillEtaSeconds({ phases, progress, referenceRatePerMinute: (n) => (n === 'later' ? 20 : null) })).toBe(240);
  });

  test('work model: slot time per date and the parallelism seen, so a processor alone later is not assumed to crawl', () => {
    // Phase 3: five processors share 4 slots; each writes 2 dates/min holding a slot 24 s per date
    // → 5 × 2/60 × 24 = 4 slots busy. Phase 4: one processor, 120 dates, unmeasured (the mean, 24 s)
    // with a window of 6 → it gets all 4 slots: 120 × 24 s / 4 = 720 s.
    const withMs = (name: string, remaining: number, rate: number | null, ms: number | null, phase = 3, concurrency = 6): ProcessorProgress => ({
      ...p(name, remaining, rate, phase),
      warehouseMsPerDate: ms,
      concurrency,
    });
    const names = ['a', 'b', 'c', 'd', 'e'];
    const progress = new Map<string, ProcessorProgress>([
      ...names.map((n): [string, ProcessorProgress] => [n, withMs(n, 0, 2, 24_000)]),
      ['later', withMs('later', 120, null, null, 4, 0)],
    ]);
    const phases = [{ phase: 3, groups: [names] }, { phase: 4, groups: [['later']] }];
    expect(backfillEtaSeconds({ phases, progress })).toBe(720);
    // Negative control: without slot times the rate model assumes the later processor runs at the
    // mean rate seen while sharing (2/min) → 60 min, five times too long.
    const bare = new Map([...progress].map(([k, v]): [string, ProcessorProgress] => [k, { ...v, warehouseMsPerDate: null }]));
    expect(backfillEtaSeconds({ phases, progress: bare })).toBe(3_600);
    // A small window bounds a lone processor: 120 × 24 s / 2 = 1,440 s.
    progress.set('later', withMs('later', 120, null, null, 4, 2));
    expect(backfillEtaSeconds({ phases, progress })).toBe(1_440);
    // A running processor goes no faster than its own rate: 10 dates at 2/min = 300 s, not 10 × 24 s / 4 = 60 s.
    progress.set('a', withMs('a', 10, 2, 24_000));
    expect(backfillEtaSeconds({ phases, progress })).toBe(300 + 1_440);
  });

  test('unknown until something has a rate; zero once everything is finished', () => {
    const phases = [{ phase: 3, groups: [['a']] }];
    expect(backfillEtaSeconds({ phases, progress: new Map([['a', p('a', 10, null)]]) })).toBeNull();
    expect(backfillEtaSeconds({ phases, progress: new Map([['a', p('a', 0, null)]]) })).toBe(0);
    expect(backfillEtaSeconds({ phases, progress: new Map() })).toBeNull();
  });
});

/** The dry run's duration arithmetic, without a warehouse: rates, borrowing, slowest per group, phases in sequence. */
import { approxDuration } from '../../src/cli/format';
import { estimatePlanDuration, type EstimateInput } from '../../src/pipeline/plan';

const p = (processor: string, datesToRun: number, datesPerHour: number | null): EstimateInput => ({
  processor,
  datesToRun,
  observedRate: datesPerHour === null ? null : { datesPerHour },
});

test('a group lasts as long as its slowest processor; groups and phases add up', () => {
  const e = estimatePlanDuration([
    { groups: [[p('a', 100, 50), p('b', 100, 100)], [p('c', 30, 60)]] },
    { groups: [[p('d', 10, 20)]] },
  ]);
  expect(e.processors.get('a')).toEqual({ rate: { datesPerHour: 50, borrowed: false }, seconds: 7200 });
  expect(e.processors.get('b')?.seconds).toBe(3600);
  expect(e.processors.get('c')?.seconds).toBe(1800);
  expect(e.processors.get('d')?.seconds).toBe(1800);
  expect(e.totalSeconds).toBe(7200 + 1800 + 1800);
  expect(e.borrowers).toEqual([]);
});

test('processors without a rate borrow the mean of the observed ones; nothing to run borrows nothing', () => {
  const e = estimatePlanDuration([{ groups: [[p('a', 40, 40), p('b', 40, 120)], [p('export', 80, null), p('idle', 0, null)]] }]);
  expect(e.meanDatesPerHour).toBe(80);
  expect(e.processors.get('export')).toEqual({ rate: { datesPerHour: 80, borrowed: true }, seconds: 3600 });
  expect(e.processors.get('idle')).toEqual({ rate: null, seconds: 0 });
  expect(e.borrowers).toEqual(['export']);
  expect(e.totalSeconds).toBe(3600 + 3600);
});

test('no observed rate anywhere: no estimate at all', () => {
  const e = estimatePlanDuration([{ groups: [[p('a', 10, null)], [p('export', 10, null)]] }]);
  expect(e.totalSeconds).toBeNull();
  expect(e.meanDatesPerHour).toBeNull();
  expect([...e.processors.values()].every((x) => x.seconds === null && x.rate === null)).toBe(true);
});

test.each([
  [12, '~12 s'],
  [89, '~89 s'],
  [600, '~10 min'],
  [5340, '~89 min'],
  [11_400, '~3 h 10 min'],
  [7199, '~2 h'],
])('%d s reads %s', (seconds, text) => {
  expect(approxDuration(seconds)).toBe(text);
});

/**
 * The benchmarks' pure arithmetic (bench/lib): schedule bounds and timelines, forecast scoring, the
 * latency model's proportions, /proc parsing, overhead figures and the in-process semaphore. No
 * clock and no server: every figure here is worked by hand.
 */
import { forecastPoints, scoreSample, type EtaSample } from '../../bench/lib/forecast';
import { SEED_LATENCY_MODEL, scaledDateMs, sequentialHours } from '../../bench/lib/latency-model';
import { LocalWarehouseSlots } from '../../bench/lib/local-slots';
import { formatThreadCpu, kernelCpuBetween, kernelThreadsCpu, machineBusyCpuSeconds, otherCpuBetween, parseProcStatBusyTicks, parseProcStatCpuTicks, parseStatusKiB, threadCpuBetween, threadCpuSeconds } from '../../bench/lib/procfs';
import { callKind, efficiency, idleCapSeconds, medianRound, overhead, scheduleBounds, timeBreakdown, timeline, workFromTimeline, type CallInterval } from '../../bench/lib/schedule';

describe('scheduleBounds', () => {
  // Two groups: A (2 processors × 4 dates × 1 s) then B (1 processor × 3 dates × 2 s); cap 2, window 2.
  const input = {
    cap: 2,
    window: 2,
    phases: [
      {
        phase: 4,
        gateSeconds: 0.5,
        groups: [
          [
            { processor: 'a1', dates: 4, secondsPerDate: 1 },
            { processor: 'a2', dates: 4, secondsPerDate: 1 },
          ],
          [{ processor: 'b', dates: 3, secondsPerDate: 2 }],
        ],
      },
    ],
  };

  test('work ÷ cap, the critical path and the barrier bound, worked by hand', () => {
    const b = scheduleBounds(input);
    expect(b.totalWorkSeconds).toBe(8 + 6 + 0.5);
    expect(b.workBoundSeconds).toBe(7.25);
    // Longest date of A (1 s) + of B (2 s) + the gate.
    expect(b.criticalPathSeconds).toBe(3.5);
    expect(b.lowerBoundSeconds).toBe(7.25);
    // A: max(8/2, ⌈4/2⌉×1) = 4; B: max(6/2, ⌈3/2⌉×2 = 4) = 4 — B's window tail costs a second; + gate.
    expect(b.barrierBoundSeconds).toBe(8.5);
  });

  test('a window below the cap limits a lone processor (negative control: a wide window does not)', () => {
    const narrow = scheduleBounds({ ...input, cap: 8, window: 1 });
    const wide = scheduleBounds({ ...input, cap: 8, window: 8 });
    // B alone at window 1: 3 dates × 2 s in sequence.
    expect(narrow.barrierBoundSeconds).toBeGreaterThan(wide.barrierBoundSeconds);
    expect(narrow.barrierBoundSeconds).toBe(4 + 6 + 0.5);
    expect(wide.barrierBoundSeconds).toBe(1 + 2 + 0.5);
  });

  test('the critical path wins when the cap is generous', () => {
    const b = scheduleBounds({ ...input, cap: 64, window: 64 });
    expect(b.lowerBoundSeconds).toBe(b.criticalPathSeconds);
  });

  test('rejects a cap below 1', () => {
    expect(() => scheduleBounds({ ...input, cap: 0 })).toThrow(RangeError);
  });

  test('efficiency is bound ÷ makespan; a makespan under the bound would read above 1 (the check can fail)', () => {
    expect(efficiency(9, 10)).toBe(0.9);
    expect(efficiency(9, 0)).toBe(0);
    expect(efficiency(12, 10)).toBeGreaterThan(1);
  });
});

describe('timeline and idle capacity', () => {
  const call = (startMs: number, endMs: number, more: Partial<CallInterval> = {}): CallInterval => ({ op: 'query', startMs, endMs, ...more });

  test('calls are classified by their labels', () => {
    expect(callKind({ processor: 'p', date: '2024-01-01' })).toBe('date');
    expect(callKind({ processor: 'p' })).toBe('plan');
    expect(callKind({ phase: '4' })).toBe('gate');
    expect(callKind({})).toBe('other');
  });

  test('idle share of the cap over a window of time', () => {
    // Cap 2 over [0, 4000]: one call 0–4000, a second 0–2000: idle half the cap for 2 s.
    expect(idleCapSeconds([call(0, 4000), call(0, 2000)], 2, 0, 4000)).toBe(1);
    // Back-to-back calls hand the slot over without a gap: no idle time.
    expect(idleCapSeconds([call(0, 1000), call(1000, 2000)], 1, 0, 2000)).toBe(0);
    // Negative control: a gap between them is idle.
    expect(idleCapSeconds([call(0, 1000), call(1500, 2000)], 1, 0, 2000)).toBe(0.5);
  });

  test('per processor, group and phase figures from the calls', () => {
    const shape = [{ phase: 4, groups: [['a'], ['b']] }];
    const calls = [
      call(0, 100, { processor: 'a' }), // plan
      call(100, 200, { processor: 'b' }), // plan
      call(1000, 2000, { processor: 'a', date: 'd1' }),
      call(1000, 3000, { processor: 'a', date: 'd2' }),
      call(3500, 5500, { processor: 'b', date: 'd1' }),
      call(6000, 6500, { phase: '4' }),
    ];
    const t = timeline(calls, shape, 2);
    expect(t.planSeconds).toBe(0.2);
    expect(t.processors.map((p) => [p.processor, p.dates, p.seconds, p.busySeconds, p.meanSecondsPerDate])).toEqual([
      ['a', 2, 2, 3, 1.5],
      ['b', 1, 2, 2, 2],
    ]);
    expect(t.groups.map((g) => [g.group, g.seconds, g.gapBeforeSeconds, g.idleCapSeconds])).toEqual([
      [1, 2, 0.8, 0.5],
      [2, 2, 0.5, 1],
    ]);
    expect(t.phases).toEqual([
      { phase: 4, seconds: 5.5, dateTasks: 3, dates: 2, dateTasksPerHour: 1964, datesPerHour: 1309, gateSeconds: 0.5, gapBeforeGateSeconds: 0.5 },
    ]);
    const work = workFromTimeline(t, shape);
    expect(work[0]?.groups.map((g) => g.map((p) => [p.processor, p.dates, p.secondsPerDate]))).toEqual([[['a', 2, 1.5]], [['b', 1, 2]]]);
  });

  test('where the time went: date work ÷ cap and idle cap fill the groups; slower calls and idle slots tell apart', () => {
    const shape = [{ phase: 4, groups: [['a']] }];
    // Four dates on cap 2: d1 and d2 at once over the first span, then d3 and d4 at once over the second.
    const breakdown = ([a, b]: [number, number], [c, d]: [number, number]) => {
      const dates: Array<[string, number, number]> = [['d1', a, b], ['d2', a, b], ['d3', c, d], ['d4', c, d]];
      const t = timeBreakdown(timeline(dates.map(([date, start, end]) => call(start, end, { processor: 'a', date })), shape, 2), 2);
      return [t.groupsSeconds, t.dateWorkPerCapSeconds, t.idleCapInGroupsSeconds, t.dateTaskMs];
    };
    // Back to back: the groups' 2 s are all work (4 s ÷ 2), none idle.
    expect(breakdown([0, 1000], [1000, 2000])).toEqual([2, 2, 0, 1000]);
    // A 500 ms wait before the second pair: the extra time shows as idle cap, not as work.
    expect(breakdown([0, 1000], [1500, 2500])).toEqual([2.5, 2, 0.5, 1000]);
    // Slower calls with no wait: the extra time is work.
    expect(breakdown([0, 1250], [1250, 2500])).toEqual([2.5, 2.5, 0, 1250]);
  });
});

describe('medianRound', () => {
  test('picks the round with the middle ratio, whatever the order the rounds ran in', () => {
    const rounds = [{ round: 1, ratio: 1.45 }, { round: 2, ratio: 1.08 }, { round: 3, ratio: 1.22 }];
    expect(medianRound(rounds).round).toBe(3);
    // Even count: the lower middle one (not the higher, not an average no run had).
    expect(medianRound([...rounds, { round: 4, ratio: 1.3 }]).round).toBe(3);
    expect(medianRound([{ round: 1, ratio: 2 }]).round).toBe(1);
    expect(() => medianRound([])).toThrow('no round ran');
  });
});

describe('overhead', () => {
  test('ratio and milliseconds per task', () => {
    expect(overhead(130, 100, 1000)).toEqual({ overheadRatio: 1.3, orchestrationMsPerTask: 30 });
    expect(overhead(1, 0, 0)).toEqual({ overheadRatio: 0, orchestrationMsPerTask: 0 });
  });
});

describe('forecast accuracy', () => {
  const start = 1_000_000;
  const end = start + 100_000; // a 100 s run
  const samples: EtaSample[] = [
    { atMs: start + 5_000, percentFinished: 4, etaSeconds: null },
    { atMs: start + 10_000, percentFinished: 12, etaSeconds: 80 }, // predicts 90 s: 10 s early
    { atMs: start + 30_000, percentFinished: 27, etaSeconds: 84 }, // predicts 114 s: 14 s late
    { atMs: start + 50_000, percentFinished: 55, etaSeconds: 50 }, // predicts exactly 100 s
  ];

  test('a sample scored against the real end', () => {
    const p = scoreSample(samples[1] as EtaSample, start, end, 10, 'progress');
    expect(p).toMatchObject({ sampledAtSeconds: 10, predictedEndSeconds: 90, actualEndSeconds: 100, errorSeconds: -10 });
    // 10 s early over the 90 s that remained.
    expect(p.errorPctOfRemaining).toBeCloseTo(-11.1, 1);
  });

  test('points by progress and by elapsed time', () => {
    const points = forecastPoints(samples, start, end);
    const byProgress = points.filter((p) => p.by === 'progress');
    expect(byProgress.map((p) => [p.at, p.sampledAtSeconds, p.errorSeconds])).toEqual([
      [10, 10, -10],
      [25, 30, 14],
      [50, 50, 0],
    ]);
    const byElapsed = points.filter((p) => p.by === 'elapsed');
    expect(byElapsed.map((p) => [p.at, p.sampledAtSeconds])).toEqual([
      [10, 10],
      [25, 30],
      [50, 50],
    ]);
  });

  test('a sample without an ETA scores null, and a point never reached is left out (negative control)', () => {
    expect(scoreSample(samples[0] as EtaSample, start, end, 5, 'progress').errorSeconds).toBeNull();
    expect(forecastPoints(samples.slice(0, 2), start, end, [50]).filter((p) => p.by === 'progress')).toEqual([]);
  });
});

describe('latency model', () => {
  test("keeps the seed's measured proportions", () => {
    const pcf = SEED_LATENCY_MODEL.player_composite_factors?.secondsPerDate ?? 0;
    const pdc = SEED_LATENCY_MODEL.player_daily_cache?.secondsPerDate ?? 0;
    const mlfs = SEED_LATENCY_MODEL.ml_feature_store_v2?.secondsPerDate ?? 0;
    expect(pcf / pdc).toBeCloseTo(56 / 80, 6);
    expect(mlfs / pcf).toBeCloseTo(80 / 140, 6);
    // Scaling changes the unit, never the proportions.
    expect(scaledDateMs('player_composite_factors', 100) / scaledDateMs('player_daily_cache', 100)).toBeCloseTo(56 / 80, 6);
  });

  test("Phase 4 one date at a time over 848 dates lands in the seed's 30–35 hours", () => {
    const phase4 = ['team_defense_zone_analysis', 'player_shot_zone_analysis', 'player_composite_factors', 'player_daily_cache', 'ml_feature_store_v2'];
    const hours = sequentialHours(Object.fromEntries(phase4.map((p) => [p, 848])));
    expect(hours).toBeGreaterThanOrEqual(30);
    expect(hours).toBeLessThanOrEqual(35);
    // Negative control: a model with PCF at half its measured rate falls outside the range.
    const slowPcf = { ...SEED_LATENCY_MODEL, player_composite_factors: { secondsPerDate: 3600 / 40, basis: 'assumed' as const, note: 'half the measured rate' } };
    expect(sequentialHours(Object.fromEntries(phase4.map((p) => [p, 848])), slowPcf)).toBeGreaterThan(35);
  });

  test('every processor of the pipeline is modelled; an unknown one waits nothing; a bad factor is refused', () => {
    expect(Object.keys(SEED_LATENCY_MODEL)).toHaveLength(13);
    expect(scaledDateMs('no_such_processor', 100)).toBe(0);
    expect(() => scaledDateMs('player_composite_factors', 0)).toThrow(RangeError);
  });
});

describe('/proc parsing', () => {
  test('utime + stime of a stat line whose command holds spaces and parentheses', () => {
    const stat = '4242 (temporal (dev) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 1234 567 0 0 20 0 12 0 100 2000000 5000 18446744073709551615';
    expect(parseProcStatCpuTicks(stat)).toBe(1234 + 567);
    expect(() => parseProcStatCpuTicks('garbage')).toThrow();
  });

  test('VmHWM and VmRSS from a status file', () => {
    const status = 'Name:\tnode\nVmPeak:\t 9999 kB\nVmHWM:\t  524288 kB\nVmRSS:\t  262144 kB\n';
    expect(parseStatusKiB(status, 'VmHWM')).toBe(524288);
    expect(parseStatusKiB(status, 'VmRSS')).toBe(262144);
    expect(parseStatusKiB('Name:\tnode\n', 'VmHWM')).toBeNull();
  });

  test('per-thread CPU between two readings: what each used since, the busiest first, small and new threads handled', () => {
    const before = new Map([
      [10, { name: 'main', seconds: 5 }],
      [11, { name: 'node', seconds: 1 }],
      [12, { name: 'node', seconds: 2 }],
    ]);
    const after = new Map([
      [10, { name: 'main', seconds: 9 }],
      [11, { name: 'node', seconds: 1.2 }],
      [12, { name: 'node', seconds: 12 }],
      [13, { name: 'tokio-runtime-w', seconds: 3 }],
    ]);
    const rows = threadCpuBetween(before, after);
    expect(rows).toEqual([
      { thread: 'node', cpuSeconds: 10 },
      { thread: 'main', cpuSeconds: 4 },
      { thread: 'tokio-runtime-w', cpuSeconds: 3 },
    ]);
    expect(formatThreadCpu(rows)).toBe('node 10.0, main 4.0, tokio-runtime-w 3.0');
    // Control: with no threshold the idle thread is listed too.
    expect(threadCpuBetween(before, after, 0).map((r) => r.cpuSeconds)).toEqual([10, 4, 3, 0.2]);
  });

  test('busy CPU of the whole machine from /proc/stat: every field but idle and iowait', () => {
    const stat = 'cpu  100 2 30 5000 40 0 6 7 0 0\ncpu0 50 1 15 2500 20 0 3 3 0 0\nintr 1\n';
    expect(parseProcStatBusyTicks(stat)).toBe(100 + 2 + 30 + 6 + 7);
    // Control: idle and iowait do not count — more of them changes nothing.
    expect(parseProcStatBusyTicks('cpu  100 2 30 9999 999 0 6 7 0 0\n')).toBe(145);
    expect(() => parseProcStatBusyTicks('cpu0 1 2 3\n')).toThrow();
    expect(() => parseProcStatBusyTicks('cpu  1 2\n')).toThrow();
    expect(machineBusyCpuSeconds()).toBeGreaterThan(0);
    // The kernel's own threads (children of kthreadd) have done some work since boot, and less than the whole machine.
    const kernel = [...kernelThreadsCpu().values()].reduce((a, b) => a + b, 0);
    expect(kernel).toBeGreaterThan(0);
    expect(kernel).toBeLessThan(machineBusyCpuSeconds() ?? 0);
  });

  test('other CPU between two readings: busy less the measured processes and the kernel threads, never below zero', () => {
    const kernel = (entries: Array<[string, number]>): Map<string, number> => new Map(entries);
    const before = { busy: 100, kernel: kernel([['2', 4], ['40', 6]]) };
    const after = { busy: 150, kernel: kernel([['2', 4.5], ['40', 6.5]]) };
    expect(otherCpuBetween(before, after, 40)).toEqual({ otherCpuSeconds: 9, kernelCpuSeconds: 1 });
    // Control: the measured processes account for all of it (tick rounding a little over): 0, not negative.
    expect(otherCpuBetween(before, after, 49.5).otherCpuSeconds).toBe(0);
    expect(otherCpuBetween(before, after, null).otherCpuSeconds).toBeNull();
    expect(otherCpuBetween({ busy: null, kernel: kernel([]) }, { busy: 150, kernel: kernel([]) }, 1).otherCpuSeconds).toBeNull();
  });

  test('kernel threads between two readings, thread by thread: one that ended is left out, never a negative sum', () => {
    // A long-lived kernel thread (6 s so far) ends in between; another does 0.5 s; a new one does 0.25 s.
    const before = new Map([['2', 4], ['40', 6], ['77', 1]]);
    const after = new Map([['2', 4], ['77', 1.5], ['91', 0.25]]);
    expect(kernelCpuBetween(before, after)).toBe(0.75);
    // Control: the totals' difference, what the bench used to report, is negative here.
    const total = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
    expect(total(after) - total(before)).toBeLessThan(0);
    // A pid reused by a new thread with fewer ticks counts from zero.
    expect(kernelCpuBetween(new Map([['40', 6]]), new Map([['40', 0.5]]))).toBe(0.5);
  });

  test('the threads of this process from /proc: the main thread is named "main" and has used CPU', () => {
    const threads = threadCpuSeconds(process.pid);
    expect(threads.get(process.pid)?.name).toBe('main');
    expect(threads.get(process.pid)?.seconds).toBeGreaterThan(0);
    expect(threadCpuSeconds(2 ** 22 + 1).size).toBe(0);
  });
});

describe('LocalWarehouseSlots', () => {
  test('never more than its capacity held, first come first served (negative control: a larger capacity admits more)', async () => {
    const slots = new LocalWarehouseSlots(2);
    const a = await slots.acquire('a');
    const b = await slots.acquire('b');
    const order: string[] = [];
    const c = slots.acquire('c').then((r) => (order.push('c'), r));
    const d = slots.acquire('d').then((r) => (order.push('d'), r));
    await Promise.resolve();
    expect(slots.inUse()).toBe(2);
    expect(order).toEqual([]);
    await a();
    await a(); // releasing twice gives back one slot only
    const rc = await c;
    expect(order).toEqual(['c']);
    expect(slots.inUse()).toBe(2);
    await b();
    await (await d)();
    await rc();
    expect(slots.inUse()).toBe(0);

    const wider = new LocalWarehouseSlots(3);
    await Promise.all([wider.acquire('x'), wider.acquire('y'), wider.acquire('z')]);
    expect(wider.inUse()).toBe(3);
  });

  test('a waiter that is aborted leaves the queue', async () => {
    const slots = new LocalWarehouseSlots(1);
    const first = await slots.acquire('a');
    const abort = new AbortController();
    const waiting = slots.acquire('b', abort.signal);
    abort.abort();
    await expect(waiting).rejects.toThrow(/aborted/);
    await first();
    expect(slots.inUse()).toBe(0);
  });
});

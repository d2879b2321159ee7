/**
 * bench:scale's overload model (bench/lib/latency-model.ts), the warehouse decorator that applies
 * it (bench/lib/overload-warehouse.ts) and the summary of the sampled admitted limit
 * (bench/lib/overload-figures.ts). Negative controls: at or below the healthy concurrency nothing
 * fails and no latency changes, whatever the key or seed.
 */
import {
  DEFAULT_OVERLOAD_MODEL,
  describeOverload,
  overloadCallKey,
  overloadErrorProbability,
  overloadLatencyFactor,
  overloadOutcome,
  seededUniform,
  type OverloadModel,
} from '../../bench/lib/latency-model';
import { summarizeLimitSamples, type LimitSample } from '../../bench/lib/overload-figures';
import { OverloadWarehouse } from '../../bench/lib/overload-warehouse';
import { WarehouseError, type Warehouse } from '../../src/warehouse/types';

const model: OverloadModel = { ...DEFAULT_OVERLOAD_MODEL, healthy: 5, latencyExponent: 2, errorRatePerExcess: 0.05, maxErrorRate: 0.5, failAfterFraction: 0.5, seed: 7 };

describe('overload model: latency and failure probability', () => {
  test('negative control: at or below H the latency is unchanged and nothing may fail', () => {
    for (let n = 0; n <= model.healthy; n += 1) {
      expect(overloadLatencyFactor(n, model)).toBe(1);
      expect(overloadErrorProbability(n, model)).toBe(0);
    }
  });

  test('above H: latency × (n/H)^2, failure probability 0.05 per operation above H, capped', () => {
    expect(overloadLatencyFactor(8, model)).toBeCloseTo(2.56, 10);
    expect(overloadLatencyFactor(10, model)).toBeCloseTo(4, 10);
    expect(overloadLatencyFactor(6, { healthy: 5, latencyExponent: 1 })).toBeCloseTo(1.2, 10);
    expect(overloadErrorProbability(6, model)).toBeCloseTo(0.05, 10);
    expect(overloadErrorProbability(8, model)).toBeCloseTo(0.15, 10);
    expect(overloadErrorProbability(100, model)).toBe(0.5);
    expect(overloadErrorProbability(8, { ...model, errorRatePerExcess: 0 })).toBe(0);
  });

  test('a healthy concurrency below 1 is refused', () => {
    expect(() => overloadLatencyFactor(3, { healthy: 0, latencyExponent: 2 })).toThrow(RangeError);
    expect(() => overloadErrorProbability(3, { ...model, healthy: 0 })).toThrow(RangeError);
  });
});

describe('seededUniform', () => {
  test('deterministic per (seed, key), in [0, 1), different across keys and seeds', () => {
    expect(seededUniform(1, 'a@2024-01-01#1')).toBe(seededUniform(1, 'a@2024-01-01#1'));
    expect(seededUniform(1, 'a@2024-01-01#1')).not.toBe(seededUniform(1, 'a@2024-01-01#2'));
    expect(seededUniform(1, 'a@2024-01-01#1')).not.toBe(seededUniform(2, 'a@2024-01-01#1'));
    for (let i = 0; i < 1000; i += 1) {
      const u = seededUniform(3, `k${i}`);
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
    }
  });

  test('close to uniform over call keys: mean ≈ 0.5, share below 0.15 ≈ 0.15', () => {
    const n = 20_000;
    let sum = 0;
    let below = 0;
    for (let i = 0; i < n; i += 1) {
      const u = seededUniform(1, overloadCallKey('player_daily_cache', `2024-01-${i}`, 1 + (i % 5)));
      sum += u;
      if (u < 0.15) below += 1;
    }
    expect(sum / n).toBeGreaterThan(0.48);
    expect(sum / n).toBeLessThan(0.52);
    expect(below / n).toBeGreaterThan(0.13);
    expect(below / n).toBeLessThan(0.17);
  });
});

describe('overloadOutcome', () => {
  test('negative control: at n ≤ H no call of 2 000 fails and each waits exactly its base latency', () => {
    for (let i = 0; i < 2_000; i += 1) {
      const o = overloadOutcome(1 + (i % model.healthy), 450, overloadCallKey('p', `d${i}`, 1 + (i % 5)), model);
      expect(o).toEqual({ waitMs: 450, fails: false, latencyFactor: 1, errorProbability: 0 });
    }
  });

  test('at n = 8, H = 5: successes wait 2.56 × base, failures half that, about 15% fail, the same call always alike', () => {
    let failed = 0;
    const calls = 4_000;
    for (let i = 0; i < calls; i += 1) {
      const key = overloadCallKey('p', `d${i}`, 1);
      const o = overloadOutcome(8, 100, key, model);
      expect(o.latencyFactor).toBeCloseTo(2.56, 10);
      expect(o.errorProbability).toBeCloseTo(0.15, 10);
      expect(o.waitMs).toBeCloseTo(o.fails ? 128 : 256, 6);
      expect(overloadOutcome(8, 100, key, model)).toEqual(o);
      // The draw is fixed per call: a call that fails at 8 in flight also fails at 9 (higher probability).
      if (o.fails) expect(overloadOutcome(9, 100, key, model).fails).toBe(true);
      if (o.fails) failed += 1;
    }
    expect(failed / calls).toBeGreaterThan(0.12);
    expect(failed / calls).toBeLessThan(0.18);
  });

  test('describeOverload states H, the multiplier and the probabilities', () => {
    const text = describeOverload(model);
    expect(text).toContain('H = 5');
    expect(text).toContain('(n/H)^2');
    expect(text).toContain('n = 8: latency ×2.56, 15% transient errors');
    expect(text).toContain('n = 5: latency ×1.00, 0% transient errors');
  });
});

/** An inner warehouse whose calls take `ms` and count themselves. */
function fakeWarehouse(ms = 1): Warehouse & { calls: number } {
  const w = {
    kind: 'fake',
    dialect: 'duckdb',
    calls: 0,
    query: async () => {
      w.calls += 1;
      await new Promise((r) => setTimeout(r, ms));
      return [];
    },
  };
  return w as unknown as Warehouse & { calls: number };
}

describe('OverloadWarehouse', () => {
  const labels = (date: string) => ({ labels: { processor: 'pdc', date } });

  test('negative control: one call at a time (n = 1 ≤ H) never fails, one modelled call per date', async () => {
    const inner = fakeWarehouse();
    const w = new OverloadWarehouse(inner, { dateLatencyMs: { pdc: 2 }, model: { ...model, healthy: 1, errorRatePerExcess: 1, maxErrorRate: 1 } });
    for (const date of ['2024-01-01', '2024-01-02']) {
      await w.query('select 1', {}, labels(date));
      await w.query('select 2', {}, labels(date));
    }
    const s = w.snapshot();
    expect(inner.calls).toBe(4);
    expect(s).toMatchObject({ modelledCalls: 2, transientErrors: 0, retries: 0, datesRetried: 0, maxInFlight: 1, startsByInFlight: { 1: 2 }, errorsByInFlight: {} });
    expect(s.latencyFactorSum).toBe(2);
  });

  test('above H the new call fails transiently; the retry of the date is a new attempt and counts as one', async () => {
    // H = 1 and a certain failure above it: of two concurrent calls the second (n = 2) fails.
    const inner = fakeWarehouse();
    const w = new OverloadWarehouse(inner, { dateLatencyMs: { pdc: 5 }, model: { ...model, healthy: 1, errorRatePerExcess: 1, maxErrorRate: 1 } });
    const first = w.query('select 1', {}, labels('2024-01-01'));
    const second = w.query('select 1', {}, labels('2024-01-02'));
    await expect(first).resolves.toEqual([]);
    const err: unknown = await second.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WarehouseError);
    expect((err as WarehouseError).kind).toBe('transient');
    expect((err as WarehouseError).message).toMatch(/^rateLimitExceeded: simulated overload, 2 operations in flight above the healthy 1/);
    // The failed call never reached DuckDB; its retry alone (n = 1) succeeds.
    expect(inner.calls).toBe(1);
    await w.query('select 1', {}, labels('2024-01-02'));
    expect(w.snapshot()).toMatchObject({ modelledCalls: 3, transientErrors: 1, retries: 1, datesRetried: 1, maxInFlight: 2, startsByInFlight: { 1: 2, 2: 1 }, errorsByInFlight: { 2: 1 } });
  });

  test('unlabelled calls and unmodelled processors pass through at any load', async () => {
    const inner = fakeWarehouse();
    const w = new OverloadWarehouse(inner, { dateLatencyMs: { pdc: 5 }, model: { ...model, healthy: 1, errorRatePerExcess: 1, maxErrorRate: 1 } });
    await Promise.all([w.query('a'), w.query('b'), w.query('c', {}, { labels: { processor: 'other', date: '2024-01-01' } })]);
    expect(inner.calls).toBe(3);
    expect(w.snapshot().modelledCalls).toBe(0);
  });

  test('an aborted modelled wait ends as a cancelled WarehouseError', async () => {
    const w = new OverloadWarehouse(fakeWarehouse(), { dateLatencyMs: { pdc: 10_000 }, model });
    const controller = new AbortController();
    const call = w.query('select 1', {}, { ...labels('2024-01-01'), signal: controller.signal });
    controller.abort();
    await expect(call).rejects.toMatchObject({ kind: 'cancelled' });
  });
});

describe('summarizeLimitSamples', () => {
  const start = 1_000_000;
  const change = (atS: number, from: number, to: number, reason: string) => ({ atMs: start + atS * 1000, from, to, reason });

  test('mean, extremes and the distinct changes with their reasons, worked by hand', () => {
    const samples: LimitSample[] = [
      { atMs: start + 1000, limit: 8, held: 8 },
      { atMs: start + 2000, limit: 4, held: 4, lastChange: change(1.5, 8, 4, '3 transient warehouse error(s)') },
      { atMs: start + 3000, limit: 4, held: 4, lastChange: change(1.5, 8, 4, '3 transient warehouse error(s)') },
      { atMs: start + 4000, limit: 5, held: 5, lastChange: change(3.2, 4, 5, '9 operation(s) succeeded at baseline latency') },
      // 5 → 6 happened unseen, then 6 → 3: the newest change does not start from the 5 the previous sample showed.
      { atMs: start + 5000, limit: 3, held: 2, lastChange: change(4.9, 6, 3, '1 transient warehouse error(s)') },
    ];
    const s = summarizeLimitSamples(samples, start);
    expect(s).toMatchObject({ samples: 5, meanLimit: 4.8, minLimit: 3, maxLimit: 8, meanHeld: 4.6, maxHeld: 8, unseenChanges: 1 });
    expect(s.changes.map((c) => [c.atSeconds, c.from, c.to])).toEqual([
      [1.5, 8, 4],
      [3.2, 4, 5],
      [4.9, 6, 3],
    ]);
    expect(s.changes[0]?.reason).toBe('3 transient warehouse error(s)');
  });

  test('negative control: a fixed cap — no changes, none unseen; no samples — nulls', () => {
    const fixed = summarizeLimitSamples([1, 2, 3].map((i) => ({ atMs: start + i * 1000, limit: 8, held: 8 })), start);
    expect(fixed).toMatchObject({ meanLimit: 8, minLimit: 8, maxLimit: 8, changes: [], unseenChanges: 0 });
    expect(summarizeLimitSamples([], start)).toMatchObject({ samples: 0, meanLimit: null, maxLimit: null, changes: [] });
  });

  test('a limit that moved with no new change recorded counts as unseen', () => {
    const s = summarizeLimitSamples(
      [
        { atMs: start + 1000, limit: 4, held: 4, lastChange: change(0.5, 8, 4, 'errors') },
        { atMs: start + 2000, limit: 6, held: 6, lastChange: change(0.5, 8, 4, 'errors') },
      ],
      start,
    );
    expect(s.unseenChanges).toBe(1);
    expect(s.changes).toHaveLength(1);
  });
});

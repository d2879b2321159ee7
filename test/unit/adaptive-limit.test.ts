/**
 * Adaptive warehouse load, the decision rule alone (src/shared/adaptive-limit.ts).
 */
import {
  DECREASE_COOLDOWN_MS,
  adapt,
  initialLimit,
  withinSettings,
  type AdaptiveLimitState,
  type AdaptiveSettings,
  type WarehouseHealthReport,
} from '../../src/shared/adaptive-limit';

const settings: AdaptiveSettings = { enabled: true, floor: 1, ceiling: 8 };
const healthy = (n: number, ms = 100, kind = 'pcf'): WarehouseHealthReport => ({ ops: n, transientErrors: 0, latency: { [kind]: { n, totalMs: n * ms } } });
const errors = (n: number): WarehouseHealthReport => ({ ops: n, transientErrors: n, lastErrorType: 'rateLimitExceeded', latency: {} });

describe('adaptive warehouse load', () => {
  test('starts at the ceiling; healthy operations never lower it (negative control)', () => {
    let s = initialLimit(settings);
    for (let t = 0; t < 50; t++) s = adapt(s, healthy(5, 100 + (t % 3) * 10), settings, t * 1_000);
    expect(s.limit).toBe(8);
    expect(s.lastChange).toBeUndefined();
  });

  test('transient errors halve it, once per cool-down, never below the floor', () => {
    let s = adapt(initialLimit(settings), errors(2), settings, 10_000);
    expect(s.limit).toBe(4);
    expect(s.lastChange?.reason).toMatch(/2 transient warehouse error\(s\) \(rateLimitExceeded\)/);
    // The same burst, reported again within the cool-down, counts once.
    s = adapt(s, errors(1), settings, 10_000 + DECREASE_COOLDOWN_MS - 1);
    expect(s.limit).toBe(4);
    for (let k = 1; k <= 5; k++) s = adapt(s, errors(1), settings, 10_000 + k * DECREASE_COOLDOWN_MS);
    expect(s.limit).toBe(1);
  });

  test('latency well above its baseline cuts it by a third; each kind of work has its own baseline', () => {
    let s: AdaptiveLimitState = initialLimit(settings);
    s = adapt(s, healthy(4, 100, 'pcf'), settings, 0);
    s = adapt(s, healthy(4, 2_000, 'pdc'), settings, 1_000);
    // PDC at 2 s is its own normal; PCF at 150 ms is within the factor.
    s = adapt(s, { ops: 8, transientErrors: 0, latency: { pcf: { n: 4, totalMs: 600 }, pdc: { n: 4, totalMs: 8_400 } } }, settings, 2_000);
    expect(s.limit).toBe(8);
    s = adapt(s, healthy(4, 450, 'pcf'), settings, 3_000);
    expect(s.limit).toBe(5);
    expect(s.lastChange?.reason).toMatch(/^pcf took \d+ ms per operation against a baseline of \d+ ms$/);
  });

  test('recovers one step per healthy round up to the ceiling, and no further', () => {
    let s = adapt(initialLimit(settings), errors(1), settings, 0);
    s = adapt(s, errors(1), settings, DECREASE_COOLDOWN_MS);
    expect(s.limit).toBe(2);
    const seen: number[] = [];
    for (let t = 1; t <= 40; t++) {
      s = adapt(s, healthy(2), settings, DECREASE_COOLDOWN_MS + t * 1_000);
      seen.push(s.limit);
    }
    expect(Math.max(...seen)).toBe(8);
    expect(s.limit).toBe(8);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(s.lastChange?.reason).toMatch(/succeeded at baseline latency/);
  });

  test('off: the cap applies whatever the warehouse shows; a lowered cap clamps the limit', () => {
    const off = { ...settings, enabled: false };
    expect(adapt(initialLimit(off), errors(5), off, 0).limit).toBe(8);
    const lowered = withinSettings({ limit: 8, baselines: {}, healthySinceChange: 0 }, { ...settings, ceiling: 3 }, 0);
    expect(lowered.limit).toBe(3);
    expect(withinSettings({ limit: 1, baselines: {}, healthySinceChange: 0 }, { ...settings, floor: 2 }, 0).limit).toBe(2);
  });
});

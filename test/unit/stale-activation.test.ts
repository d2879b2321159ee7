/**
 * The stale-activation guard's decision (src/workflows/stale-activation.ts), activation by
 * activation; the race it guards against runs for real in test/faults/stale-activation.test.ts.
 */
import { StaleActivationError, staleActivationGuard } from '../../src/workflows/stale-activation';

const at = (ms: number) => ({ seconds: Math.floor(ms / 1_000), nanos: (ms % 1_000) * 1_000_000 });
const activation = (historyLength: number, ms: number | undefined, isReplaying = false) => ({
  historyLength,
  ...(ms === undefined ? {} : { timestamp: at(ms) }),
  isReplaying,
});

describe('the stale-activation guard', () => {
  test('passes tasks that start later than the one before, replayed or not', () => {
    const guard = staleActivationGuard();
    expect(() => {
      guard.check(activation(3, 1_000, true));
      guard.check(activation(7, 2_000, true));
      guard.check(activation(12, 2_500));
      guard.check(activation(16, 9_000));
    }).not.toThrow();
  });

  test('passes several activations of one task (same history length, same time)', () => {
    const guard = staleActivationGuard();
    guard.check(activation(7, 2_000));
    expect(() => guard.check(activation(7, 2_000))).not.toThrow();
  });

  test('refuses a new task that bears the previous activation time, outside replay', () => {
    const guard = staleActivationGuard();
    guard.check(activation(3, 1_000, true));
    guard.check(activation(7, 2_000, true));
    expect(() => guard.check(activation(13, 2_000))).toThrow(StaleActivationError);
    expect(() => guard.check(activation(13, 2_000))).toThrow(/history length 13 but the timestamp \(1970-01-01T00:00:02\.000Z\) of the activation at history length 7/);
  });

  test('never throws on replay: recorded histories replay as before', () => {
    const guard = staleActivationGuard();
    guard.check(activation(7, 2_000, true));
    expect(() => guard.check(activation(13, 2_000, true))).not.toThrow();
  });

  test('skips query-only activations (no timestamp) and the first activation', () => {
    const guard = staleActivationGuard();
    expect(() => guard.check(activation(13, 2_000))).not.toThrow();
    guard.check(activation(13, undefined));
    expect(() => guard.check(activation(16, 5_000))).not.toThrow();
  });
});

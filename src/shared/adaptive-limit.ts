/**
 * Adaptive warehouse load (sandbox-safe: pure). The deployment-wide cap is a ceiling; the load
 * actually admitted moves between a floor and that ceiling from what the warehouse shows:
 *
 * - **additive increase**: after a round of operations (as many as the current limit) that all
 *   succeeded at latency near their baseline, one more slot;
 * - **multiplicative decrease**: on transient errors (rate limits, backend errors, time-outs) the
 *   limit halves; on latency well above baseline (LATENCY_FACTOR ×) it drops by a third. At most
 *   one decrease per DECREASE_COOLDOWN_MS, so one burst of failures counts once.
 *
 * Latency baselines are per kind of work (a processor's write, a gate, a plan): a Phase 4 write is
 * not slow because it takes longer than a Phase 3 one. A baseline follows healthy observations
 * slowly (EWMA), never the unhealthy ones.
 */

export const LATENCY_FACTOR = 2;
export const DECREASE_COOLDOWN_MS = 5_000;
const BASELINE_WEIGHT = 0.1;

/** What one worker process saw of the warehouse since its previous report. */
export interface WarehouseHealthReport {
  /** Operations that finished (succeeded or failed) while holding a slot. */
  ops: number;
  /** Of those, failed with a transient warehouse error. */
  transientErrors: number;
  /** The error type of the latest transient error (e.g. "rateLimitExceeded"), for the reason. */
  lastErrorType?: string;
  /** Per kind of work (processor name, "validate", "plan"…): successful operations and their total time. */
  latency: Record<string, { n: number; totalMs: number }>;
}

export interface LimitChange {
  atMs: number;
  from: number;
  to: number;
  reason: string;
}

export interface AdaptiveLimitState {
  /** Operations admitted at once now, floor ≤ limit ≤ ceiling. */
  limit: number;
  /** Mean healthy latency per kind of work, ms. */
  baselines: Record<string, number>;
  /** Healthy operations since the limit last changed. */
  healthySinceChange: number;
  lastDecreaseAtMs?: number;
  lastChange?: LimitChange;
}

export interface AdaptiveSettings {
  /** Off: the limit is the ceiling. */
  enabled: boolean;
  floor: number;
  ceiling: number;
}

export function initialLimit(settings: AdaptiveSettings): AdaptiveLimitState {
  return { limit: settings.ceiling, baselines: {}, healthySinceChange: 0 };
}

export function emptyReport(): WarehouseHealthReport {
  return { ops: 0, transientErrors: 0, latency: {} };
}

function clampFloor(settings: AdaptiveSettings): number {
  return Math.max(1, Math.min(settings.floor, settings.ceiling));
}

/** Keeps the limit inside the (possibly changed) settings. */
export function withinSettings(state: AdaptiveLimitState, settings: AdaptiveSettings, nowMs: number): AdaptiveLimitState {
  const floor = clampFloor(settings);
  const target = settings.enabled ? Math.min(settings.ceiling, Math.max(floor, state.limit)) : settings.ceiling;
  if (target === state.limit) return state;
  const reason = settings.enabled ? `the cap or floor changed (ceiling ${settings.ceiling}, floor ${floor})` : 'adaptive load is off: the cap applies';
  return { ...state, limit: target, lastChange: { atMs: nowMs, from: state.limit, to: target, reason } };
}

/** The next state after a report. */
export function adapt(state: AdaptiveLimitState, report: WarehouseHealthReport, settings: AdaptiveSettings, nowMs: number): AdaptiveLimitState {
  const current = withinSettings(state, settings, nowMs);
  if (!settings.enabled) return current;
  const floor = clampFloor(settings);
  const canDecrease = current.lastDecreaseAtMs === undefined || nowMs - current.lastDecreaseAtMs >= DECREASE_COOLDOWN_MS;
  const decrease = (to: number, reason: string): AdaptiveLimitState => {
    const limit = Math.max(floor, Math.min(current.limit, to));
    if (limit === current.limit) return { ...current, healthySinceChange: 0, lastDecreaseAtMs: nowMs };
    return { ...current, limit, healthySinceChange: 0, lastDecreaseAtMs: nowMs, lastChange: { atMs: nowMs, from: current.limit, to: limit, reason } };
  };

  if (report.transientErrors > 0) {
    if (!canDecrease) return current;
    const what = report.lastErrorType ? ` (${report.lastErrorType})` : '';
    return decrease(Math.floor(current.limit / 2), `${report.transientErrors} transient warehouse error(s)${what} in ${report.ops} operation(s)`);
  }

  const baselines = { ...current.baselines };
  let slowest: { kind: string; mean: number; baseline: number } | undefined;
  let healthy = 0;
  for (const [kind, { n, totalMs }] of Object.entries(report.latency)) {
    if (n <= 0) continue;
    const mean = totalMs / n;
    const baseline = baselines[kind];
    if (baseline === undefined) {
      baselines[kind] = mean;
      healthy += n;
    } else if (mean > baseline * LATENCY_FACTOR) {
      if (!slowest || mean / baseline > slowest.mean / slowest.baseline) slowest = { kind, mean, baseline };
    } else {
      baselines[kind] = baseline * (1 - BASELINE_WEIGHT) + mean * BASELINE_WEIGHT;
      healthy += n;
    }
  }
  if (slowest) {
    if (!canDecrease) return { ...current, baselines };
    const reason = `${slowest.kind} took ${formatMs(slowest.mean)} per operation against a baseline of ${formatMs(slowest.baseline)}`;
    return { ...decrease(Math.floor((current.limit * 2) / 3), reason), baselines };
  }
  const healthySinceChange = current.healthySinceChange + healthy;
  if (current.limit < settings.ceiling && healthySinceChange >= current.limit) {
    const limit = current.limit + 1;
    return {
      ...current,
      baselines,
      limit,
      healthySinceChange: 0,
      lastChange: { atMs: nowMs, from: current.limit, to: limit, reason: `${healthySinceChange} operation(s) succeeded at baseline latency` },
    };
  }
  return { ...current, baselines, healthySinceChange };
}

/** Adds one process's report to another (reports are summed until sent). */
export function mergeReports(into: WarehouseHealthReport, more: WarehouseHealthReport): WarehouseHealthReport {
  const latency = { ...into.latency };
  for (const [kind, l] of Object.entries(more.latency)) {
    const have = latency[kind] ?? { n: 0, totalMs: 0 };
    latency[kind] = { n: have.n + l.n, totalMs: have.totalMs + l.totalMs };
  }
  return {
    ops: into.ops + more.ops,
    transientErrors: into.transientErrors + more.transientErrors,
    ...(more.lastErrorType ?? into.lastErrorType ? { lastErrorType: more.lastErrorType ?? into.lastErrorType } : {}),
    latency,
  };
}

function formatMs(ms: number): string {
  return ms >= 1_000 ? `${(ms / 1_000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

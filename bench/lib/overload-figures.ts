/**
 * The overload section's arithmetic (pure, no clock): the admitted limit sampled from the slots
 * workflow during a run, summarised as its mean and extremes, and the limit changes the samples
 * saw with their reasons. The slots workflow keeps only its last change, so a change overwritten
 * before the next sample is not seen; `unseenChanges` counts the samples that prove one was missed
 * (the newest change did not start from the limit the previous sample showed).
 */
import type { LimitChange } from '../../src/shared/adaptive-limit';

export interface LimitSample {
  /** Epoch ms the state was read. */
  atMs: number;
  /** admittedLimit(state): operations admitted at once then. */
  limit: number;
  /** Slots held then (slotsHeld(state)). */
  held: number;
  lastChange?: LimitChange;
}

export interface SeenChange extends LimitChange {
  /** Seconds from the run's start. */
  atSeconds: number;
}

export interface LimitSummary {
  samples: number;
  meanLimit: number | null;
  minLimit: number | null;
  maxLimit: number | null;
  meanHeld: number | null;
  maxHeld: number | null;
  /** Distinct changes seen, in order. */
  changes: SeenChange[];
  /** Samples showing that at least one change happened between them and was overwritten unseen. */
  unseenChanges: number;
}

const round = (x: number, places = 2): number => Number(x.toFixed(places));

export function summarizeLimitSamples(samples: readonly LimitSample[], startMs: number): LimitSummary {
  const changes: SeenChange[] = [];
  let unseen = 0;
  let previous: LimitSample | undefined;
  for (const s of samples) {
    const c = s.lastChange;
    const isNew = c !== undefined && (changes.length === 0 || changes[changes.length - 1]?.atMs !== c.atMs);
    if (c !== undefined && isNew) {
      changes.push({ ...c, atSeconds: round((c.atMs - startMs) / 1000, 1) });
      if (previous !== undefined && c.from !== previous.limit) unseen += 1;
    } else if (previous !== undefined && s.limit !== previous.limit) {
      // The limit moved and no new change says so: the change was overwritten unseen (or a rollover).
      unseen += 1;
    }
    previous = s;
  }
  const n = samples.length;
  const sum = (f: (s: LimitSample) => number): number => samples.reduce((a, s) => a + f(s), 0);
  return {
    samples: n,
    meanLimit: n > 0 ? round(sum((s) => s.limit) / n) : null,
    minLimit: n > 0 ? Math.min(...samples.map((s) => s.limit)) : null,
    maxLimit: n > 0 ? Math.max(...samples.map((s) => s.limit)) : null,
    meanHeld: n > 0 ? round(sum((s) => s.held) / n) : null,
    maxHeld: n > 0 ? Math.max(...samples.map((s) => s.held)) : null,
    changes,
    unseenChanges: unseen,
  };
}

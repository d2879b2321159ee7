/**
 * Forecast accuracy (issue 10 item 4): how far the whole-backfill ETA an operator sees in `status`
 * was from the real end. The bench samples the ETA every couple of seconds while the backfill runs;
 * these pure functions pick the samples at given points of the run and score them.
 *
 * Two ways to say "10% of the run": by progress (the share of processor-dates finished, as `status`
 * shows it) and by elapsed time (a share of the actual run's duration, known only afterwards). They
 * differ because phases differ in cost per date.
 */

export interface EtaSample {
  /** Epoch ms the status was read. */
  atMs: number;
  /** Percent of processor-dates finished, as `status` shows it. */
  percentFinished: number;
  /** The whole-backfill ETA shown then, seconds; null while there is none. */
  etaSeconds: number | null;
}

export interface ForecastPoint {
  /** The point asked for: 10 for "10% finished" / "10% of the run elapsed". */
  at: number;
  by: 'progress' | 'elapsed';
  /** Seconds since the start when the sample was taken. */
  sampledAtSeconds: number;
  percentFinished: number;
  etaSeconds: number | null;
  /** Seconds since the start the ETA predicted the end for. */
  predictedEndSeconds: number | null;
  actualEndSeconds: number;
  /** Predicted − actual end: positive means the forecast said later than it was (pessimistic). */
  errorSeconds: number | null;
  /** errorSeconds as a percentage of the time that actually remained at the sample. */
  errorPctOfRemaining: number | null;
}

/** Scores one sample against the real start and end. */
export function scoreSample(sample: EtaSample, startMs: number, endMs: number, at: number, by: ForecastPoint['by']): ForecastPoint {
  const sampledAt = (sample.atMs - startMs) / 1000;
  const actualEnd = (endMs - startMs) / 1000;
  const remaining = actualEnd - sampledAt;
  const predictedEnd = sample.etaSeconds === null ? null : sampledAt + sample.etaSeconds;
  const error = predictedEnd === null ? null : predictedEnd - actualEnd;
  return {
    at,
    by,
    sampledAtSeconds: round(sampledAt),
    percentFinished: sample.percentFinished,
    etaSeconds: sample.etaSeconds,
    predictedEndSeconds: predictedEnd === null ? null : round(predictedEnd),
    actualEndSeconds: round(actualEnd),
    errorSeconds: error === null ? null : round(error),
    errorPctOfRemaining: error === null || remaining <= 0 ? null : round((error / remaining) * 100, 1),
  };
}

/**
 * For each point, the first sample at or past it: by progress, the first whose percentFinished has
 * reached it; by elapsed, the first taken at or after that share of the actual run. A point no
 * sample reached is left out.
 */
export function forecastPoints(
  samples: readonly EtaSample[],
  startMs: number,
  endMs: number,
  points: readonly number[] = [10, 25, 50],
): ForecastPoint[] {
  const ordered = [...samples].sort((a, b) => a.atMs - b.atMs);
  const out: ForecastPoint[] = [];
  for (const at of points) {
    const byProgress = ordered.find((s) => s.percentFinished >= at);
    if (byProgress) out.push(scoreSample(byProgress, startMs, endMs, at, 'progress'));
  }
  for (const at of points) {
    const when = startMs + ((endMs - startMs) * at) / 100;
    const byElapsed = ordered.find((s) => s.atMs >= when);
    if (byElapsed) out.push(scoreSample(byElapsed, startMs, endMs, at, 'elapsed'));
  }
  return out;
}

function round(x: number, places = 1): number {
  return Number(x.toFixed(places));
}

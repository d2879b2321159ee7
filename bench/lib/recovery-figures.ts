/**
 * The figures of `npm run bench:recovery`, computed from the dates the worker processes wrote (one
 * timestamp per processor × date) and the moments the bench killed a worker. Pure, unit-tested.
 *
 * For each kill, with K the moment SIGKILL was sent:
 * - firstWriteMs:    K → the first date written by the worker started after the kill;
 * - firstInFlightWriteMs: K → the first of the dates in flight at the kill written again;
 * - inFlightDoneMs:  K → the moment every date that was in flight at the kill (and had not
 *                    completed before the signal landed) has been written by a later worker;
 * - longestGapMs:    the longest stretch with no date written by any worker, in the segment from K
 *                    to the next kill (or the end of the backfill);
 * each also against the bound the design promises (the heartbeat time-out plus a few seconds).
 */

export interface DateWrite {
  /** processor@date */
  key: string;
  /** Wall-clock ms (epoch) when the worker logged the date as written. */
  timeMs: number;
  /** Which worker process wrote it: 0 is the first, k the one started after the k-th kill. */
  worker: number;
}

export interface Gap {
  ms: number;
  /** Where the gap begins and ends (epoch ms). */
  fromMs: number;
  toMs: number;
}

/**
 * The longest stretch of [fromMs, toMs] without any of `times`: the edges count as the ends of a
 * stretch, so with no time inside the window the whole window is the gap. Times outside are ignored.
 */
export function longestGap(times: readonly number[], fromMs: number, toMs: number): Gap {
  if (!(toMs >= fromMs)) throw new RangeError(`empty window: ${fromMs} → ${toMs}`);
  const inside = times.filter((t) => t >= fromMs && t <= toMs).sort((a, b) => a - b);
  let best: Gap = { ms: -1, fromMs, toMs: fromMs };
  let previous = fromMs;
  for (const t of [...inside, toMs]) {
    if (t - previous > best.ms) best = { ms: t - previous, fromMs: previous, toMs: t };
    previous = t;
  }
  return best;
}

export interface KillInput {
  /** Epoch ms the SIGKILL was sent. */
  killedAtMs: number;
  /** The number of the worker started right after this kill (its writes are the "new worker's"). */
  nextWorker: number;
  /** processor@date keys in flight at the kill that had not completed when the worker was dead. */
  pending: readonly string[];
  /** Where this kill's segment ends: the next kill, or the end of the backfill (epoch ms). */
  segmentEndMs: number;
}

export interface KillFigures {
  firstWriteMs: number | null;
  /** K → the first of the in-flight dates written again (when their retries got going); null when none was. */
  firstInFlightWriteMs: number | null;
  inFlightDoneMs: number | null;
  /** Pending dates never written by a later worker (0 when all were). */
  inFlightMissing: number;
  longestGap: { ms: number; startsAfterKillMs: number };
  boundMs: number;
  /** figure − bound: negative is headroom, positive is over the promise; null when never reached. */
  firstWriteVsBoundMs: number | null;
  inFlightDoneVsBoundMs: number | null;
  longestGapVsBoundMs: number;
  withinBound: { firstWrite: boolean; inFlightDone: boolean; longestGap: boolean };
}

function earliest(writes: readonly DateWrite[]): number | null {
  return writes.reduce<number | null>((m, w) => (m === null || w.timeMs < m ? w.timeMs : m), null);
}

/** One kill's figures from every write of every worker of the run. */
export function killFigures(kill: KillInput, writes: readonly DateWrite[], boundMs: number): KillFigures {
  const after = writes.filter((w) => w.worker >= kill.nextWorker && w.timeMs >= kill.killedAtMs);
  const firstOfNext = earliest(after.filter((w) => w.worker === kill.nextWorker));
  const firstWriteMs = firstOfNext === null ? null : firstOfNext - kill.killedAtMs;
  // A pending date counts as done at its first write by any worker started after the kill.
  let done = kill.killedAtMs;
  let firstPending: number | null = null;
  let missing = 0;
  for (const key of new Set(kill.pending)) {
    const t = earliest(after.filter((w) => w.key === key));
    if (t === null) missing += 1;
    else {
      done = Math.max(done, t);
      firstPending = firstPending === null ? t : Math.min(firstPending, t);
    }
  }
  const inFlightDoneMs = missing > 0 ? null : done - kill.killedAtMs;
  const end = Math.max(kill.segmentEndMs, kill.killedAtMs);
  const gap = longestGap(
    writes.map((w) => w.timeMs),
    kill.killedAtMs,
    end,
  );
  const vs = (x: number | null): number | null => (x === null ? null : x - boundMs);
  return {
    firstWriteMs,
    firstInFlightWriteMs: firstPending === null ? null : firstPending - kill.killedAtMs,
    inFlightDoneMs,
    inFlightMissing: missing,
    longestGap: { ms: gap.ms, startsAfterKillMs: gap.fromMs - kill.killedAtMs },
    boundMs,
    firstWriteVsBoundMs: vs(firstWriteMs),
    inFlightDoneVsBoundMs: vs(inFlightDoneMs),
    longestGapVsBoundMs: gap.ms - boundMs,
    withinBound: {
      firstWrite: firstWriteMs !== null && firstWriteMs <= boundMs,
      inFlightDone: inFlightDoneMs !== null && inFlightDoneMs <= boundMs,
      longestGap: gap.ms <= boundMs,
    },
  };
}

/** Dates written by a worker started after a kill although they had completed before it ("run again"). */
export function rerunAfterCompletion(completedAtKill: ReadonlySet<string>, nextWorker: number, writes: readonly DateWrite[]): string[] {
  return [...new Set(writes.filter((w) => w.worker >= nextWorker && completedAtKill.has(w.key)).map((w) => w.key))].sort();
}

/** The seeded kill points: the first after a share of all dates, each later one a few dates after the previous recovery. */
export function firstKillAfter(totalDates: number, uniform: number): number {
  return Math.max(1, Math.round(totalDates * (0.1 + 0.15 * uniform)));
}

/** SQL counting a table's rows and its distinct keys (equal when no key is duplicated). */
export function duplicateCheckSql(table: string, keyColumns: readonly string[]): string {
  if (keyColumns.length === 0) throw new Error(`${table}: no key columns`);
  for (const c of [table, ...keyColumns]) if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(c)) throw new Error(`not an identifier: ${c}`);
  const keys = keyColumns.join(', ');
  return `SELECT (SELECT count(*) FROM ${table}) AS row_count, (SELECT count(*) FROM (SELECT DISTINCT ${keys} FROM ${table}) AS k) AS distinct_keys`;
}

/** Pulls the "date written" lines out of a worker's JSON log (lines cut short by SIGKILL are skipped). */
export function parseDateWrites(logText: string, worker: number): DateWrite[] {
  const out: DateWrite[] = [];
  for (const line of logText.split('\n')) {
    if (!line.startsWith('{') || !line.includes('"date written"')) continue;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (entry.msg !== 'date written' || typeof entry.processor !== 'string' || typeof entry.date !== 'string') continue;
    const timeMs = Number(entry.time);
    if (Number.isFinite(timeMs)) out.push({ key: `${entry.processor}@${entry.date}`, timeMs, worker });
  }
  return out;
}

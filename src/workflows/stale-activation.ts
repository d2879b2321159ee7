/**
 * A guard against stale activations — a Temporal SDK defect we reproduced with @temporalio/worker
 * 1.24.0 (test/faults/stale-activation.test.ts):
 *
 * A worker that does not have a workflow cached and is asked a query about it at the moment the
 * workflow's next task reaches it (after the previous worker died and the task left its sticky
 * queue) builds the workflow from history for the query; the task's activation then carries the
 * time and history length of that earlier replay instead of its own. Workflow code that decides by
 * `Date.now()` or `historyLength` — a lease expired, a deadline passed, a history near its limit —
 * decides differently from every later replay (which sees the right time), and the commands it
 * sends are recorded. From then on every replay of that workflow fails with a non-determinism
 * error: the warehouse-slots workflow stalled the whole deployment that way in a recovery bench
 * whose probe queried it after a kill.
 *
 * The sign is unmistakable: a new workflow task (a longer history) whose activation bears exactly
 * the previous activation's timestamp — a real new task starts later than the one before it. On that
 * sign, outside replay, the guard fails the workflow task before any workflow code runs: the worker
 * drops the cached run, the server hands the task out again, and it is replayed from history with
 * its own time. On replay it never throws, so it changes nothing in recorded histories.
 */
/** What the guard reads of an activation (an `ActivateInput['activation']` is one). */
export interface ActivationStamp {
  historyLength?: number | null;
  isReplaying?: boolean | null;
  /** A protobuf Timestamp; `seconds` is a Long in the SDK's activations. */
  timestamp?: { seconds?: number | { toString(): string } | null; nanos?: number | null } | null;
}

export class StaleActivationError extends Error {
  constructor(historyLength: number, timestampMs: number, previousHistoryLength: number) {
    super(
      `stale workflow activation: history length ${historyLength} but the timestamp (${new Date(timestampMs).toISOString()}) of the ` +
        `activation at history length ${previousHistoryLength}; failing the task so it is replayed from history`,
    );
    this.name = 'StaleActivationError';
  }
}

function millis(ts: ActivationStamp['timestamp']): number | undefined {
  if (!ts) return undefined;
  return Number(String(ts.seconds ?? 0)) * 1_000 + Math.floor((ts.nanos ?? 0) / 1_000_000);
}

/**
 * One per workflow run: call `check` with every activation, in order. Query-only activations carry
 * no timestamp and are skipped.
 */
export function staleActivationGuard(): { check(activation: ActivationStamp): void } {
  let previous: { historyLength: number; timestampMs: number } | undefined;
  return {
    check(activation) {
      const timestampMs = millis(activation.timestamp);
      const historyLength = activation.historyLength ?? 0;
      if (timestampMs === undefined) return;
      if (
        previous !== undefined &&
        !activation.isReplaying &&
        historyLength !== previous.historyLength &&
        timestampMs === previous.timestampMs
      ) {
        throw new StaleActivationError(historyLength, timestampMs, previous.historyLength);
      }
      previous = { historyLength, timestampMs };
    },
  };
}

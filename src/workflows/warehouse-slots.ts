/**
 * warehouseSlotsWorkflow — the one cap on warehouse work in flight for a whole deployment (every
 * worker process, every backfill on the task queue). The seed's 8-worker run hung BigQuery with
 * 256 connections; per-worker limits cannot prevent that when workers are added, this can.
 *
 * Activities take a slot with an update (which completes only when granted) and give it back with a
 * signal. A slot is a lease, renewed in bulk by the holder's worker process while it lives: a worker
 * killed while holding slots cannot keep them — they return when the lease lapses (about the date
 * activity's heartbeat time-out), and the activity's retry, whose holder id is the same, takes its
 * own slot over at once, or joins the request its dead attempt left waiting instead of queueing
 * twice. Without that, a dead attempt's request was granted later, left its retry waiting until the
 * next rollover, and held the slot for a two-minute lease: the deployment stalled after a kill.
 *
 * History size: a few events per grant and per renewal; no timer while no slot is held. Before the
 * history nears the server's suggestion the workflow rolls over: waiting requests are told to retry
 * (their client loops), held leases are carried into the next run, and it continues as new.
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  acquireSlotUpdate,
  releaseSlotSignal,
  renewSlotSignal,
  renewSlotsSignal,
  slotsStateQuery,
  type SlotRequest,
  type SlotsState,
} from '../shared/messages';

/**
 * How long a slot stays held without a renewal: the per-date activity's heartbeat time-out, so a
 * dead worker's slots come back about when its dates are retried. Holders renew every third of it.
 */
export const SLOT_LEASE_MS = 30_000;
/** The lease of runs started before prompt recovery (their histories replay with it). */
const LEGACY_SLOT_LEASE_MS = 2 * 60_000;
const HISTORY_EVENT_LIMIT = 3_000;
/** Short leases, bulk renewal, reclaim by a waiting holder's retry, no idle timer. */
export const PROMPT_RECOVERY_PATCH = 'slots-prompt-recovery';

export interface WarehouseSlotsInput {
  capacity: number;
  leaseMs?: number;
  historyEventLimit?: number;
  state?: SlotsState;
}

export async function warehouseSlotsWorkflow(input: WarehouseSlotsInput): Promise<void> {
  const promptRecovery = patched(PROMPT_RECOVERY_PATCH);
  const leaseMs = input.leaseMs ?? (promptRecovery ? SLOT_LEASE_MS : LEGACY_SLOT_LEASE_MS);
  const historyLimit = input.historyEventLimit ?? HISTORY_EVENT_LIMIT;
  const state: SlotsState = input.state ?? {
    capacity: input.capacity,
    held: [],
    waiting: [],
    granted: 0,
    maxHeldObserved: 0,
  };
  // Requests of the previous run were told to retry; none are waiting in this one yet.
  state.waiting = [];
  let rollingOver = false;

  const rollover = (): boolean => {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength >= historyLimit;
  };
  const expire = (): void => {
    const now = Date.now();
    state.held = state.held.filter((h) => h.expiresAtMs > now);
  };
  const holds = (holder: string): boolean => state.held.some((h) => h.holder === holder);
  const renew = (holders: ReadonlySet<string>): void => {
    const expiresAtMs = Date.now() + leaseMs;
    for (const h of state.held) if (holders.has(h.holder)) h.expiresAtMs = expiresAtMs;
  };
  const grant = (holder: string): void => {
    state.held.push({ holder, expiresAtMs: Date.now() + leaseMs });
    state.granted += 1;
    state.maxHeldObserved = Math.max(state.maxHeldObserved, state.held.length);
  };

  setHandler(slotsStateQuery, () => state);
  setHandler(releaseSlotSignal, (holder: string) => {
    state.held = state.held.filter((h) => h.holder !== holder);
  });
  setHandler(renewSlotSignal, (holder: string) => renew(new Set([holder])));
  // No history of a run without this handler holds the signal, so it needs no patch.
  setHandler(renewSlotsSignal, (holders: string[]) => renew(new Set(holders)));
  setHandler(
    acquireSlotUpdate,
    async (request: SlotRequest) => {
      state.capacity = request.capacity;
      const { holder } = request;
      if (promptRecovery) {
        if (!holds(holder)) {
          // A retry whose dead attempt is still queued waits in that attempt's place, not behind it.
          if (!state.waiting.includes(holder)) state.waiting.push(holder);
          // FIFO: the oldest waiter gets the next free slot; an earlier request of the same holder may get it first.
          await condition(() => rollingOver || holds(holder) || (state.waiting[0] === holder && state.held.length < state.capacity));
          if (!holds(holder)) {
            state.waiting = state.waiting.filter((w) => w !== holder);
            if (rollingOver) throw ApplicationFailure.retryable('slot manager is rolling over; ask again', 'SlotsRollover');
            grant(holder);
          }
        }
        // A retry of the same work after its worker died takes its own slot over.
        renew(new Set([holder]));
        return { leaseMs };
      }
      if (!holds(holder)) {
        state.waiting.push(holder);
        await condition(() => rollingOver || (state.waiting[0] === holder && state.held.length < state.capacity));
        state.waiting = state.waiting.filter((w) => w !== holder);
        if (rollingOver) throw ApplicationFailure.retryable('slot manager is rolling over; ask again', 'SlotsRollover');
        grant(holder);
      } else {
        renew(new Set([holder]));
      }
      return { leaseMs };
    },
    {
      validator: (request: SlotRequest) => {
        if (!Number.isInteger(request.capacity) || request.capacity < 1) throw new Error(`capacity must be ≥ 1, got ${request.capacity}`);
        if (!request.holder) throw new Error('holder is required');
      },
    },
  );

  for (;;) {
    if (promptRecovery && state.held.length === 0) {
      // Nothing can lapse: wait for a grant or the rollover without a timer, so an idle
      // deployment's slots workflow adds nothing to its history.
      await condition(() => rollover() || state.held.length > 0);
      if (!rollover()) continue;
    } else {
      const soonest = Math.min(...state.held.map((h) => h.expiresAtMs), Date.now() + leaseMs);
      const timedOut = !(await condition(() => rollover(), Math.max(1, soonest - Date.now())));
      if (timedOut) {
        expire();
        continue;
      }
    }
    rollingOver = true;
    await condition(allHandlersFinished);
    expire();
    await continueAsNew<typeof warehouseSlotsWorkflow>({ ...input, state });
  }
}

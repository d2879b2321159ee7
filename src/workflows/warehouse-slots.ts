/**
 * warehouseSlotsWorkflow — the one cap on warehouse work in flight for a whole deployment (every
 * worker process, every backfill on the task queue). The seed's 8-worker run hung BigQuery with
 * 256 connections; per-worker limits cannot prevent that when workers are added, this can.
 *
 * Activities take a slot with an update (which completes only when granted) and give it back with a
 * signal. A slot is a lease: a worker killed while holding one cannot leak it — the lease expires
 * unless renewed from the activity's heartbeat loop, and the activity's retry (same holder) takes
 * the slot over at once.
 *
 * History size: a few events per grant. Before the history nears the server's suggestion the
 * workflow rolls over: waiting requests are told to retry (their client loops), held leases are
 * carried into the next run, and it continues as new.
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  acquireSlotUpdate,
  releaseSlotSignal,
  renewSlotSignal,
  slotsStateQuery,
  type SlotRequest,
  type SlotsState,
} from '../shared/messages';

export const SLOT_LEASE_MS = 2 * 60_000;
const HISTORY_EVENT_LIMIT = 3_000;

export interface WarehouseSlotsInput {
  capacity: number;
  leaseMs?: number;
  historyEventLimit?: number;
  state?: SlotsState;
}

export async function warehouseSlotsWorkflow(input: WarehouseSlotsInput): Promise<void> {
  const leaseMs = input.leaseMs ?? SLOT_LEASE_MS;
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

  setHandler(slotsStateQuery, () => state);
  setHandler(releaseSlotSignal, (holder: string) => {
    state.held = state.held.filter((h) => h.holder !== holder);
  });
  setHandler(renewSlotSignal, (holder: string) => {
    for (const h of state.held) if (h.holder === holder) h.expiresAtMs = Date.now() + leaseMs;
  });
  setHandler(
    acquireSlotUpdate,
    async (request: SlotRequest) => {
      state.capacity = request.capacity;
      if (!holds(request.holder)) {
        state.waiting.push(request.holder);
        // FIFO: the oldest waiter gets the next free slot.
        await condition(() => rollingOver || (state.waiting[0] === request.holder && state.held.length < state.capacity));
        state.waiting = state.waiting.filter((w) => w !== request.holder);
        if (rollingOver) throw ApplicationFailure.retryable('slot manager is rolling over; ask again', 'SlotsRollover');
        state.held.push({ holder: request.holder, expiresAtMs: Date.now() + leaseMs });
        state.granted += 1;
        state.maxHeldObserved = Math.max(state.maxHeldObserved, state.held.length);
      } else {
        // A retry of the same work after its worker died: it takes its own slot over.
        for (const h of state.held) if (h.holder === request.holder) h.expiresAtMs = Date.now() + leaseMs;
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
    const nextExpiry = Math.min(...state.held.map((h) => h.expiresAtMs), Date.now() + leaseMs);
    const timedOut = !(await condition(() => rollover(), Math.max(1, nextExpiry - Date.now())));
    if (timedOut) {
      expire();
      continue;
    }
    rollingOver = true;
    await condition(allHandlersFinished);
    expire();
    await continueAsNew<typeof warehouseSlotsWorkflow>({ ...input, state });
  }
}

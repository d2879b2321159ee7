/**
 * warehouseSlotsWorkflow — the one cap on warehouse work in flight for a whole deployment (every
 * worker process, every backfill on the task queue). The seed's 8-worker run hung BigQuery with
 * 256 connections; per-worker limits cannot prevent that when workers are added, this can.
 *
 * Activities take a slot with an update (which completes only when granted) and give it back with a
 * signal. Slots and places in the queue are leases, renewed in bulk by the holder's worker process
 * while it lives (SLOT_LEASE_MS, the date activity's heartbeat time-out). A worker killed mid-run
 * therefore keeps nothing for long: its slots and its queued requests lapse about when its dates
 * are retried, and a retry — whose holder id is its dead attempt's — takes that attempt's slot or
 * place in the queue over instead of queueing behind it. Without that, a dead worker's queued
 * requests were granted slots nobody used, each for a two-minute lease, and as open updates they
 * filled the server's per-workflow limit of updates in flight, so the whole deployment stalled.
 *
 * History size: a few events per grant and per renewal, one timer while anything is held or
 * queued, none when idle. Before the history nears the server's suggestion the workflow rolls
 * over: waiting requests are told to retry (their client loops), held leases are carried into the
 * next run, and it continues as new.
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
  SLOT_LEASE_MS,
  acquireSlotUpdate,
  releaseSlotSignal,
  renewSlotSignal,
  renewSlotsSignal,
  slotsStateQuery,
  type SlotRequest,
  type SlotsState,
} from '../shared/messages';

export { SLOT_LEASE_MS };
/** The lease of runs started before prompt recovery (their histories replay with it). */
const LEGACY_SLOT_LEASE_MS = 2 * 60_000;
const HISTORY_EVENT_LIMIT = 3_000;
/** Short leases, queued requests as leases too, bulk renewal, no timer while idle. */
export const PROMPT_RECOVERY_PATCH = 'slots-prompt-recovery';
/** The failure type of a request whose place in the queue lapsed or was withdrawn: the client asks again. */
export const SLOT_REQUEST_LAPSED = 'SlotRequestLapsed';

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
  /** Queued holder → when its place lapses unless its process renews it (prompt recovery only). */
  const queuedUntil = new Map<string, number>();
  let rollingOver = false;

  const rollover = (): boolean => {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength >= historyLimit;
  };
  const leaveQueue = (holder: string): void => {
    queuedUntil.delete(holder);
    state.waiting = state.waiting.filter((w) => w !== holder);
  };
  const expire = (): void => {
    const now = Date.now();
    state.held = state.held.filter((h) => h.expiresAtMs > now);
    for (const [holder, until] of queuedUntil) if (until <= now) leaveQueue(holder);
  };
  const holds = (holder: string): boolean => state.held.some((h) => h.holder === holder);
  const renew = (holders: ReadonlySet<string>): void => {
    const expiresAtMs = Date.now() + leaseMs;
    for (const h of state.held) if (holders.has(h.holder)) h.expiresAtMs = expiresAtMs;
    if (promptRecovery) for (const holder of holders) if (queuedUntil.has(holder)) queuedUntil.set(holder, expiresAtMs);
  };
  /** A grant keeps the request's lease: a dead process's request, granted late, lapses as its place in the queue would have. */
  const grant = (holder: string, expiresAtMs = Date.now() + leaseMs): void => {
    state.held.push({ holder, expiresAtMs });
    state.granted += 1;
    state.maxHeldObserved = Math.max(state.maxHeldObserved, state.held.length);
  };
  const rollingOverFailure = (): ApplicationFailure =>
    ApplicationFailure.retryable('slot manager is rolling over; ask again', 'SlotsRollover');

  setHandler(slotsStateQuery, () => state);
  setHandler(releaseSlotSignal, (holder: string) => {
    state.held = state.held.filter((h) => h.holder !== holder);
    if (promptRecovery) leaveQueue(holder);
  });
  setHandler(renewSlotSignal, (holder: string) => renew(new Set([holder])));
  // Older runs never handled it: any such signal in their histories stays unhandled on replay.
  if (promptRecovery) setHandler(renewSlotsSignal, (holders: string[]) => renew(new Set(holders)));
  setHandler(
    acquireSlotUpdate,
    async (request: SlotRequest) => {
      state.capacity = request.capacity;
      const { holder } = request;
      if (promptRecovery) {
        if (!holds(holder)) {
          // A retry whose dead attempt is still queued takes that attempt's place, not one behind it.
          if (!queuedUntil.has(holder)) state.waiting.push(holder);
          queuedUntil.set(holder, Date.now() + leaseMs);
          // FIFO: the oldest waiter gets the next free slot; an earlier request of the same holder may get it first.
          await condition(
            () => rollingOver || holds(holder) || !queuedUntil.has(holder) || (state.waiting[0] === holder && state.held.length < state.capacity),
          );
          if (!holds(holder)) {
            if (rollingOver) {
              leaveQueue(holder);
              throw rollingOverFailure();
            }
            if (!queuedUntil.has(holder)) {
              throw ApplicationFailure.retryable('the request lapsed or was withdrawn before a slot was free; ask again', SLOT_REQUEST_LAPSED);
            }
            const requestLapsesAtMs = queuedUntil.get(holder);
            leaveQueue(holder);
            grant(holder, requestLapsesAtMs);
            return { leaseMs };
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
        if (rollingOver) throw rollingOverFailure();
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
    if (promptRecovery && state.held.length === 0 && queuedUntil.size === 0) {
      // Nothing can lapse: wait for a request or the rollover without a timer, so an idle
      // deployment's slots workflow adds nothing to its history.
      await condition(() => rollover() || state.held.length > 0 || queuedUntil.size > 0);
      if (!rollover()) continue;
    } else {
      // Every lease set later than now lapses later than this, so one timer at a time suffices.
      const soonest = Math.min(...state.held.map((h) => h.expiresAtMs), ...queuedUntil.values(), Date.now() + leaseMs);
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

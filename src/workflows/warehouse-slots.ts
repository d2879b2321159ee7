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
  setCurrentDetails,
  setHandler,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import {
  SLOT_LEASE_MS,
  acquireSlotUpdate,
  leaseSlotsUpdate,
  releaseSlotSignal,
  returnSlotsSignal,
  warehouseHealthSignal,
  renewSlotSignal,
  renewSlotsSignal,
  admittedLimit,
  slotsHeld,
  slotsStateQuery,
  type ProcessShare,
  type SlotLeaseRequest,
  type SlotRequest,
  type SlotsState,
  WAREHOUSE_LOAD_MEMO,
  type WarehouseLoadMemo,
} from '../shared/messages';
import { adapt, initialLimit, withinSettings, type WarehouseHealthReport } from '../shared/adaptive-limit';
import { SHARE_TURN_MS, fairShares } from '../shared/slot-shares';

export { SLOT_LEASE_MS };
/** The lease of runs started before prompt recovery (their histories replay with it). */
const LEGACY_SLOT_LEASE_MS = 2 * 60_000;
/** The lease of runs started with prompt recovery but before the short lease. */
const PROMPT_RECOVERY_SLOT_LEASE_MS = 30_000;
const HISTORY_EVENT_LIMIT = 3_000;
/** Short leases, queued requests as leases too, bulk renewal, no timer while idle. */
export const PROMPT_RECOVERY_PATCH = 'slots-prompt-recovery';
/** SLOT_LEASE_MS of 15 s (was 30 s), with the date activity's heartbeat time-out: a dead process's share lapses twice as fast. */
export const SHORT_LEASE_PATCH = 'slots-short-lease';
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
  const shortLease = promptRecovery && patched(SHORT_LEASE_PATCH);
  const leaseMs = input.leaseMs ?? (shortLease ? SLOT_LEASE_MS : promptRecovery ? PROMPT_RECOVERY_SLOT_LEASE_MS : LEGACY_SLOT_LEASE_MS);
  const historyLimit = input.historyEventLimit ?? HISTORY_EVENT_LIMIT;
  const state: SlotsState = input.state ?? {
    capacity: input.capacity,
    held: [],
    waiting: [],
    granted: 0,
    maxHeldObserved: 0,
  };
  state.processes ??= [];
  const processes = state.processes;
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
    // A process that stopped renewing is gone, and so is its share.
    for (let i = processes.length - 1; i >= 0; i--) if ((processes[i]?.expiresAtMs ?? 0) <= now) processes.splice(i, 1);
  };
  /** Slots held by pieces of work and by processes together: never above the capacity. */
  const used = (): number => slotsHeld(state);
  /** Operations admitted now: the adaptive limit (the capacity until a process reports). */
  const limit = (): number => admittedLimit(state);
  const describe = (): void => {
    const a = state.adaptive;
    const settings = state.adaptiveSettings;
    const how = !settings ? '' : settings.enabled ? ` (adaptive, floor ${Math.min(settings.floor, state.capacity)})` : ' (adaptive load off)';
    const why = a?.lastChange ? ` — last change ${a.lastChange.from} → ${a.lastChange.to}: ${a.lastChange.reason}` : '';
    setCurrentDetails(`**${limit()} of ${state.capacity}** warehouse operations admitted at once${how}, ${used()} held now${why}`);
    // In the memo too, so `status` reads it from the server without a worker answering a query.
    const load: WarehouseLoadMemo = {
      limit: limit(),
      ceiling: state.capacity,
      adaptive: settings?.enabled ?? false,
      floor: settings?.floor ?? state.capacity,
      ...(a?.lastChange ? { lastChange: a.lastChange } : {}),
    };
    upsertMemo({ [WAREHOUSE_LOAD_MEMO]: load });
  };
  const observe = (report: WarehouseHealthReport | undefined): void => {
    const settings = state.adaptiveSettings;
    if (!settings) return;
    const full = { ...settings, ceiling: state.capacity };
    const first = state.adaptive === undefined;
    const before = state.adaptive ?? initialLimit(full);
    state.adaptive = report ? adapt(before, report, full, Date.now()) : withinSettings(before, full, Date.now());
    if (first || state.adaptive.lastChange !== before.lastChange) describe();
  };
  const noteHeld = (): void => {
    state.maxHeldObserved = Math.max(state.maxHeldObserved, used());
  };
  const heldBy = (p: ProcessShare): number => p.grantedTotal - p.returnedTotal;
  /** The most a process may hold now (its fair share once processes want more than the capacity). */
  const targetOf = (p: ProcessShare): number => {
    const i = processes.indexOf(p);
    return i < 0 ? 0 : (fairShares(limit() - state.held.length, processes, Date.now())[i] ?? 0);
  };
  const untilNextTurnEnds = (): number => {
    const now = Date.now();
    let soonest = Infinity;
    for (const p of processes) {
      const ends = p.heldSinceMs === undefined ? Infinity : p.heldSinceMs + SHARE_TURN_MS - now;
      if (ends > 0) soonest = Math.min(soonest, ends);
    }
    return soonest;
  };
  const noteReturned = (p: ProcessShare, returnedTotal: number): void => {
    // Never more than granted: a bad count cannot free slots someone holds.
    p.returnedTotal = Math.min(p.grantedTotal, Math.max(p.returnedTotal, returnedTotal));
    if (heldBy(p) === 0) delete p.heldSinceMs;
  };
  /** The newest want of a process wins; one from a message older than the applied one is stale. */
  const noteWant = (p: ProcessShare, want: number | undefined, seq: number | undefined): void => {
    if (!Number.isInteger(want) || (want ?? -1) < 0) return;
    if (seq !== undefined && p.wantSeq !== undefined && seq <= p.wantSeq) return;
    p.want = want ?? 0;
    if (seq !== undefined) p.wantSeq = seq;
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
    noteHeld();
  };
  const rollingOverFailure = (): ApplicationFailure =>
    ApplicationFailure.retryable('slot manager is rolling over; ask again', 'SlotsRollover');

  setHandler(slotsStateQuery, () => state);
  setHandler(releaseSlotSignal, (holder: string) => {
    state.held = state.held.filter((h) => h.holder !== holder);
    if (promptRecovery) leaveQueue(holder);
  });
  setHandler(renewSlotSignal, (holder: string) => renew(new Set([holder])));
  setHandler(warehouseHealthSignal, ({ report }) => observe(report));
  setHandler(returnSlotsSignal, ({ process, leaseId, returnedTotal, want, wantSeq, report }) => {
    if (report) observe(report);
    const p = processes.find((x) => x.process === process && x.leaseId === leaseId);
    if (!p) return;
    noteReturned(p, returnedTotal);
    noteWant(p, want, Number.isInteger(wantSeq) ? wantSeq : undefined);
  });
  setHandler(
    leaseSlotsUpdate,
    async (request: SlotLeaseRequest) => {
      state.capacity = request.capacity;
      if (request.adaptive) state.adaptiveSettings = request.adaptive;
      observe(request.report);
      let p = processes.find((x) => x.process === request.process && x.leaseId === request.leaseId);
      const fresh = p === undefined;
      if (!p) {
        // A new process, or one whose lease lapsed: what it held then was freed when it lapsed.
        const stale = processes.findIndex((x) => x.process === request.process);
        if (stale >= 0) processes.splice(stale, 1);
        state.leasesIssued = (state.leasesIssued ?? 0) + 1;
        p = { process: request.process, leaseId: String(state.leasesIssued), grantedTotal: 0, returnedTotal: 0, want: 0, lastGrantAtMs: 0, expiresAtMs: 0 };
        processes.push(p);
      }
      const share = p;
      noteReturned(share, request.returnedTotal);
      noteWant(share, request.want, request.wantSeq);
      share.expiresAtMs = Date.now() + leaseMs;
      const deadline = Date.now() + Math.min(request.waitMs, Math.floor(leaseMs / 3));
      const alive = (): boolean => processes.includes(share);
      const room = (): number => Math.min(share.want, targetOf(share)) - heldBy(share);
      // Returns at once with news (a fresh lease, a changed share, a grant); otherwise waits for a
      // grant until the deadline, so the request doubles as the process's renewal.
      while (!fresh && !rollingOver && alive() && targetOf(share) === request.knownTarget && share.want > heldBy(share)) {
        const free = limit() - used();
        if (room() > 0 && free > 0) {
          if (heldBy(share) === 0) share.heldSinceMs = Date.now();
          share.grantedTotal += Math.min(room(), free);
          share.lastGrantAtMs = Date.now();
          noteHeld();
          break;
        }
        const left = deadline - Date.now();
        if (left <= 0) break;
        // Shares also change when a turn ends (fewer slots than processes): look again then.
        const wake = Math.min(left, untilNextTurnEnds());
        const target = targetOf(share);
        const news = await condition(
          () => rollingOver || !alive() || targetOf(share) !== target || (room() > 0 && limit() - used() > 0),
          wake,
        );
        if (!news && wake === left) break;
      }
      return {
        leaseId: share.leaseId,
        grantedTotal: share.grantedTotal,
        returnedTotal: share.returnedTotal,
        target: targetOf(share),
        leaseMs,
        limit: limit(),
        ceiling: state.capacity,
        ...(state.adaptive?.lastChange ? { lastChange: state.adaptive.lastChange } : {}),
      };
    },
    {
      validator: (request: SlotLeaseRequest) => {
        if (!Number.isInteger(request.capacity) || request.capacity < 1) throw new Error(`capacity must be ≥ 1, got ${request.capacity}`);
        if (!request.process) throw new Error('process is required');
        if (!Number.isInteger(request.want) || request.want < 0) throw new Error(`want must be ≥ 0, got ${request.want}`);
        if (request.wantSeq !== undefined && (!Number.isInteger(request.wantSeq) || request.wantSeq < 0)) {
          throw new Error(`wantSeq must be an integer ≥ 0, got ${request.wantSeq}`);
        }
        if (request.adaptive && (!Number.isInteger(request.adaptive.floor) || request.adaptive.floor < 1)) {
          throw new Error(`the adaptive floor must be ≥ 1, got ${request.adaptive.floor}`);
        }
      },
    },
  );
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
            () => rollingOver || holds(holder) || !queuedUntil.has(holder) || (state.waiting[0] === holder && used() < limit()),
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
        await condition(() => rollingOver || (state.waiting[0] === holder && used() < limit()));
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
    if (promptRecovery && state.held.length === 0 && queuedUntil.size === 0 && processes.length === 0) {
      // Nothing can lapse: wait for a request or the rollover without a timer, so an idle
      // deployment's slots workflow adds nothing to its history.
      await condition(() => rollover() || state.held.length > 0 || queuedUntil.size > 0 || processes.length > 0);
      if (!rollover()) continue;
    } else {
      // Every lease set later than now lapses later than this, so one timer at a time suffices.
      const soonest = Math.min(
        ...state.held.map((h) => h.expiresAtMs),
        ...queuedUntil.values(),
        ...processes.map((p) => p.expiresAtMs),
        Date.now() + leaseMs,
      );
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

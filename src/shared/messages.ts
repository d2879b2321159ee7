/**
 * Signals, queries and updates, defined once and imported by workflows and the CLI so both sides
 * agree on names and argument types.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AdaptiveLimitState, LimitChange, WarehouseHealthReport } from './adaptive-limit';
import type { BackfillProgress, PhaseGateReport, ProcessorProgress } from './types';

/** No new dates start; dates in flight finish. Idempotent. */
export const pauseSignal = defineSignal('pause');
/** Undo pause. Idempotent. */
export const resumeSignal = defineSignal('resume');
/** Change the window of dates in flight; rejected with a reason when out of range. */
export const setConcurrencyUpdate = defineUpdate<number, [number]>('set-concurrency');

export const processorProgressQuery = defineQuery<ProcessorProgress>('progress');
export const backfillProgressQuery = defineQuery<BackfillProgress>('progress');
export const gateReportsQuery = defineQuery<PhaseGateReport[]>('gate-reports');

/** A failed gate: accept it as is and go on. */
export const approveGateSignal = defineSignal('approve-gate');
/** A failed gate: re-run only the failed and missing dates of the phase, then validate again. */
export const retryPhaseSignal = defineSignal('retry-phase');
/** Re-run every failed date of the backfill's finished processors, then validate again. */
export const retryFailedSignal = defineSignal('retry-failed');

/** Parent → child forwarding of a validated set-concurrency update (workflows cannot send updates). */
export const setConcurrencySignal = defineSignal<[number]>('set-concurrency-forwarded');
/**
 * Child → parent progress report, sent in 5% steps and at the end, for the pipeline-wide query —
 * and at once when the child's failures pass its budget (the report carries `budgetTrip`).
 */
export const childProgressSignal = defineSignal<[ProcessorProgress]>('child-progress');

/**
 * Parent → child: put the failed dates back to run (retry-failed while the backfill is paused for
 * its failure budget); they start first once resumed.
 */
export const requeueFailedSignal = defineSignal('requeue-failed');

/** Child → parent: the bytes granted do not cover the child's next date; it waits for more. */
export interface CostRequest {
  processor: string;
  /** The child workflow's ID, where the grant goes. */
  childId: string;
  /** Bytes its dates billed so far, and its allowance now. */
  spentBytes: number;
  allowanceBytes: number;
  /** The bytes its next date is expected to bill (its largest per-date bill so far). */
  estimatePerDate: number;
  /** Dates in flight now (each expected to bill estimatePerDate more). */
  inFlight: number;
  /** Dates it has not launched yet. */
  remainingDates: number;
}
export const costRequestSignal = defineSignal<[CostRequest]>('cost-request');
/** Parent → child: the child's new cumulative byte allowance. */
export const costAllowanceSignal = defineSignal<[number]>('cost-allowance');
/** Change the bytes-billed budget of a backfill started with one (bytes); returns the previous one. */
export const setCostBudgetUpdate = defineUpdate<number | null, [number]>('set-cost-budget');

/**
 * How long a warehouse slot, or a place in the queue for one, lasts without a renewal from its
 * holder's worker process: the per-date activity's heartbeat time-out, so a dead worker's slots and
 * queued requests are gone about when its dates are retried. Processes renew every third of it.
 * (30 s for slots workflows started before the short-lease patch.)
 */
export const SLOT_LEASE_MS = 15_000;

export interface SlotRequest {
  /** Stable per piece of work (workflowId/runId/activityId), so a retry re-takes its own slot. */
  holder: string;
  /** The deployment's cap; the newest request's value wins, so a config change takes effect. */
  capacity: number;
}

/** A worker process's lease on a share of the cap (see src/shared/slot-shares.ts). */
export interface ProcessShare {
  process: string;
  /** Changes when a lapsed lease is replaced: counts of the old lease mean nothing in the new one. */
  leaseId: string;
  /** Slots granted in this lease, cumulative; the process holds grantedTotal − returnedTotal. */
  grantedTotal: number;
  /** Slots given back in this lease, cumulative (so a repeated or late message changes nothing). */
  returnedTotal: number;
  /** Slots the process could use, as of its latest request. */
  want: number;
  /**
   * Sequence number of the message `want` came from (absent in runs before it was sent). A give-back
   * signal and the next request or want signal are separate calls and may reach the workflow in
   * either order; a want older than the one applied is stale and ignored.
   */
  wantSeq?: number;
  lastGrantAtMs: number;
  /** Since when it has held slots without a break (absent while it holds none): its turn. */
  heldSinceMs?: number;
  expiresAtMs: number;
}

export interface SlotsState {
  capacity: number;
  /** Slots held per piece of work (the per-date protocol). */
  held: Array<{ holder: string; expiresAtMs: number }>;
  waiting: string[];
  granted: number;
  maxHeldObserved: number;
  /** Shares leased by worker processes (absent in runs started before process leases). */
  processes?: ProcessShare[];
  /** Counter behind ProcessShare.leaseId. */
  leasesIssued?: number;
  /** Adaptive load: the limit admitted now (≤ capacity) and why it last changed (absent before the first report). */
  adaptive?: AdaptiveLimitState;
  adaptiveSettings?: { enabled: boolean; floor: number };
}

/** The slots workflow's memo key for the admitted limit (set when it changes; read by `status`). */
export const WAREHOUSE_LOAD_MEMO = 'warehouseLoad';
export interface WarehouseLoadMemo {
  limit: number;
  ceiling: number;
  adaptive: boolean;
  floor: number;
  lastChange?: LimitChange;
}

/** Operations admitted at once now: the adaptive limit, never above the cap. */
export function admittedLimit(state: Pick<SlotsState, 'capacity' | 'adaptive'>): number {
  return Math.min(state.capacity, state.adaptive?.limit ?? state.capacity);
}

/** Slots held now, by pieces of work and by worker processes together. */
export function slotsHeld(state: Pick<SlotsState, 'held' | 'processes'>): number {
  let n = state.held.length;
  for (const p of state.processes ?? []) n += p.grantedTotal - p.returnedTotal;
  return n;
}

export interface SlotLeaseRequest {
  process: string;
  /** The lease the process holds, if any; a lapsed or unknown one is replaced by a fresh lease. */
  leaseId?: string;
  /** The deployment's cap; the newest request's value wins, so a config change takes effect. */
  capacity: number;
  /** Slots the process could use now: in use plus waiting locally. */
  want: number;
  /** Increases with every message of the process that carries a want (see ProcessShare.wantSeq). */
  wantSeq?: number;
  /** Slots given back in this lease so far, cumulative. */
  returnedTotal: number;
  /** The share the process last heard of: the request returns at once when it has changed. */
  knownTarget: number;
  /** How long the request may wait for a grant before it returns as a plain renewal. */
  waitMs: number;
  /** Adaptive load between `floor` and the cap (the newest request's settings win). */
  adaptive?: { enabled: boolean; floor: number };
  /** What the process saw of the warehouse since its previous report. */
  report?: WarehouseHealthReport;
}

export interface SlotLeaseReply {
  leaseId: string;
  grantedTotal: number;
  returnedTotal: number;
  /** The most this process may hold now; above it, it gives slots back as they free up. */
  target: number;
  leaseMs: number;
  /** Operations admitted deployment-wide now (the adaptive limit) and the cap it may reach. */
  limit?: number;
  ceiling?: number;
  lastChange?: LimitChange;
}

/** Blocks until a slot is free, then holds it for `holder` (re-entrant for the same holder). */
export const acquireSlotUpdate = defineUpdate<{ leaseMs: number }, [SlotRequest]>('acquire-slot');
/** Gives a slot back, or withdraws a request still queued. Idempotent. */
export const releaseSlotSignal = defineSignal<[string]>('release-slot');
/** Extends a held slot's lease (sent per holder by workers of earlier versions). */
export const renewSlotSignal = defineSignal<[string]>('renew-slot');
/** Extends the leases of every slot a worker process holds or waits for, in one signal per renewal period. */
export const renewSlotsSignal = defineSignal<[string[]]>('renew-slots');
export const slotsStateQuery = defineQuery<SlotsState>('slots-state');
/**
 * A worker process renews its lease, says how many slots it could use, and waits (up to waitMs)
 * until it may hold more. Every request renews; each process has at most one in flight.
 */
export const leaseSlotsUpdate = defineUpdate<SlotLeaseReply, [SlotLeaseRequest]>('lease-slots');
/**
 * A worker process gives slots back: its cumulative count of returns in the lease (idempotent),
 * and how many it could use now, so other processes' shares grow at once.
 */
export const returnSlotsSignal = defineSignal<
  [{ process: string; leaseId: string; returnedTotal: number; want?: number; wantSeq?: number; report?: WarehouseHealthReport }]
>('return-slots');
/** A worker process reports transient warehouse errors at once, without waiting for its next request. */
export const warehouseHealthSignal = defineSignal<[{ process: string; report: WarehouseHealthReport }]>('warehouse-health');

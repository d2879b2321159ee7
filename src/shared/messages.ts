/**
 * Signals, queries and updates, defined once and imported by workflows and the CLI so both sides
 * agree on names and argument types.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
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
/** Child → parent progress report, sent in 5% steps and at the end, for the pipeline-wide query. */
export const childProgressSignal = defineSignal<[ProcessorProgress]>('child-progress');

/**
 * How long a warehouse slot, or a place in the queue for one, lasts without a renewal from its
 * holder's worker process: the per-date activity's heartbeat time-out, so a dead worker's slots and
 * queued requests are gone about when its dates are retried. Processes renew every third of it.
 */
export const SLOT_LEASE_MS = 30_000;

export interface SlotRequest {
  /** Stable per piece of work (workflowId/runId/activityId), so a retry re-takes its own slot. */
  holder: string;
  /** The deployment's cap; the newest request's value wins, so a config change takes effect. */
  capacity: number;
}

export interface SlotsState {
  capacity: number;
  held: Array<{ holder: string; expiresAtMs: number }>;
  waiting: string[];
  granted: number;
  maxHeldObserved: number;
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

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

export interface SlotRequest {
  /** Stable per piece of work (workflowId/activityId), so a retry re-takes its own slot. */
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
/** Gives a slot back. Idempotent. */
export const releaseSlotSignal = defineSignal<[string]>('release-slot');
/** Extends a held slot's lease (sent from the activity's heartbeat loop). */
export const renewSlotSignal = defineSignal<[string]>('renew-slot');
export const slotsStateQuery = defineQuery<SlotsState>('slots-state');

/**
 * The cap on warehouse work in flight, implemented deployment-wide by LeasedWarehouseSlots (a
 * share of the cap per worker process) or TemporalWarehouseSlots (a slot per date). The
 * seed's 8-worker parallel run opened 256 connections and hung BigQuery; every warehouse-touching
 * activity holds a slot for the duration of its queries.
 */

/** How the work done holding a slot went: what adaptive load learns from. */
export interface SlotOutcome {
  /** The kind of work (processor name, "validate", "plan"…): latencies are compared within a kind. */
  kind: string;
  ms: number;
  /** Failed with a transient warehouse error (rate limit, backend error, time-out). */
  transient?: boolean;
  /** A short description of that error, for the reason shown to the operator. */
  error?: string;
  /** Failed otherwise (bad input, cancelled): says nothing about the warehouse's load. */
  failed?: boolean;
}

export type ReleaseSlot = (outcome?: SlotOutcome) => Promise<void>;

export interface WarehouseSlots {
  /**
   * Waits for a free slot. `holder` identifies the work (stable across retries of one activity),
   * so a retry after a crash can take over the slot its previous attempt held.
   */
  acquire(holder: string, signal?: AbortSignal): Promise<ReleaseSlot>;
  /** Slots currently held (for metrics and tests). */
  inUse(): number;
  /** Gives back what this process holds when its worker stops. */
  close?(): Promise<void>;
}

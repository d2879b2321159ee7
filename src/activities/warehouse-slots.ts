/**
 * The cap on warehouse work in flight, implemented deployment-wide by TemporalWarehouseSlots. The
 * seed's 8-worker parallel run opened 256 connections and hung BigQuery; every warehouse-touching
 * activity holds a slot for the duration of its queries.
 */

export type ReleaseSlot = () => Promise<void>;

export interface WarehouseSlots {
  /**
   * Waits for a free slot. `holder` identifies the work (stable across retries of one activity),
   * so a retry after a crash can take over the slot its previous attempt held.
   */
  acquire(holder: string, signal?: AbortSignal): Promise<ReleaseSlot>;
  /** Slots currently held (for metrics and tests). */
  inUse(): number;
}

/**
 * Custom search attributes, so backfills can be filtered in the Web UI and `temporal workflow list`
 * (e.g. `BackfillStatus = "gate_failed"`). They must exist on the namespace: the worker registers
 * them at start-up, and the dev server is started with them.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const BACKFILL_ID = defineSearchAttributeKey('BackfillId', SearchAttributeType.KEYWORD);
export const BACKFILL_PHASE = defineSearchAttributeKey('BackfillPhase', SearchAttributeType.INT);
export const BACKFILL_PROCESSOR = defineSearchAttributeKey('BackfillProcessor', SearchAttributeType.KEYWORD);
export const BACKFILL_STATUS = defineSearchAttributeKey('BackfillStatus', SearchAttributeType.KEYWORD);
/**
 * The values BackfillStatus takes on a backfill (its stage, `paused` by an operator, or paused by
 * itself: `paused_failures` when a processor's failures passed the failure budget, `paused_cost`
 * when the next dates would pass the bytes-billed budget). Processors also take `running`,
 * `paused`, `paused_failures`, `completed` and `completed_with_failures`.
 */
export const BACKFILL_STATUS_VALUES = [
  'planning',
  'running',
  'paused',
  'paused_failures',
  'paused_cost',
  'validating',
  'gate_failed',
  'remediating',
  'completed',
] as const;
export const BACKFILL_PROGRESS = defineSearchAttributeKey('BackfillProgressPct', SearchAttributeType.INT);
/** Minutes until the whole backfill is expected to finish (0 when done). */
export const BACKFILL_ETA_MINUTES = defineSearchAttributeKey('BackfillEtaMinutes', SearchAttributeType.INT);

/** Name → type, in the form the dev server's `--search-attribute Name=Type` flag takes. */
export const CUSTOM_SEARCH_ATTRIBUTES: Record<string, 'Keyword' | 'Int'> = {
  BackfillId: 'Keyword',
  BackfillPhase: 'Int',
  BackfillProcessor: 'Keyword',
  BackfillStatus: 'Keyword',
  BackfillProgressPct: 'Int',
  BackfillEtaMinutes: 'Int',
};

/**
 * Phase 6 (exports): one JSON file of predictions and results per game date. Not a table
 * processor: the worker calls `exportDate` for each planned date, and the gate counts the files
 * with `listExportedDates` — both through the same ExportSink (src/exports).
 */
import type { ExportProcessorDef } from '../types';
import { predictionExports } from './prediction-exports';

export {
  buildDateExport,
  dateExportSchema,
  EXPORT_SCHEMA_VERSION,
  exportDate,
  exportObjectName,
  listExportedDates,
  PREDICTIONS_EXPORT_FOLDER,
  predictionExports,
  type DateExport,
} from './prediction-exports';

export const phase6Processors: readonly ExportProcessorDef[] = [predictionExports];

/**
 * Export sinks: where Phase 6 writes its files and where the phase gate looks for them. The
 * setting (`EXPORT_DIR`) picks the kind — a folder, or `gs://bucket/prefix` — in one place.
 */
import { GcsExportSink } from './gcs';
import { LocalExportSink } from './local';
import { parseExportDir } from './location';
import type { ExportSink } from './types';

export { GcsExportSink, type GcsExportSinkOptions } from './gcs';
export { LocalExportSink } from './local';
export { bucketNameProblem, parseExportDir } from './location';
export { ExportLocationError, type ExportLocation, type ExportSink } from './types';

export interface ExportSinkSettings {
  /** A folder, or `gs://bucket/prefix`. */
  exportDir: string;
  /** GCS JSON API endpoint of an emulator, for tests only; ignored for a local folder. */
  gcsApiEndpoint?: string;
}

/** The sink for a setting; throws ExportLocationError (one line) for a bad value. */
export function createExportSink(settings: ExportSinkSettings): ExportSink {
  const where = parseExportDir(settings.exportDir);
  switch (where.kind) {
    case 'local':
      return new LocalExportSink(where.dir);
    case 'gcs':
      return new GcsExportSink({
        bucket: where.bucket,
        prefix: where.prefix,
        ...(settings.gcsApiEndpoint ? { apiEndpoint: settings.gcsApiEndpoint } : {}),
      });
  }
}

/**
 * Where Phase 6 puts its files: one small interface used by the write (`exportDate`) and by the
 * phase gate's "which dates are exported" check (`listExportedDates`), so every worker host sees
 * the same answer whether the exports live in a local folder or in a GCS bucket.
 *
 * Object names are relative, `/`-separated (`predictions/2024-01-15.json`), the same on every sink.
 */

export interface ExportSink {
  /** The root, safe to print: an absolute folder or `gs://bucket/prefix` (never credentials). */
  readonly location: string;
  /** One line for messages, e.g. `local folder /srv/exports` or `GCS gs://bucket/prefix`. */
  describe(): string;
  /** Where one object lives: a file path or a `gs://` URL. */
  locationOf(name: string): string;
  /**
   * Writes one object atomically: a reader sees the previous content or the new content, never a
   * part of it, and writing a name again replaces its one object.
   */
  write(name: string, content: string, options: { contentType: string }): Promise<void>;
  /** Which of `names` exist directly under `folder` (one listing, not one request per name). */
  listPresent(folder: string, names: Iterable<string>): Promise<Set<string>>;
  /** The object's content, or undefined when there is none (for tests and reports). */
  read(name: string): Promise<string | undefined>;
  /** Removes one object; nothing to do when it does not exist (`backfill doctor` cleans up its probe). */
  delete(name: string): Promise<void>;
}

/** What an export location string means: `parseExportDir` turns settings into this. */
export type ExportLocation = { kind: 'local'; dir: string } | { kind: 'gcs'; bucket: string; prefix: string };

/** A bad export location setting; the message is one line naming the value and what is wrong. */
export class ExportLocationError extends Error {
  override name = 'ExportLocationError';
}

/**
 * The parts of a relative object name. Rejects absolute names, empty, `.` and `..` segments and
 * backslashes, so a name can never point outside the sink's root on either backend.
 */
export function objectNameParts(name: string): string[] {
  const parts = name.split('/');
  if (name === '' || name.includes('\\') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new Error(`not a relative object name: ${JSON.stringify(name)}`);
  }
  return parts;
}

/** The requested names as a set; each must be one segment (a direct child of the listed folder). */
export function wantedNames(names: Iterable<string>): Set<string> {
  const wanted = new Set<string>();
  for (const name of names) {
    if (objectNameParts(name).length !== 1) throw new Error(`not a name inside one folder: ${JSON.stringify(name)}`);
    wanted.add(name);
  }
  return wanted;
}

/**
 * The export location setting (`EXPORT_DIR`): a local folder, or `gs://bucket/prefix` for a GCS
 * bucket shared by every worker host. Bad values fail with one line before anything runs.
 */
import { ExportLocationError, type ExportLocation } from './types';

const GCS_SCHEME = 'gs://';

/** `local` for a folder, `gcs` for `gs://bucket[/prefix]`; throws ExportLocationError otherwise. */
export function parseExportDir(value: string): ExportLocation {
  if (value.trim() === '') throw new ExportLocationError('export location is empty: give a folder or gs://<bucket>/<prefix>');
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(value)?.[1];
  if (scheme === undefined) return { kind: 'local', dir: value };
  if (scheme !== 'gs') {
    throw new ExportLocationError(`export location "${value}": unsupported scheme "${scheme}://" (use a folder or gs://<bucket>/<prefix>)`);
  }
  const [bucket = '', ...rest] = value.slice(GCS_SCHEME.length).split('/');
  if (bucket === '') throw new ExportLocationError(`export location "${value}" names no bucket (expected gs://<bucket>/<prefix>)`);
  const problem = bucketNameProblem(bucket);
  if (problem !== undefined) throw new ExportLocationError(`export location "${value}": bucket name "${bucket}" ${problem}`);
  // `gs://b/a//c/` and `gs://b/a/c` are the same place: object names never have empty segments here.
  return { kind: 'gcs', bucket, prefix: rest.filter((p) => p !== '').join('/') };
}

/**
 * GCS bucket naming rules (cloud.google.com/storage/docs/buckets#naming): lowercase letters,
 * digits, `-`, `_` and `.`; starts and ends with a letter or digit; 3–63 characters, or up to 222
 * when dotted with no dot-separated part over 63; not an IPv4 address; no `goog` prefix and no
 * `google` (or the `g00gle` misspelling) inside. Undefined when the name is valid.
 */
export function bucketNameProblem(bucket: string): string | undefined {
  if (!/^[a-z0-9._-]+$/.test(bucket)) return 'may contain only lowercase letters, digits, "-", "_" and "."';
  if (!/^[a-z0-9]/.test(bucket) || !/[a-z0-9]$/.test(bucket)) return 'must start and end with a letter or digit';
  const parts = bucket.split('.');
  if (bucket.length < 3) return 'must be at least 3 characters long';
  if (parts.length === 1 && bucket.length > 63) return 'must be at most 63 characters long (222 with dots)';
  if (bucket.length > 222) return 'must be at most 222 characters long';
  if (parts.some((p) => p === '')) return 'must not contain ".."';
  if (parts.some((p) => p.length > 63)) return 'must have no dot-separated part longer than 63 characters';
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(bucket)) return 'must not be an IP address';
  if (bucket.startsWith('goog')) return 'must not start with "goog"';
  if (/g(o|0)(o|0)gle/.test(bucket)) return 'must not contain "google"';
  return undefined;
}

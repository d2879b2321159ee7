/**
 * Exports in a GCS bucket under a prefix (`gs://bucket/prefix/predictions/<date>.json`), so every
 * worker host writes and checks the same objects. Credentials come from Application Default
 * Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud, or the metadata server), resolved by the
 * client library; this class never reads, holds or prints them.
 */
import { IdempotencyStrategy, Storage, type Bucket, type StorageOptions } from '@google-cloud/storage';
import { objectNameParts, wantedNames, type ExportSink } from './types';

export interface GcsExportSinkOptions {
  bucket: string;
  /** Object-name prefix without leading or trailing `/`; empty for the bucket's root. */
  prefix: string;
  /** JSON API endpoint of an emulator (tests); production leaves it unset. */
  apiEndpoint?: string;
  /** Objects per listing page (the API's maximum is 1000); tests set it small to exercise paging. */
  listPageSize?: number;
}

export class GcsExportSink implements ExportSink {
  readonly location: string;
  private readonly bucket: Bucket;
  private readonly prefix: string;
  private readonly listPageSize: number;

  constructor(options: GcsExportSinkOptions) {
    this.prefix = options.prefix === '' ? '' : objectNameParts(options.prefix).join('/');
    this.location = `gs://${options.bucket}${this.prefix === '' ? '' : `/${this.prefix}`}`;
    this.listPageSize = options.listPageSize ?? 1000;
    const storageOptions: StorageOptions = {
      // Writing an export again is idempotent (same name, deterministic content), so the client
      // may retry unconditional uploads too, not only the ones carrying a generation precondition.
      retryOptions: { autoRetry: true, idempotencyStrategy: IdempotencyStrategy.RetryAlways },
      ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint } : {}),
    };
    this.bucket = new Storage(storageOptions).bucket(options.bucket);
  }

  describe(): string {
    return `GCS ${this.location}`;
  }

  locationOf(name: string): string {
    return `gs://${this.bucket.name}/${this.objectName(name)}`;
  }

  /**
   * One non-resumable upload (a single multipart request carrying metadata and content). GCS
   * makes an object visible only once its upload completes, and replaces a name's live object in
   * one step, so readers and listings see the old object or the new one — never part of one.
   * Resumable sessions would buy nothing for files this small and leave sessions behind on a crash.
   */
  async write(name: string, content: string, options: { contentType: string }): Promise<void> {
    await this.bucket.file(this.objectName(name)).save(content, {
      resumable: false,
      contentType: options.contentType,
      validation: 'crc32c',
    });
  }

  /** One prefix listing of the folder, page by page (manual paging so the page size is ours). */
  async listPresent(folder: string, names: Iterable<string>): Promise<Set<string>> {
    const wanted = wantedNames(names);
    const present = new Set<string>();
    if (wanted.size === 0) return present;
    const listPrefix = `${this.objectName(folder)}/`;
    let pageToken: string | undefined;
    do {
      const [files, next] = await this.bucket.getFiles({
        prefix: listPrefix,
        // Only the folder's direct children; deeper "subfolders" come back as prefixes, unread.
        delimiter: '/',
        autoPaginate: false,
        maxResults: this.listPageSize,
        ...(pageToken === undefined ? {} : { pageToken }),
      });
      for (const file of files) {
        const child = file.name.slice(listPrefix.length);
        if (wanted.has(child)) present.add(child);
      }
      pageToken = (next as { pageToken?: string } | null)?.pageToken || undefined;
    } while (pageToken !== undefined);
    return present;
  }

  async read(name: string): Promise<string | undefined> {
    try {
      const [content] = await this.bucket.file(this.objectName(name)).download();
      return content.toString('utf8');
    } catch (err) {
      if ((err as { code?: unknown }).code === 404) return undefined;
      throw err;
    }
  }

  async delete(name: string): Promise<void> {
    await this.bucket.file(this.objectName(name)).delete({ ignoreNotFound: true });
  }

  private objectName(name: string): string {
    const relative = objectNameParts(name).join('/');
    return this.prefix === '' ? relative : `${this.prefix}/${relative}`;
  }
}

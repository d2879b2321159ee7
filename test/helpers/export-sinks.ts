/**
 * Every export sink kind that can run here, for `describe.each`: a local temp folder, and a bucket
 * on fake-gcs-server reached through the real @google-cloud/storage client. Each `newSink()` is a
 * fresh, empty root (a folder or a prefix), so specs in one file do not see each other's objects.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Storage } from '@google-cloud/storage';
import { createExportSink, GcsExportSink, LocalExportSink, type ExportSink } from '../../src/exports';
import { startFakeGcsServer, type FakeGcsServer } from './fake-gcs';

export interface SinkUnderTest {
  sink: ExportSink;
  /** Every object under the sink's root, relative and sorted: temporary files included. */
  allNames: () => Promise<string[]>;
  /** The stored content type (GCS keeps one per object; a local file has none: undefined). */
  contentType: (name: string) => Promise<string | undefined>;
}

export interface SinkBackend {
  kind: 'local' | 'gcs';
  /** In beforeAll: make the temp folder, or start the emulator and create the bucket. */
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  /** A fresh root through createExportSink; with `listPageSize`, the sink class directly. */
  newSink(options?: { listPageSize?: number }): SinkUnderTest;
}

let roots = 0;
const nextRoot = (): string => `root-${process.pid}-${++roots}`;

export function localBackend(): SinkBackend {
  let dir = '';
  return {
    kind: 'local',
    async setUp() {
      dir = await fs.mkdtemp(path.join(os.tmpdir(), 'props-backfill-exports-'));
    },
    async tearDown() {
      if (dir !== '') await fs.rm(dir, { recursive: true, force: true });
    },
    newSink(options = {}) {
      const root = path.join(dir, nextRoot());
      const sink = options.listPageSize === undefined ? createExportSink({ exportDir: root }) : new LocalExportSink(root);
      return {
        sink,
        async allNames() {
          const entries = await fs.readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
          return entries
            .filter((e) => e.isFile())
            .map((e) => path.relative(root, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
            .sort();
        },
        contentType: () => Promise.resolve(undefined),
      };
    },
  };
}

export function gcsBackend(bucket = 'props-backfill-test'): SinkBackend {
  let server: FakeGcsServer | undefined;
  const emulator = (): FakeGcsServer => {
    if (!server) throw new Error('gcsBackend: setUp() has not run (or failed)');
    return server;
  };
  return {
    kind: 'gcs',
    async setUp() {
      server = await startFakeGcsServer();
      await server.createBucket(bucket);
    },
    async tearDown() {
      await server?.stop();
    },
    newSink(options = {}) {
      const { endpoint } = emulator();
      const prefix = `${nextRoot()}/exports`;
      const sink =
        options.listPageSize === undefined
          ? createExportSink({ exportDir: `gs://${bucket}/${prefix}`, gcsApiEndpoint: endpoint })
          : new GcsExportSink({ bucket, prefix, apiEndpoint: endpoint, listPageSize: options.listPageSize });
      const client = new Storage({ apiEndpoint: endpoint }).bucket(bucket);
      return {
        sink,
        async allNames() {
          const [files] = await client.getFiles({ prefix: `${prefix}/` });
          return files.map((f) => f.name.slice(prefix.length + 1)).sort();
        },
        async contentType(name) {
          const [metadata] = await client.file(`${prefix}/${name}`).getMetadata();
          return metadata.contentType;
        },
      };
    },
  };
}

export const SINK_BACKENDS: readonly SinkBackend[] = [localBackend(), gcsBackend()];

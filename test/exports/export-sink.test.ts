/**
 * One spec for every export sink: a local folder, and GCS through the real client against
 * fake-gcs-server. Writes are atomic and replace, listings answer "which of these names exist" for
 * exactly one folder (prefixes respected, every page read), and bad locations fail in one line.
 */
import { Bucket } from '@google-cloud/storage';
import { bucketNameProblem, createExportSink, ExportLocationError, GcsExportSink, LocalExportSink, parseExportDir } from '../../src/exports';
import { SINK_BACKENDS } from '../helpers/export-sinks';

const JSON_TYPE = { contentType: 'application/json; charset=utf-8' };

describe.each(SINK_BACKENDS)('$kind export sink', (backend) => {
  beforeAll(() => backend.setUp());
  afterAll(() => backend.tearDown());
  afterEach(() => jest.restoreAllMocks());

  test('writes an object and reads it back; an absent one reads as undefined', async () => {
    const { sink, allNames } = backend.newSink();
    await sink.write('predictions/2024-01-15.json', '{"a":1}\n', JSON_TYPE);
    expect(await sink.read('predictions/2024-01-15.json')).toBe('{"a":1}\n');
    expect(await sink.read('predictions/2024-01-16.json')).toBeUndefined();
    expect(await allNames()).toEqual(['predictions/2024-01-15.json']);
  });

  test('delete removes one object and leaves the rest; deleting an absent one is no error', async () => {
    const { sink, allNames } = backend.newSink();
    await sink.write('predictions/2024-01-15.json', 'a', JSON_TYPE);
    await sink.write('predictions/2024-01-16.json', 'b', JSON_TYPE);
    await sink.delete('predictions/2024-01-15.json');
    expect(await sink.read('predictions/2024-01-15.json')).toBeUndefined();
    expect(await allNames()).toEqual(['predictions/2024-01-16.json']);
    await expect(sink.delete('predictions/2024-01-15.json')).resolves.toBeUndefined();
  });

  test('writing a name again leaves one object with the new content', async () => {
    const { sink, allNames } = backend.newSink();
    await sink.write('predictions/2024-01-15.json', 'old', JSON_TYPE);
    await sink.write('predictions/2024-01-15.json', 'new', JSON_TYPE);
    expect(await sink.read('predictions/2024-01-15.json')).toBe('new');
    expect(await allNames()).toEqual(['predictions/2024-01-15.json']);
  });

  test('a GCS object carries the content type it was written with', async () => {
    const { sink, contentType } = backend.newSink();
    await sink.write('predictions/2024-01-15.json', '{}', JSON_TYPE);
    expect(await contentType('predictions/2024-01-15.json')).toBe(backend.kind === 'gcs' ? JSON_TYPE.contentType : undefined);
  });

  test('a reader during a rewrite sees the old content or the new, never a mix', async () => {
    const { sink } = backend.newSink();
    const [a, b] = ['a'.repeat(2_000_000), 'b'.repeat(2_000_000)];
    await sink.write('big.json', a, JSON_TYPE);
    const writing = sink.write('big.json', b, JSON_TYPE);
    const seen = await Promise.all(Array.from({ length: 5 }, () => sink.read('big.json')));
    await writing;
    for (const content of seen) expect(content === a || content === b).toBe(true);
    expect(await sink.read('big.json')).toBe(b);
  });

  test('lists which of the requested names exist in the folder', async () => {
    const { sink } = backend.newSink();
    await sink.write('predictions/2024-01-15.json', '1', JSON_TYPE);
    await sink.write('predictions/2024-01-17.json', '3', JSON_TYPE);
    await sink.write('predictions/notes.txt', 'not asked for', JSON_TYPE);
    const asked = ['2024-01-15.json', '2024-01-16.json', '2024-01-17.json', '2024-01-18.json'];
    expect(await sink.listPresent('predictions', asked)).toEqual(new Set(['2024-01-15.json', '2024-01-17.json']));
    expect(await sink.listPresent('predictions', [])).toEqual(new Set());
    expect(await sink.listPresent('never-written', asked)).toEqual(new Set());
  });

  test('a listing sees only its own folder: not other roots, sibling prefixes or subfolders', async () => {
    const { sink } = backend.newSink();
    const other = backend.newSink().sink;
    await other.write('predictions/2024-01-15.json', 'another root', JSON_TYPE);
    await sink.write('predictions-old/2024-01-16.json', 'a sibling prefix', JSON_TYPE);
    await sink.write('predictions/archive/2024-01-17.json', 'a subfolder', JSON_TYPE);
    await sink.write('2024-01-18.json', 'the root', JSON_TYPE);
    const asked = ['2024-01-15.json', '2024-01-16.json', '2024-01-17.json', '2024-01-18.json'];
    expect(await sink.listPresent('predictions', asked)).toEqual(new Set());
    expect(await other.listPresent('predictions', asked)).toEqual(new Set(['2024-01-15.json']));
  });

  test('a folder holding more objects than one listing page is listed completely', async () => {
    const { sink } = backend.newSink({ listPageSize: 3 });
    const names = Array.from({ length: 8 }, (_, i) => `2024-02-${String(i + 1).padStart(2, '0')}.json`);
    for (const name of names) await sink.write(`predictions/${name}`, name, JSON_TYPE);
    const pages = jest.spyOn(Bucket.prototype, 'getFiles');
    const present = await sink.listPresent('predictions', [...names, '2024-03-01.json', '2024-03-02.json']);
    expect(present).toEqual(new Set(names));
    // 8 objects, 3 a page: GCS needs three list requests (the local folder, none).
    expect(pages).toHaveBeenCalledTimes(backend.kind === 'gcs' ? 3 : 0);
  });

  test('names that leave the root are refused', async () => {
    const { sink } = backend.newSink();
    for (const bad of ['../escape.json', '/abs.json', 'predictions//x.json', 'a\\b.json', '']) {
      await expect(sink.write(bad, 'x', JSON_TYPE)).rejects.toThrow(/not a relative object name/);
    }
    await expect(sink.listPresent('predictions', ['nested/x.json'])).rejects.toThrow(/not a name inside one folder/);
  });

  test('describe() and locations name the place, and nothing else', () => {
    const { sink } = backend.newSink();
    if (backend.kind === 'gcs') {
      expect(sink).toBeInstanceOf(GcsExportSink);
      expect(sink.location).toMatch(/^gs:\/\/props-backfill-test\/root-\d+-\d+\/exports$/);
      expect(sink.describe()).toBe(`GCS ${sink.location}`);
      expect(sink.locationOf('predictions/2024-01-15.json')).toBe(`${sink.location}/predictions/2024-01-15.json`);
    } else {
      expect(sink).toBeInstanceOf(LocalExportSink);
      expect(sink.describe()).toBe(`local folder ${sink.location}`);
      expect(sink.locationOf('predictions/2024-01-15.json')).toBe(`${sink.location}/predictions/2024-01-15.json`);
    }
  });
});

describe('parseExportDir', () => {
  test.each([
    ['.data/exports', { kind: 'local', dir: '.data/exports' }],
    ['/srv/exports', { kind: 'local', dir: '/srv/exports' }],
    ['gs://my-bucket', { kind: 'gcs', bucket: 'my-bucket', prefix: '' }],
    ['gs://my-bucket/', { kind: 'gcs', bucket: 'my-bucket', prefix: '' }],
    ['gs://my_bucket.example.com/nba//props/', { kind: 'gcs', bucket: 'my_bucket.example.com', prefix: 'nba/props' }],
  ])('%s', (value, expected) => {
    expect(parseExportDir(value)).toEqual(expected);
  });

  test.each([
    ['gs://', /names no bucket/],
    ['gs:///x', /names no bucket/],
    ['gs://Bad_Bucket!/x', /bucket name "Bad_Bucket!" may contain only lowercase letters, digits/],
    ['', /export location is empty/],
    ['   ', /export location is empty/],
    ['s3://bucket/x', /unsupported scheme "s3:\/\/"/],
  ])('%j is refused in one line', (value, message) => {
    const err: unknown = (() => {
      try {
        parseExportDir(value);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ExportLocationError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
    expect(() => createExportSink({ exportDir: value })).toThrow(message);
  });

  test.each([
    ['ab', /at least 3/],
    ['a'.repeat(64), /at most 63/],
    [`${'a'.repeat(63)}.${'b'.repeat(63)}`, undefined],
    [`${'a'.repeat(64)}.b`, /no dot-separated part longer than 63/],
    ['a..b', /must not contain "\.\."/],
    ['-abc', /start and end with a letter or digit/],
    ['abc_', /start and end with a letter or digit/],
    ['192.168.1.1', /IP address/],
    ['goog-exports', /must not start with "goog"/],
    ['my-g00gle-exports', /must not contain "google"/],
    ['nba-props_2024.exports', undefined],
  ])('bucket name %j', (bucket, problem) => {
    if (problem === undefined) expect(bucketNameProblem(bucket)).toBeUndefined();
    else expect(bucketNameProblem(bucket)).toMatch(problem);
  });
});

/**
 * Exports in a folder on this host's disk: fine for one worker, or for several sharing a mounted
 * volume. Atomic by write-then-rename: a crashed attempt leaves at most a stray dot-file `.tmp`
 * next to the target, which no listing reports because only the requested names are matched.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { objectNameParts, wantedNames, type ExportSink } from './types';

export class LocalExportSink implements ExportSink {
  readonly location: string;

  constructor(dir: string) {
    this.location = path.resolve(dir);
  }

  describe(): string {
    return `local folder ${this.location}`;
  }

  locationOf(name: string): string {
    return path.join(this.location, ...objectNameParts(name));
  }

  /** Write to a temporary file next to the target, then rename over it (atomic on one file system). */
  async write(name: string, content: string): Promise<void> {
    const file = this.locationOf(name);
    const dir = path.dirname(file);
    await fs.mkdir(dir, { recursive: true });
    const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomUUID()}.tmp`);
    try {
      await fs.writeFile(tmp, content, 'utf8');
      await fs.rename(tmp, file);
    } catch (err) {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
  }

  async listPresent(folder: string, names: Iterable<string>): Promise<Set<string>> {
    const wanted = wantedNames(names);
    if (wanted.size === 0) return new Set();
    let entries;
    try {
      entries = await fs.readdir(this.locationOf(folder), { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
      throw err;
    }
    return new Set(entries.filter((e) => e.isFile() && wanted.has(e.name)).map((e) => e.name));
  }

  async delete(name: string): Promise<void> {
    await fs.rm(this.locationOf(name), { force: true });
  }

  async read(name: string): Promise<string | undefined> {
    try {
      return await fs.readFile(this.locationOf(name), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }
}

/** The embedded default engine: one DuckDB file, zero set-up. */
import path from 'node:path';
import { z } from 'zod';
import { defineEngine } from '../engine';
import { duckdbDialect } from './dialect';
import { DuckDbWarehouse } from './warehouse';

export { duckdbDialect, duckdbTypes } from './dialect';
export { classifyDuckDbError, DuckDbWarehouse, type DuckDbWarehouseOptions } from './warehouse';

export const duckdbEngine = defineEngine({
  kind: 'duckdb',
  description: 'embedded DuckDB file (the zero-setup default)',
  settings: {
    duckdbPath: z.string().min(1).default(path.join('.data', 'warehouse.duckdb')),
    /**
     * DuckDB's buffer-pool limit: a number and KB, MB or GB (DuckDB's own default is 80 % of RAM).
     * 128MB holds a date's working set; the rest of the file stays in the OS page cache, where it
     * costs the worker no RSS. The full demo's file is ~150 MB: at 512MB DuckDB kept all of it
     * (182–198 MiB by its own count, worker peak RSS 624–657 MiB); at 128MB 120–122 MiB and a peak
     * of 569–578 MiB, the plain loop ~5–10 % slower (`npm run bench`, README).
     */
    duckdbMemoryLimit: z
      .string()
      .regex(/^\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)$/i, 'a size such as 512MB or 2GB')
      .default('128MB'),
  },
  env: { DUCKDB_PATH: 'duckdbPath', DUCKDB_MEMORY_LIMIT: 'duckdbMemoryLimit' },
  // One file is one warehouse, whichever relative path names it.
  capKey: (s) => `duckdb:${path.resolve(s.duckdbPath)}`,
  dialect: () => duckdbDialect,
  create: (s) => new DuckDbWarehouse({ path: s.duckdbPath, memoryLimit: s.duckdbMemoryLimit }),
  describe: (s) => ({ duckdbPath: path.resolve(s.duckdbPath) }),
});

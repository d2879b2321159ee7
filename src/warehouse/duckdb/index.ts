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
     * Not lower: at 128MB the full demo's heavier Phase 4 dates failed with DuckDB's "Out of Memory
     * Error" (four dates in flight pin more than that), although the worker's RSS fell ~60 MiB.
     */
    duckdbMemoryLimit: z
      .string()
      .regex(/^\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)$/i, 'a size such as 512MB or 2GB')
      .default('512MB'),
    /**
     * DuckDB's own worker threads. 1: each statement runs on the thread that issued it, and the
     * warehouse cap's statements in flight are the parallelism — DuckDB's extra threads only added
     * scheduling beside them. Full bench on 2 cores, four runs: the worker 109.7–114.7 s (default 2:
     * 114.9–132.2 s), peak RSS 573–605 MiB, the plain loop faster too (README). Raise it on a big host
     * for the gates' whole-range queries.
     */
    duckdbThreads: z.coerce.number().int().min(1).max(256).default(1),
  },
  env: { DUCKDB_PATH: 'duckdbPath', DUCKDB_MEMORY_LIMIT: 'duckdbMemoryLimit', DUCKDB_THREADS: 'duckdbThreads' },
  // One file is one warehouse, whichever relative path names it.
  capKey: (s) => `duckdb:${path.resolve(s.duckdbPath)}`,
  dialect: () => duckdbDialect,
  create: (s) => new DuckDbWarehouse({ path: s.duckdbPath, memoryLimit: s.duckdbMemoryLimit, threads: s.duckdbThreads }),
  describe: (s) => ({ duckdbPath: path.resolve(s.duckdbPath) }),
});

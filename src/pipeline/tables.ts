/**
 * The tables the pipeline reads and writes, created empty when missing, so no query ever fails on
 * a missing table and a fresh warehouse (DuckDB file or BigQuery project) is ready to run.
 */
import type { Warehouse } from '../warehouse/types';
import { ensureProcessorTable } from './engine';
import { RAW_TABLES } from './raw';
import { tableProcessors } from './registry';

export async function ensureWarehouseTables(warehouse: Warehouse): Promise<void> {
  for (const spec of RAW_TABLES) await warehouse.ensureTable(spec);
  for (const def of tableProcessors()) await ensureProcessorTable(warehouse, def);
}

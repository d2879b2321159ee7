/**
 * Every statement the BigQuery engine would send, proven valid offline by ZetaSQL, Google's
 * GoogleSQL reference analyser, under BigQuery's language options.
 *
 * The statements are not written out by hand: the real BigQueryWarehouse runs every code path —
 * the DDL of every table, each processor's required-input check, its per-date MERGE and its skip
 * rule, date planning, every phase gate, dedupe, the export queries, seeding, dry runs — against the
 * local BigQuery API contract server (test/helpers/bigquery-api.ts), which records each job's SQL
 * and typed parameters exactly as they went over the wire. Those are then analysed against a catalog
 * built from our table specs, with the configured (renamed) dataset names.
 *
 * This proves *validity* (names, types, signatures, BigQuery syntax); *meaning* is proven by the
 * same SQL on DuckDB against hand-worked fixtures (test/pipeline), and client behaviour by the
 * contract test (bigquery-contract.test.ts). `npm run check:bigquery-sql` runs this file alone.
 */
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config';
import { createExportSink } from '../../src/exports';
import { listGameDates, planProcessorDates } from '../../src/pipeline/dates';
import { seedDemoData } from '../../src/pipeline/demo';
import { runTableProcessor } from '../../src/pipeline/engine';
import { exportDate } from '../../src/pipeline/phase6';
import { planBackfill } from '../../src/pipeline/plan';
import { buildBackfillReport } from '../../src/report/build';
import { RAW_TABLES } from '../../src/pipeline/raw';
import { ALL_PROCESSORS, planPhases, tableProcessors } from '../../src/pipeline/registry';
import { ensureWarehouseTables } from '../../src/pipeline/tables';
import { withTrackingColumns } from '../../src/pipeline/types';
import { validatePhase } from '../../src/pipeline/validation';
import { mapDataset } from '../../src/warehouse/bigquery';
import { createWarehouse, type TableSpec, type Warehouse } from '../../src/warehouse';
import { startBigQueryContractServer, type BigQueryContractServer } from '../helpers/bigquery-api';
import { tempDir } from '../helpers/harness';
import { analyseBigQuerySql, type ZetaStatement, type ZetaTable } from '../helpers/zetasql';

const PROJECT = 'nba-props-platform';
const DATE = '2024-11-05';
const FROM = '2024-10-22';
const TO = '2024-11-12';

let server: BigQueryContractServer;
let config: Config;
let warehouse: Warehouse;
const statements: ZetaStatement[] = [];

/** Runs `step` and names every job it sent `<name>#<n>`; errors (empty answers) are expected and ignored. */
async function capture(name: string, step: () => Promise<unknown>): Promise<number> {
  const before = server.jobs.length;
  await step().catch(() => undefined);
  const jobs = server.jobs.slice(before);
  jobs.forEach((job, i) => {
    statements.push({
      id: `${name}#${i + 1}${job.dryRun ? ' (dry run)' : ''}`,
      sql: job.query,
      params: Object.fromEntries(Object.entries(job.params).map(([k, v]) => [k, v.type])),
    });
  });
  return jobs.length;
}

function catalog(): ZetaTable[] {
  const mapping = { prefix: config.bigqueryDatasetPrefix, datasets: config.bigqueryDatasets };
  const specs: TableSpec[] = [...RAW_TABLES, ...tableProcessors().map((d) => withTrackingColumns(d.target))];
  return specs.map((s) => ({
    project: PROJECT,
    dataset: mapDataset(mapping, s.dataset),
    table: s.table,
    columns: s.columns.map((c) => ({ name: c.name, type: c.type })),
  }));
}

beforeAll(async () => {
  server = await startBigQueryContractServer({ projectId: PROJECT });
  // Answers that steer each code path past its early exits: the export only queries its rows when
  // its inputs have some, and the dry run only prices dates the schedule has.
  server.respond((job) => {
    if (/AS predictions,/.test(job.query)) {
      return { schema: [{ name: 'predictions', type: 'INTEGER' }, { name: 'graded', type: 'INTEGER' }], rows: [{ predictions: 1, graded: 1 }] };
    }
    if (/AS day_of_season/.test(job.query)) {
      return {
        schema: [{ name: 'date', type: 'DATE' }, { name: 'season', type: 'STRING' }, { name: 'day_of_season', type: 'INTEGER' }],
        rows: [{ date: DATE, season: '2024-25', day_of_season: 20 }],
      };
    }
    return undefined;
  });
  // A renamed dataset and a prefix, so the check also proves the mapping reaches every statement.
  config = loadConfig({
    WAREHOUSE: 'bigquery',
    BIGQUERY_PROJECT: PROJECT,
    BIGQUERY_DATASET_PREFIX: 'bf_',
    BIGQUERY_DATASETS: 'nba_analytics=prod_nba_analytics',
    BIGQUERY_API_ENDPOINT: server.url,
  });
  warehouse = createWarehouse(config);

  await capture('ddl', () => ensureWarehouseTables(warehouse));
  await capture('plan/listGameDates', () => listGameDates(warehouse, FROM, TO));
  for (const def of ALL_PROCESSORS) {
    await capture(`${def.name}/plan`, () => planProcessorDates(warehouse, def, FROM, TO, 14));
  }
  for (const def of tableProcessors()) {
    await capture(`${def.name}/write`, () => runTableProcessor(warehouse, def, DATE, { backfillId: 'backfill-check' }));
    await capture(`${def.name}/dedupe`, () =>
      warehouse.deduplicate({
        target: withTrackingColumns(def.target),
        keyColumns: def.keyColumns,
        dateColumn: def.dateColumn,
        from: FROM,
        to: TO,
        orderBy: 'processed_at',
      }),
    );
  }
  for (const plan of planPhases([3, 4, 5, 6])) {
    const defs = plan.groups.flat().map((n) => ALL_PROCESSORS.find((p) => p.name === n)!);
    await capture(`gate/phase${plan.phase}`, () =>
      validatePhase(warehouse, plan.phase, defs, { from: FROM, to: TO, bootstrapDays: 14, exportedDates: () => Promise.resolve(new Set<string>()) }),
    );
  }
  // The export first checks its input tables exist (tables.get): they do, once the DDL has run.
  for (const def of tableProcessors()) server.tables.add(`${mapDataset({ prefix: config.bigqueryDatasetPrefix, datasets: config.bigqueryDatasets }, def.target.dataset)}.${def.target.table}`);
  await capture('prediction_exports/export', () =>
    exportDate(warehouse, DATE, createExportSink({ exportDir: path.join(tempDir('bq-sql'), 'exports') }), { backfillId: 'backfill-check' }),
  );
  await capture('report', () =>
    buildBackfillReport({
      warehouse,
      exportSink: createExportSink({ exportDir: path.join(tempDir('bq-sql'), 'exports') }),
      status: { id: 'backfill-check', status: 'COMPLETED', progress: null, result: null },
      request: { from: FROM, to: TO, phases: [3, 4, 5, 6], bootstrapDays: 14 },
    }),
  );
  await capture('dry-run plan', () => planBackfill(warehouse, { from: FROM, to: TO, phases: [3, 4, 5], bootstrapDays: 14 }));
  await capture('seed-demo', () => seedDemoData(warehouse, { preset: 'tiny', from: FROM, to: '2024-10-23' }));
});

afterAll(async () => {
  await warehouse?.close();
  await server?.close();
});

test('every code path sent its statements (the capture is complete)', () => {
  const ids = statements.map((s) => s.id);
  const has = (prefix: string): boolean => ids.some((id) => id.startsWith(prefix));
  expect(has('ddl#')).toBe(true);
  expect(statements.filter((s) => s.id.startsWith('ddl#') && /CREATE TABLE/.test(s.sql))).toHaveLength(
    RAW_TABLES.length + tableProcessors().length,
  );
  for (const def of tableProcessors()) {
    // Required input (where declared), the schedule fallback, the MERGE.
    const writes = statements.filter((s) => s.id.startsWith(`${def.name}/write#`));
    expect(writes.some((s) => /^MERGE /.test(s.sql))).toBe(true);
    if (def.requiredInput) expect(writes.length).toBeGreaterThanOrEqual(2);
    expect(has(`${def.name}/dedupe#`)).toBe(true);
    if (def.skipRule) expect(statements.filter((s) => s.id.startsWith(`${def.name}/plan#`)).length).toBeGreaterThanOrEqual(2);
  }
  for (const phase of [3, 4, 5, 6]) expect(has(`gate/phase${phase}#`)).toBe(true);
  expect(statements.filter((s) => s.id.startsWith('prediction_exports/export#')).length).toBeGreaterThanOrEqual(2);
  expect(statements.some((s) => s.id.includes('(dry run)'))).toBe(true);
  expect(has('seed-demo#')).toBe(true);
  // The report reads every processor table's dates and write times.
  expect(statements.filter((s) => s.id.startsWith('report#') && /AS written_at/.test(s.sql))).toHaveLength(tableProcessors().length);
  // The dry run reads every planned table processor's earlier runs for its duration estimate.
  expect(statements.filter((s) => s.id.startsWith('dry-run plan#') && /AS last_processed_at/.test(s.sql))).toHaveLength(
    tableProcessors().filter((d) => d.phase <= 5).length,
  );
  // Every table reference went through the mapping: nothing names a logical dataset directly.
  for (const s of statements) expect(s.sql).not.toMatch(/`nba-props-platform\.nba_/);
  // Dates travel as DATE parameters, never as strings.
  for (const s of statements) {
    for (const [name, type] of Object.entries(s.params)) {
      if (/^(date|from|to|replace_date|dedupe_from|dedupe_to)$/.test(name)) expect(`${s.id} @${name} ${type}`).toBe(`${s.id} @${name} DATE`);
    }
  }
});

test('ZetaSQL accepts every statement the BigQuery engine sends, and rejects the broken control', async () => {
  const write = statements.find((s) => s.id.startsWith('player_game_summary/write#') && /^MERGE /.test(s.sql))!;
  // Negative controls: the analyser must reject these, or this check proves nothing.
  const controls: ZetaStatement[] = [
    { id: 'control: unknown column in the write', sql: write.sql.replace(/\bpoints\b/, 'pointz'), params: write.params, expectError: true },
    { id: "control: DuckDB's date_diff", sql: "SELECT date_diff('day', DATE '2024-01-01', DATE '2024-01-02')", params: {}, expectError: true },
    { id: 'control: a logical dataset name not in the catalog', sql: `SELECT count(*) FROM \`${PROJECT}.nba_analytics.player_game_summary\``, params: {}, expectError: true },
  ];
  const { results, summary } = await analyseBigQuerySql({ tables: catalog(), statements: [...statements, ...controls] });
  const failures = results.filter((r) => !r.pass).map((r) => `${r.id}: ${r.error ?? 'accepted but expected to be rejected'}`);
  expect(failures).toEqual([]);
  expect(summary.analysed).toBe(statements.length + controls.length);
  expect(summary.rejected).toBe(controls.length);
  for (const c of controls) expect(results.find((r) => r.id === c.id)?.ok).toBe(false);
  process.stdout.write(
    `\nZetaSQL (BigQuery language options) analysed ${statements.length} statements the BigQuery engine sends ` +
      `(${new Set(statements.map((s) => s.sql)).size} distinct): all accepted; ${controls.length} negative controls rejected.\n`,
  );
});

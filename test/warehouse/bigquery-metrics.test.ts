/**
 * Bytes billed on BigQuery reach `backfill_bigquery_bytes_billed_total`: the real BigQuery engine,
 * wrapped in the metrics decorator, runs jobs against the BigQuery API contract server, whose
 * answers carry statistics.query.totalBytesBilled; the counter, scraped over HTTP, adds exactly
 * the billed bytes — not the processed bytes, which the answers set differently — by operation and
 * processor, and dry runs (billed nothing) add nothing.
 */
import { createBackfillMetrics, instrumentWarehouse, METRIC_NAMES, startMetricsServer, type MetricsServer } from '../../src/metrics';
import { BigQueryWarehouse } from '../../src/warehouse/bigquery';
import { canEstimateBytes, sqlDate, type TableSpec } from '../../src/warehouse/types';
import { startBigQueryContractServer, type BigQueryContractServer } from '../helpers/bigquery-api';
import { scrape, total } from '../helpers/prometheus';

const PROJECT = 'contract-proj';
const MIB = 2 ** 20;

const target: TableSpec = {
  dataset: 'nba_analytics',
  table: 'player_game_summary',
  columns: [
    { name: 'game_id', type: 'STRING' },
    { name: 'game_date', type: 'DATE' },
    { name: 'points', type: 'INT64' },
    { name: 'source_backfill_id', type: 'STRING' },
  ],
  partitionColumn: 'game_date',
};
const replaceArgs = (date: string) => ({
  target,
  dateColumn: 'game_date',
  date,
  selectSql: 'SELECT game_id, game_date, points FROM `contract-proj.nba_raw.player_boxscores` WHERE game_date = @date',
  params: { date: sqlDate(date), backfill_id: 'bf-1' },
  extraColumns: { source_backfill_id: '@backfill_id' },
});

let server: BigQueryContractServer;
let endpoint: MetricsServer;

beforeAll(async () => {
  server = await startBigQueryContractServer({ projectId: PROJECT });
});
afterAll(async () => {
  await endpoint?.close();
  await server?.close();
});

test('the bytes-billed counter adds what BigQuery billed for each job, by operation and processor', async () => {
  const metrics = createBackfillMetrics();
  const engine = new BigQueryWarehouse({
    project: PROJECT,
    location: 'US',
    mapping: { prefix: '', datasets: {} },
    maxBytesBilled: 5 * 2 ** 30,
    jobTimeoutMs: 600_000,
    apiEndpoint: server.url,
    pollIntervalMs: 5,
  });
  const warehouse = instrumentWarehouse(engine, metrics);
  expect(canEstimateBytes(warehouse)).toBe(true);
  endpoint = await startMetricsServer({ address: '127.0.0.1:0', metrics });

  // Billed differs from processed (BigQuery rounds up to 10 MiB per table and 1 MiB per table scanned).
  server.respond((job) => {
    if (job.dryRun) return { totalBytesProcessed: 999 * MIB };
    if (/^MERGE /.test(job.query)) return { totalBytesProcessed: 3 * MIB + 5, totalBytesBilled: 20 * MIB, dmlStats: { insertedRowCount: 7 } };
    return { totalBytesProcessed: 1234, totalBytesBilled: 10 * MIB, schema: [{ name: 'n', type: 'INTEGER' }], rows: [{ n: 1 }] };
  });
  const labels = (processor: string) => ({ labels: { backfill: 'bf-1', processor, date: '2024-01-05' } });
  await warehouse.replacePartition(replaceArgs('2024-01-05'), labels('player_game_summary'));
  await warehouse.replacePartition(replaceArgs('2024-01-06'), labels('player_game_summary'));
  await warehouse.query('SELECT count(*) AS n FROM `contract-proj.nba_raw.schedule`', undefined, labels('team_offense_game_summary'));
  await warehouse.dryRunQuery('SELECT 1');
  await warehouse.dryRunReplacePartition(replaceArgs('2024-01-07'));
  expect(server.jobs.filter((j) => j.dryRun)).toHaveLength(2);

  const { body } = await scrape(endpoint.url);
  const billed = (match: Record<string, string>): number => total(body, METRIC_NAMES.bytesBilled, match);
  expect(billed({ operation: 'replace_partition', processor: 'player_game_summary' })).toBe(40 * MIB);
  expect(billed({ operation: 'query', processor: 'team_offense_game_summary' })).toBe(10 * MIB);
  // Exactly the billed bytes: neither the processed bytes nor the dry runs' estimates.
  expect(billed({})).toBe(50 * MIB);
  // The same calls timed in the histogram, dry runs under their own operations.
  const count = (operation: string): number => total(body, `${METRIC_NAMES.warehouseDuration}_count`, { operation });
  expect([count('replace_partition'), count('query'), count('dry_run_query'), count('dry_run_replace_partition')]).toEqual([2, 1, 1, 1]);
  // No runtime exporter configured: ours alone, and it says so.
  expect(total(body, METRIC_NAMES.temporalRuntimeUp)).toBe(0);
});

test("a failed job's billed bytes count too, and its failure is timed under its error kind", async () => {
  const metrics = createBackfillMetrics();
  const warehouse = instrumentWarehouse(
    new BigQueryWarehouse({
      project: PROJECT,
      location: 'US',
      mapping: { prefix: '', datasets: {} },
      maxBytesBilled: 5 * 2 ** 30,
      jobTimeoutMs: 600_000,
      apiEndpoint: server.url,
      pollIntervalMs: 5,
    }),
    metrics,
  );
  // Failing while it runs (seen on jobs.get), as BigQuery reports a job that was billed and then failed.
  server.respond(() => ({ runningPolls: 1, totalBytesBilled: 10 * MIB, jobError: { reason: 'invalidQuery', message: 'Syntax error: Unexpected end of script' } }));
  await expect(warehouse.execute('DELETE FROM x WHERE', undefined, { labels: { processor: 'p' } })).rejects.toThrow(/invalidQuery/);
  const text = await metrics.registry.metrics();
  expect(total(text, METRIC_NAMES.bytesBilled, { operation: 'execute', processor: 'p' })).toBe(10 * MIB);
  expect(total(text, `${METRIC_NAMES.warehouseDuration}_count`, { operation: 'execute', outcome: 'syntax' })).toBe(1);
  expect(total(text, METRIC_NAMES.warehouseInFlight)).toBe(0);
});

/**
 * `backfill start --dry-run` on BigQuery, end to end through the CLI, against the BigQuery API
 * contract server: the plan's per-processor bytes come from BigQuery dry-run jobs on sampled dates,
 * the cost is priced at BIGQUERY_PRICE_PER_TIB, the duration is estimated from an earlier run read
 * back from the table's tracking columns (BigQuery's TIMESTAMPs as they come over the wire), and
 * nothing but reads and dry runs is sent.
 */
import { runCli } from '../../src/cli';
import { startBigQueryContractServer, type BigQueryContractServer } from '../helpers/bigquery-api';

const PROJECT = 'nba-props-platform';
const GIB = 2 ** 30;
const GAME_DATES = ['2024-10-22', '2024-10-23', '2024-10-24', '2024-11-05', '2024-11-06', '2024-11-07', '2024-11-08'];

let server: BigQueryContractServer;

beforeAll(async () => {
  server = await startBigQueryContractServer({ projectId: PROJECT });
  server.respond((job) => {
    if (/AS day_of_season/.test(job.query)) {
      // Five dates in the season's bootstrap window, so Phase 4 skips them.
      return {
        schema: [{ name: 'date', type: 'DATE' }, { name: 'season', type: 'STRING' }, { name: 'day_of_season', type: 'INTEGER' }],
        rows: GAME_DATES.map((date, i) => ({ date, season: '2024-25', day_of_season: i < 3 ? i : 14 + i })),
      };
    }
    // An earlier run of player_game_summary: 21 dates written over two hours, 10 dates an hour.
    if (/AS last_processed_at/.test(job.query) && /player_game_summary/.test(job.query)) {
      return {
        schema: [
          { name: 'backfill_id', type: 'STRING' },
          { name: 'dates', type: 'INTEGER' },
          { name: 'first_processed_at', type: 'TIMESTAMP' },
          { name: 'last_processed_at', type: 'TIMESTAMP' },
        ],
        rows: [{ backfill_id: 'backfill-earlier', dates: 21, first_processed_at: '2024-11-01T10:00:00.000Z', last_processed_at: '2024-11-01T12:00:00.000Z' }],
      };
    }
    // Dry runs of each processor's MERGE: player_game_summary scans 2 GiB a date, the others 0.5 GiB.
    if (job.dryRun) return { totalBytesProcessed: /player_game_summary/.test(job.query.split('\n')[0] ?? '') ? 2 * GIB : GIB / 2 };
    return undefined;
  });
  // The table the earlier run wrote exists; the others do not yet, so they have no run to read.
  server.tables.add('nba_analytics.player_game_summary');
});

afterAll(async () => {
  await server?.close();
});

test('the plan prices each processor from dry-run jobs on sampled dates, at the configured price, and sends nothing that writes', async () => {
  let out = '';
  let err = '';
  const code = await runCli(['start', '--from', '2024-10-22', '--to', '2024-11-08', '--phases', '3,4', '--dry-run', '--json'], {
    out: (s) => (out += s),
    err: (s) => (err += s),
    env: {
      TEMPORAL_ADDRESS: '127.0.0.1:1', // never contacted: a dry run needs no Temporal
      WAREHOUSE: 'bigquery',
      BIGQUERY_PROJECT: PROJECT,
      BIGQUERY_API_ENDPOINT: server.url,
      BIGQUERY_PRICE_PER_TIB: '5',
      BOOTSTRAP_DAYS: '14',
    },
  });
  expect(err).toBe('');
  expect(code).toBe(0);
  const plan = JSON.parse(out) as {
    phases: Array<{
      groups: Array<
        Array<{
          processor: string;
          datesToRun: number;
          bytes?: { sampledDates: string[]; bytesPerDate: number; totalBytes: number; costUsd: number };
          observedRate: unknown;
          estimateRate: { datesPerHour: number; borrowed: boolean } | null;
          estimatedSeconds: number | null;
        }>
      >;
    }>;
    totals: { bytes: { totalBytes: number; costUsd: number; pricePerTib: number }; estimatedSeconds: number | null };
  };
  const all = plan.phases.flatMap((p) => p.groups.flat());
  const pgs = all.find((p) => p.processor === 'player_game_summary')!;
  expect(pgs.datesToRun).toBe(7);
  expect(pgs.bytes).toEqual({
    sampledDates: ['2024-10-22', '2024-11-05', '2024-11-08'],
    bytesPerDate: 2 * GIB,
    totalBytes: 14 * GIB,
    costUsd: (14 * GIB / 2 ** 40) * 5,
  });
  const pcf = all.find((p) => p.processor === 'player_composite_factors')!;
  expect(pcf.datesToRun).toBe(4);
  expect(pcf.bytes?.totalBytes).toBe(2 * GIB);
  const sum = all.reduce((a, p) => a + (p.bytes?.totalBytes ?? 0), 0);
  expect(plan.totals.bytes.totalBytes).toBe(sum);
  expect(plan.totals.bytes.pricePerTib).toBe(5);
  expect(plan.totals.bytes.costUsd).toBeCloseTo((sum / 2 ** 40) * 5, 10);

  // The duration: player_game_summary at its own 10 dates/h, the rest borrowing that mean.
  expect(pgs.observedRate).toEqual({
    backfillId: 'backfill-earlier',
    dates: 21,
    firstProcessedAt: '2024-11-01T10:00:00.000Z',
    lastProcessedAt: '2024-11-01T12:00:00.000Z',
    datesPerHour: 10,
  });
  expect(pgs.estimatedSeconds).toBe(7 * 360);
  for (const p of all.filter((x) => x !== pgs)) {
    expect(p.estimateRate).toEqual(p.datesToRun > 0 ? { datesPerHour: 10, borrowed: true } : null);
    expect(p.estimatedSeconds).toBe(p.datesToRun * 360);
  }
  expect(plan.totals.estimatedSeconds).toBe(
    plan.phases.reduce((t, ph) => t + ph.groups.reduce((g, group) => g + Math.max(...group.map((p) => p.estimatedSeconds ?? 0)), 0), 0),
  );

  // Every write was a dry run; everything else read.
  const wet = server.jobs.filter((j) => !j.dryRun);
  expect(wet.length).toBeGreaterThan(0);
  for (const job of wet) expect(job.query).toMatch(/^\s*(WITH|SELECT)\b/);
  const dry = server.jobs.filter((j) => j.dryRun);
  expect(dry.length).toBe(all.filter((p) => p.bytes).reduce((a, p) => a + p.bytes!.sampledDates.length, 0));
  for (const job of dry) expect(job.query).toMatch(/^MERGE /);
});

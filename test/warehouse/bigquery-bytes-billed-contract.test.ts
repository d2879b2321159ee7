/**
 * Contract test: the bytes a backfill's cost budget sums come from BigQuery's job statistics. The
 * real BigQuery engine (the real `@google-cloud/bigquery` client) runs a processor's per-date work
 * against the local BigQuery API contract server, whose answers carry given
 * statistics.query.totalBytesBilled; the per-date activity returns exactly their sum — not the
 * processed bytes, which the answers set differently — and dry runs (which bill nothing) add
 * nothing.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { createActivities } from '../../src/activities';
import type { WarehouseSlots } from '../../src/activities/warehouse-slots';
import type { ExportSink } from '../../src/exports';
import { BigQueryWarehouse } from '../../src/warehouse/bigquery';
import type { JobStatistics } from '../../src/warehouse/types';
import { startBigQueryContractServer, type BigQueryContractServer } from '../helpers/bigquery-api';

const PROJECT = 'contract-proj';
const MIB = 2 ** 20;

let server: BigQueryContractServer;
beforeAll(async () => {
  server = await startBigQueryContractServer({ projectId: PROJECT });
});
afterAll(async () => {
  await server?.close();
});

function engine(): BigQueryWarehouse {
  return new BigQueryWarehouse({
    project: PROJECT,
    location: 'US',
    mapping: { prefix: '', datasets: {} },
    maxBytesBilled: 5 * 2 ** 30,
    jobTimeoutMs: 600_000,
    apiEndpoint: server.url,
    pollIntervalMs: 5,
  });
}

const slots: WarehouseSlots = { acquire: () => Promise.resolve(() => Promise.resolve()), inUse: () => 0 };
// Table processors never touch the export sink.
const noExports = {} as ExportSink;

describe('contract test: bytes billed from BigQuery job statistics', () => {
  test('the engine reports each job\'s totalBytesBilled through onJobStatistics (dry runs bill nothing)', async () => {
    server.respond((job) => {
      if (job.dryRun) return { totalBytesProcessed: 999 * MIB };
      return { totalBytesProcessed: 1234, totalBytesBilled: 10 * MIB, schema: [{ name: 'n', type: 'INTEGER' }], rows: [{ n: 1 }] };
    });
    const warehouse = engine();
    const seen: JobStatistics[] = [];
    await warehouse.query('SELECT count(*) AS n FROM `contract-proj.nba_raw.schedule`', undefined, { onJobStatistics: (s) => seen.push(s) });
    await warehouse.dryRunQuery('SELECT 1');
    expect(seen).toEqual([{ bytesBilled: 10 * MIB, bytesProcessed: 1234 }]);
    await warehouse.close();
  });

  test('runProcessorForDate returns the bytes its jobs billed: the input check plus the MERGE', async () => {
    server.respond((job) => {
      if (/^MERGE /.test(job.query)) return { totalBytesProcessed: 3 * MIB + 5, totalBytesBilled: 20 * MIB, dmlStats: { insertedRowCount: 7 } };
      return { totalBytesProcessed: 1234, totalBytesBilled: 10 * MIB, schema: [{ name: 'n', type: 'INTEGER' }], rows: [{ n: 3 }] };
    });
    const warehouse = engine();
    const activities = createActivities({ warehouse, logger: pino({ level: 'silent' }), slots, exportSink: noExports });
    const result = await new MockActivityEnvironment().run((input: Parameters<typeof activities.runProcessorForDate>[0]) => activities.runProcessorForDate(input), {
      backfillId: 'bf-contract',
      processor: 'player_game_summary',
      date: '2024-01-05',
    });
    const jobs = server.jobs.filter((j) => !j.dryRun && j.labels.date === '2024-01-05');
    expect(jobs.map((j) => (/^MERGE /.test(j.query) ? 'MERGE' : 'SELECT'))).toEqual(['SELECT', 'MERGE']);
    expect(result).toEqual({ processor: 'player_game_summary', date: '2024-01-05', rowsWritten: 7, bytesBilled: 30 * MIB, warehouseMs: expect.any(Number) });
    await warehouse.close();
  });

  test('negative control: jobs that bill 0 bytes give 0, not the processed bytes', async () => {
    server.respond((job) => {
      if (/^MERGE /.test(job.query)) return { totalBytesProcessed: 3 * MIB, totalBytesBilled: 0, dmlStats: { insertedRowCount: 2 } };
      return { totalBytesProcessed: 1234, totalBytesBilled: 0, schema: [{ name: 'n', type: 'INTEGER' }], rows: [{ n: 3 }] };
    });
    const warehouse = engine();
    const activities = createActivities({ warehouse, logger: pino({ level: 'silent' }), slots, exportSink: noExports });
    const result = await new MockActivityEnvironment().run((input: Parameters<typeof activities.runProcessorForDate>[0]) => activities.runProcessorForDate(input), {
      backfillId: 'bf-contract',
      processor: 'player_game_summary',
      date: '2024-01-06',
    });
    expect(result).toEqual({ processor: 'player_game_summary', date: '2024-01-06', rowsWritten: 2, bytesBilled: 0, warehouseMs: expect.any(Number) });
    await warehouse.close();
  });
});

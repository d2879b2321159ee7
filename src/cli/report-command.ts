/**
 * `backfill report <id> --html FILE [--json]`: the backfill's report — a heat-map of every
 * processor × game date, coverage explained, the gate reports and the processors' rates — as one
 * self-contained HTML file and/or JSON on stdout.
 *
 * It opens the warehouse itself (read-only queries). DuckDB lets one process hold a file, so on
 * DuckDB stop the worker first; `npm start` writes the same report from the worker's own process.
 * Everything that can be checked before any work is checked first: bad input is one line, exit 2.
 */
import fs from 'node:fs';
import path from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Command } from 'commander';
import { warehouseLoad } from '../client/warehouse-load';
import { warehouseKey } from '../config';
import { createExportSink, ExportLocationError, type ExportSink } from '../exports';
import { backfillRequestOf, buildBackfillReport, reportStatus, writeReportHtml, type BackfillReport } from '../report';
import { createWarehouse, WarehouseError } from '../warehouse';
import { CliError, UsageError } from './errors';
import type { CliContext } from './index';

/** The file's folder exists and is writable, and the file, if it exists, is a writable file. */
export function checkReportPath(file: string): string {
  const target = path.resolve(file);
  const dir = path.dirname(target);
  let dirStat: fs.Stats;
  try {
    dirStat = fs.statSync(dir);
  } catch (err) {
    throw new UsageError(`--html ${file}: cannot write there: ${errnoText(err, dir)}`);
  }
  if (!dirStat.isDirectory()) throw new UsageError(`--html ${file}: cannot write there: ${dir} is not a folder`);
  let fileStat: fs.Stats | undefined;
  try {
    fileStat = fs.statSync(target);
  } catch {
    fileStat = undefined;
  }
  if (fileStat?.isDirectory()) throw new UsageError(`--html ${file}: is a folder, not a file`);
  try {
    fs.accessSync(fileStat ? target : dir, fs.constants.W_OK);
  } catch (err) {
    throw new UsageError(`--html ${file}: cannot write there: ${errnoText(err, fileStat ? target : dir)}`);
  }
  return target;
}

function errnoText(err: unknown, where: string): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return `${where} does not exist`;
    case 'ENOTDIR':
      return `a part of ${where} is not a folder`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied on ${where}`;
    case 'EROFS':
      return `${where} is on a read-only file system`;
    default:
      return err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err);
  }
}

function summary(r: BackfillReport, file: string): string {
  const n = { done: 0, skipped: 0, failed: 0, missing: 0 };
  for (const p of r.processors) for (const k of Object.keys(n) as Array<keyof typeof n>) n[k] += p.counts[k];
  return (
    `wrote ${file}: ${r.processors.length} processors × ${r.gameDates.length} game dates — ` +
    `${n.done} done, ${n.skipped} skipped, ${n.failed} failed, ${n.missing} missing`
  );
}

export function registerReportCommand(program: Command, ctx: CliContext): void {
  program
    .command('report <id>')
    .description(
      'a backfill report: heat-map of processors × dates (done, skipped with reason, failed with error, missing), ' +
        'coverage explained, gate reports, dates per hour next to the seed\'s. Reads the warehouse itself: on DuckDB, ' +
        'stop the worker first (one process may hold the file)',
    )
    .option('--html <file>', 'write one self-contained HTML file (no network needed to view it)')
    .option('--json', 'print the report data as JSON')
    .action(async (id: string, opts: { html?: string; json?: boolean }) => {
      if (opts.html === undefined && !opts.json) throw new UsageError('report needs --html <file>, --json, or both');
      const target = opts.html === undefined ? undefined : checkReportPath(opts.html);
      const config = ctx.config();
      let exportSink: ExportSink;
      try {
        exportSink = createExportSink({ exportDir: config.exportDir, gcsApiEndpoint: config.gcsApiEndpoint });
      } catch (err) {
        throw err instanceof ExportLocationError ? new UsageError(err.message) : err;
      }

      const client = await ctx.client();
      let status;
      let request;
      try {
        status = await reportStatus(client, id);
        if (status.status === 'RUNNING') {
          const load = await warehouseLoad(client, warehouseKey(config)).catch(() => undefined);
          if (load) status = { ...status, warehouseLoad: load };
        }
        request = await backfillRequestOf(client, id);
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw new CliError(`no backfill with id "${id}"`);
        throw err;
      }

      const warehouse = createWarehouse(config);
      let report: BackfillReport;
      try {
        report = await buildBackfillReport({ warehouse, exportSink, status, request });
      } catch (err) {
        if (err instanceof WarehouseError && /locked by another process|Could not set lock/i.test(err.message)) {
          throw new CliError(`the DuckDB file ${config.duckdbPath} is in use by another process (a worker?): stop it, then run report again`);
        }
        if (err instanceof WarehouseError) throw new CliError(err.message);
        throw err;
      } finally {
        await warehouse.close().catch(() => undefined);
      }

      if (target !== undefined) {
        try {
          writeReportHtml(target, report);
        } catch (err) {
          throw new CliError(err instanceof Error ? err.message : String(err));
        }
        ctx.io.err(`${summary(report, target)}\n`);
      }
      if (opts.json) ctx.io.out(`${JSON.stringify(report, null, 2)}\n`);
      else if (target !== undefined) ctx.io.out(`${target}\n`);
    });
}

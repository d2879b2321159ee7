/**
 * `backfill doctor`: everything a run needs, checked before it starts, one line each — Temporal
 * reachable as configured (TLS, API key), the namespace, our search attributes, workers polling
 * both task queues, the warehouse reachable (on BigQuery, a dry-run job per dataset with the
 * statements the processors run, which BigQuery checks for permissions without running them), the
 * export destination writable, and the raw inputs present for the range.
 *
 * Nothing here writes to the warehouse or starts a workflow; the only write is a probe object in
 * the export destination, deleted again. A check that needs an earlier one that failed is skipped
 * (shown, not counted as passed). Exit 0 when every check passed, 1 otherwise.
 */
import { randomUUID } from 'node:crypto';
import type { Connection } from '@temporalio/client';
import type { Command } from 'commander';
import type { Config } from '../config';
import { withoutSecret } from '../config/secret';
import { createExportSink } from '../exports';
import { PIPELINE_DATASETS } from '../pipeline/datasets';
import { replaceArgs } from '../pipeline/engine';
import { RAW_DATASET, RAW_TABLES } from '../pipeline/raw';
import { tableProcessors } from '../pipeline/registry';
import { scrubText } from '../logger';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../shared/search-attributes';
import { connectClient, describeTemporalConnection } from '../temporal';
import { createWarehouse, describeWarehouse } from '../warehouse/engines';
import { canEstimateBytes, sqlDate, type Warehouse, WarehouseError } from '../warehouse/types';
import { CliError } from './errors';
import type { CliContext } from './index';
import { parseRange } from './parse';

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface DoctorCheck {
  /** Stable id for scripts: temporal, namespace, search-attributes, pollers:<queue>:<type>, warehouse, dry-run:<dataset>, export, raw:<table>. */
  id: string;
  status: CheckStatus;
  /** What was found, one line. */
  detail: string;
  /** What to do about a failure. */
  fix?: string;
}

export interface DoctorOptions {
  from?: string;
  to?: string;
  /** Called as each check finishes, so a terminal sees progress line by line. */
  onCheck?: (check: DoctorCheck) => void;
}

/** A check that does not answer in this time has failed (a stuck endpoint must not hang the doctor). */
const CHECK_DEADLINE_MS = 60_000;
/** A poller seen longer ago than this is a worker that has gone (the server remembers pollers for minutes). */
const POLLER_RECENT_MS = 3 * 60_000;

// temporal.api.enums.v1.IndexedValueType, TaskQueueType and TaskQueueKind
const INDEXED_VALUE_TYPE: Record<string, number> = { Text: 1, Keyword: 2, Int: 3, Double: 4, Bool: 5, Datetime: 6, KeywordList: 7 };
const TASK_QUEUE_TYPE = { workflow: 1, activity: 2 } as const;
const TASK_QUEUE_KIND_NORMAL = 1;
const GRPC_NOT_FOUND = 5;

const GIB = 2 ** 30;

export function formatCheck(c: DoctorCheck): string {
  const mark = c.status === 'pass' ? '✓' : c.status === 'fail' ? '✗' : '–';
  return `${mark} ${c.detail}${c.status === 'fail' && c.fix ? ` — ${c.fix}` : ''}`;
}

async function withDeadline<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${CHECK_DEADLINE_MS / 1000} s`)), CHECK_DEADLINE_MS);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function bytes(n: number): string {
  return n >= GIB ? `${(n / GIB).toFixed(1)} GiB` : `${(n / 2 ** 20).toFixed(1)} MiB`;
}

export async function runDoctor(config: Config, options: DoctorOptions = {}): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  /** One line of an error: never a stack, never a secret. */
  const said = (err: unknown): string => {
    const text = err instanceof Error ? err.message : String(err);
    return scrubText(withoutSecret(text, config.temporalApiKey)).split('\n')[0] ?? '';
  };
  const record = (check: DoctorCheck): void => {
    checks.push(check);
    options.onCheck?.(check);
  };
  const check = async (id: string, run: () => Promise<Omit<DoctorCheck, 'id'>>, onError: (err: unknown) => Omit<DoctorCheck, 'id'>): Promise<boolean> => {
    let outcome: Omit<DoctorCheck, 'id'>;
    try {
      outcome = await withDeadline(run(), id);
    } catch (err) {
      outcome = onError(err);
    }
    record({ id, ...outcome });
    return outcome.status === 'pass';
  };
  const skip = (id: string, detail: string, because: string): void => record({ id, status: 'skip', detail: `${detail}: not checked (${because})` });

  await temporalChecks(config, check, skip, said);
  await warehouseChecks(config, options, check, skip, said);
  await exportCheck(config, check, said);
  return checks;
}

type Check = (id: string, run: () => Promise<Omit<DoctorCheck, 'id'>>, onError: (err: unknown) => Omit<DoctorCheck, 'id'>) => Promise<boolean>;
type Skip = (id: string, detail: string, because: string) => void;
type Said = (err: unknown) => string;

async function temporalChecks(config: Config, check: Check, skip: Skip, said: Said): Promise<void> {
  const address = config.temporalAddress;
  const how = describeTemporalConnection(config);
  const namespace = config.temporalNamespace;
  const queues: Array<{ queue: string; types: Array<keyof typeof TASK_QUEUE_TYPE> }> = [
    { queue: config.taskQueue, types: ['workflow', 'activity'] },
    // The slots workflow has no activities: its queue sees workflow pollers only.
    { queue: config.slotsTaskQueue, types: ['workflow'] },
  ];
  let connection: Connection | undefined;
  const reachable = await check(
    'temporal',
    async () => {
      connection = await connectClient(config);
      return { status: 'pass', detail: `Temporal reachable at ${address} (${how})` };
    },
    (err) => ({
      status: 'fail',
      detail: `cannot reach Temporal at ${address} (${how}): ${said(err)}`,
      fix: 'check TEMPORAL_ADDRESS and the TLS/API key settings (TEMPORAL_TLS*, TEMPORAL_API_KEY), or run `npm start` for a local server',
    }),
  );
  if (!reachable || !connection) {
    skip('namespace', `namespace "${namespace}"`, 'Temporal unreachable');
    skip('search-attributes', 'search attributes', 'Temporal unreachable');
    for (const { queue, types } of queues) for (const type of types) skip(`pollers:${queue}:${type}`, `workers polling ${queue} (${type} tasks)`, 'Temporal unreachable');
    return;
  }
  const conn: Connection = connection;
  try {
    const namespaceOk = await check(
      'namespace',
      async () => {
        await conn.workflowService.describeNamespace({ namespace });
        return { status: 'pass', detail: `namespace "${namespace}" present` };
      },
      (err) =>
        (err as { code?: unknown }).code === GRPC_NOT_FOUND
          ? { status: 'fail', detail: `namespace "${namespace}" not found`, fix: `create it (temporal operator namespace create ${namespace}) or set TEMPORAL_NAMESPACE` }
          : { status: 'fail', detail: `namespace "${namespace}" could not be described: ${said(err)}`, fix: 'check that the API key or certificate may use this namespace' },
    );
    if (!namespaceOk) {
      skip('search-attributes', 'search attributes', `namespace "${namespace}" unavailable`);
      for (const { queue, types } of queues) for (const type of types) skip(`pollers:${queue}:${type}`, `workers polling ${queue} (${type} tasks)`, `namespace "${namespace}" unavailable`);
      return;
    }

    await check(
      'search-attributes',
      async () => {
        const { customAttributes } = await conn.operatorService.listSearchAttributes({ namespace });
        const have = (customAttributes ?? {}) as Record<string, number>;
        const wrong = Object.entries(CUSTOM_SEARCH_ATTRIBUTES).filter(([name, type]) => have[name] !== INDEXED_VALUE_TYPE[type]);
        if (wrong.length === 0) {
          return { status: 'pass', detail: `search attributes registered: ${Object.keys(CUSTOM_SEARCH_ATTRIBUTES).join(', ')}` };
        }
        const list = wrong.map(([name, type]) => `${name} (${type}${have[name] === undefined ? ', missing' : ', registered with another type'})`);
        return {
          status: 'fail',
          detail: `search attributes not registered as needed: ${list.join(', ')}`,
          fix: `start a worker (it registers them), or: ${wrong.map(([n, t]) => `temporal operator search-attribute create --namespace ${namespace} --name ${n} --type ${t}`).join('; ')}`,
        };
      },
      (err) => ({ status: 'fail', detail: `search attributes could not be listed: ${said(err)}`, fix: 'the operator service must be reachable with these credentials' }),
    );

    for (const { queue, types } of queues) {
      for (const type of types) {
        await check(
          `pollers:${queue}:${type}`,
          async () => {
            const response = await conn.workflowService.describeTaskQueue({
              namespace,
              taskQueue: { name: queue, kind: TASK_QUEUE_KIND_NORMAL },
              taskQueueType: TASK_QUEUE_TYPE[type],
            });
            const now = Date.now();
            const recent = (response.pollers ?? []).filter((p) => {
              const seconds = Number(p.lastAccessTime?.seconds ?? 0);
              return seconds === 0 || now - seconds * 1000 <= POLLER_RECENT_MS;
            });
            if (recent.length > 0) {
              const who = recent.map((p) => p.identity ?? '?').join(', ');
              return { status: 'pass', detail: `${recent.length} worker(s) polling ${queue} for ${type} tasks (${who})` };
            }
            return {
              status: 'fail',
              detail: `no worker polling ${queue} for ${type} tasks`,
              fix: 'start one: npx backfill worker (with the same BACKFILL_TASK_QUEUE / WAREHOUSE_SLOTS_TASK_QUEUE)',
            };
          },
          (err) => ({ status: 'fail', detail: `task queue ${queue} could not be described: ${said(err)}`, fix: 'check the namespace and credentials' }),
        );
      }
    }
  } finally {
    await conn.close().catch(() => undefined);
  }
}

function describeWarehouseLine(config: Config): string {
  const { warehouse: kind, ...rest } = describeWarehouse(config);
  const settings = Object.entries(rest)
    .filter(([, v]) => (typeof v === 'string' && v !== '') || typeof v === 'number')
    .map(([k, v]) => `${k}=${String(v)}`);
  return `${String(kind)}${settings.length > 0 ? ` (${settings.join(', ')})` : ''}`;
}

/** The fix for a warehouse error, by the kind the engine gave it; `grant` is the role a refusal calls for. */
function warehouseFix(err: unknown, grant: string): string {
  const kind = err instanceof WarehouseError ? err.kind : undefined;
  if (kind === 'refused') return `grant the worker's identity ${grant} (README: Running on BigQuery, IAM)`;
  if (kind === 'schema') return 'start a worker once: it creates the datasets and tables';
  // An embedded engine's file held by a worker in another process: only that process can open it.
  if (err instanceof Error && /locked by another process/i.test(err.message)) return 'stop the process holding the file (a worker?) and run doctor again';
  return 'check the warehouse settings (WAREHOUSE and its variables) and that it is up';
}

async function warehouseChecks(config: Config, options: DoctorOptions, check: Check, skip: Skip, said: Said): Promise<void> {
  const range = options.from !== undefined && options.to !== undefined ? { from: options.from, to: options.to } : undefined;
  const rawTables = RAW_TABLES.map((t) => `${t.dataset}.${t.table}`);
  let warehouse: Warehouse | undefined;
  const where = describeWarehouseLine(config);
  const reachable = await check(
    'warehouse',
    async () => {
      warehouse = createWarehouse(config);
      await warehouse.query('SELECT 1 AS ok');
      return { status: 'pass', detail: `warehouse reachable: ${where}` };
    },
    (err) => ({ status: 'fail', detail: `warehouse ${where} unreachable: ${said(err)}`, fix: warehouseFix(err, 'roles/bigquery.jobUser on the project') }),
  );
  try {
    if (!reachable || !warehouse) {
      for (const t of rawTables) skip(`raw:${t}`, `raw input ${t}`, 'warehouse unreachable');
      return;
    }
    const w: Warehouse = warehouse;
    if (canEstimateBytes(w)) {
      const date = range?.from ?? new Date().toISOString().slice(0, 10);
      for (const dataset of PIPELINE_DATASETS) {
        if (dataset === RAW_DATASET) {
          // Read access to every raw table: one dry-run SELECT over all of them.
          const sql = `SELECT COUNT(*) AS n FROM (${RAW_TABLES.map((t) => `SELECT 1 AS x FROM ${w.dialect.table(t)}`).join(' UNION ALL ')})`;
          await check(
            `dry-run:${dataset}`,
            async () => {
              const { bytesProcessed } = await w.dryRunQuery(sql);
              return { status: 'pass', detail: `dry run over ${dataset}: reading its ${RAW_TABLES.length} tables is allowed (${bytes(bytesProcessed)})` };
            },
            (err) => ({ status: 'fail', detail: `dry run over ${dataset} refused: ${said(err)}`, fix: warehouseFix(err, `roles/bigquery.dataViewer on ${dataset}`) }),
          );
          continue;
        }
        const defs = tableProcessors().filter((d) => d.target.dataset === dataset);
        if (defs.length === 0) continue;
        // The per-date MERGE of each processor writing here: write access to its table, read access to its inputs.
        await check(
          `dry-run:${dataset}`,
          async () => {
            let total = 0;
            for (const def of defs) {
              total += (await w.dryRunReplacePartition(replaceArgs(w.dialect, def, date, { backfillId: 'doctor' }))).bytesProcessed;
            }
            return { status: 'pass', detail: `dry run over ${dataset}: the per-date MERGE into its ${defs.length} tables is allowed (${bytes(total)} for ${date})` };
          },
          (err) => ({ status: 'fail', detail: `dry run over ${dataset} refused: ${said(err)}`, fix: warehouseFix(err, `roles/bigquery.dataEditor on ${dataset}`) }),
        );
      }
    }
    for (const spec of RAW_TABLES) {
      const name = `${spec.dataset}.${spec.table}`;
      const dateColumn = spec.partitionColumn;
      await check(
        `raw:${name}`,
        async () => {
          const table = w.dialect.table(spec);
          const [row] =
            range && dateColumn
              ? await w.query(
                  `SELECT count(*) AS n FROM ${table} WHERE ${dateColumn} BETWEEN ${w.dialect.dateParam('from')} AND ${w.dialect.dateParam('to')}`,
                  { from: sqlDate(range.from), to: sqlDate(range.to) },
                )
              : await w.query(`SELECT count(*) AS n FROM ${table}`);
          const n = Number(row?.n ?? 0);
          const span = range && dateColumn ? ` between ${range.from} and ${range.to}` : '';
          if (n > 0) return { status: 'pass', detail: `raw input ${name}: ${n} rows${span}` };
          return {
            status: 'fail',
            detail: `raw input ${name}: no rows${span}`,
            fix: `load ${name}${span ? ' for the range' : ''} (for the demo: npx backfill seed-demo)`,
          };
        },
        (err) => ({ status: 'fail', detail: `raw input ${name} could not be read: ${said(err)}`, fix: `load ${RAW_DATASET} (for the demo: npx backfill seed-demo)` }),
      );
    }
  } finally {
    await warehouse?.close().catch(() => undefined);
  }
}

async function exportCheck(config: Config, check: Check, said: Said): Promise<void> {
  let where = config.exportDir;
  await check(
    'export',
    async () => {
      const sink = createExportSink({ exportDir: config.exportDir, gcsApiEndpoint: config.gcsApiEndpoint });
      where = sink.describe();
      // At the root, so no folder is left behind; a dot-name no export listing matches.
      const probe = `.backfill-doctor-probe-${randomUUID()}`;
      const content = `backfill doctor probe ${new Date().toISOString()}\n`;
      await sink.write(probe, content, { contentType: 'text/plain' });
      try {
        if ((await sink.read(probe)) !== content) throw new Error('the probe object read back differs from what was written');
      } finally {
        await sink.delete(probe);
      }
      return { status: 'pass', detail: `export destination writable: ${where}` };
    },
    (err) => ({
      status: 'fail',
      detail: `export destination ${where} not writable: ${said(err)}`,
      fix: 'check EXPORT_DIR (a folder this user may write, or gs://bucket/prefix with roles/storage.objectAdmin)',
    }),
  );
}

export function registerDoctorCommand(program: Command, ctx: CliContext): void {
  program
    .command('doctor')
    .description('check everything a run needs: Temporal, namespace, search attributes, workers, warehouse, exports, raw inputs')
    .option('--from <date>', 'first game date of the run, YYYY-MM-DD (checks the raw inputs for the range)')
    .option('--to <date>', 'last game date of the run, YYYY-MM-DD')
    .option('--json', 'print JSON')
    .action(async (opts: { from?: string; to?: string; json?: boolean }) => {
      const range = opts.from !== undefined || opts.to !== undefined ? parseRange(opts.from, opts.to) : undefined;
      const config = ctx.config();
      const checks = await runDoctor(config, {
        ...range,
        ...(opts.json ? {} : { onCheck: (c: DoctorCheck) => ctx.io.out(`${formatCheck(c)}\n`) }),
      });
      const failed = checks.filter((c) => c.status === 'fail').length;
      const skipped = checks.filter((c) => c.status === 'skip').length;
      const ok = failed === 0 && skipped === 0;
      if (opts.json) ctx.io.out(`${JSON.stringify({ ok, checks }, null, 2)}\n`);
      if (!ok) throw new CliError(`doctor: ${failed} of ${checks.length} checks failed${skipped > 0 ? `, ${skipped} not checked` : ''}`);
    });
}

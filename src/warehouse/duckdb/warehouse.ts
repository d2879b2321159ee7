/**
 * Embedded warehouse: one DuckDB file (default under .data/). Datasets become schemas, so
 * `nba_raw.schedule` means the same table here as in BigQuery.
 *
 * DuckDB lets one process hold a file read-write. The instance is opened lazily and shared by all
 * activities of the process; each statement or transaction has a connection to itself, so
 * concurrent activities do not serialise on one connection. Connections are kept open between
 * statements (at most IDLE_CONNECTIONS idle) with the statements they prepared, so a statement run
 * again — the same SQL for the next date — is bound and executed, not parsed, planned and destroyed
 * again, and a call opens and closes no connection. A connection whose statement failed or was
 * interrupted is closed, never reused: whatever state it was left in goes with it.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBMaterializedResult,
  type DuckDBPreparedStatement,
  DuckDBTypeId,
  type DuckDBAppender,
  type DuckDBResultReader,
  type DuckDBValue,
  dateValue,
} from '@duckdb/node-api';
import {
  type DeduplicateArgs,
  type QueryOptions,
  type ReplacePartitionArgs,
  type Row,
  type SqlParams,
  type TableRef,
  type TableSpec,
  type Warehouse,
  WarehouseError,
  type WarehouseErrorKind,
  isSqlDate,
} from '../types';
import { identifier } from '../identifiers';
import { duckdbDialect, duckdbTypes } from './dialect';

const numericTypeIds = new Set<DuckDBTypeId>([
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.UHUGEINT,
  DuckDBTypeId.DECIMAL,
]);

/** Maps DuckDB's error text onto the kinds activities classify retries by. */
export function classifyDuckDbError(err: unknown): WarehouseError {
  if (err instanceof WarehouseError) return err;
  const message = err instanceof Error ? err.message : String(err);
  let kind: WarehouseErrorKind;
  if (/INTERRUPT/i.test(message)) kind = 'cancelled';
  else if (/^(Parser|Invalid Input|Not implemented) Error/i.test(message)) kind = 'syntax';
  else if (/^(Binder|Catalog|Conversion|Constraint) Error/i.test(message)) kind = 'schema';
  else if (/conflict|Could not set lock|IO Error|Out of Memory|timeout|timed out/i.test(message)) kind = 'transient';
  else kind = 'transient';
  return new WarehouseError(message.split('\n')[0] ?? message, kind, { cause: err });
}

/** Our parameters as DuckDB values: a DATE travels as its ISO text and `dateParam` casts it. */
function bind(params: SqlParams | undefined): Record<string, DuckDBValue> | undefined {
  if (!params) return undefined;
  const out: Record<string, DuckDBValue> = {};
  for (const [name, v] of Object.entries(params)) out[name] = isSqlDate(v) ? v.value : v;
  return out;
}

function toRows(reader: DuckDBResultReader): Row[] {
  const types = reader.columnTypes();
  const names = reader.columnNames();
  const numeric = names.filter((_, i) => {
    const t = types[i];
    return t !== undefined && numericTypeIds.has(t.typeId);
  });
  const rows = reader.getRowObjectsJson() as Row[];
  if (numeric.length > 0) {
    for (const row of rows) {
      for (const name of numeric) {
        const v = row[name];
        if (typeof v === 'string') row[name] = Number(v);
      }
    }
  }
  return rows;
}

/** Open connections kept idle for the next statement (the warehouse cap keeps fewer busy at once). */
export const IDLE_CONNECTIONS = 8;
/** Prepared statements kept per connection; the pipeline's SQL has ~150 distinct texts. */
export const STATEMENTS_PER_CONNECTION = 256;

/** A connection with the statements it prepared, keyed by their SQL text. */
class PooledConnection {
  private readonly statements = new Map<string, DuckDBPreparedStatement>();
  /** SQL that cannot be prepared as one statement (several statements): run the plain way. */
  private static readonly unpreparable = new Set<string>();

  constructor(readonly conn: DuckDBConnection) {}

  /** Statements this connection keeps prepared. */
  get preparedCount(): number {
    return this.statements.size;
  }

  async run(sql: string, values?: Record<string, DuckDBValue>): Promise<DuckDBMaterializedResult> {
    const prepared = values && (await this.bound(sql, values));
    return prepared ? prepared.run() : this.conn.run(sql, values);
  }

  async runAndReadAll(sql: string, values?: Record<string, DuckDBValue>): Promise<DuckDBResultReader> {
    const prepared = values && (await this.bound(sql, values));
    return prepared ? prepared.runAndReadAll() : this.conn.runAndReadAll(sql, values);
  }

  /** Closes the connection and every statement it prepared. */
  close(): void {
    this.statements.clear();
    this.conn.closeSync();
  }

  /** The statement for `sql`, prepared once per connection, bound to `values`; undefined: run it plainly. */
  private async bound(sql: string, values: Record<string, DuckDBValue>): Promise<DuckDBPreparedStatement | undefined> {
    const prepared = await this.prepared(sql);
    if (!prepared) return undefined;
    prepared.clearBindings();
    prepared.bind(values);
    return prepared;
  }

  private async prepared(sql: string): Promise<DuckDBPreparedStatement | undefined> {
    const cached = this.statements.get(sql);
    if (cached) return cached;
    if (PooledConnection.unpreparable.has(sql) || this.statements.size >= STATEMENTS_PER_CONNECTION) return undefined;
    try {
      const prepared = await this.conn.prepare(sql);
      this.statements.set(sql, prepared);
      return prepared;
    } catch (err) {
      if (!/multiple statements/i.test(err instanceof Error ? err.message : String(err))) throw err;
      PooledConnection.unpreparable.add(sql);
      return undefined;
    }
  }
}

export interface DuckDbWarehouseOptions {
  /** File path, or ':memory:' for a private in-memory database. */
  path: string;
  /** DuckDB's worker threads for the instance (`threads`); DuckDB's own default is the number of cores. */
  threads?: number;
  /**
   * DuckDB's buffer-pool limit (e.g. "512MB"). DuckDB's own default is 80 % of the machine's
   * memory, which lets one worker grow to gigabytes of cached pages on a big host.
   */
  memoryLimit?: string;
}

export class DuckDbWarehouse implements Warehouse {
  readonly kind = 'duckdb' as const;
  readonly dialect = duckdbDialect;
  private instance: Promise<DuckDBInstance> | undefined;
  private closed = false;
  private readonly idle: PooledConnection[] = [];
  private connectionsOpened = 0;

  constructor(private readonly options: DuckDbWarehouseOptions) {}

  get path(): string {
    return this.options.path;
  }

  private async getInstance(): Promise<DuckDBInstance> {
    if (this.closed) throw new WarehouseError('warehouse is closed', 'cancelled');
    if (!this.instance) {
      const file = this.options.path;
      if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      const config: Record<string, string> = {};
      if (this.options.threads) config.threads = String(this.options.threads);
      if (this.options.memoryLimit) config.memory_limit = this.options.memoryLimit;
      this.instance = DuckDBInstance.create(file, config).catch((err: unknown) => {
        this.instance = undefined;
        const e = classifyDuckDbError(err);
        if (/lock/i.test(e.message)) {
          throw new WarehouseError(
            `DuckDB file ${file} is locked by another process (is a worker running?): ${e.message}`,
            'transient',
            { cause: err },
          );
        }
        throw e;
      });
    }
    return this.instance;
  }

  /** Connections opened so far, open now idle, and the statements those keep prepared (tests read them). */
  connectionStats(): { opened: number; idle: number; prepared: number } {
    return { opened: this.connectionsOpened, idle: this.idle.length, prepared: this.idle.reduce((n, c) => n + c.preparedCount, 0) };
  }

  private async withConnection<T>(fn: (conn: PooledConnection) => Promise<T>, opts?: QueryOptions): Promise<T> {
    const instance = await this.getInstance();
    let pooled = this.idle.pop();
    if (!pooled) {
      pooled = new PooledConnection(await instance.connect());
      this.connectionsOpened += 1;
    }
    const conn = pooled;
    let reusable = true;
    const onAbort = (): void => {
      // An interrupted connection is not reused, whenever the interrupt lands.
      reusable = false;
      conn.conn.interrupt();
    };
    opts?.signal?.addEventListener('abort', onAbort);
    try {
      if (opts?.signal?.aborted) throw new WarehouseError('cancelled before start', 'cancelled');
      return await fn(conn);
    } catch (err) {
      reusable = false;
      throw classifyDuckDbError(err);
    } finally {
      opts?.signal?.removeEventListener('abort', onAbort);
      if (reusable && !this.closed && this.idle.length < IDLE_CONNECTIONS) this.idle.push(conn);
      else conn.close();
    }
  }

  async query<T extends Row = Row>(sql: string, params?: SqlParams, opts?: QueryOptions): Promise<T[]> {
    return this.withConnection(async (conn) => {
      const reader = await conn.runAndReadAll(sql, bind(params));
      return toRows(reader) as T[];
    }, opts);
  }

  async execute(sql: string, params?: SqlParams, opts?: QueryOptions): Promise<void> {
    await this.withConnection(async (conn) => {
      await conn.run(sql, bind(params));
    }, opts);
  }

  async tableExists(ref: TableRef): Promise<boolean> {
    const rows = await this.query(
      'SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = $s AND table_name = $t',
      { s: ref.dataset, t: ref.table },
    );
    return Number(rows[0]?.n ?? 0) > 0;
  }

  async ensureTable(spec: TableSpec): Promise<void> {
    const cols = spec.columns.map((c) => `${identifier(c.name, 'column')} ${duckdbTypes[c.type]}`).join(', ');
    await this.withConnection(async (conn) => {
      await conn.run(`CREATE SCHEMA IF NOT EXISTS ${identifier(spec.dataset, 'dataset')}`);
      await conn.run(`CREATE TABLE IF NOT EXISTS ${duckdbDialect.table(spec)} (${cols})`);
    });
  }

  async replacePartition(args: ReplacePartitionArgs, opts?: QueryOptions): Promise<{ rowsWritten: number }> {
    const target = duckdbDialect.table(args.target);
    const extra = args.extraColumns ?? {};
    const extraNames = Object.keys(extra);
    const produced = args.target.columns.map((c) => c.name).filter((n) => !extraNames.includes(n));
    const allNames = [...produced, ...extraNames];
    const extraExprs = extraNames.map((n) => extra[n] as string);
    const insert =
      `INSERT INTO ${target} (${allNames.join(', ')}) ` +
      `SELECT ${[...produced.map((n) => `src.${n}`), ...extraExprs].join(', ')} FROM (${args.selectSql}) AS src ` +
      // Only the date being replaced: a SELECT that strayed outside it could otherwise duplicate other dates' rows.
      `WHERE src.${args.dateColumn} = CAST($__date AS DATE)`;
    const params = bind(args.params) ?? {};
    return this.withConnection(async (conn) => {
      await conn.run('BEGIN TRANSACTION');
      try {
        await conn.run(`DELETE FROM ${target} WHERE ${args.dateColumn} = CAST($__date AS DATE)`, { __date: args.date });
        const result = await conn.run(insert, { ...params, __date: args.date });
        const rowsWritten = Number(result.rowsChanged);
        await conn.run('COMMIT');
        return { rowsWritten };
      } catch (err) {
        await conn.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
    }, opts);
  }

  async deduplicate(args: DeduplicateArgs, opts?: QueryOptions): Promise<{ rowsRemoved: number }> {
    const target = duckdbDialect.table(args.target);
    const names = args.target.columns.map((c) => identifier(c.name, 'column'));
    const cols = names.join(', ');
    // Newest first, ties broken by every other column, so the same table always keeps the same row
    // (as the BigQuery engine does); NULLs placed explicitly, as BigQuery places them.
    const order = [
      `${identifier(args.orderBy, 'column')} DESC NULLS LAST`,
      ...names.filter((n) => n !== args.orderBy && !args.keyColumns.includes(n)).map((n) => `${n} ASC NULLS FIRST`),
    ].join(', ');
    const inRange = `${args.dateColumn} BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)`;
    const range = { from: args.from, to: args.to };
    return this.withConnection(async (conn) => {
      await conn.run('BEGIN TRANSACTION');
      try {
        const before = await conn.runAndReadAll(`SELECT count(*) AS n FROM ${target} WHERE ${inRange}`, range);
        await conn.run(
          `CREATE TEMP TABLE __dedup AS SELECT ${cols} FROM (
             SELECT ${cols}, ROW_NUMBER() OVER (PARTITION BY ${args.keyColumns.join(', ')} ORDER BY ${order}) AS __rn
             FROM ${target} WHERE ${inRange}) AS ranked WHERE __rn = 1`,
          range,
        );
        await conn.run(`DELETE FROM ${target} WHERE ${inRange}`, range);
        const inserted = await conn.run(`INSERT INTO ${target} (${cols}) SELECT ${cols} FROM __dedup`);
        await conn.run('DROP TABLE __dedup');
        await conn.run('COMMIT');
        return { rowsRemoved: Number(toRows(before)[0]?.n ?? 0) - Number(inserted.rowsChanged) };
      } catch (err) {
        await conn.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
    }, opts);
  }

  async appendRows(spec: TableSpec, rows: readonly Row[]): Promise<void> {
    if (rows.length === 0) return;
    await this.withConnection(async (conn) => {
      const appender = await conn.conn.createAppender(spec.table, spec.dataset);
      try {
        for (const row of rows) appendRow(appender, spec, row);
        appender.flushSync();
      } finally {
        appender.closeSync();
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const conn of this.idle.splice(0)) conn.close();
    const pending = this.instance;
    this.instance = undefined;
    if (pending) {
      const instance = await pending.catch(() => undefined);
      instance?.closeSync();
    }
  }
}

function appendRow(appender: DuckDBAppender, spec: TableSpec, row: Row): void {
  for (const col of spec.columns) {
    const v = row[col.name];
    if (v === null || v === undefined) {
      appender.appendNull();
      continue;
    }
    switch (col.type) {
      case 'STRING':
        appender.appendVarchar(String(v));
        break;
      case 'INT64':
        appender.appendBigInt(BigInt(Math.round(Number(v))));
        break;
      case 'FLOAT64':
        appender.appendDouble(Number(v));
        break;
      case 'BOOL':
        appender.appendBoolean(Boolean(v));
        break;
      case 'DATE': {
        const [y, m, d] = String(v).split('-').map(Number);
        appender.appendDate(dateValue({ year: y ?? 1970, month: m ?? 1, day: d ?? 1 }));
        break;
      }
      case 'TIMESTAMP':
        appender.appendVarchar(String(v));
        break;
    }
  }
  appender.endRow();
}

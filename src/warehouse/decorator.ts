/**
 * The base of every `Warehouse` decorator (metrics, the fault and steering wrappers of the tests,
 * the bench's meters and latency models): it forwards each method to the wrapped warehouse through
 * one `around` hook, so a decorator states only what it adds around a call.
 */
import type { DeduplicateArgs, QueryOptions, ReplacePartitionArgs, Row, SqlParams, TableRef, TableSpec, Warehouse } from './types';

export type WarehouseMethod = 'query' | 'execute' | 'replacePartition' | 'deduplicate' | 'tableExists' | 'ensureTable' | 'appendRows';

/** The calls activities make; ensureTable and appendRows are set-up and seeding. */
export const WORK_METHODS: ReadonlySet<WarehouseMethod> = new Set(['query', 'execute', 'replacePartition', 'deduplicate', 'tableExists']);

/** The methods that take QueryOptions (labels, cancellation, job statistics). */
export const METHODS_WITH_OPTIONS: ReadonlySet<WarehouseMethod> = new Set(['query', 'execute', 'replacePartition', 'deduplicate']);

/** snake_case names of the methods, as metrics and bench records use them. */
export const OPERATION_NAMES: Readonly<Record<WarehouseMethod, string>> = {
  query: 'query',
  execute: 'execute',
  replacePartition: 'replace_partition',
  deduplicate: 'deduplicate',
  tableExists: 'table_exists',
  ensureTable: 'ensure_table',
  appendRows: 'append_rows',
};

/** One call as a decorator sees it. */
export interface WarehouseCall {
  method: WarehouseMethod;
  /** The caller's options; undefined for the methods that take none. */
  opts: QueryOptions | undefined;
  /** A stable description of the call (method, table, SQL and parameters), computed when asked. */
  describe(): string;
}

export abstract class WarehouseDecorator implements Warehouse {
  readonly kind: string;
  readonly dialect: Warehouse['dialect'];

  constructor(protected readonly inner: Warehouse) {
    this.kind = inner.kind;
    this.dialect = inner.dialect;
  }

  /**
   * Every call but close() comes through here. `run` calls the wrapped warehouse with the options
   * it is given (a decorator may pass its own, e.g. to observe job statistics).
   */
  protected abstract around<T>(call: WarehouseCall, run: (opts: QueryOptions | undefined) => Promise<T>): Promise<T>;

  query<T extends Row = Row>(sql: string, params?: SqlParams, opts?: QueryOptions): Promise<T[]> {
    return this.around({ method: 'query', opts, describe: () => `query ${sql} ${JSON.stringify(params ?? {})}` }, (o) => this.inner.query<T>(sql, params, o));
  }

  execute(sql: string, params?: SqlParams, opts?: QueryOptions): Promise<void> {
    return this.around({ method: 'execute', opts, describe: () => `execute ${sql} ${JSON.stringify(params ?? {})}` }, (o) => this.inner.execute(sql, params, o));
  }

  replacePartition(args: ReplacePartitionArgs, opts?: QueryOptions): Promise<{ rowsWritten: number }> {
    const describe = (): string => `replacePartition ${args.target.dataset}.${args.target.table} ${args.date}`;
    return this.around({ method: 'replacePartition', opts, describe }, (o) => this.inner.replacePartition(args, o));
  }

  deduplicate(args: DeduplicateArgs, opts?: QueryOptions): Promise<{ rowsRemoved: number }> {
    const describe = (): string => `deduplicate ${args.target.dataset}.${args.target.table} ${args.from} ${args.to}`;
    return this.around({ method: 'deduplicate', opts, describe }, (o) => this.inner.deduplicate(args, o));
  }

  tableExists(ref: TableRef): Promise<boolean> {
    return this.around({ method: 'tableExists', opts: undefined, describe: () => `tableExists ${ref.dataset}.${ref.table}` }, () => this.inner.tableExists(ref));
  }

  ensureTable(spec: TableSpec): Promise<void> {
    return this.around({ method: 'ensureTable', opts: undefined, describe: () => `ensureTable ${spec.dataset}.${spec.table}` }, () => this.inner.ensureTable(spec));
  }

  appendRows(spec: TableSpec, rows: readonly Row[]): Promise<void> {
    return this.around({ method: 'appendRows', opts: undefined, describe: () => `appendRows ${spec.dataset}.${spec.table}` }, () => this.inner.appendRows(spec, rows));
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

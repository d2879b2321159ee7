/**
 * The production engine: BigQuery through @google-cloud/bigquery. Every statement is a query job
 * in the configured location, capped by `maximumBytesBilled` and `jobTimeoutMs`, labelled for cost
 * attribution, with typed named parameters (values never reach SQL text). Jobs are polled until
 * done; an aborted signal cancels the job (jobs.cancel) and stops polling.
 *
 * Retries: the client library's own HTTP retries are off by default (`maxRetries: 0`). Temporal's
 * activity retry policy is the one retry policy: an error comes back at once, is classified here
 * (transient / syntax / schema / refused / cancelled) and the workflow decides — with backoff,
 * attempts and heartbeats it can see — instead of a hidden retry loop multiplying its attempts.
 *
 * Credentials: a key file when given; otherwise Application Default Credentials — except with a
 * custom `apiEndpoint` (an emulator, the contract tests), where no ADC lookup is made at all: the
 * requests carry `accessToken` as a bearer token when one is given and no Authorization otherwise.
 * Reaching a real endpoint through `apiEndpoint` therefore needs the key file.
 */
import { randomUUID } from 'node:crypto';
import { BigQuery, type BigQueryOptions, type Job, type JobMetadata, type Query } from '@google-cloud/bigquery';
import { identifier } from '../identifiers';
import {
  type BytesEstimator,
  type ColumnType,
  type DeduplicateArgs,
  type QueryOptions,
  type ReplacePartitionArgs,
  type Row,
  type SqlParams,
  type SqlValue,
  type TableRef,
  type TableSpec,
  type Warehouse,
  WarehouseError,
  type WarehouseErrorKind,
  isSqlDate,
  sqlDate,
} from '../types';
import { bigqueryDialect, mapDataset, type DatasetMapping } from './dialect';
import {
  APPEND_ROWS_PARAM,
  appendRowsStatement,
  createSchemaStatement,
  createTableStatement,
  DEDUPE_FROM_PARAM,
  DEDUPE_TO_PARAM,
  deduplicateStatement,
  REPLACE_DATE_PARAM,
  replacePartitionStatement,
} from './statements';

export interface BigQueryWarehouseOptions {
  project: string;
  location: string;
  mapping: DatasetMapping;
  maxBytesBilled: number;
  jobTimeoutMs: number;
  keyFilename?: string;
  apiEndpoint?: string;
  /** With `apiEndpoint` and no key file: a fixed bearer token to send; none sends no Authorization. */
  accessToken?: string;
  /** A client built elsewhere (tests); the options above still set every job's location, caps and labels. */
  client?: BigQuery;
  /** HTTP retries by the client library. 0 (off) by default: Temporal retries activities. */
  maxRetries?: number;
  /** Between jobs.get polls of a running job. */
  pollIntervalMs?: number;
}

const DEFAULT_POLL_INTERVAL_MS = 1_000;
/** How long a cancellation waits for jobs.insert to return (so the job it created can be cancelled). */
const CANCEL_WAIT_MS = 10_000;
/** Seeding batches: well under BigQuery's request size limit once JSON-encoded. */
const APPEND_BATCH_BYTES = 2 * 1024 * 1024;
const APPEND_BATCH_ROWS = 5_000;

// ---------------------------------------------------------------------------------------------
// Job labels

const LABEL_CHARS = /[^a-z0-9_-]/g;
const MAX_LABEL_LENGTH = 63;
const MAX_LABELS = 64;
export const APP_LABEL = { app: 'props-backfill' } as const;

/**
 * Job labels as BigQuery accepts them: keys start with a lowercase letter and hold only lowercase
 * letters, digits, `_` and `-` (≤ 63 characters); values the same characters (≤ 63, may be empty);
 * at most 64 labels. Other characters become `_`, upper case is lowered, long values are cut, keys
 * that end up empty are dropped and the first of two colliding keys wins. `app: props-backfill`
 * is always there, so every job this engine runs can be found and costed.
 */
export function sanitizeLabels(labels: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = { ...APP_LABEL };
  for (const [rawKey, rawValue] of Object.entries(labels ?? {})) {
    let key = rawKey.toLowerCase().replace(LABEL_CHARS, '_');
    if (key === '') continue;
    if (!/^[a-z]/.test(key)) key = `l_${key}`;
    key = key.slice(0, MAX_LABEL_LENGTH);
    if (key in out) continue;
    if (Object.keys(out).length >= MAX_LABELS) break;
    out[key] = String(rawValue).toLowerCase().replace(LABEL_CHARS, '_').slice(0, MAX_LABEL_LENGTH);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Parameters

/** BigQuery's REST QueryParameterValue; `value: null` is a NULL (what Google's clients send). */
export interface BigQueryParameterValue {
  value?: string | null;
  arrayValues?: BigQueryParameterValue[];
  structValues?: Record<string, BigQueryParameterValue>;
}
export interface BigQueryParameterType {
  type: string;
  arrayType?: BigQueryParameterType;
  structTypes?: Array<{ name: string; type: BigQueryParameterType }>;
}
export interface BigQueryQueryParameter {
  name: string;
  parameterType: BigQueryParameterType;
  parameterValue: BigQueryParameterValue;
}

/**
 * One named parameter, typed from its value: `sqlDate(…)` → DATE, a safe integer → INT64, another
 * number → FLOAT64, boolean → BOOL, string → STRING. A null has no type of its own: it travels as a
 * NULL STRING, which compares with STRING columns (and coerces to DATE/TIMESTAMP); SQL that needs
 * a NULL of another type writes `CAST(@p AS INT64)`. No caller passes a null today.
 */
export function toQueryParameter(name: string, v: SqlValue): BigQueryQueryParameter {
  const scalar = (type: string, value: string | null): BigQueryQueryParameter => ({
    name: identifier(name, 'parameter'),
    parameterType: { type },
    parameterValue: { value },
  });
  if (v === null) return scalar('STRING', null);
  if (isSqlDate(v)) return scalar('DATE', sqlDate(v.value).value);
  switch (typeof v) {
    case 'number':
      return Number.isSafeInteger(v) ? scalar('INT64', String(v)) : scalar('FLOAT64', String(v));
    case 'boolean':
      return scalar('BOOL', v ? 'true' : 'false');
    case 'string':
      return scalar('STRING', v);
    default:
      throw new TypeError(`parameter ${name}: unsupported value ${String(v)}`);
  }
}

export function toQueryParameters(params: SqlParams | undefined): BigQueryQueryParameter[] {
  return Object.entries(params ?? {}).map(([name, v]) => toQueryParameter(name, v));
}

function columnValue(type: ColumnType, v: unknown): BigQueryParameterValue {
  if (v === null || v === undefined) return { value: null };
  switch (type) {
    case 'INT64':
      return { value: String(typeof v === 'string' && /^-?\d+$/.test(v) ? v : Math.round(Number(v))) };
    case 'FLOAT64':
      return { value: String(Number(v)) };
    case 'BOOL':
      return { value: v === true || v === 'true' ? 'true' : v === false || v === 'false' ? 'false' : String(Boolean(v)) };
    default:
      return { value: typeof v === 'string' ? v : JSON.stringify(v) };
  }
}

/** The ARRAY<STRUCT<…>> parameter of a seeding INSERT: one struct per row, typed by the table's columns. */
export function rowsParameter(spec: TableSpec, rows: readonly Row[]): BigQueryQueryParameter {
  return {
    name: APPEND_ROWS_PARAM,
    parameterType: {
      type: 'ARRAY',
      arrayType: { type: 'STRUCT', structTypes: spec.columns.map((c) => ({ name: identifier(c.name, 'column'), type: { type: c.type } })) },
    },
    parameterValue: {
      arrayValues: rows.map((row) => ({ structValues: Object.fromEntries(spec.columns.map((c) => [c.name, columnValue(c.type, row[c.name])])) })),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Results

export interface BigQueryField {
  name?: string | null;
  type?: string | null;
  mode?: string | null;
  fields?: BigQueryField[] | null;
}
interface Cell {
  v?: unknown;
}
interface RawRow {
  f?: Cell[] | null;
}

const NUMERIC_TYPES = new Set(['INTEGER', 'INT64', 'FLOAT', 'FLOAT64', 'NUMERIC', 'BIGNUMERIC']);

/** A TIMESTAMP cell: microseconds since the epoch (useInt64Timestamp) or, from older answers, seconds. */
function timestampIso(v: string): string {
  const ms = /^-?\d+$/.test(v) ? Number(BigInt(v) / 1000n) : Math.round(Number(v) * 1000);
  return new Date(ms).toISOString();
}

function decodeCell(field: BigQueryField, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (field.mode === 'REPEATED') return (v as Cell[]).map((item) => decodeCell({ ...field, mode: 'NULLABLE' }, item.v));
  const type = (field.type ?? 'STRING').toUpperCase();
  if (type === 'RECORD' || type === 'STRUCT') {
    const cells = (v as RawRow).f ?? [];
    return Object.fromEntries((field.fields ?? []).map((sub, i) => [sub.name ?? `f${i}`, decodeCell(sub, cells[i]?.v)]));
  }
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  if (NUMERIC_TYPES.has(type)) return Number(s);
  if (type === 'BOOLEAN' || type === 'BOOL') return s === 'true';
  if (type === 'TIMESTAMP') return timestampIso(s);
  return s; // STRING, DATE ('YYYY-MM-DD'), DATETIME, TIME, JSON, GEOGRAPHY …
}

/**
 * jobs.getQueryResults rows (`{f: [{v}]}`, every scalar a string) as `Row`s: INT64, FLOAT64 and
 * NUMERIC as numbers, BOOL as booleans, DATE as 'YYYY-MM-DD', TIMESTAMP as an ISO string (to the
 * millisecond); arrays and structs, which no processor returns, as JSON text.
 */
export function decodeRows(fields: readonly BigQueryField[], rows: readonly RawRow[]): Row[] {
  return rows.map((raw) => {
    const row: Row = {};
    fields.forEach((field, i) => {
      const value = decodeCell(field, raw.f?.[i]?.v);
      row[field.name ?? `f${i}`] = value !== null && typeof value === 'object' ? JSON.stringify(value) : (value as Row[string]);
    });
    return row;
  });
}

// ---------------------------------------------------------------------------------------------
// Errors

const TRANSIENT_REASONS = new Set([
  'rateLimitExceeded',
  'userRateLimitExceeded',
  'jobRateLimitExceeded',
  'backendError',
  'internalError',
  'jobBackendError',
  'jobInternalError',
  'timeout',
  'tableUnavailable',
]);
const SYNTAX_REASONS = new Set(['invalidQuery', 'invalid', 'notImplemented']);
const SCHEMA_REASONS = new Set(['notFound', 'duplicate']);
const REFUSED_REASONS = new Set([
  'accessDenied',
  'billingTierLimitExceeded',
  'bytesBilledLimitExceeded',
  'billingNotEnabled',
  'blocked',
  'responseTooLarge',
  'resourcesExceeded',
  'quotaExceeded',
]);
/** Messages that mean "try again shortly", whatever reason they come with. */
const TRANSIENT_MESSAGES = [
  /Too many DML statements outstanding against table/i,
  // "Transaction is aborted due to concurrent update against table …",
  // "Could not serialize access to table … due to concurrent update".
  /due to concurrent update/i,
  // jobTimeoutMs: "Job execution was cancelled: Job timed out after …" (reason "stopped"); "Operation timed out after 6.0 hours".
  /\btimed out\b/i,
];
/**
 * quotaExceeded is BigQuery's long-term limit (its quota guide: wait ten minutes or more, or raise
 * the quota) — daily bytes, per-table daily appends, custom per-day quotas: retries inside an
 * activity's schedule cannot fix those, so they are `refused`. The exception is a quota on jobs
 * waiting or running at once, which frees as soon as other jobs finish.
 */
const SHORT_TERM_QUOTA = /\b(concurrent|queued|queue)\b/i;
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED']);

/** Removes anything credential-shaped from a message: bearer tokens, OAuth access tokens, key material. */
export function redactSecrets(message: string, known: readonly string[] = []): string {
  let out = message;
  for (const secret of known) if (secret.length >= 8) out = out.split(secret).join('[redacted]');
  return out
    .replace(/\bBearer\s+[A-Za-z0-9._~+/=-]+/gi, 'Bearer [redacted]')
    .replace(/\bya29\.[A-Za-z0-9._-]+/g, '[redacted]')
    .replace(/(access_token|refresh_token|id_token|client_secret)(["'=:\s]+)[^"'&\s,}]+/gi, '$1$2[redacted]')
    .replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, '[redacted private key]');
}

interface ErrorDetail {
  reason?: string;
  message?: string;
}

function details(err: unknown): { code?: number | string; reasons: string[]; messages: string[]; fallback: string } {
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    code?: unknown;
    reason?: unknown;
    message?: unknown;
    errors?: unknown;
    errorResult?: unknown;
    status?: unknown;
  };
  const list: ErrorDetail[] = [];
  const add = (d: unknown): void => {
    if (typeof d === 'object' && d !== null) list.push(d);
  };
  add(e.errorResult);
  if (Array.isArray(e.errors)) e.errors.forEach(add);
  if (typeof e.reason === 'string') add({ reason: e.reason, message: typeof e.message === 'string' ? e.message : undefined });
  const reasons = [...new Set(list.map((d) => d.reason).filter((r): r is string => typeof r === 'string' && r !== ''))];
  const messages = [...new Set(list.map((d) => d.message).filter((m): m is string => typeof m === 'string' && m !== ''))];
  const fallback = err instanceof Error || typeof e.message === 'string' ? String(e.message) : String(err);
  const code = typeof e.code === 'number' || typeof e.code === 'string' ? e.code : undefined;
  return { code, reasons, messages, fallback };
}

function kindOf(code: number | string | undefined, reasons: readonly string[], text: string): WarehouseErrorKind {
  if (TRANSIENT_MESSAGES.some((re) => re.test(text))) return 'transient';
  if (reasons.includes('stopped')) return 'cancelled'; // "User requested cancellation" (a time-out matched above)
  for (const reason of reasons) {
    if (reason === 'quotaExceeded') return SHORT_TERM_QUOTA.test(text) ? 'transient' : 'refused';
    if (TRANSIENT_REASONS.has(reason)) return 'transient';
    if (SYNTAX_REASONS.has(reason)) return 'syntax';
    if (SCHEMA_REASONS.has(reason)) return 'schema';
    if (REFUSED_REASONS.has(reason)) return 'refused';
  }
  if (typeof code === 'number') {
    if (code === 408 || code === 429 || code >= 500) return 'transient';
    if (code === 499) return 'cancelled';
    if (code === 401 || code === 403) return 'refused';
    if (code === 404 || code === 409) return 'schema';
    if (code >= 400) return 'syntax';
  }
  return 'transient'; // network errors and anything unrecognised: bounded by the retry policy
}

/**
 * Maps a BigQuery error — an HTTP error body (`{error: {code, message, errors: [{reason, message}]}}`
 * as the client's ApiError), a job's `status.errorResult`, or a network error — onto the kinds
 * activities retry by. The message keeps BigQuery's reason and its own words, for the operator;
 * anything credential-shaped is removed, and the cause is a plain summary (never the HTTP
 * response, whose request carried the Authorization header).
 */
export function classifyBigQueryError(err: unknown, context = 'BigQuery request', secrets: readonly string[] = []): WarehouseError {
  if (err instanceof WarehouseError) return err;
  const { code, reasons, messages, fallback } = details(err);
  const text = [...messages, fallback].join('\n');
  const kind = NETWORK_CODES.has(String(code)) ? 'transient' : kindOf(code, reasons, text);
  const said = messages.length > 0 ? messages.join(' | ') : fallback;
  const tag = [reasons.join(', '), typeof code === 'number' ? `HTTP ${code}` : code].filter(Boolean).join('; ');
  const message = redactSecrets(`${context} failed${tag ? ` [${tag}]` : ''}: ${said}`, secrets);
  const cause = { name: 'BigQueryError', code, reasons, messages: messages.map((m) => redactSecrets(m, secrets)) };
  return new WarehouseError(message, kind, { cause });
}

// ---------------------------------------------------------------------------------------------
// Credentials for a custom endpoint

/**
 * The smallest auth client the library's GoogleAuth accepts as `authClient`: it only asks it for
 * request headers. Used for a custom endpoint without a key file, so no Application Default
 * Credentials lookup (files, gcloud, the metadata server) ever happens there.
 */
class StaticTokenAuth {
  constructor(private readonly token: string | undefined) {}
  getRequestHeaders(): Promise<Record<string, string>> {
    const headers: Record<string, string> = {};
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    return Promise.resolve(headers);
  }
  getAccessToken(): Promise<{ token: string | null }> {
    return Promise.resolve({ token: this.token ?? null });
  }
}

function createClient(o: BigQueryWarehouseOptions): BigQuery {
  const retries = o.maxRetries ?? 0;
  let auth: Pick<BigQueryOptions, 'keyFilename' | 'authClient'> = {};
  if (o.keyFilename) auth = { keyFilename: o.keyFilename };
  // The library types `authClient` as its own client classes; it only calls getRequestHeaders on it.
  else if (o.apiEndpoint) auth = { authClient: new StaticTokenAuth(o.accessToken) as unknown as BigQueryOptions['authClient'] };
  return new BigQuery({
    projectId: o.project,
    location: o.location,
    ...(o.apiEndpoint ? { apiEndpoint: o.apiEndpoint } : {}),
    retryOptions: { autoRetry: retries > 0, maxRetries: retries },
    ...auth,
  });
}

// ---------------------------------------------------------------------------------------------
// Waiting, abortably

/** The rejection of an abortable wait; never escapes the engine (it becomes a `cancelled` WarehouseError). */
class AbortedWait extends Error {
  constructor() {
    super('aborted');
  }
}

/** `promise`, or a rejection with AbortedWait as soon as the signal aborts (the promise runs on, unobserved). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(new AbortedWait());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new AbortedWait());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the original rejection, unchanged
        reject(e);
      },
    );
  });
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return untilAborted(
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal?.addEventListener('abort', () => clearTimeout(timer), { once: true });
    }),
    signal,
  );
}

function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    promise.then(
      () => (clearTimeout(timer), resolve()),
      () => (clearTimeout(timer), resolve()),
    );
  });
}

interface GetQueryResultsPage {
  jobComplete?: boolean | null;
  schema?: { fields?: BigQueryField[] | null } | null;
  rows?: RawRow[] | null;
  pageToken?: string | null;
}

interface JobRun {
  /** Snake-case name of the operation, a job label and part of the job id. */
  operation: string;
  signal?: AbortSignal;
  labels?: Record<string, string>;
  dryRun?: boolean;
  onJobStatistics?: QueryOptions['onJobStatistics'];
}

function count(v: string | number | null | undefined): number {
  return v === null || v === undefined ? 0 : Number(v);
}

// ---------------------------------------------------------------------------------------------

export class BigQueryWarehouse implements Warehouse, BytesEstimator {
  readonly kind = 'bigquery';
  readonly dialect;
  private readonly client: BigQuery;
  private readonly pollIntervalMs: number;
  /** Datasets this process has created or found, so ensuring many tables runs one CREATE SCHEMA per dataset. */
  private readonly datasets = new Map<string, Promise<unknown>>();
  private closed = false;

  constructor(private readonly options: BigQueryWarehouseOptions) {
    this.dialect = bigqueryDialect({ project: options.project, mapping: options.mapping });
    this.client = options.client ?? createClient(options);
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  }

  private secrets(): string[] {
    return this.options.accessToken ? [this.options.accessToken] : [];
  }

  /**
   * Runs one query job to completion and returns its final metadata. Aborting the signal cancels
   * the job (also one whose jobs.insert is still in flight) and rejects with `cancelled`.
   */
  private async runJob(sql: string, params: readonly BigQueryQueryParameter[], run: JobRun): Promise<JobMetadata> {
    if (this.closed) throw new WarehouseError('the BigQuery warehouse is closed', 'cancelled');
    const jobId = `props_backfill_${run.operation}_${randomUUID().replace(/-/g, '')}`;
    const context = `BigQuery job ${jobId} (${run.operation})`;
    if (run.signal?.aborted) throw new WarehouseError(`${context} cancelled before it started`, 'cancelled');
    const request: Query = {
      query: sql,
      useLegacySql: false,
      // DDL takes no parameters: send a parameter mode only with parameters.
      ...(params.length > 0 ? { parameterMode: 'NAMED', queryParameters: params as NonNullable<Query['queryParameters']> } : {}),
      location: this.options.location,
      maximumBytesBilled: String(this.options.maxBytesBilled),
      jobTimeoutMs: this.options.jobTimeoutMs,
      labels: sanitizeLabels({ ...run.labels, operation: run.operation }),
      jobId,
      ...(run.dryRun ? { dryRun: true } : {}),
    };
    const insert: Promise<[Job, JobMetadata]> = this.client.createQueryJob(request).catch(async (err: unknown) => {
      // With client retries on, a retried jobs.insert of a job the first attempt created meets 409: carry on with it.
      if ((err as { code?: unknown }).code !== 409 || run.dryRun) throw err;
      const existing = this.client.job(jobId, { location: this.options.location });
      return [existing, (await existing.getMetadata())[0] as JobMetadata];
    });
    let job: Job | undefined;
    try {
      let metadata: JobMetadata;
      [job, metadata] = await untilAborted(insert, run.signal);
      while (metadata.status?.state !== 'DONE') {
        await delay(this.pollIntervalMs, run.signal);
        metadata = (await untilAborted(job.getMetadata(), run.signal))[0] as JobMetadata;
      }
      if (!run.dryRun) reportStatistics(metadata, run.onJobStatistics);
      if (metadata.status.errorResult) {
        throw classifyBigQueryError({ errorResult: metadata.status.errorResult, errors: metadata.status.errors }, context, this.secrets());
      }
      return metadata;
    } catch (err) {
      if (err instanceof AbortedWait) {
        await this.cancelJob(jobId, insert);
        throw new WarehouseError(`${context} cancelled: its signal was aborted and jobs.cancel was requested`, 'cancelled');
      }
      // A failed poll leaves the job running; cancel it so the activity's retry does not race it.
      if (job && !(err instanceof WarehouseError)) void job.cancel().catch(() => undefined);
      throw classifyBigQueryError(err, context, this.secrets());
    }
  }

  private async cancelJob(jobId: string, insert: Promise<unknown>): Promise<void> {
    await settledWithin(insert, CANCEL_WAIT_MS);
    try {
      await this.client.job(jobId, { location: this.options.location }).cancel();
    } catch {
      // Already finished, never created, or unreachable: the job time-out still bounds it.
    }
  }

  private rest<T>(reqOpts: Parameters<BigQuery['request']>[0]): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.client.request(reqOpts, (err, body) => (err ? reject(err) : resolve(body as T)));
    });
  }

  /** Every row of a finished job (jobs.getQueryResults, page by page). */
  private async readRows(jobId: string, signal: AbortSignal | undefined): Promise<Row[]> {
    const rows: Row[] = [];
    let pageToken: string | undefined;
    for (;;) {
      const page = await untilAborted(
        this.rest<GetQueryResultsPage>({
          uri: `/queries/${jobId}`,
          qs: { location: this.options.location, 'formatOptions.useInt64Timestamp': true, ...(pageToken ? { pageToken } : {}) },
        }),
        signal,
      );
      if (page.jobComplete === false) {
        await delay(this.pollIntervalMs, signal);
        continue;
      }
      rows.push(...decodeRows(page.schema?.fields ?? [], page.rows ?? []));
      pageToken = page.pageToken ?? undefined;
      if (!pageToken) return rows;
    }
  }

  async query<T extends Row = Row>(sql: string, params?: SqlParams, opts?: QueryOptions): Promise<T[]> {
    const metadata = await this.runJob(sql, toQueryParameters(params), { operation: 'query', ...opts });
    const jobId = metadata.jobReference?.jobId ?? '';
    try {
      return (await this.readRows(jobId, opts?.signal)) as T[];
    } catch (err) {
      if (err instanceof AbortedWait) throw new WarehouseError(`BigQuery job ${jobId} (query) cancelled while reading its rows`, 'cancelled');
      throw classifyBigQueryError(err, `BigQuery job ${jobId} (query results)`, this.secrets());
    }
  }

  async execute(sql: string, params?: SqlParams, opts?: QueryOptions): Promise<void> {
    await this.runJob(sql, toQueryParameters(params), { operation: 'execute', ...opts });
  }

  async tableExists(ref: TableRef): Promise<boolean> {
    if (this.closed) throw new WarehouseError('the BigQuery warehouse is closed', 'cancelled');
    const dataset = mapDataset(this.options.mapping, ref.dataset);
    try {
      // tables.get: free, unlike an INFORMATION_SCHEMA query; a 404 (table or dataset) is "no".
      const [exists] = await this.client.dataset(dataset).table(identifier(ref.table, 'table')).exists();
      return exists;
    } catch (err) {
      throw classifyBigQueryError(err, `BigQuery tables.get ${dataset}.${ref.table}`, this.secrets());
    }
  }

  async ensureTable(spec: TableSpec): Promise<void> {
    const dataset = mapDataset(this.options.mapping, spec.dataset);
    let created = this.datasets.get(dataset);
    if (!created) {
      const sql = createSchemaStatement({ project: this.options.project, dataset });
      created = this.runJob(sql, [], { operation: 'ensure_dataset' });
      this.datasets.set(dataset, created);
      created.catch(() => this.datasets.delete(dataset));
    }
    await created;
    await this.runJob(createTableStatement(this.dialect.table(spec), spec), [], { operation: 'ensure_table' });
  }

  private replacePartitionJob(args: ReplacePartitionArgs): { sql: string; params: BigQueryQueryParameter[] } {
    const { sql } = replacePartitionStatement(this.dialect.table(args.target), args);
    return { sql, params: [...toQueryParameters(args.params), toQueryParameter(REPLACE_DATE_PARAM, sqlDate(args.date))] };
  }

  async replacePartition(args: ReplacePartitionArgs, opts?: QueryOptions): Promise<{ rowsWritten: number }> {
    const { sql, params } = this.replacePartitionJob(args);
    const metadata = await this.runJob(sql, params, { operation: 'replace_partition', ...opts });
    return { rowsWritten: count(metadata.statistics?.query?.dmlStats?.insertedRowCount) };
  }

  async deduplicate(args: DeduplicateArgs, opts?: QueryOptions): Promise<{ rowsRemoved: number }> {
    const { sql } = deduplicateStatement(this.dialect.table(args.target), args);
    const params = [toQueryParameter(DEDUPE_FROM_PARAM, sqlDate(args.from)), toQueryParameter(DEDUPE_TO_PARAM, sqlDate(args.to))];
    const metadata = await this.runJob(sql, params, { operation: 'deduplicate', ...opts });
    const dml = metadata.statistics?.query?.dmlStats;
    return { rowsRemoved: count(dml?.deletedRowCount) - count(dml?.insertedRowCount) };
  }

  async appendRows(spec: TableSpec, rows: readonly Row[]): Promise<void> {
    const sql = appendRowsStatement(this.dialect.table(spec), spec);
    let batch: Row[] = [];
    let bytes = 0;
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      await this.runJob(sql, [rowsParameter(spec, batch)], { operation: 'append_rows' });
      batch = [];
      bytes = 0;
    };
    for (const row of rows) {
      const size = JSON.stringify(row).length * 2; // struct encoding roughly doubles a row's JSON
      if (batch.length > 0 && (bytes + size > APPEND_BATCH_BYTES || batch.length >= APPEND_BATCH_ROWS)) await flush();
      batch.push(row);
      bytes += size;
    }
    await flush();
  }

  /** The bytes a SELECT would scan (what on-demand pricing bills), from a dry-run job. */
  async dryRunQuery(sql: string, params?: SqlParams): Promise<{ bytesProcessed: number }> {
    const metadata = await this.runJob(sql, toQueryParameters(params), { operation: 'dry_run', dryRun: true });
    return { bytesProcessed: bytesOf(metadata) };
  }

  /** The bytes the per-date MERGE would process: the same statement and parameters, dry-run. */
  async dryRunReplacePartition(args: ReplacePartitionArgs): Promise<{ bytesProcessed: number }> {
    const { sql, params } = this.replacePartitionJob(args);
    const metadata = await this.runJob(sql, params, { operation: 'dry_run', dryRun: true });
    return { bytesProcessed: bytesOf(metadata) };
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

/** A finished job's bytes to the caller's observer; an observer's own error never fails the job. */
function reportStatistics(metadata: JobMetadata, observer: QueryOptions['onJobStatistics']): void {
  if (!observer) return;
  try {
    observer({ bytesBilled: count(metadata.statistics?.query?.totalBytesBilled), bytesProcessed: bytesOf(metadata) });
  } catch {
    // Metrics are best effort.
  }
}

function bytesOf(metadata: JobMetadata): number {
  return count(metadata.statistics?.totalBytesProcessed ?? metadata.statistics?.query?.totalBytesProcessed);
}

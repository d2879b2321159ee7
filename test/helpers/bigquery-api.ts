/**
 * A local stand-in for the BigQuery REST API v2, for contract tests of the BigQuery engine: the
 * real @google-cloud/bigquery client is pointed at it (`apiEndpoint`) and every job it creates is
 * recorded — query text, typed parameters, labels, location, caps — and answered the way BigQuery
 * documents: jobs.insert / jobs.get return a Job resource (status, statistics, dmlStats), jobs.
 * getQueryResults returns schema and rows in the f/v format, jobs.cancel a JobCancelResponse, and
 * errors come as `{"error": {code, message, errors: [{reason, message}], status}}` or as a failed
 * job's `status.errorResult`.
 *
 * It runs no SQL. What a test wants back it says with `respond()`; without an answer a job
 * succeeds with no rows. Pagination is not implemented (one page holds every row).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedJob {
  jobId: string;
  query: string;
  /** Parameter name → its type (ARRAY<STRUCT<…>> spelt out) and value as sent (strings, null, arrays, objects). */
  params: Record<string, { type: string; value: unknown }>;
  labels: Record<string, string>;
  location?: string;
  maximumBytesBilled?: string;
  jobTimeoutMs?: string;
  dryRun: boolean;
  cancelled: boolean;
  /** The jobs.insert request body. */
  raw: unknown;
}

export interface ContractField {
  name: string;
  /** BigQuery REST type names: STRING, INTEGER, FLOAT, BOOLEAN, DATE, TIMESTAMP, NUMERIC, … */
  type: string;
  mode?: 'NULLABLE' | 'REQUIRED' | 'REPEATED';
}

export interface ContractError {
  /** HTTP status of the error body. */
  code: number;
  reason: string;
  message: string;
}

/** What one job answers. */
export interface ContractAnswer {
  /** Result schema and rows; row values as plain JS (TIMESTAMP as an ISO string), encoded to f/v by the server. */
  schema?: ContractField[];
  rows?: Array<Record<string, string | number | boolean | null>>;
  dmlStats?: { insertedRowCount?: number; deletedRowCount?: number; updatedRowCount?: number };
  totalBytesProcessed?: number;
  /** Bytes billed (statistics.query.totalBytesBilled); defaults to totalBytesProcessed, and is 0 for a dry run. */
  totalBytesBilled?: number;
  /** jobs.insert creates the job but answers this error (a response lost on the way back). */
  lostInsertResponse?: ContractError;
  /** An HTTP error body instead of a success, on jobs.insert (default) or on a later call. */
  httpError?: ContractError & { on?: 'insert' | 'get' | 'getQueryResults' };
  /** The job is created and then fails: DONE with `status.errorResult`. */
  jobError?: { reason: string; message: string };
  /** The job is RUNNING until the n-th jobs.get, which reports DONE (0: jobs.insert already answers DONE). */
  runningPolls?: number;
  /** The job stays RUNNING until jobs.cancel; then it is DONE with errorResult reason "stopped". */
  runUntilCancelled?: boolean;
}

export interface BigQueryRequestRecord {
  method: string;
  path: string;
  /** The Authorization header as received ('' when none). */
  authorization: string;
  /** The `location` query parameter, when sent. */
  location?: string;
}

export interface BigQueryContractServer {
  /** `http://127.0.0.1:<port>`: the client's `apiEndpoint`. */
  url: string;
  projectId: string;
  jobs: RecordedJob[];
  requests: BigQueryRequestRecord[];
  /** Tables tables.get finds, as 'dataset.table'. */
  tables: Set<string>;
  respond(fn: (job: RecordedJob) => ContractAnswer | undefined): void;
  close(): Promise<void>;
}

interface JobState {
  recorded: RecordedJob;
  answer: ContractAnswer;
  polls: number;
  creationTime: number;
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'NOT_IMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/** BigQuery's documented error body. */
export function errorBody(e: ContractError): unknown {
  return {
    error: {
      code: e.code,
      message: e.message,
      errors: [{ message: e.message, domain: 'global', reason: e.reason }],
      status: STATUS_NAMES[e.code] ?? 'UNKNOWN',
    },
  };
}

interface RestParamType {
  type?: string;
  arrayType?: RestParamType;
  structTypes?: Array<{ name?: string; type?: RestParamType }>;
}
interface RestParamValue {
  value?: string | null;
  arrayValues?: RestParamValue[];
  structValues?: Record<string, RestParamValue>;
}

function typeName(t: RestParamType | undefined): string {
  if (!t?.type) return '?';
  if (t.type === 'ARRAY') return `ARRAY<${typeName(t.arrayType)}>`;
  if (t.type === 'STRUCT') return `STRUCT<${(t.structTypes ?? []).map((f) => `${f.name ?? ''} ${typeName(f.type)}`).join(', ')}>`;
  return t.type;
}

function paramValue(t: RestParamType | undefined, v: RestParamValue | undefined): unknown {
  if (t?.type === 'ARRAY') return (v?.arrayValues ?? []).map((item) => paramValue(t.arrayType, item));
  if (t?.type === 'STRUCT') {
    return Object.fromEntries((t.structTypes ?? []).map((f) => [f.name ?? '', paramValue(f.type, v?.structValues?.[f.name ?? ''])]));
  }
  return v?.value ?? null;
}

function recordJob(body: Record<string, unknown>, projectId: string): RecordedJob {
  const configuration = (body.configuration ?? {}) as Record<string, unknown>;
  const query = (configuration.query ?? {}) as Record<string, unknown>;
  const reference = (body.jobReference ?? {}) as Record<string, unknown>;
  const params: RecordedJob['params'] = {};
  for (const p of (query.queryParameters ?? []) as Array<{ name?: string; parameterType?: RestParamType; parameterValue?: RestParamValue }>) {
    params[p.name ?? ''] = { type: typeName(p.parameterType), value: paramValue(p.parameterType, p.parameterValue) };
  }
  return {
    jobId: typeof reference.jobId === 'string' ? reference.jobId : `job_${projectId}_${Date.now()}`,
    query: typeof query.query === 'string' ? query.query : '',
    params,
    labels: (configuration.labels ?? {}) as Record<string, string>,
    ...(typeof reference.location === 'string' ? { location: reference.location } : {}),
    ...(typeof query.maximumBytesBilled === 'string' ? { maximumBytesBilled: query.maximumBytesBilled } : {}),
    ...(typeof configuration.jobTimeoutMs === 'string' ? { jobTimeoutMs: configuration.jobTimeoutMs } : {}),
    dryRun: configuration.dryRun === true,
    cancelled: false,
    raw: body,
  };
}

/** A TIMESTAMP cell as BigQuery sends it: microseconds (formatOptions.useInt64Timestamp) or float seconds. */
function timestampCell(iso: string, int64: boolean): string {
  const ms = Date.parse(iso);
  return int64 ? String(BigInt(ms) * 1000n) : (ms / 1000).toExponential();
}

function encodeRows(answer: ContractAnswer, int64Timestamps: boolean): unknown[] {
  const fields = answer.schema ?? [];
  return (answer.rows ?? []).map((row) => ({
    f: fields.map((field) => {
      const v = row[field.name];
      if (v === null || v === undefined) return { v: null };
      if (field.type === 'TIMESTAMP') return { v: timestampCell(String(v), int64Timestamps) };
      return { v: String(v) };
    }),
  }));
}

export async function startBigQueryContractServer(opts: { projectId?: string } = {}): Promise<BigQueryContractServer> {
  const projectId = opts.projectId ?? 'contract-proj';
  const jobs: RecordedJob[] = [];
  const requests: BigQueryRequestRecord[] = [];
  const tables = new Set<string>();
  const state = new Map<string, JobState>();
  let responder: (job: RecordedJob) => ContractAnswer | undefined = () => undefined;

  const isDone = (s: JobState): boolean => {
    if (s.recorded.dryRun || s.recorded.cancelled) return true;
    if (s.answer.runUntilCancelled) return false;
    return s.polls >= (s.answer.runningPolls ?? 0);
  };

  const jobResource = (s: JobState): unknown => {
    const { recorded, answer } = s;
    const done = isDone(s);
    const location = recorded.location ?? 'US';
    const errorResult = recorded.cancelled
      ? { reason: 'stopped', message: 'Job execution was cancelled: User requested cancellation' }
      : done && answer.jobError
        ? { reason: answer.jobError.reason, message: answer.jobError.message, location: 'query' }
        : undefined;
    const bytes = String(answer.totalBytesProcessed ?? 0);
    const dml = answer.dmlStats;
    const body = recorded.raw as Record<string, unknown>;
    return {
      kind: 'bigquery#job',
      etag: `etag-${recorded.jobId}`,
      id: `${projectId}:${location}.${recorded.jobId}`,
      selfLink: `/bigquery/v2/projects/${projectId}/jobs/${recorded.jobId}?location=${location}`,
      user_email: 'contract-test@example.invalid',
      // Dry-run jobs are not stored and come back without a job id.
      jobReference: recorded.dryRun ? { projectId, location } : { projectId, jobId: recorded.jobId, location },
      configuration: { ...(body.configuration as object), jobType: 'QUERY' },
      status: done ? { state: 'DONE', ...(errorResult ? { errorResult, errors: [errorResult] } : {}) } : { state: 'RUNNING' },
      statistics: {
        creationTime: String(s.creationTime),
        startTime: String(s.creationTime + 1),
        ...(done ? { endTime: String(s.creationTime + 2) } : {}),
        totalBytesProcessed: bytes,
        query: {
          totalBytesProcessed: bytes,
          totalBytesBilled: recorded.dryRun ? '0' : String(answer.totalBytesBilled ?? answer.totalBytesProcessed ?? 0),
          cacheHit: false,
          ...(dml
            ? {
                statementType: 'MERGE',
                numDmlAffectedRows: String((dml.insertedRowCount ?? 0) + (dml.deletedRowCount ?? 0) + (dml.updatedRowCount ?? 0)),
                dmlStats: {
                  // proto3 JSON: zero counts are left out, as BigQuery does.
                  ...(dml.insertedRowCount ? { insertedRowCount: String(dml.insertedRowCount) } : {}),
                  ...(dml.deletedRowCount ? { deletedRowCount: String(dml.deletedRowCount) } : {}),
                  ...(dml.updatedRowCount ? { updatedRowCount: String(dml.updatedRowCount) } : {}),
                },
              }
            : { statementType: 'SELECT' }),
        },
      },
    };
  };

  const send = (res: http.ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const sendError = (res: http.ServerResponse, e: ContractError): void => send(res, e.code, errorBody(e));
  const notFound = (res: http.ServerResponse, what: string): void =>
    sendError(res, { code: 404, reason: 'notFound', message: `Not found: ${what}` });

  const handle = (req: http.IncomingMessage, res: http.ServerResponse, rawBody: string): void => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const authorization = req.headers.authorization ?? '';
    const location = url.searchParams.get('location');
    requests.push({ method, path: url.pathname, authorization, ...(location !== null ? { location } : {}) });
    const m = /^\/bigquery\/v2\/projects\/([^/]+)\/(.*)$/.exec(url.pathname);
    if (!m?.[1] || m[2] === undefined) return notFound(res, `URL ${url.pathname}`);
    if (m[1] !== projectId) return notFound(res, `Project ${m[1]}`);
    const rest = m[2];

    // jobs.insert
    if (method === 'POST' && rest === 'jobs') {
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(rawBody) as Record<string, unknown>;
      } catch {
        return sendError(res, { code: 400, reason: 'parseError', message: 'Parse Error' });
      }
      const recorded = recordJob(body, projectId);
      if (state.has(recorded.jobId)) {
        return sendError(res, { code: 409, reason: 'duplicate', message: `Already Exists: Job ${projectId}:${recorded.location ?? 'US'}.${recorded.jobId}` });
      }
      jobs.push(recorded);
      const answer = responder(recorded) ?? {};
      if (answer.httpError && (answer.httpError.on ?? 'insert') === 'insert') return sendError(res, answer.httpError);
      const s: JobState = { recorded, answer, polls: 0, creationTime: Date.now() };
      if (!recorded.dryRun) state.set(recorded.jobId, s);
      if (answer.lostInsertResponse) return sendError(res, answer.lostInsertResponse);
      return send(res, 200, jobResource(s));
    }

    // jobs.get, jobs.cancel
    const job = /^jobs\/([^/]+?)(\/cancel)?$/.exec(rest);
    if (job?.[1]) {
      const s = state.get(job[1]);
      if (!s) return notFound(res, `Job ${projectId}:${url.searchParams.get('location') ?? 'US'}.${job[1]}`);
      if (job[2] && method === 'POST') {
        if (!isDone(s)) s.recorded.cancelled = true;
        return send(res, 200, { kind: 'bigquery#jobCancelResponse', job: jobResource(s) });
      }
      if (method === 'GET') {
        if (s.answer.httpError?.on === 'get') return sendError(res, s.answer.httpError);
        s.polls += 1;
        return send(res, 200, jobResource(s));
      }
    }

    // jobs.getQueryResults
    const results = /^queries\/([^/]+)$/.exec(rest);
    if (method === 'GET' && results?.[1]) {
      const s = state.get(results[1]);
      if (!s) return notFound(res, `Job ${projectId}:${url.searchParams.get('location') ?? 'US'}.${results[1]}`);
      if (s.answer.httpError?.on === 'getQueryResults') return sendError(res, s.answer.httpError);
      const reference = { projectId, jobId: s.recorded.jobId, location: s.recorded.location ?? 'US' };
      if (!isDone(s)) return send(res, 200, { kind: 'bigquery#getQueryResultsResponse', jobReference: reference, jobComplete: false });
      // A failed job's results are its error, as an HTTP error.
      if (s.recorded.cancelled) return sendError(res, { code: 499, reason: 'stopped', message: 'Job execution was cancelled: User requested cancellation' });
      if (s.answer.jobError) return sendError(res, { code: 400, ...s.answer.jobError });
      const rows = encodeRows(s.answer, url.searchParams.get('formatOptions.useInt64Timestamp') === 'true');
      return send(res, 200, {
        kind: 'bigquery#getQueryResultsResponse',
        etag: `etag-${s.recorded.jobId}`,
        jobReference: reference,
        jobComplete: true,
        cacheHit: false,
        totalBytesProcessed: String(s.answer.totalBytesProcessed ?? 0),
        schema: { fields: (s.answer.schema ?? []).map((f) => ({ mode: 'NULLABLE', ...f })) },
        totalRows: String(rows.length),
        ...(rows.length > 0 ? { rows } : {}),
        ...(s.answer.dmlStats ? { numDmlAffectedRows: String(s.answer.dmlStats.insertedRowCount ?? 0) } : {}),
      });
    }

    // tables.get
    const table = /^datasets\/([^/]+)\/tables\/([^/]+)$/.exec(rest);
    if (method === 'GET' && table?.[1] && table[2]) {
      const [dataset, tableId] = [table[1], table[2]];
      if (!tables.has(`${dataset}.${tableId}`)) return notFound(res, `Table ${projectId}:${dataset}.${tableId}`);
      return send(res, 200, {
        kind: 'bigquery#table',
        id: `${projectId}:${dataset}.${tableId}`,
        tableReference: { projectId, datasetId: dataset, tableId },
        type: 'TABLE',
      });
    }

    return sendError(res, { code: 501, reason: 'notImplemented', message: `the contract server does not implement ${method} ${url.pathname}` });
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    projectId,
    jobs,
    requests,
    tables,
    respond(fn) {
      responder = fn;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

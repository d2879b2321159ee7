/**
 * The production engine: BigQuery through @google-cloud/bigquery. Credentials come from the key
 * file named by GOOGLE_APPLICATION_CREDENTIALS, else Application Default Credentials (the
 * environment's identity) — except with BIGQUERY_API_ENDPOINT and no key file (an emulator, the
 * contract tests), where no credentials are looked up and requests carry no Authorization header.
 * The settings hold at most the credentials file's path, never its contents.
 */
import fs from 'node:fs';
import { z } from 'zod';
import { defineEngine } from '../engine';
import { isIdentifier } from '../identifiers';
import { bigqueryDialect, DATASET_NAME, PROJECT_ID } from './dialect';
import { BigQueryWarehouse } from './warehouse';

export { bigqueryDialect, bigqueryTypes, mapDataset, type DatasetMapping } from './dialect';
export { BigQueryWarehouse, classifyBigQueryError, sanitizeLabels, type BigQueryWarehouseOptions } from './warehouse';
export { createSchemaStatement, createTableStatement, deduplicateStatement, replacePartitionStatement } from './statements';

/** "nba_analytics=prod_nba_analytics,nba_raw=raw" → { nba_analytics: 'prod_nba_analytics', … }. */
const datasetMap = z
  .string()
  .default('')
  .transform((value, ctx) => {
    const out: Record<string, string> = {};
    for (const part of value.split(',').map((s) => s.trim()).filter(Boolean)) {
      const m = /^([^=\s]+)=([^=\s]+)$/.exec(part);
      if (!m?.[1] || !m[2] || !isIdentifier(m[1]) || !DATASET_NAME.test(m[2])) {
        ctx.addIssue({ code: 'custom', message: `"${part}" is not logical_dataset=bigquery_dataset (letters, digits, _)` });
        return z.NEVER;
      }
      out[m[1]] = m[2];
    }
    return out;
  });

export const bigqueryEngine = defineEngine({
  kind: 'bigquery',
  description: 'Google BigQuery (production)',
  settings: {
    bigqueryProject: z
      .string()
      .default('')
      .refine((v) => v === '' || PROJECT_ID.test(v), 'not a GCP project id (6-30 lowercase letters, digits, hyphens)'),
    bigqueryLocation: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{1,40}$/, 'not a BigQuery location such as US, EU or europe-west2')
      .default('US'),
    bigqueryDatasetPrefix: z.string().regex(/^[A-Za-z0-9_]{0,64}$/, 'only letters, digits and _ are allowed').default(''),
    bigqueryDatasets: datasetMap,
    /** Per job: BigQuery refuses (bytesBilledLimitExceeded) rather than bill more. 50 GiB by default. */
    bigqueryMaxBytesBilled: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).default(50 * 2 ** 30),
    /** Per job; BigQuery cancels a job that runs longer. */
    bigqueryJobTimeoutMs: z.coerce.number().int().min(1_000).max(6 * 3_600_000).default(15 * 60_000),
    /** On-demand price per TiB scanned, for dry-run cost estimates. */
    bigqueryPricePerTib: z.coerce.number().nonnegative().default(6.25),
    /** Path to a service-account key; empty: Application Default Credentials. */
    bigqueryCredentialsFile: z.string().default(''),
    /** Another endpoint for the BigQuery API (contract tests, emulators); empty: Google's. */
    bigqueryApiEndpoint: z.string().default(''),
  },
  env: {
    BIGQUERY_PROJECT: 'bigqueryProject',
    BIGQUERY_LOCATION: 'bigqueryLocation',
    BIGQUERY_DATASET_PREFIX: 'bigqueryDatasetPrefix',
    BIGQUERY_DATASETS: 'bigqueryDatasets',
    BIGQUERY_MAX_BYTES_BILLED: 'bigqueryMaxBytesBilled',
    BIGQUERY_JOB_TIMEOUT_MS: 'bigqueryJobTimeoutMs',
    BIGQUERY_PRICE_PER_TIB: 'bigqueryPricePerTib',
    GOOGLE_APPLICATION_CREDENTIALS: 'bigqueryCredentialsFile',
    BIGQUERY_API_ENDPOINT: 'bigqueryApiEndpoint',
  },
  check: (s, context) => {
    if (s.bigqueryProject === '') return ['BIGQUERY_PROJECT', 'required when WAREHOUSE=bigquery'];
    const unknown = Object.keys(s.bigqueryDatasets).filter((k) => !context.datasets.includes(k));
    if (unknown.length > 0) return ['BIGQUERY_DATASETS', `unknown dataset ${unknown.join(', ')}; ours are ${context.datasets.join(', ')}`];
    if (s.bigqueryCredentialsFile !== '') {
      // Read to check it is usable; its contents are a secret and appear in no message.
      let text: string;
      try {
        text = fs.readFileSync(s.bigqueryCredentialsFile, 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
        return ['GOOGLE_APPLICATION_CREDENTIALS', `cannot read ${s.bigqueryCredentialsFile} (${code})`];
      }
      let type: unknown;
      try {
        type = (JSON.parse(text) as { type?: unknown }).type;
      } catch {
        return ['GOOGLE_APPLICATION_CREDENTIALS', `${s.bigqueryCredentialsFile} is not a JSON credentials file`];
      }
      if (typeof type !== 'string') {
        return ['GOOGLE_APPLICATION_CREDENTIALS', `${s.bigqueryCredentialsFile} has no "type" (not a Google credentials file)`];
      }
    }
    if (s.bigqueryApiEndpoint !== '' && !/^https?:\/\/[^\s/]+/.test(s.bigqueryApiEndpoint)) {
      return ['BIGQUERY_API_ENDPOINT', 'must be an http(s):// URL'];
    }
    return undefined;
  },
  // The cap protects one project's query capacity in one location.
  capKey: (s) => `bigquery:${s.bigqueryProject}:${s.bigqueryLocation}`,
  dialect: (s) => bigqueryDialect({ project: s.bigqueryProject, mapping: { prefix: s.bigqueryDatasetPrefix, datasets: s.bigqueryDatasets } }),
  create: (s) =>
    new BigQueryWarehouse({
      project: s.bigqueryProject,
      location: s.bigqueryLocation,
      mapping: { prefix: s.bigqueryDatasetPrefix, datasets: s.bigqueryDatasets },
      maxBytesBilled: s.bigqueryMaxBytesBilled,
      jobTimeoutMs: s.bigqueryJobTimeoutMs,
      ...(s.bigqueryCredentialsFile ? { keyFilename: s.bigqueryCredentialsFile } : {}),
      ...(s.bigqueryApiEndpoint ? { apiEndpoint: s.bigqueryApiEndpoint } : {}),
    }),
  describe: (s) => ({
    project: s.bigqueryProject,
    location: s.bigqueryLocation,
    datasetPrefix: s.bigqueryDatasetPrefix,
    datasets: s.bigqueryDatasets,
    maxBytesBilled: s.bigqueryMaxBytesBilled,
    credentials: s.bigqueryCredentialsFile ? 'key file' : s.bigqueryApiEndpoint ? 'none (custom endpoint)' : 'application default',
    ...(s.bigqueryApiEndpoint ? { apiEndpoint: s.bigqueryApiEndpoint } : {}),
  }),
});

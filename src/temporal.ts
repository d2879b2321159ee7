/**
 * Connections to Temporal and namespace set-up shared by the worker, the CLI and `npm start`.
 */
import fs from 'node:fs';
import { Connection, type TLSConfig } from '@temporalio/client';
import { temporalTlsEnabled, type TemporalConnectionSettings } from './config/temporal-connection';
import { CUSTOM_SEARCH_ATTRIBUTES } from './shared/search-attributes';
import type { PinoLogger } from './logger';

export { temporalTlsEnabled, type TemporalConnectionSettings };

/**
 * The options both `Connection.connect` (client) and `NativeConnection.connect` (worker) take, from
 * the one config: address, TLS material read from its files now, and the API key. `tls` is always
 * explicit, so an API key with `TEMPORAL_TLS=false` (a plaintext proxy) stays plaintext.
 */
export interface TemporalConnectionOptions {
  address: string;
  tls: TLSConfig | false;
  apiKey?: string;
}

function readTlsFile(variable: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    // Checked at start-up (config); this is a file that changed since. Name it, never its contents.
    throw new Error(`cannot read ${variable} file ${file} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`, { cause: err });
  }
}

export function temporalConnectionOptions(settings: TemporalConnectionSettings): TemporalConnectionOptions {
  const apiKey = settings.temporalApiKey?.reveal();
  if (!temporalTlsEnabled(settings)) return { address: settings.temporalAddress, tls: false, ...(apiKey ? { apiKey } : {}) };
  const tls: TLSConfig = {};
  if (settings.temporalTlsCa !== '') tls.serverRootCACertificate = readTlsFile('TEMPORAL_TLS_CA', settings.temporalTlsCa);
  if (settings.temporalTlsCert !== '') {
    tls.clientCertPair = {
      crt: readTlsFile('TEMPORAL_TLS_CERT', settings.temporalTlsCert),
      key: readTlsFile('TEMPORAL_TLS_KEY', settings.temporalTlsKey),
    };
  }
  if (settings.temporalTlsServerName !== '') tls.serverNameOverride = settings.temporalTlsServerName;
  return { address: settings.temporalAddress, tls, ...(apiKey ? { apiKey } : {}) };
}

/** How the connection is secured, for a log line or an error message: never a secret or a path's contents. */
export function describeTemporalConnection(settings: TemporalConnectionSettings): string {
  const parts: string[] = [];
  if (!temporalTlsEnabled(settings)) parts.push('plaintext');
  else if (settings.temporalTlsCert !== '') parts.push('mTLS');
  else parts.push('TLS');
  if (temporalTlsEnabled(settings)) parts.push(settings.temporalTlsCa !== '' ? 'private CA' : 'system CAs');
  if (settings.temporalApiKey !== undefined) parts.push('API key');
  return parts.join(', ');
}

const indexedValueType: Record<string, number> = {
  // temporal.api.enums.v1.IndexedValueType
  Text: 1,
  Keyword: 2,
  Int: 3,
  Double: 4,
  Bool: 5,
  Datetime: 6,
  KeywordList: 7,
};

/** Any client-side connection exposing the operator service. */
interface OperatorCapable {
  operatorService: Connection['operatorService'];
}

/**
 * Makes sure our custom search attributes exist on the namespace, so a worker can run against any
 * server — a fresh dev server or a cluster set up by someone else. Idempotent.
 */
export async function ensureSearchAttributes(
  connection: OperatorCapable,
  namespace: string,
  logger?: PinoLogger,
): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const have = new Set(Object.keys(existing.customAttributes ?? {}));
  const missing = Object.entries(CUSTOM_SEARCH_ATTRIBUTES).filter(([name]) => !have.has(name));
  if (missing.length === 0) return [];
  const searchAttributes: Record<string, number> = {};
  for (const [name, type] of missing) searchAttributes[name] = indexedValueType[type] ?? 2;
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  } catch (err) {
    // Two workers starting at once may race to add the same attribute.
    if (!/already exists/i.test(err instanceof Error ? err.message : String(err))) throw err;
  }
  logger?.info({ namespace, added: missing.map(([n]) => n) }, 'registered custom search attributes');
  return missing.map(([n]) => n);
}

/** A client connection as configured (TLS, API key); fails after 5 s rather than hang on a wrong address. */
export async function connectClient(settings: TemporalConnectionSettings): Promise<Connection> {
  return Connection.connect({ ...temporalConnectionOptions(settings), connectTimeout: '5s' });
}

/**
 * Connections to Temporal and namespace set-up shared by the worker, the CLI and `npm start`.
 */
import { Connection } from '@temporalio/client';
import { CUSTOM_SEARCH_ATTRIBUTES } from './shared/search-attributes';
import type { PinoLogger } from './logger';

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

export async function connectClient(address: string): Promise<Connection> {
  return Connection.connect({ address, connectTimeout: '5s' });
}

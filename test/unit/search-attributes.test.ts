/**
 * The worker registers our custom search attributes itself, so it runs against any server — here a
 * fresh dev server started without them.
 */
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { Connection } from '@temporalio/client';
import { findFreePort, listCustomSearchAttributes, locateTemporalCli, startDevServer } from '../../src/devserver';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';
import { ensureSearchAttributes } from '../../src/temporal';

test('ensureSearchAttributes adds the missing attributes to a fresh namespace, and is idempotent', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'props-backfill-sa-'));
  const server = await startDevServer({
    cliPath: await locateTemporalCli(),
    port: await findFreePort(),
    headless: true,
    searchAttributes: {},
    logFile: path.join(dir, 'temporal.log'),
  });
  const connection = await Connection.connect({ address: server.address });
  try {
    const before = await listCustomSearchAttributes(server.address);
    expect(Object.keys(before).filter((k) => k in CUSTOM_SEARCH_ATTRIBUTES)).toEqual([]);

    const added = await ensureSearchAttributes(connection, 'default');
    expect(added.sort()).toEqual(Object.keys(CUSTOM_SEARCH_ATTRIBUTES).sort());
    const after = await listCustomSearchAttributes(server.address);
    for (const [name, type] of Object.entries(CUSTOM_SEARCH_ATTRIBUTES)) expect(after[name]).toBe(type);

    expect(await ensureSearchAttributes(connection, 'default')).toEqual([]);
  } finally {
    await connection.close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

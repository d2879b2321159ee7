/** Jest global teardown: stops the shared dev server started by global-setup.ts and removes its files. */
import { promises as fs } from 'node:fs';
import type {} from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const shared = globalThis.__PROPS_BACKFILL_TEST_SERVER__;
  if (shared === undefined) return;
  globalThis.__PROPS_BACKFILL_TEST_SERVER__ = undefined;
  try {
    await shared.handle.stop();
  } finally {
    await fs.rm(shared.tempDir, { recursive: true, force: true });
  }
}

/**
 * Follows a backfill until it leaves RUNNING (or the caller detaches): on a terminal the live view
 * is redrawn in place; elsewhere (a log file, CI, a pipe) plain snapshots are printed when something
 * changed, at most every `plainEveryMs`. Used by `npm start` and `backfill status --watch`.
 */
import type { Client } from '@temporalio/client';
import { getBackfillStatus, type BackfillStatus } from '../client/backfill-client';
import { formatLive } from './format';

export interface WatchOptions {
  write: (text: string) => void;
  tty: boolean;
  /** Polling period. */
  intervalMs?: number;
  /** Without a terminal, the longest gap between two printed snapshots. */
  plainEveryMs?: number;
  /** True when the caller wants to stop watching (Ctrl-C). */
  detached: () => boolean;
}

export async function watchBackfill(client: Client, id: string, options: WatchOptions): Promise<BackfillStatus | undefined> {
  const interval = options.intervalMs ?? 1_000;
  const plainEvery = options.plainEveryMs ?? 10_000;
  let drawnLines = 0;
  let lastPrinted = 0;
  let lastText = '';
  const draw = (text: string): void => {
    if (options.tty) {
      // Up to the first line drawn, clear to the end of the screen, draw again.
      if (drawnLines > 0) options.write(`\x1b[${drawnLines}A\x1b[J`);
      options.write(`${text}\n`);
      drawnLines = text.split('\n').length;
    } else {
      options.write(`${text}\n`);
    }
  };
  while (!options.detached()) {
    const status = await getBackfillStatus(client, id).catch(() => undefined);
    if (status) {
      const text = formatLive(status);
      if (status.status !== 'RUNNING') {
        draw(text);
        return status;
      }
      const due = Date.now() - lastPrinted >= plainEvery;
      if (options.tty || (text !== lastText && due) || lastPrinted === 0) {
        draw(text);
        lastPrinted = Date.now();
        lastText = text;
      }
    }
    await sleepUnless(interval, options.detached);
  }
  return undefined;
}

async function sleepUnless(ms: number, stop: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until && !stop()) await new Promise((r) => setTimeout(r, Math.min(200, until - Date.now())));
}

/**
 * The backfill report: coverage explained (pure), the report's data gathered from the workflow's
 * status and the warehouse, and its self-contained HTML. `npm start` and `backfill report` both
 * go through `buildBackfillReport` → `writeReportHtml`.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BackfillReport } from './build';
import { renderReportHtml } from './html';

export * from './build';
export * from './coverage';
export { esc, renderReportHtml } from './html';
export { backfillRequestOf, reportStatus } from './request';

/**
 * Writes the report's HTML next to `file`, then renames it over: a reader (or a browser that
 * reloads) never sees half a report. Throws an Error with one line naming the file and the cause.
 */
export function writeReportHtml(file: string, report: BackfillReport): string {
  const target = path.resolve(file);
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, renderReportHtml(report), 'utf8');
    fs.renameSync(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`cannot write the report to ${target}: ${code ?? (err instanceof Error ? err.message.split('\n')[0] : String(err))}`, { cause: err });
  }
  return target;
}

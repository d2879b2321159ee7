/**
 * The backfill report from a real run: Phases 3–6 over the tiny preset on the dev server with one
 * export date failing (its error message hostile HTML) and one written date's rows deleted
 * afterwards, so the heat-map holds all four states. The HTML is opened in a real browser
 * (Debian's chromium through playwright-core) with every non-file request aborted, and checked
 * cell by cell against the run; then the same report through the CLI, its bad input and a locked
 * DuckDB file.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { chromium, type BrowserContext } from 'playwright-core';
import type { BackfillActivities } from '../../src/activities';
import { runCli } from '../../src/cli';
import { getBackfillStatus, startBackfill, type BackfillStatus } from '../../src/client/backfill-client';
import { createExportSink } from '../../src/exports';
import { planProcessorDates } from '../../src/pipeline/dates';
import { DEMO_PRESETS } from '../../src/pipeline/demo';
import { predictionExports } from '../../src/pipeline/phase6';
import { planPhases } from '../../src/pipeline/registry';
import { buildBackfillReport, type BackfillReport } from '../../src/report/build';
import { renderReportHtml } from '../../src/report/html';
import { backfillRequestOf } from '../../src/report/request';
import { approveGateSignal, backfillProgressQuery } from '../../src/shared/messages';
import type { BackfillRequest, RunDateInput } from '../../src/shared/types';
import type { DuckDbWarehouse } from '../../src/warehouse';
import { eventually, seededWarehouse, startWorker, tempDir, testEnv, type RunningWorker } from '../helpers/harness';
import { testServerAddress } from '../helpers/temporal-env';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/**
 * Every run saves a screenshot in a temp folder (its path is printed); the README's copy in docs/ is
 * refreshed only on request (`UPDATE_SCREENSHOT=1`), so `npm test` leaves the work tree clean.
 */
const SCREENSHOT =
  process.env.UPDATE_SCREENSHOT === '1'
    ? path.resolve(__dirname, '../../docs/report-screenshot.png')
    : path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'props-backfill-report-shot-')), 'report-screenshot.png');
/** Would run, load an image or break out of the title attribute if any value escaped escaping. */
const HOSTILE = `<script>window.__pwned = 1</script><img src="x" onerror="window.__pwned = 2"> "quoted" & 'single' </i><b>`;

interface Cell {
  processor: string;
  date: string;
  state: string;
  title: string;
}

async function cli(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (s) => (out += s), err: (s) => (err += s), env: { TEMPORAL_ADDRESS: testServerAddress(), ...env } });
  return { code, out, err };
}

/**
 * Every attribute name of every tag. Values are always double-quoted and escaped, so a quoted
 * value is skipped whole: text inside a title (an escaped error message) is never read as markup.
 */
function attributeNames(html: string): string[] {
  const names: string[] = [];
  for (const tag of html.matchAll(/<[a-z][a-z0-9]*((?:\s+[a-z-]+(?:="[^"]*")?)*)\s*\/?>/gi)) {
    for (const attr of (tag[1] ?? '').matchAll(/\s+([a-z-]+)(?:="[^"]*")?/gi)) names.push((attr[1] ?? '').toLowerCase());
  }
  return names;
}

/** Opens the file in a fresh headless chromium, every non-file request aborted and recorded. */
async function openInBrowser(file: string): Promise<{
  context: BrowserContext;
  page: Awaited<ReturnType<BrowserContext['newPage']>>;
  consoleErrors: string[];
  pageErrors: string[];
  nonFileRequests: string[];
}> {
  const context = await chromium.launchPersistentContext(tempDir('chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1440, height: 1040 },
    deviceScaleFactor: 1,
  });
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  const nonFileRequests: string[] = [];
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    nonFileRequests.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') consoleErrors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`file://${file}`, { waitUntil: 'load' });
  return { context, page, consoleErrors, pageErrors, nonFileRequests };
}

describe('backfill report', () => {
  const exportDir = tempDir('report-exports');
  const outDir = tempDir('report-out');
  const { from, to } = DEMO_PRESETS.tiny;
  const request: BackfillRequest = { from, to, phases: [3, 4, 5, 6], concurrency: 4, gatePolicy: 'wait', bootstrapDays: 14 };
  const deletedProcessor = 'player_daily_cache';
  let env: TestWorkflowEnvironment;
  let warehouse: DuckDbWarehouse;
  let worker: RunningWorker | undefined;
  let backfillId: string;
  let status: BackfillStatus;
  let report: BackfillReport;
  let failDate: string;
  let deletedDate: string;
  let gameDates: number;

  beforeAll(async () => {
    env = await testEnv();
    warehouse = await seededWarehouse('tiny');
    failDate = (await planProcessorDates(warehouse, predictionExports, from, to, 14)).dates[0] as string;
    const wrap = (acts: BackfillActivities) => ({
      ...acts,
      async runProcessorForDate(input: RunDateInput) {
        if (input.processor === predictionExports.name && input.date === failDate) {
          throw ApplicationFailure.nonRetryable(HOSTILE, 'InjectedExportFailure');
        }
        return acts.runProcessorForDate(input);
      },
    });
    worker = await startWorker(env, warehouse, { wrap, config: { exportDir } });
    const started = await startBackfill(env.client, worker.config.taskQueue, request);
    backfillId = started.backfillId;
    // The failed export fails the Phase 6 gate; an operator approves it and the backfill completes.
    await eventually(async () => {
      const p = await started.handle.query(backfillProgressQuery);
      return p.stage.kind === 'gate_failed' && p.stage.phase === 6;
    });
    await started.handle.signal(approveGateSignal);
    await started.handle.result();
    status = await getBackfillStatus(env.client, backfillId);

    // A written date whose rows disappear afterwards: the report must call it missing.
    const pdc = status.progress?.processors.find((p) => p.processor === deletedProcessor);
    expect(pdc?.done).toBeGreaterThan(1);
    const [row] = await warehouse.query('SELECT max(cache_date) AS d FROM nba_precompute.player_daily_cache');
    deletedDate = String(row?.d);
    await warehouse.execute(`DELETE FROM nba_precompute.player_daily_cache WHERE cache_date = DATE '${deletedDate}'`);

    const [games] = await warehouse.query(`SELECT count(DISTINCT game_date) AS n FROM nba_raw.schedule WHERE game_date BETWEEN DATE '${from}' AND DATE '${to}'`);
    gameDates = Number(games?.n);
    report = await buildBackfillReport({
      warehouse,
      exportSink: createExportSink({ exportDir }),
      status,
      request: await backfillRequestOf(env.client, backfillId),
    });
  });

  afterAll(async () => {
    await worker?.stop();
    await warehouse?.close();
    await env?.teardown();
  });

  test('the HTML opens in a real browser offline: one cell per processor-date, states as the run left them, errors escaped', async () => {
    const html = renderReportHtml(report);
    // Self-contained: no URL, no external resource, one inline script and nothing that loads.
    expect(html).not.toMatch(/https?:|\/\/[a-z0-9]/i);
    expect(html).not.toMatch(/<(link|img|iframe|object|embed|audio|video|source)\b/i);
    expect(attributeNames(html).filter((a) => /^(src|srcset|href|action|formaction|poster|data|background)$/.test(a))).toEqual([]);
    expect(html).not.toMatch(/url\(|@import/i);
    expect(html.match(/<script\b/g)).toHaveLength(1);
    expect(html).not.toContain('<script>window.__pwned');
    expect(html).toContain('&#60;script&#62;window.__pwned = 1&#60;/script&#62;');

    const file = path.join(outDir, 'report.html');
    fs.writeFileSync(file, html);
    const browser = await openInBrowser(file);
    try {
      const { page } = browser;
      const cells: Cell[] = await page.$$eval('#heatmap-grid [data-state]', (els) =>
        els.map((e) => ({
          processor: e.getAttribute('data-processor') ?? '',
          date: e.getAttribute('data-date') ?? '',
          state: e.getAttribute('data-state') ?? '',
          title: e.getAttribute('title') ?? '',
        })),
      );
      const processors = planPhases(request.phases).flatMap((p) => p.groups.flat());
      expect(processors.length).toBeGreaterThanOrEqual(12);
      expect(gameDates).toBeGreaterThan(14);
      expect(cells).toHaveLength(processors.length * gameDates);
      expect(new Set(cells.map((c) => `${c.processor} ${c.date}`)).size).toBe(cells.length);

      // Per processor, the cells' states are what the run reported (and what happened since).
      for (const p of status.progress?.processors ?? []) {
        const mine = cells.filter((c) => c.processor === p.processor);
        const count = (state: string) => mine.filter((c) => c.state === state).length;
        const deleted = p.processor === deletedProcessor ? 1 : 0;
        expect({ processor: p.processor, done: count('done'), skipped: count('skipped'), failed: count('failed'), missing: count('missing') }).toEqual({
          processor: p.processor,
          done: p.done - deleted,
          skipped: p.skipped,
          failed: p.failed,
          missing: deleted,
        });
        expect(mine).toHaveLength(gameDates);
      }
      expect(status.progress?.processors.map((p) => p.processor).sort()).toEqual([...processors].sort());

      const failed = cells.filter((c) => c.state === 'failed');
      expect(failed).toEqual([{ processor: predictionExports.name, date: failDate, state: 'failed', title: `${failDate} · failed · InjectedExportFailure: ${HOSTILE}` }]);
      expect(await page.evaluate(() => (globalThis as { __pwned?: unknown }).__pwned)).toBeUndefined();
      const missing = cells.filter((c) => c.state === 'missing');
      expect(missing.map((c) => [c.processor, c.date])).toEqual([[deletedProcessor, deletedDate]]);
      const skipped = cells.filter((c) => c.state === 'skipped');
      expect(skipped.every((c) => /· skipped · (bootstrap: first 14 days of season 2024-25|TDZA: fewer than 10 prior games for some team playing \(.+\))$/.test(c.title))).toBe(true);

      // Coverage explained, on the page: the buckets add up for every processor.
      const equations = await page.locator('[data-equation]').allTextContents();
      expect(equations).toHaveLength(processors.length);
      for (const eq of equations) {
        const [total, ...parts] = (eq.match(/\d+/g) ?? []).map(Number);
        expect(parts.reduce((a, b) => a + b, 0)).toBe(total);
        expect(total).toBe(gameDates);
      }
      expect(await page.textContent(`[data-coverage="${predictionExports.name}"]`)).toContain(`InjectedExportFailure: ${HOSTILE}`);
      // Gates and timings are there, with the seed's figures next to this run's.
      expect(await page.locator('#gates h3').count()).toBe(report.gates.length);
      expect(report.gates.length).toBeGreaterThanOrEqual(4);
      expect(await page.textContent('[data-timing="player_composite_factors"]')).toMatch(/80$/);
      expect(await page.textContent('[data-timing="player_daily_cache"]')).toMatch(/56$/);
      expect(await page.textContent('[data-timing="ml_feature_store_v2"]')).toMatch(/~140 \(estimated\)$/);

      // The hover read-out (the page's one script) shows a cell's error.
      await page.hover(`#heatmap-grid [data-state="failed"]`);
      expect(await page.textContent('#readout')).toContain('InjectedExportFailure: <script>');

      await page.mouse.move(0, 0);
      // The README's picture: the header and the heat-map, cropped below the heat-map's card.
      const box = await page.locator('#heatmap').boundingBox();
      expect(box).not.toBeNull();
      fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, clip: { x: 0, y: 0, width: 1440, height: Math.ceil((box?.y ?? 0) + (box?.height ?? 1000) + 12) } });
      expect(fs.statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
      process.stdout.write(`\nreport screenshot: ${SCREENSHOT}\n`);
      expect(browser.consoleErrors).toEqual([]);
      expect(browser.pageErrors).toEqual([]);
      expect(browser.nonFileRequests).toEqual([]);
    } finally {
      await browser.context.close();
    }
  });

  test('negative controls: the same checks catch a network request, a script that ran, a page error and a console error', async () => {
    const html = renderReportHtml(report);
    // Without the page's policy, an injected image is requested and an injected script runs.
    const unprotected = html
      .replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '')
      .replace('</main>', '</main><img src="http://127.0.0.1:9/x.png"><script>window.__pwned = 3; throw new Error("injected")</script>');
    expect(attributeNames(unprotected)).toContain('src');
    let file = path.join(outDir, 'unprotected.html');
    fs.writeFileSync(file, unprotected);
    let browser = await openInBrowser(file);
    try {
      await eventually(async () => browser.nonFileRequests.length > 0);
      expect(browser.nonFileRequests).toEqual(['http://127.0.0.1:9/x.png']);
      expect(await browser.page.evaluate(() => (globalThis as { __pwned?: unknown }).__pwned)).toBe(3);
      expect(browser.pageErrors).toEqual(['injected']);
    } finally {
      await browser.context.close();
    }
    // With it, the injected script is refused, and the browser says so on the console.
    file = path.join(outDir, 'protected.html');
    fs.writeFileSync(file, html.replace('</main>', '</main><script>window.__pwned = 4</script>'));
    browser = await openInBrowser(file);
    try {
      await eventually(async () => browser.consoleErrors.length > 0);
      expect(browser.consoleErrors.join('\n')).toMatch(/Content Security Policy/);
      expect(await browser.page.evaluate(() => (globalThis as { __pwned?: unknown }).__pwned)).toBeUndefined();
    } finally {
      await browser.context.close();
    }
  });

  describe('through the CLI', () => {
    const envFor = (): Record<string, string> => ({
      DUCKDB_PATH: warehouse.path,
      EXPORT_DIR: exportDir,
      BACKFILL_TASK_QUEUE: worker?.config.taskQueue ?? 'none',
    });

    test.each([
      [['report', 'x'], 2, /^backfill: report needs --html <file>, --json, or both\n$/],
      [['report', 'x', '--html', '/nonexistent-folder/r.html'], 2, /^backfill: --html \/nonexistent-folder\/r\.html: cannot write there: \/nonexistent-folder does not exist\n$/],
      [['report', 'x', '--html', '.'], 2, /^backfill: --html \.: is a folder, not a file\n$/],
    ])('bad input %j: one line, exit %d, nothing written', async (argv, code, message) => {
      const r = await cli(argv);
      expect({ code: r.code, err: r.err, out: r.out }).toEqual({ code, err: expect.stringMatching(message), out: '' });
    });

    test('a file under a file: one line, exit 2, nothing written', async () => {
      const plain = path.join(outDir, 'plain.txt');
      fs.writeFileSync(plain, 'x');
      const r = await cli(['report', 'x', '--html', path.join(plain, 'r.html')]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^backfill: --html .*plain\.txt\/r\.html: cannot write there: .*plain\.txt is not a folder\n$/);
      expect(fs.readFileSync(plain, 'utf8')).toBe('x');
    });

    test('unknown id: one line, exit 1, no file', async () => {
      const file = path.join(outDir, 'unknown.html');
      const r = await cli(['report', 'backfill-does-not-exist', '--html', file], envFor());
      expect(r).toEqual({ code: 1, out: '', err: 'backfill: no backfill with id "backfill-does-not-exist"\n' });
      expect(fs.existsSync(file)).toBe(false);
    });

    test('with the worker stopped it writes the same report; a DuckDB file held by another process is one line', async () => {
      await worker?.stop();
      worker = undefined;
      await warehouse.close();

      // Another process holds a DuckDB file (as a running worker would). A copy, because POSIX
      // file locks are per process: this process opened the original, the copy it never has.
      const held = path.join(tempDir('report-held'), 'warehouse.duckdb');
      fs.copyFileSync(warehouse.path, held);
      const holder: ChildProcess = spawn(
        process.execPath,
        ['-e', `require(${JSON.stringify(require.resolve('@duckdb/node-api'))}).DuckDBInstance.create(${JSON.stringify(held)}).then((db) => { globalThis.held = db; console.log('holding'); setInterval(() => {}, 1000); })`],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      try {
        await new Promise<void>((resolve, reject) => {
          holder.stdout?.on('data', (d: Buffer) => (d.toString().includes('holding') ? resolve() : undefined));
          holder.once('exit', (c) => reject(new Error(`holder exited with ${c}`)));
        });
        const locked = path.join(outDir, 'locked.html');
        const r = await cli(['report', backfillId, '--html', locked], { ...envFor(), DUCKDB_PATH: held });
        expect(r).toEqual({ code: 1, out: '', err: `backfill: the DuckDB file ${held} is in use by another process (a worker?): stop it, then run report again\n` });
        expect(fs.existsSync(locked)).toBe(false);
      } finally {
        const exited = new Promise((resolve) => holder.once('exit', resolve));
        if (holder.pid !== undefined) process.kill(holder.pid, 'SIGTERM');
        await exited;
      }

      const file = path.join(outDir, 'cli.html');
      const r = await cli(['report', backfillId, '--html', file, '--json'], envFor());
      expect(r.code).toBe(0);
      expect(r.err).toMatch(new RegExp(`^wrote ${file}: ${report.processors.length} processors × ${gameDates} game dates — \\d+ done, \\d+ skipped, 1 failed, 1 missing\\n$`));
      const json = JSON.parse(r.out) as BackfillReport;
      const states = (x: BackfillReport) => x.processors.map((p) => [p.processor, p.counts, p.coverage.failed.dates]);
      expect(states(json)).toEqual(states(report));
      expect(json.gates.map((g) => [g.phase, g.ok])).toEqual(report.gates.map((g) => [g.phase, g.ok]));
      // Without a worker the failures and gates come from the stored result, and the report says so.
      expect(json.notes).toEqual([expect.stringMatching(/^live progress is unavailable.*: failures and gate reports come from the stored result/)]);
      const html = fs.readFileSync(file, 'utf8');
      expect(html.match(/<i class="c[^"]*" data-state="/g)).toHaveLength(report.processors.length * gameDates);
      expect(fs.readdirSync(outDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    });
  });
});

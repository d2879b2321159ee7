/**
 * The backfill report as one self-contained HTML file: inline CSS, a CSS-grid heat-map, one small
 * inline script (a hover read-out), and nothing fetched from anywhere — a Content-Security-Policy
 * allows no network at all and only that script, by its hash, so even a value that escaped
 * escaping could not run or load anything. Every value from the run (dates, reasons, error texts,
 * names) goes through `esc`.
 */
import { createHash } from 'node:crypto';
import type { PhaseGateReport } from '../shared/types';
import { formatBytes } from '../shared/cost-budget';
import type { BackfillReport, ProcessorReport, ReportCell } from './build';
import type { CoverageExplanation, DateState } from './coverage';

const STATES: readonly DateState[] = ['done', 'skipped', 'failed', 'missing'];

/** Text and attribute values: the five characters that could end either. */
export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

const READOUT_SCRIPT = `(function () {
  var out = document.getElementById('readout');
  var map = document.getElementById('heatmap-grid');
  if (!out || !map) return;
  var idle = out.textContent;
  map.addEventListener('mouseover', function (e) {
    var t = e.target;
    if (!t || !t.getAttribute || !t.getAttribute('data-state')) return;
    out.textContent = t.getAttribute('data-processor') + ' \\u00b7 ' + t.getAttribute('title');
    out.setAttribute('data-state', t.getAttribute('data-state'));
  });
  map.addEventListener('mouseleave', function () {
    out.textContent = idle;
    out.removeAttribute('data-state');
  });
})();`;

const CSS = `
:root {
  --done: #2f9e6b; --bootstrap: #d5dae3; --rule: #e9a93a; --failed: #d7433b; --missing: #7559c7;
  --ink: #1d2433; --muted: #5f6b7e; --line: #e3e7ee; --bg: #f4f6f9; --card: #fff;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1480px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 22px; margin: 0 0 4px; font-weight: 650; }
h2 { font-size: 16px; margin: 0 0 12px; font-weight: 650; }
h3 { font-size: 14px; margin: 16px 0 6px; font-weight: 600; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 18px 20px; margin-top: 18px; }
.head { display: flex; flex-wrap: wrap; align-items: center; gap: 10px 16px; }
.pill { display: inline-block; padding: 2px 10px; border-radius: 999px; font-size: 12px; font-weight: 600; letter-spacing: .02em; }
.pill.ok { background: #ddf3e8; color: #17683f; } .pill.bad { background: #fbe1df; color: #a3231c; }
.pill.live { background: #dfe9fb; color: #21509e; } .pill.neutral { background: #eceff4; color: #475163; }
.meta { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 8px 20px; margin-top: 14px; }
.meta div { color: var(--muted); font-size: 12px; min-width: 0; } .meta div.wide { grid-column: span 2; } .meta b { display: block; color: var(--ink); font-size: 13.5px; font-weight: 600; overflow-wrap: anywhere; }
.paused { margin: 12px 0 0; padding: 8px 12px; border-left: 3px solid #c0392b; background: rgba(192, 57, 43, 0.08); font-size: 13px; }
.tiles { display: flex; flex-wrap: wrap; gap: 12px; margin-top: 16px; }
.tile { flex: 1 1 140px; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.tile .n { font-size: 22px; font-weight: 650; } .tile .l { color: var(--muted); font-size: 12px; }
.sw { display: inline-block; width: 11px; height: 11px; border-radius: 3px; vertical-align: -1px; margin-right: 6px; }
.s-done { background: var(--done); } .s-bootstrap { background: var(--bootstrap); } .s-rule { background: var(--rule); }
.s-failed { background: var(--failed); } .s-missing { background: var(--missing); }
.legend { display: flex; flex-wrap: wrap; gap: 6px 18px; color: var(--muted); font-size: 12.5px; margin-bottom: 10px; }
.readout { min-height: 22px; font-size: 12.5px; color: var(--muted); margin-bottom: 8px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.readout[data-state] { color: var(--ink); }
.hm { overflow-x: auto; border: 1px solid var(--line); border-radius: 8px; padding: 8px 0 10px; background: #fbfcfd; }
.hm-row { display: flex; align-items: center; width: max-content; min-width: 100%; }
.hm-name { position: sticky; left: 0; z-index: 2; flex: none; width: 300px; padding: 0 12px; background: #fbfcfd;
  display: flex; justify-content: space-between; gap: 8px; font-size: 12.5px; white-space: nowrap; }
.hm-name .cnt { color: var(--muted); font-variant-numeric: tabular-nums; }
.hm-phase .hm-name { font-weight: 650; color: var(--muted); font-size: 11.5px; text-transform: uppercase; letter-spacing: .06em; padding-top: 10px; }
.hm-cells { display: grid; grid-template-columns: repeat(var(--n), var(--cell)); column-gap: var(--gap); padding-right: 12px; }
.hm-cells .c { display: block; height: var(--h); margin: 1px 0; border-radius: var(--r); }
.hm-cells .c:hover { outline: 2px solid var(--ink); outline-offset: 0; position: relative; z-index: 1; }
.c[data-state="done"] { background: var(--done); }
.c[data-state="skipped"] { background: var(--bootstrap); }
.c[data-state="skipped"][data-skip="rule"] { background: var(--rule); }
.c[data-state="failed"] { background: var(--failed); }
.c[data-state="missing"] { background: var(--missing); }
/* A skipped or failed date that holds rows anyway: a green corner, the title says which. */
.c.rows-anyway { background-image: linear-gradient(135deg, transparent 55%, var(--done) 55%); }
.hm-axis .hm-cells span { font-size: 11px; color: var(--muted); white-space: nowrap; overflow: hidden; border-left: 1px solid #c7cdd8; padding-left: 3px; height: 16px; }
.hm-axis.season .hm-cells span { color: var(--ink); font-weight: 600; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
table.gate { table-layout: fixed; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: 12px; background: #fafbfc; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.fail td:first-child { box-shadow: inset 3px 0 0 var(--failed); }
.bar { display: flex; height: 10px; border-radius: 5px; overflow: hidden; background: var(--line); min-width: 160px; }
.bar span { display: block; height: 100%; }
.eq { font-size: 12.5px; color: var(--muted); margin-top: 3px; }
details { margin: 2px 0 0; } summary { cursor: pointer; color: #21509e; font-size: 12.5px; }
.detail { font-size: 12.5px; color: var(--ink); margin: 6px 0 4px 14px; }
.detail p { margin: 4px 0; } .detail ul { margin: 4px 0; padding-left: 18px; }
.err { color: #8d1d17; white-space: pre-wrap; word-break: break-word; }
.notes { background: #fff8e6; border-color: #f1dca4; }
.muted { color: var(--muted); }
footer { color: var(--muted); font-size: 12px; margin-top: 26px; }
`;

export function renderReportHtml(report: BackfillReport): string {
  const scriptHash = createHash('sha256').update(READOUT_SCRIPT).digest('base64');
  const csp = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${scriptHash}'; img-src 'none'; connect-src 'none'; form-action 'none'; base-uri 'none'`;
  const totals: Record<DateState, number> = { done: 0, skipped: 0, failed: 0, missing: 0 };
  for (const p of report.processors) for (const s of STATES) totals[s] += p.counts[s];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Backfill report — ${esc(report.id)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${header(report, totals)}
${report.notes.length > 0 ? `<section class="card notes"><h2>Notes</h2><ul>${report.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul></section>` : ''}
${heatmap(report, totals)}
${coverageSection(report)}
${gatesSection(report.gates)}
${timingsSection(report)}
<footer>Generated by props-backfill at ${esc(report.generatedAt)} — one self-contained file: no network, no external resources.</footer>
</main>
<script>${READOUT_SCRIPT}</script>
</body>
</html>
`;
}

function statusPill(status: string, stage: string | null): string {
  const shownStage = stage === 'completed' && status === 'COMPLETED' ? null : stage;
  const cls = status === 'COMPLETED' ? 'ok' : status === 'RUNNING' ? 'live' : ['FAILED', 'TERMINATED', 'TIMED_OUT', 'CANCELLED'].includes(status) ? 'bad' : 'neutral';
  return `<span class="pill ${cls}" data-status="${esc(status)}">${esc(status)}</span>${shownStage ? ` <span class="muted">${esc(shownStage)}</span>` : ''}`;
}

function header(r: BackfillReport, totals: Record<DateState, number>): string {
  const cells = r.processors.length * r.gameDates.length;
  const meta: Array<[string, string]> = [
    ['Range', `${r.from} → ${r.to}`],
    ['Phases', r.phases.join(', ')],
    ['Game dates', String(r.gameDates.length)],
    ['Processors', r.processorsRequested ? r.processorsRequested.join(', ') : `${r.processors.length} (all of the phases)`],
    ['Bootstrap', `first ${r.bootstrapDays} days of each season`],
    ['Warehouse', r.warehouse],
    ['Exports', r.exportLocation],
    ['Generated', utc(r.generatedAt)],
  ];
  if (r.failureBudget !== null) meta.push(['Failure budget', r.failureBudget]);
  if (r.warehouseLoad) meta.push(['Warehouse load', r.warehouseLoad]);
  if (r.cost) {
    const c = r.cost;
    meta.push([
      'Bytes billed',
      `${formatBytes(c.spentBytes)}${c.budgetBytes !== null ? ` of ${formatBytes(c.budgetBytes)} budget` : ''}` +
        (c.avgBytesPerDate !== null ? `, ${formatBytes(c.avgBytesPerDate)}/date, ~${formatBytes(c.remainingEstimateBytes ?? 0)} for ${c.remainingDates} dates left` : ''),
    ]);
  }
  const paused = r.pauseReason
    ? `<p class="paused" data-pause="${esc(r.pauseReason.status)}"><b>Paused by the ${r.pauseReason.kind === 'failures' ? 'failure' : 'cost'} budget:</b> ${esc(r.pauseReason.kind === 'failures' ? r.pauseReason.trip.reason : r.pauseReason.reason)}</p>`
    : '';
  const tile = (state: DateState, label: string): string =>
    `<div class="tile"><div class="n" data-total="${state}">${totals[state]}</div><div class="l"><span class="sw s-${state === 'skipped' ? 'bootstrap' : state}"></span>${esc(label)}</div></div>`;
  return `<section class="card">
<div class="head"><h1>Backfill report</h1><code>${esc(r.id)}</code>${statusPill(r.status, r.stage)}</div>
<div class="meta">${meta.map(([k, v]) => `<div${v.length > 28 ? ' class="wide"' : ''}>${esc(k)}<b>${esc(v)}</b></div>`).join('')}</div>${paused}
<div class="tiles">
<div class="tile"><div class="n">${cells}</div><div class="l">processor-dates (${r.processors.length} × ${r.gameDates.length})</div></div>
${tile('done', 'done')}${tile('skipped', 'skipped, each with its reason')}${tile('failed', 'failed')}${tile('missing', 'missing')}
</div>
</section>`;
}

function cellSize(n: number): { cell: number; gap: number; h: number; r: number } {
  if (n <= 40) return { cell: 18, gap: 2, h: 18, r: 3 };
  if (n <= 120) return { cell: 9, gap: 1, h: 16, r: 2 };
  if (n <= 400) return { cell: 5, gap: 1, h: 15, r: 1 };
  return { cell: 4, gap: 1, h: 15, r: 0 };
}

function cellTitle(c: ReportCell): string {
  switch (c.state) {
    case 'done':
      return `${c.date} · done${c.rows !== null ? ` · ${c.rows} row${c.rows === 1 ? '' : 's'}` : ''}`;
    case 'skipped':
      return `${c.date} · skipped · ${c.reason}${c.hasRows ? ' (yet the table holds rows for it)' : ''}`;
    case 'failed':
      return `${c.date} · failed · ${c.reason}${c.hasRows ? ' (rows from an earlier write remain)' : ''}`;
    case 'missing':
      return `${c.date} · missing · no rows and no failure recorded`;
  }
}

function heatmap(r: BackfillReport, totals: Record<DateState, number>): string {
  const n = r.gameDates.length;
  const size = cellSize(n);
  const style = `--n:${n};--cell:${size.cell}px;--gap:${size.gap}px;--h:${size.h}px;--r:${size.r}px`;
  const rows: string[] = [];
  // Axis: seasons, then months (labels are spans over their dates' columns).
  rows.push(
    `<div class="hm-row hm-axis season"><div class="hm-name"><span>season</span></div><div class="hm-cells">${r.seasons
      .map((s) => `<span style="grid-column:${s.firstIndex + 1} / span ${s.dates}" title="${esc(`season ${s.season}: ${s.dates} game dates`)}">${esc(s.season)}</span>`)
      .join('')}</div></div>`,
  );
  const months: Array<{ label: string; first: number; count: number }> = [];
  r.gameDates.forEach((d, i) => {
    const key = d.slice(0, 7);
    const last = months[months.length - 1];
    if (last && last.label === key) last.count += 1;
    else months.push({ label: key, first: i, count: 1 });
  });
  rows.push(
    `<div class="hm-row hm-axis"><div class="hm-name"><span>month</span></div><div class="hm-cells">${months
      .map((m) => `<span style="grid-column:${m.first + 1} / span ${m.count}" title="${esc(`${m.label}: ${m.count} game dates`)}">${esc(monthLabel(m.label, m.count * (size.cell + size.gap)))}</span>`)
      .join('')}</div></div>`,
  );
  let phase = -1;
  for (const p of r.processors) {
    if (p.phase !== phase) {
      phase = p.phase;
      rows.push(`<div class="hm-row hm-phase"><div class="hm-name">Phase ${phase}</div></div>`);
    }
    const expected = p.cells.length - p.counts.skipped;
    rows.push(
      `<div class="hm-row" data-row="${esc(p.processor)}"><div class="hm-name" title="${esc(`${p.processor} → ${p.target} (group ${p.group})`)}"><span>${esc(p.processor)}</span><span class="cnt">${p.counts.done}/${expected}</span></div><div class="hm-cells">${p.cells
        .map((c) => cell(p, c))
        .join('')}</div></div>`,
    );
  }
  const rule = r.processors.reduce((n2, p) => n2 + p.cells.filter((c) => c.state === 'skipped' && !c.reason.startsWith('bootstrap:')).length, 0);
  const legend = [
    `<span><span class="sw s-done"></span>done ${totals.done}</span>`,
    `<span><span class="sw s-bootstrap"></span>skipped: bootstrap ${totals.skipped - rule}</span>`,
    `<span><span class="sw s-rule"></span>skipped: a processor's own rule ${rule}</span>`,
    `<span><span class="sw s-failed"></span>failed ${totals.failed}</span>`,
    `<span><span class="sw s-missing"></span>missing ${totals.missing}</span>`,
  ].join('');
  return `<section class="card" id="heatmap">
<h2>Every processor × every game date</h2>
<div class="legend">${legend}<span class="muted">hover a cell for its date, reason or error</span></div>
<div class="readout" id="readout">${esc(`${r.processors.length} processors × ${n} game dates = ${r.processors.length * n} cells`)}</div>
<div class="hm" id="heatmap-grid" style="${style}">
${rows.join('\n')}
</div>
</section>`;
}

function cell(p: ProcessorReport, c: ReportCell): string {
  const skip = c.state === 'skipped' ? ` data-skip="${c.reason.startsWith('bootstrap:') ? 'bootstrap' : 'rule'}"` : '';
  const flagged = (c.state === 'skipped' || c.state === 'failed') && c.hasRows ? ' rows-anyway' : '';
  return `<i class="c${flagged}" data-state="${c.state}"${skip} data-processor="${esc(p.processor)}" data-date="${esc(c.date)}" title="${esc(cellTitle(c))}"></i>`;
}

function monthLabel(yyyyMm: string, widthPx: number): string {
  const names = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const name = names[Number(yyyyMm.slice(5, 7)) - 1] ?? yyyyMm;
  if (widthPx < 24) return '';
  return widthPx < 56 ? name : `${name} ${yyyyMm.slice(0, 4)}`;
}

function coverageSection(r: BackfillReport): string {
  const rows = r.processors.map((p) => coverageRow(p.coverage)).join('\n');
  return `<section class="card" id="coverage">
<h2>Coverage explained</h2>
<p class="muted" style="margin:-4px 0 12px">Every game date of every table in exactly one bucket: present, skipped for the season's bootstrap, skipped by the processor's own rule (with the teams or inputs behind it), failed (with the error), or missing. The buckets add up to the game dates.</p>
<table>
<thead><tr><th>processor → table</th><th class="num">game dates</th><th class="num">present</th><th class="num">bootstrap</th><th class="num">skip rule</th><th class="num">failed</th><th class="num">missing</th><th style="width:24%">share</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</section>`;
}

function coverageRow(c: CoverageExplanation): string {
  const bootstrap = c.skipGroups.filter((g) => g.kind === 'bootstrap').reduce((s, g) => s + g.count, 0);
  const rule = c.skipped - bootstrap;
  const pct = (x: number): string => (c.gameDates === 0 ? '0' : ((x / c.gameDates) * 100).toFixed(3));
  const bar = `<div class="bar" title="${esc(`${c.present} present, ${bootstrap} bootstrap, ${rule} skip rule, ${c.failed.count} failed, ${c.missing.count} missing`)}">${[
    ['done', c.present],
    ['bootstrap', bootstrap],
    ['rule', rule],
    ['failed', c.failed.count],
    ['missing', c.missing.count],
  ]
    .filter(([, x]) => (x as number) > 0)
    .map(([cls, x]) => `<span class="s-${cls as string}" style="width:${pct(x as number)}%"></span>`)
    .join('')}</div>`;
  let derivation = `${c.gameDates} game dates`;
  if (bootstrap > 0) derivation += ` − ${bootstrap} bootstrap = ${c.gameDates - bootstrap}`;
  if (rule > 0) derivation += ` − ${rule} skipped by rule = ${c.expected}`;
  const equation = `${c.gameDates} = ${c.present} present + ${bootstrap} bootstrap + ${rule} skip rule + ${c.failed.count} failed + ${c.missing.count} missing`;
  const details = coverageDetails(c);
  const bad = c.failed.count > 0 || c.missing.count > 0;
  return `<tr class="${bad ? 'fail' : ''}" data-coverage="${esc(c.processor)}"><td><b>${esc(c.processor)}</b> <span class="muted">→ ${esc(c.table)}</span>
<div class="eq">${esc(`${c.present} of ${c.expected} expected dates present (${derivation}${c.skipped > 0 ? ' expected' : ''})`)}</div>
<div class="eq" data-equation>${esc(equation)}</div>${details}</td>
<td class="num">${c.gameDates}</td><td class="num">${c.present}</td><td class="num">${bootstrap}</td><td class="num">${rule}</td><td class="num">${c.failed.count}</td><td class="num">${c.missing.count}</td><td>${bar}</td></tr>`;
}

function coverageDetails(c: CoverageExplanation): string {
  const parts: string[] = [];
  for (const g of c.skipGroups) {
    if (g.kind === 'bootstrap') {
      parts.push(`<p><span class="sw s-bootstrap"></span><b>bootstrap ${g.count}</b>: ${g.reasons.map((r) => esc(`${r.detail ?? r.reason} (${r.count})`)).join(', ')}</p>`);
      continue;
    }
    const behind = g.behind.length > 0 ? `<p>behind it (dates each): ${g.behind.map((b) => esc(`${b.name} ${b.dates}`)).join(', ')}</p>` : '';
    const dated = g.reasons.flatMap((r) => (r.dates ?? []).map((d) => ({ d, detail: r.detail ?? r.reason }))).sort((a, b) => (a.d < b.d ? -1 : 1));
    const list = dated.length > 0 ? `<ul>${dated.map((x) => `<li><span class="mono">${esc(x.d)}</span> ${esc(x.detail)}</li>`).join('')}</ul>` : '';
    parts.push(`<p><span class="sw s-rule"></span><b>skip rule ${g.count}</b>: ${esc(g.rule)}</p>${behind}${list}`);
  }
  if (c.failed.count > 0) {
    parts.push(
      `<p><span class="sw s-failed"></span><b>failed ${c.failed.count}</b>${c.failed.withRows > 0 ? esc(` (${c.failed.withRows} still hold rows from an earlier write)`) : ''}</p><ul>${c.failed.dates
        .map((f) => `<li><span class="mono">${esc(f.date)}</span> <span class="err">${esc(f.error)}</span></li>`)
        .join('')}</ul>`,
    );
  }
  if (c.missing.count > 0) {
    parts.push(`<p><span class="sw s-missing"></span><b>missing ${c.missing.count}</b>: <span class="mono">${c.missing.dates.map(esc).join(', ')}</span></p>`);
  }
  if (c.unexpected.count > 0) parts.push(`<p>${esc(`${c.unexpected.count} date(s) the plan skips hold rows anyway: ${c.unexpected.dates.join(', ')}`)}</p>`);
  for (const note of c.notes) parts.push(`<p class="muted">${esc(note)}</p>`);
  if (parts.length === 0) return '';
  return `<details${c.failed.count > 0 || c.missing.count > 0 ? ' open' : ''}><summary>why</summary><div class="detail">${parts.join('')}</div></details>`;
}

function gatesSection(gates: readonly PhaseGateReport[]): string {
  if (gates.length === 0) {
    return `<section class="card" id="gates"><h2>Phase gates</h2><p class="muted">No gate report (no phase has finished, or the workflow's progress was not available).</p></section>`;
  }
  const attempts = new Map<number, number>();
  const blocks = gates.map((g) => {
    const attempt = (attempts.get(g.phase) ?? 0) + 1;
    attempts.set(g.phase, attempt);
    const rows = g.tables
      .map((t) => {
        const fields = t.fieldCoverage
          .map((f) => `${f.ok ? '' : '✗ '}${f.column} ${f.coverage === null ? 'n/a' : `${(f.coverage * 100).toFixed(1)}%`} (min ${(f.min * 100).toFixed(0)}%)`)
          .join('; ');
        return `<tr class="${t.ok ? '' : 'fail'}"><td>${esc(t.table)}</td><td><span class="pill ${t.ok ? 'ok' : 'bad'}">${t.ok ? 'ok' : 'FAIL'}</span></td><td class="num">${t.actualDates}/${t.expectedDates}</td><td class="num">${t.skippedDates}</td><td class="num">${t.rows}</td><td class="num">${t.duplicateKeys}</td><td class="num">${t.failedDates.length}</td><td>${esc(fields || '—')}</td></tr>`;
      })
      .join('');
    const problems = g.problems.length > 0 ? `<ul class="err">${g.problems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul>` : '';
    return `<h3>Phase ${g.phase} gate${attempt > 1 ? `, check ${attempt}` : ''} <span class="pill ${g.ok ? 'ok' : 'bad'}">${g.ok ? 'PASSED' : 'FAILED'}</span> <span class="muted">${esc(`${g.from} → ${g.to}, checked ${utc(g.checkedAt)}`)}</span></h3>
<table class="gate"><colgroup><col style="width:29%"><col style="width:6%"><col style="width:7%"><col style="width:7%"><col style="width:8%"><col style="width:8%"><col style="width:6%"><col></colgroup>
<thead><tr><th>table</th><th></th><th class="num">dates</th><th class="num">skipped</th><th class="num">rows</th><th class="num">duplicates</th><th class="num">failed</th><th>field coverage</th></tr></thead><tbody>${rows}</tbody></table>${problems}`;
  });
  return `<section class="card" id="gates"><h2>Phase gates</h2>${blocks.join('\n')}</section>`;
}

/** 2024-11-05T10:00:00.123Z → 2024-11-05 10:00:00 UTC (anything else as given). */
function utc(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d+)?Z$/.exec(iso);
  return m ? `${m[1]} ${m[2]} UTC` : iso;
}

function rate(x: number | null): string {
  if (x === null) return '—';
  return x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1);
}

function timingsSection(r: BackfillReport): string {
  const rows = r.processors
    .map((p) => {
      const t = p.timing;
      const span = t.firstWriteAt && t.lastWriteAt ? `${t.firstWriteAt.slice(0, 19).replace('T', ' ')} → ${t.lastWriteAt.slice(11, 19)}` : '—';
      return `<tr data-timing="${esc(p.processor)}"><td>${esc(p.processor)}</td><td class="num">${p.phase}</td><td class="num">${t.datesWritten ?? '—'}</td><td class="mono">${esc(span)}</td><td class="num"><b>${rate(t.datesPerHour)}</b></td><td class="num">${rate(t.workflowDatesPerHour)}</td><td class="num">${t.seed ? esc(t.seed.label) : '—'}</td></tr>`;
    })
    .join('');
  return `<section class="card" id="timings">
<h2>Timings</h2>
<p class="muted" style="margin:-4px 0 12px">Dates per hour of this run, measured from when each date's rows were written (first to last write; exports carry no write time), next to the workflow's own recent rate and the handoff's sequential rates on BigQuery (PCF 80, PDC 56, MLFS ~140 dates/h).</p>
<table><thead><tr><th>processor</th><th class="num">phase</th><th class="num">dates written</th><th>first → last write (UTC)</th><th class="num">dates/h (this run)</th><th class="num">dates/h (workflow, recent)</th><th class="num">dates/h (seed)</th></tr></thead>
<tbody>${rows}</tbody></table>
</section>`;
}

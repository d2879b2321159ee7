/**
 * Coverage explained: why a table holds the dates it holds. Every game date in the range lands in
 * exactly one bucket — present, skipped for the bootstrap, skipped by a processor's own rule (with
 * its reason and the teams or inputs behind it), failed (with the error) or missing — so
 * "why does TDZA have 804 dates and not 848?" is answered by arithmetic that adds up:
 *
 *   918 game dates = 804 present + 70 bootstrap + 44 skipped by rule + 0 failed + 0 missing
 *
 * Pure: it explains a gate result (`TableGateResult`), a processor's live progress, or an exact
 * per-date picture (the report's), and never queries anything. Every explanation is checked by
 * `assertCoverageAddsUp` before it is returned.
 */
import type { ProcessorProgress, SkippedDate, TableGateResult } from '../shared/types';

/** Bootstrap skips carry reasons starting with this (see planProcessorDates). */
export const BOOTSTRAP_REASON_PREFIX = 'bootstrap:';

export type SkipKind = 'bootstrap' | 'rule';

/**
 * A skip reason read as "<rule> (<detail>)": the rule is what dates share (so summaries group by
 * it), the detail names what is behind one date — e.g. the TDZA rule's "GSW 5, LAL 5", the teams
 * short of prior games with their counts. A detail is comma-separated items, each starting with
 * the name of a team or input.
 */
export interface ParsedSkipReason {
  kind: SkipKind;
  rule: string;
  detail: string | null;
}

export function parseSkipReason(reason: string): ParsedSkipReason {
  if (reason.startsWith(BOOTSTRAP_REASON_PREFIX)) {
    const detail = reason.slice(BOOTSTRAP_REASON_PREFIX.length).trim();
    return { kind: 'bootstrap', rule: 'bootstrap', detail: detail === '' ? null : detail };
  }
  const m = /^(.*\S)\s*\(([^()]*)\)$/.exec(reason);
  if (m?.[1] !== undefined && m[2] !== undefined && m[2].trim() !== '') return { kind: 'rule', rule: m[1], detail: m[2].trim() };
  return { kind: 'rule', rule: reason, detail: null };
}

/** The names a detail puts behind a skip: the first word of each comma-separated item. */
export function namesBehind(detail: string | null): string[] {
  if (detail === null) return [];
  const names = detail
    .split(',')
    .map((item) => /^\s*([^\s:]+)/.exec(item)?.[1])
    .filter((n): n is string => n !== undefined);
  return [...new Set(names)];
}

export interface SkipReasonCount {
  reason: string;
  detail: string | null;
  count: number;
  /** The dates skipped for this reason, when the explanation has a per-date picture. */
  dates?: string[];
}

export interface SkipGroup {
  kind: SkipKind;
  /** "bootstrap", or the rule's text without its per-date detail. */
  rule: string;
  count: number;
  /** Every distinct reason of the group, most frequent first. */
  reasons: SkipReasonCount[];
  /** Names (teams, inputs) behind the group's skips, with how many dates each is behind; most first. */
  behind: Array<{ name: string; dates: number }>;
}

export type CoverageSource = 'gate' | 'dates' | 'progress';

export interface CoverageExplanation {
  processor: string;
  /** dataset.table, or exports/<name>. */
  table: string;
  /**
   * gate and dates: "present" means the table holds rows for the date; progress: the workflow
   * finished the date, and "missing" means not run yet.
   */
  source: CoverageSource;
  /** Game dates in the range (the schedule's). */
  gameDates: number;
  /** Dates the plan runs: game dates minus every skip. */
  expected: number;
  /** Expected dates present (done), excluding failed ones. */
  present: number;
  skipped: number;
  /** Bootstrap first, then each rule; empty when nothing was skipped. */
  skipGroups: SkipGroup[];
  failed: {
    count: number;
    dates: Array<{ date: string; error: string }>;
    /** Failed dates that still hold rows from an earlier write (counted failed, not present). */
    withRows: number;
  };
  missing: { count: number; dates: string[] };
  /** Dates the plan skips that hold rows anyway (inside the skip buckets, flagged). */
  unexpected: { count: number; dates: string[] };
  /** Distinct dates the table holds in the range, when known: present + failed.withRows + unexpected. */
  tableDates: number | null;
  /** Anything the numbers alone do not say (e.g. failures outside the plan). */
  notes: string[];
}

/** Throws when the buckets do not add up to the game dates; returns the explanation otherwise. */
export function assertCoverageAddsUp(c: CoverageExplanation): CoverageExplanation {
  const problems: string[] = [];
  const skippedByGroups = c.skipGroups.reduce((n, g) => n + g.count, 0);
  const buckets = c.present + skippedByGroups + c.failed.count + c.missing.count;
  if (buckets !== c.gameDates) {
    problems.push(`${c.present} present + ${skippedByGroups} skipped + ${c.failed.count} failed + ${c.missing.count} missing = ${buckets}, not ${c.gameDates} game dates`);
  }
  if (c.present + c.failed.count + c.missing.count !== c.expected) problems.push(`present + failed + missing ≠ ${c.expected} expected`);
  if (skippedByGroups !== c.skipped) problems.push(`skip groups hold ${skippedByGroups} dates, not ${c.skipped}`);
  if (c.expected + c.skipped !== c.gameDates) problems.push(`${c.expected} expected + ${c.skipped} skipped ≠ ${c.gameDates} game dates`);
  for (const g of c.skipGroups) {
    const n = g.reasons.reduce((s, r) => s + r.count, 0);
    if (n !== g.count) problems.push(`skip group "${g.rule}" holds ${g.count} dates but its reasons ${n}`);
  }
  const counts = [c.present, c.failed.count, c.failed.withRows, c.missing.count, c.unexpected.count, ...c.skipGroups.map((g) => g.count)];
  if (counts.some((n) => !Number.isInteger(n) || n < 0)) problems.push('a bucket is negative or fractional');
  if (c.failed.withRows > c.failed.count) problems.push('more failed dates with rows than failed dates');
  if (problems.length > 0) throw new Error(`coverage of ${c.processor} does not add up: ${problems.join('; ')}`);
  return c;
}

/** Skip reasons with their counts (and dates, when known) grouped by rule, bootstrap first. */
export function groupSkipReasons(reasons: Record<string, number>, datesByReason?: Map<string, string[]>): SkipGroup[] {
  const groups = new Map<string, SkipGroup>();
  const behind = new Map<string, Map<string, number>>();
  for (const [reason, count] of Object.entries(reasons)) {
    if (count <= 0) continue;
    const parsed = parseSkipReason(reason);
    const key = `${parsed.kind}\u0000${parsed.rule}`;
    let g = groups.get(key);
    if (!g) {
      g = { kind: parsed.kind, rule: parsed.rule, count: 0, reasons: [], behind: [] };
      groups.set(key, g);
      behind.set(key, new Map());
    }
    g.count += count;
    const dates = datesByReason?.get(reason);
    g.reasons.push({ reason, detail: parsed.detail, count, ...(dates ? { dates: [...dates].sort() } : {}) });
    if (parsed.kind === 'rule') {
      const names = behind.get(key) as Map<string, number>;
      for (const name of namesBehind(parsed.detail)) names.set(name, (names.get(name) ?? 0) + count);
    }
  }
  const out = [...groups.entries()].map(([key, g]) => ({
    ...g,
    reasons: g.reasons.sort((a, b) => b.count - a.count || compare(a.reason, b.reason)),
    behind: [...(behind.get(key) ?? new Map<string, number>()).entries()]
      .map(([name, dates]) => ({ name, dates }))
      .sort((a, b) => b.dates - a.dates || compare(a.name, b.name)),
  }));
  return out.sort((a, b) => (a.kind === b.kind ? b.count - a.count || compare(a.rule, b.rule) : a.kind === 'bootstrap' ? -1 : 1));
}

/** From a phase gate's table result: counts exact, dates where the gate lists them. */
export function explainGateCoverage(t: TableGateResult): CoverageExplanation {
  const expected = t.expectedDates;
  const withRowsOrNot = expected - t.actualDates; // expected dates without rows: failed or missing
  const failedListed = t.failedDates.length;
  // The gate lists failed dates (whether or not they hold rows) and missing ones (no rows, no
  // failure), so the failed dates without rows are what remains of the dates without rows.
  const failedNoRows = clamp(withRowsOrNot - t.missingDates.length, 0, failedListed);
  const failedWithRows = clamp(failedListed - failedNoRows, 0, t.actualDates);
  const notes: string[] = [];
  if (failedNoRows + failedWithRows < failedListed) {
    notes.push(`${failedListed - failedNoRows - failedWithRows} failure(s) recorded for dates outside the plan`);
  }
  const missingCount = withRowsOrNot - failedNoRows;
  if (missingCount > t.missingDates.length) notes.push(`${missingCount} missing date(s), ${t.missingDates.length} listed`);
  return assertCoverageAddsUp({
    processor: t.processor,
    table: t.table,
    source: 'gate',
    gameDates: expected + t.skippedDates,
    expected,
    present: t.actualDates - failedWithRows,
    skipped: t.skippedDates,
    skipGroups: groupSkipReasons(t.skipReasons),
    failed: { count: failedNoRows + failedWithRows, dates: t.failedDates, withRows: failedWithRows },
    missing: { count: missingCount, dates: t.missingDates },
    unexpected: { count: t.unexpectedDates.length, dates: t.unexpectedDates },
    tableDates: t.actualDates + t.unexpectedDates.length,
    notes,
  });
}

/** From a processor's progress: "present" is done, "missing" is not run yet. */
export function explainProgressCoverage(p: ProcessorProgress, table?: string): CoverageExplanation {
  const expected = Math.max(0, p.total - p.skipped);
  const failed = Math.min(p.failed, expected);
  const done = Math.min(p.done, expected - failed);
  // A progress report carries one reason per skipped date; should it not, the gap is shown as such.
  const reasons: Record<string, number> = { ...p.skipReasons };
  const reported = Object.values(reasons).reduce((n, x) => n + x, 0);
  const notes: string[] = [];
  let skipGroups: SkipGroup[];
  if (reported <= p.skipped) {
    if (reported < p.skipped) reasons['(reason not reported)'] = p.skipped - reported;
    skipGroups = groupSkipReasons(reasons);
  } else {
    notes.push(`skip reasons cover ${reported} dates for ${p.skipped} skipped`);
    skipGroups = [{ kind: 'rule', rule: 'skipped', count: p.skipped, reasons: [{ reason: 'skipped', detail: null, count: p.skipped }], behind: [] }];
  }
  return assertCoverageAddsUp({
    processor: p.processor,
    table: table ?? p.processor,
    source: 'progress',
    gameDates: expected + p.skipped,
    expected,
    present: done,
    skipped: p.skipped,
    skipGroups: skipGroups.filter((g) => g.count > 0),
    failed: { count: failed, dates: p.failures, withRows: 0 },
    missing: { count: expected - done - failed, dates: [] },
    unexpected: { count: 0, dates: [] },
    tableDates: null,
    notes,
  });
}

export type DateState = 'done' | 'skipped' | 'failed' | 'missing';

export interface DateCell {
  date: string;
  state: DateState;
  /** The skip reason, the error, or empty. */
  reason: string;
  /** The table holds rows for the date (or its export exists). */
  hasRows: boolean;
}

export interface DatePicture {
  processor: string;
  table: string;
  /** Every game date in the range, ascending. */
  gameDates: readonly string[];
  /** The plan's skipped dates with their reasons. */
  skipped: readonly SkippedDate[];
  /** Dates the table holds rows for (or whose export exists). */
  present: ReadonlySet<string>;
  /** date → error, for dates whose latest run failed. */
  failed: Readonly<Record<string, string>>;
}

/**
 * One state per game date: skipped (by the plan, whatever the table holds), failed (the run's
 * last word on the date, even if rows from an earlier write remain), done (rows), missing.
 */
export function classifyDates(p: DatePicture): DateCell[] {
  const skipped = new Map(p.skipped.map((s) => [s.date, s.reason]));
  return p.gameDates.map((date): DateCell => {
    const hasRows = p.present.has(date);
    const reason = skipped.get(date);
    if (reason !== undefined) return { date, state: 'skipped', reason, hasRows };
    const error = p.failed[date];
    if (error !== undefined) return { date, state: 'failed', reason: error, hasRows };
    return { date, state: hasRows ? 'done' : 'missing', reason: '', hasRows };
  });
}

/** From the exact per-date picture: every bucket with its dates. */
export function explainDateCoverage(p: DatePicture, cells: readonly DateCell[] = classifyDates(p)): CoverageExplanation {
  const reasons: Record<string, number> = {};
  const datesByReason = new Map<string, string[]>();
  const failed: Array<{ date: string; error: string }> = [];
  const missing: string[] = [];
  const unexpected: string[] = [];
  let present = 0;
  let failedWithRows = 0;
  for (const c of cells) {
    if (c.state === 'skipped') {
      reasons[c.reason] = (reasons[c.reason] ?? 0) + 1;
      datesByReason.set(c.reason, [...(datesByReason.get(c.reason) ?? []), c.date]);
      if (c.hasRows) unexpected.push(c.date);
    } else if (c.state === 'failed') {
      failed.push({ date: c.date, error: c.reason });
      if (c.hasRows) failedWithRows += 1;
    } else if (c.state === 'done') present += 1;
    else missing.push(c.date);
  }
  const inRange = new Set(p.gameDates);
  const skippedSet = new Set(p.skipped.map((s) => s.date));
  const outside = Object.keys(p.failed).filter((d) => !inRange.has(d) || skippedSet.has(d));
  const notes = outside.length > 0 ? [`${outside.length} failure(s) recorded for dates outside the plan (${listed(outside.sort())})`] : [];
  const skippedCount = Object.values(reasons).reduce((n, x) => n + x, 0);
  return assertCoverageAddsUp({
    processor: p.processor,
    table: p.table,
    source: 'dates',
    gameDates: cells.length,
    expected: cells.length - skippedCount,
    present,
    skipped: skippedCount,
    skipGroups: groupSkipReasons(reasons, datesByReason),
    failed: { count: failed.length, dates: failed, withRows: failedWithRows },
    missing: { count: missing.length, dates: missing },
    unexpected: { count: unexpected.length, dates: unexpected },
    tableDates: present + failedWithRows + unexpected.length,
    notes,
  });
}

export interface CoverageFormatOptions {
  indent?: string;
  /** Dates, reasons and names listed per bucket before "… +N more" (default 5). */
  maxItems?: number;
  /** What the first line starts with (default: the table's name). */
  heading?: string;
}

type CoverageInput = CoverageExplanation | TableGateResult | ProcessorProgress;

function toExplanation(x: CoverageInput): CoverageExplanation {
  if ('skipGroups' in x) return x;
  if ('expectedDates' in x) return explainGateCoverage(x);
  return explainProgressCoverage(x);
}

/** Text lines of an explanation (no trailing newline); see formatCoverage. */
export function coverageLines(input: CoverageInput, options: CoverageFormatOptions = {}): string[] {
  const c = toExplanation(input);
  const max = options.maxItems ?? 5;
  const ind = options.indent ?? '';
  const progress = c.source === 'progress';
  const presentWord = progress ? 'done' : 'present';
  const missingWord = progress ? 'not run yet' : 'missing';
  const bootstrap = c.skipGroups.filter((g) => g.kind === 'bootstrap').reduce((n, g) => n + g.count, 0);
  const byRule = c.skipped - bootstrap;
  const afterBootstrap = c.gameDates - bootstrap;

  const lines: string[] = [];
  let derivation = `${c.gameDates} game dates`;
  if (bootstrap > 0) derivation += ` − ${bootstrap} bootstrap = ${afterBootstrap}`;
  if (byRule > 0) derivation += ` − ${byRule} skipped by rule = ${c.expected}`;
  lines.push(`${options.heading ?? c.table}: ${c.present} of ${c.expected} expected dates ${presentWord} (${derivation}${c.skipped > 0 ? ' expected' : ''})`);
  const parts = [`${c.present} ${presentWord}`, `${bootstrap} bootstrap`, `${byRule} skipped by rule`, `${c.failed.count} failed`, `${c.missing.count} ${missingWord}`];
  lines.push(`  ${c.gameDates} game dates = ${parts.join(' + ')}`);
  for (const g of c.skipGroups) {
    if (g.kind === 'bootstrap') {
      const seasons = g.reasons.map((r) => `${r.detail ?? r.reason} (${r.count})`);
      lines.push(`  bootstrap ${pad(g.count)}  ${capped(seasons, max)}`);
      continue;
    }
    lines.push(`  skip rule ${pad(g.count)}  ${g.rule}`);
    if (g.behind.length > 0) {
      lines.push(`                   behind it (dates each): ${capped(g.behind.map((b) => `${b.name} ${b.dates}`), max * 2)}`);
    }
    // Per-date details only where the dates are known; without them "behind it" says it shorter.
    const dated = g.reasons.filter((r) => r.detail !== null && r.dates !== undefined);
    if (dated.length > 0) {
      const items = dated.flatMap((r) => (r.dates ?? []).map((d) => `${d} (${clip(r.detail ?? '', 60)})`)).sort();
      lines.push(`                   ${capped(items, Math.min(max, 3))}`);
    }
  }
  const failedNote = c.failed.withRows > 0 ? ` (${c.failed.withRows} still hold rows from an earlier write)` : '';
  lines.push(`  failed    ${pad(c.failed.count)}${c.failed.count > 0 ? `  ${capped(c.failed.dates.map((f) => `${f.date}: ${oneLine(f.error)}`), max)}` : ''}${failedNote}`);
  lines.push(`  ${missingWord.padEnd(9)} ${pad(c.missing.count)}${c.missing.dates.length > 0 ? `  ${capped(c.missing.dates, max, c.missing.count)}` : ''}`);
  if (c.unexpected.count > 0) {
    lines.push(`  note: ${c.unexpected.count} date(s) the plan skips hold rows anyway (${capped(c.unexpected.dates, max)})`);
  }
  if (c.tableDates !== null && c.tableDates !== c.present) {
    lines.push(`  note: the table holds ${c.tableDates} distinct dates in the range (${c.present} present + ${c.failed.withRows} failed with old rows + ${c.unexpected.count} skipped with rows)`);
  }
  for (const n of c.notes) lines.push(`  note: ${n}`);
  return lines.map((l) => `${ind}${l}`);
}

/** The explanation as text: what `status`, `validate` and the report print. */
export function formatCoverage(input: CoverageInput, options: CoverageFormatOptions = {}): string {
  return coverageLines(input, options).join('\n');
}

function pad(n: number): string {
  return String(n).padStart(5);
}

function capped(items: readonly string[], max: number, total = items.length): string {
  const head = items.slice(0, max).join(', ');
  return total > max ? `${head}, … +${total - Math.min(max, items.length)} more` : head;
}

function listed(items: readonly string[]): string {
  return capped(items, 5);
}

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

function oneLine(s: string): string {
  const first = s.split('\n')[0] ?? '';
  return first.length > 200 ? `${first.slice(0, 199)}…` : first;
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, n));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

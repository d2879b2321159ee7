/**
 * Coverage explained: the buckets (present, bootstrap, skip rule, failed, missing) always add up to
 * the game dates — from a gate result, from progress and from the exact per-date picture — and on
 * a real DuckDB warehouse the gate's explanation and the per-date one agree.
 */
import { formatGate } from '../../src/cli/format';
import { planProcessorDates } from '../../src/pipeline/dates';
import { runTableProcessor } from '../../src/pipeline/engine';
import { seedDemoData } from '../../src/pipeline/demo';
import { phase3Processors } from '../../src/pipeline/phase3';
import { teamDefenseZoneAnalysis } from '../../src/pipeline/phase4';
import { ensureWarehouseTables } from '../../src/pipeline/tables';
import { validatePhase } from '../../src/pipeline/validation';
import {
  assertCoverageAddsUp,
  classifyDates,
  explainDateCoverage,
  explainGateCoverage,
  explainProgressCoverage,
  formatCoverage,
  parseSkipReason,
  type CoverageExplanation,
} from '../../src/report/coverage';
import type { ProcessorProgress, TableGateResult } from '../../src/shared/types';
import { DuckDbWarehouse } from '../../src/warehouse';

const TDZA = 'TDZA: fewer than 10 prior games for some team playing';

/** The handoff's TDZA picture: 918 game dates, 5 seasons × 14 bootstrap days, 44 dates by the rule. */
function handoffTdzaGate(): TableGateResult {
  const skipReasons: Record<string, number> = {};
  for (const season of ['2021-22', '2022-23', '2023-24', '2024-25', '2025-26']) skipReasons[`bootstrap: first 14 days of season ${season}`] = 14;
  // 44 rule dates: CHA behind 30 of them, DET behind 20, both behind 6.
  skipReasons[`${TDZA} (CHA 8)`] = 24;
  skipReasons[`${TDZA} (DET 9)`] = 14;
  skipReasons[`${TDZA} (CHA 9, DET 9)`] = 6;
  return {
    processor: 'team_defense_zone_analysis',
    table: 'nba_precompute.team_defense_zone_analysis',
    expectedDates: 804,
    actualDates: 804,
    missingDates: [],
    unexpectedDates: [],
    skippedDates: 114,
    skipReasons,
    duplicateKeys: 0,
    duplicateDates: [],
    rows: 24_000,
    fieldCoverage: [],
    failedDates: [],
    ok: true,
    problems: [],
  };
}

describe('coverage arithmetic', () => {
  test('"why 804 and not 848": 918 = 804 present + 70 bootstrap + 44 by rule, with the teams behind it', () => {
    const c = explainGateCoverage(handoffTdzaGate());
    expect(c).toMatchObject({ gameDates: 918, expected: 804, present: 804, skipped: 114 });
    expect(c.skipGroups.map((g) => [g.kind, g.rule, g.count])).toEqual([
      ['bootstrap', 'bootstrap', 70],
      ['rule', TDZA, 44],
    ]);
    expect(c.skipGroups[1]?.behind).toEqual([
      { name: 'CHA', dates: 30 },
      { name: 'DET', dates: 20 },
    ]);
    const text = formatCoverage(c);
    expect(text).toContain('804 of 804 expected dates present (918 game dates − 70 bootstrap = 848 − 44 skipped by rule = 804 expected)');
    expect(text).toContain('918 game dates = 804 present + 70 bootstrap + 44 skipped by rule + 0 failed + 0 missing');
    expect(text).toContain(`skip rule    44  ${TDZA}`);
    expect(text).toContain('behind it (dates each): CHA 30, DET 20');
    expect(text).toContain('first 14 days of season 2021-22 (14)');
  });

  test('failed (with and without rows), missing and skipped-but-present dates still add up', () => {
    const gate: TableGateResult = {
      ...handoffTdzaGate(),
      // 804 expected: 800 with rows (one of them failed this run), 2 failed without rows, 2 missing.
      actualDates: 800,
      missingDates: ['2025-01-02', '2025-01-03'],
      failedDates: [
        { date: '2025-01-04', error: 'MissingInputError: no rows' },
        { date: '2025-01-05', error: 'timeout' },
        { date: '2025-01-06', error: 'bytesBilledLimitExceeded' },
      ],
      unexpectedDates: ['2021-10-20'],
    };
    const c = explainGateCoverage(gate);
    expect(c.present).toBe(799);
    expect(c.failed).toMatchObject({ count: 3, withRows: 1 });
    expect(c.missing.count).toBe(2);
    expect(c.present + 70 + 44 + c.failed.count + c.missing.count).toBe(918);
    expect(c.tableDates).toBe(801);
    const text = formatCoverage(c);
    expect(text).toContain('918 game dates = 799 present + 70 bootstrap + 44 skipped by rule + 3 failed + 2 missing');
    expect(text).toContain('2025-01-04: MissingInputError: no rows');
    expect(text).toContain('(1 still hold rows from an earlier write)');
    expect(text).toContain('1 date(s) the plan skips hold rows anyway (2021-10-20)');
  });

  test('progress: done, skipped by reason, failed and not run yet', () => {
    const p: ProcessorProgress = {
      processor: 'player_daily_cache',
      phase: 4,
      status: 'running',
      total: 918,
      done: 500,
      skipped: 70,
      failed: 1,
      inFlight: ['2024-01-01'],
      concurrency: 4,
      rowsWritten: 1,
      ratePerMinute: 1,
      etaSeconds: 1,
      failures: [{ date: '2023-12-01', error: 'boom' }],
      skipReasons: { 'bootstrap: first 14 days of season 2021-22': 70 },
      runNumber: 1,
    };
    const text = formatCoverage(explainProgressCoverage(p, 'nba_precompute.player_daily_cache'));
    expect(text).toContain('918 game dates = 500 done + 70 bootstrap + 0 skipped by rule + 1 failed + 347 not run yet');
  });

  test('per-date picture: every date in one bucket, rule dates listed with their teams', () => {
    const gameDates = ['2024-01-01', '2024-01-02', '2024-01-03', '2024-01-04', '2024-01-05', '2024-01-06'];
    const picture = {
      processor: 'team_defense_zone_analysis',
      table: 'nba_precompute.team_defense_zone_analysis',
      gameDates,
      skipped: [
        { date: '2024-01-01', reason: 'bootstrap: first 14 days of season 2023-24' },
        { date: '2024-01-02', reason: `${TDZA} (GSW 5, LAL 5)` },
      ],
      present: new Set(['2024-01-01', '2024-01-03', '2024-01-05']),
      failed: { '2024-01-04': 'boom', '2024-01-05': 'again', '2023-12-31': 'out of range' },
    };
    const cells = classifyDates(picture);
    expect(cells.map((c) => c.state)).toEqual(['skipped', 'skipped', 'done', 'failed', 'failed', 'missing']);
    const c = explainDateCoverage(picture, cells);
    expect(c).toMatchObject({ gameDates: 6, expected: 4, present: 1, skipped: 2, tableDates: 3 });
    expect(c.failed).toMatchObject({ count: 2, withRows: 1 });
    expect(c.unexpected.dates).toEqual(['2024-01-01']);
    expect(c.missing.dates).toEqual(['2024-01-06']);
    expect(c.notes).toEqual(['1 failure(s) recorded for dates outside the plan (2023-12-31)']);
    expect(formatCoverage(c)).toContain('2024-01-02 (GSW 5, LAL 5)');
  });

  test('negative control: an explanation whose buckets do not add up is refused', () => {
    const good = explainGateCoverage(handoffTdzaGate());
    const tampered: CoverageExplanation = { ...good, present: good.present - 1 };
    expect(() => assertCoverageAddsUp(tampered)).toThrow(/does not add up: 803 present \+ 114 skipped \+ 0 failed \+ 0 missing = 917, not 918 game dates/);
    const badGroup: CoverageExplanation = { ...good, skipGroups: good.skipGroups.map((g) => ({ ...g, count: g.count + 1 })) };
    expect(() => assertCoverageAddsUp(badGroup)).toThrow(/does not add up/);
  });

  test('skip reasons: bootstrap by prefix, a rule and its detail split at the trailing parenthesis', () => {
    expect(parseSkipReason('bootstrap: first 14 days of season 2024-25')).toEqual({ kind: 'bootstrap', rule: 'bootstrap', detail: 'first 14 days of season 2024-25' });
    expect(parseSkipReason(`${TDZA} (GSW 5, LAL 5)`)).toEqual({ kind: 'rule', rule: TDZA, detail: 'GSW 5, LAL 5' });
    expect(parseSkipReason('no odds feed')).toEqual({ kind: 'rule', rule: 'no odds feed', detail: null });
  });
});

describe('coverage on a real DuckDB warehouse', () => {
  // The small preset: TDZA's rule skips most of November, so a few weeks more leave dates to run.
  const FROM = '2024-10-22';
  const TO = '2024-12-06';
  const warehouse = new DuckDbWarehouse({ path: ':memory:' });

  beforeAll(async () => {
    await ensureWarehouseTables(warehouse);
    await seedDemoData(warehouse, { preset: 'small' });
  });
  afterAll(async () => {
    await warehouse.close();
  });

  test('TDZA: the gate explanation equals the per-date one, the rule names the teams, validate prints it', async () => {
    const plan3 = await planProcessorDates(warehouse, phase3Processors[0]!, FROM, TO, 14);
    const inputs = phase3Processors.filter((p) => teamDefenseZoneAnalysis.inputs.some((i) => i.table === p.target.table));
    expect(inputs).toHaveLength(2);
    for (const def of inputs) for (const d of plan3.dates) await runTableProcessor(warehouse, def, d, { backfillId: 'cov' });
    const plan = await planProcessorDates(warehouse, teamDefenseZoneAnalysis, FROM, TO, 14);
    const ruleSkips = plan.skipped.filter((s) => !s.reason.startsWith('bootstrap'));
    expect(ruleSkips.length).toBeGreaterThan(0);
    for (const s of ruleSkips) expect(s.reason).toMatch(/^TDZA: fewer than 10 prior games for some team playing \([A-Z]{3} \d(, [A-Z]{3} \d)*\)$/);
    expect(plan.dates.length).toBeGreaterThanOrEqual(3);
    // All but the last two dates written; the first of those two failed, the last is missing.
    const [failedDate, missingDate] = plan.dates.slice(-2) as [string, string];
    for (const d of plan.dates.slice(0, -2)) await runTableProcessor(warehouse, teamDefenseZoneAnalysis, d, { backfillId: 'cov' });
    const failed = { [failedDate]: 'MissingInputError: <b>no</b> rows' };
    const report = await validatePhase(warehouse, 4, [teamDefenseZoneAnalysis], {
      from: FROM,
      to: TO,
      bootstrapDays: 14,
      failedDates: { team_defense_zone_analysis: failed },
    });
    const gate = report.tables[0]!;
    const fromGate = explainGateCoverage(gate);

    const rows = await warehouse.query(`SELECT DISTINCT analysis_date AS d FROM nba_precompute.team_defense_zone_analysis`);
    const fromDates = explainDateCoverage({
      processor: gate.processor,
      table: gate.table,
      gameDates: [...plan.dates, ...plan.skipped.map((s) => s.date)].sort(),
      skipped: plan.skipped,
      present: new Set(rows.map((r) => String(r.d))),
      failed,
    });
    const counts = (c: CoverageExplanation) => ({
      gameDates: c.gameDates,
      present: c.present,
      groups: c.skipGroups.map((g) => [g.rule, g.count, g.behind]),
      failed: c.failed.count,
      missing: c.missing.count,
    });
    expect(counts(fromGate)).toEqual(counts(fromDates));
    expect(fromGate.missing.dates).toEqual([missingDate]);
    expect(fromGate).toMatchObject({ gameDates: plan.dates.length + plan.skipped.length, present: plan.dates.length - 2 });

    const text = formatGate(report);
    expect(text).toContain(
      `coverage: ${plan.dates.length - 2} of ${plan.dates.length} expected dates present (${fromGate.gameDates} game dates − 14 bootstrap = ${fromGate.gameDates - 14} − ${ruleSkips.length} skipped by rule = ${plan.dates.length} expected)`,
    );
    expect(text).toContain(`${fromGate.gameDates} game dates = ${plan.dates.length - 2} present + 14 bootstrap + ${ruleSkips.length} skipped by rule + 1 failed + 1 missing`);
    expect(text).toContain(`${failedDate}: MissingInputError: <b>no</b> rows`);
    expect(text).toMatch(/behind it \(dates each\): [A-Z]{3} \d+/);
  });
});

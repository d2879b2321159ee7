/**
 * The pure parts of follow-ups, without a server: what a recorded backfill history says was done,
 * how the original's and its follow-ups' runs settle each date, and how `list` groups them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { withFollowUpsUnderOriginals } from '../../src/cli';
import { failedDatesOf, followUpSummary, recordFromHistory, settledLedgers, stageWords, type BackfillRecord } from '../../src/client/follow-up';
import { ledgerForFollowUp, ledgerProgress } from '../../src/shared/progress';

const recorded = (name: string): BackfillRecord =>
  recordFromHistory(name, historyFromJSON(JSON.parse(fs.readFileSync(path.join(__dirname, '../replay/histories', `${name}.json`), 'utf8'))));

describe('a backfill history read as a record', () => {
  const record = recorded('backfill-gate-retry-phase');

  test('holds the request, the plans, each run with its dates and outcome, and every gate', () => {
    expect(record.input).toMatchObject({ from: '2024-10-22', to: '2024-10-28', phases: [3], gatePolicy: 'wait' });
    expect(record.pipeline).toEqual([{ phase: 3, groups: [['team_offense_game_summary', 'team_defense_game_summary']] }]);
    expect(record.plans.map((p) => p.processor).sort()).toEqual(['team_defense_game_summary', 'team_offense_game_summary']);
    expect(record.gates.map((g) => g.ok)).toEqual([false, true]);
    // Two first runs, each with the failed date; two gate re-runs of exactly it, which succeeded.
    expect(record.runs).toHaveLength(4);
    const [first, second, ...retries] = record.runs;
    for (const run of [first!, second!]) expect(run.result?.failed).toEqual({ '2024-10-24': 'SchemaError: synthetic schema drift' });
    for (const run of retries) expect(run).toMatchObject({ dates: ['2024-10-24'], result: { failed: {} } });
  });

  test('a later run of a date replaces what an earlier one settled', () => {
    expect(failedDatesOf(settledLedgers([record]))).toEqual({});
    // Before the gate's re-run, the date is failed for both processors.
    const beforeRetry = { ...record, runs: record.runs.slice(0, 2) };
    expect(failedDatesOf(settledLedgers([beforeRetry]))).toEqual({
      team_defense_game_summary: ['2024-10-24'],
      team_offense_game_summary: ['2024-10-24'],
    });
    expect(failedDatesOf(settledLedgers([beforeRetry]), ['team_offense_game_summary'])).toEqual({ team_offense_game_summary: ['2024-10-24'] });
  });

  test("a follow-up's runs settle the original's dates; its plans do not reset them; a run cut short keeps the failures it reported", () => {
    const original = { ...record, runs: record.runs.slice(0, 2) };
    const followUp: BackfillRecord = {
      input: { ...record.input, backfillId: 'x/followup-1', followUp: { of: 'x', kind: 'retry-failed', dates: {} } },
      pipeline: record.pipeline,
      plans: record.plans,
      runs: [
        { processor: 'team_offense_game_summary', phase: 3, dates: ['2024-10-24'], result: { processor: 'team_offense_game_summary', total: 1, done: 1, skipped: 0, failed: {}, rowsWritten: 1 }, lastReport: null },
        {
          processor: 'team_defense_game_summary',
          phase: 3,
          dates: ['2024-10-24', '2024-10-25'],
          result: null,
          lastReport: { ...ledgerProgress(ledgerForFollowUp(3, record.plans[0]!, [])), processor: 'team_defense_game_summary', failures: [{ date: '2024-10-25', error: 'timed out' }] },
        },
      ],
      gates: [],
    };
    const ledgers = settledLedgers([original, followUp]);
    expect(failedDatesOf(ledgers)).toEqual({ team_defense_game_summary: ['2024-10-24', '2024-10-25'] });
    // The plan's totals stand: the original's plan, not reset by the follow-up's.
    expect(ledgers.get('team_offense_game_summary')?.planned).toEqual(record.plans.find((p) => p.processor === 'team_offense_game_summary')?.dates);
  });
});

test("a follow-up's history: its spec, the phase validated first, then exactly the failed and the since-deleted date re-run", () => {
  const record = recorded('backfill-followup-retry-phase');
  expect(record.input.followUp).toMatchObject({ kind: 'retry-phase', phase: 3, dates: { team_offense_game_summary: ['2024-10-23'] } });
  expect(record.input.backfillId).toBe(`${record.input.followUp?.of}/followup-1`);
  expect(record.gates.map((g) => g.ok)).toEqual([false, true]);
  expect(record.gates[0]?.tables[0]?.missingDates).toEqual(['2024-10-23', '2024-10-25']);
  expect(record.runs.map((r) => [r.processor, r.dates, r.result?.failed])).toEqual([['team_offense_game_summary', ['2024-10-23', '2024-10-25'], {}]]);
});

test("a follow-up's ledger counts the plan's totals, with only its dates still to run", () => {
  const plan = { processor: 'p', dates: ['2024-10-22', '2024-10-23', '2024-10-24'], skipped: [{ date: '2024-10-21', reason: 'bootstrap' }] };
  const progress = ledgerProgress(ledgerForFollowUp(4, plan, ['2024-10-23', '2024-10-30']));
  expect(progress).toMatchObject({ total: 4, skipped: 1, done: 2, failed: 0, skipReasons: { bootstrap: 1 }, status: 'pending' });
});

test('one-line summaries and stages', () => {
  expect(followUpSummary({ of: 'x', kind: 'retry-failed', dates: { a: ['d1', 'd2'], b: ['d1'] } })).toBe('follow-up of x: re-runs 3 failed dates of a (2), b (1)');
  expect(followUpSummary({ of: 'x', kind: 'retry-phase', phase: 4, dates: {} })).toBe('follow-up of x: re-validates phase 4 and re-runs the dates its gate finds missing or duplicated');
  expect(stageWords({ kind: 'running', phase: 4, group: 2 })).toBe('running phase 4 (group 2)');
  expect(stageWords({ kind: 'running', phase: 4, group: 2 }, true)).toBe('paused in phase 4 (group 2)');
  expect(stageWords({ kind: 'validating', phase: 3 })).toBe('validating phase 3');
  expect(stageWords({ kind: 'planning' })).toBe('planning');
});

test('list: follow-ups under their original, oldest first; an orphan keeps its place', () => {
  const row = (id: string, followUpOf: string | null, start: string) => ({ id, followUpOf, start });
  const rows = [
    row('b/followup-2', 'b', '2026-01-05'),
    row('c/followup-1', 'c', '2026-01-04'),
    row('b', null, '2026-01-03'),
    row('b/followup-1', 'b', '2026-01-02'),
    row('a', null, '2026-01-01'),
  ];
  expect(withFollowUpsUnderOriginals(rows).map((r) => r.id)).toEqual(['c/followup-1', 'b', 'b/followup-1', 'b/followup-2', 'a']);
});

/**
 * The date plans on the full demo range: the expected counts the gates use. Phase 3 expects every
 * game date; Phase 4 and later expect the game dates minus each season's 14 bootstrap days (the
 * seed's 918 → 848); TDZA skips more, each date with its reason.
 */
import { planProcessorDates } from '../../src/pipeline/dates';
import { FULL_RANGE, seedDemoData } from '../../src/pipeline/demo';
import { ALL_PROCESSORS, getProcessor } from '../../src/pipeline/registry';
import type { ProcessorDef } from '../../src/pipeline/types';
import { DuckDbWarehouse } from '../../src/warehouse';
import { ensureWarehouseTables } from '../../src/pipeline/tables';

describe('date plans over the full demo range', () => {
  const warehouse = new DuckDbWarehouse({ path: ':memory:' });
  beforeAll(async () => {
    await ensureWarehouseTables(warehouse);
    await seedDemoData(warehouse, { preset: 'full' });
  });
  afterAll(async () => {
    await warehouse.close();
  });

  const plan = (name: string) => planProcessorDates(warehouse, getProcessor(name) as ProcessorDef, FULL_RANGE.from, FULL_RANGE.to, 14);

  test('Phase 3 expects all 918 game dates and skips none', async () => {
    for (const def of ALL_PROCESSORS.filter((p) => p.phase === 3)) {
      const p = await plan(def.name);
      expect([def.name, p.dates.length, p.skipped.length]).toEqual([def.name, 918, 0]);
    }
  });

  test('Phases 4–6 expect 848: each season’s 14 bootstrap days are skipped, with the season named', async () => {
    for (const def of ALL_PROCESSORS.filter((p) => p.phase >= 4 && p.name !== 'team_defense_zone_analysis')) {
      const p = await plan(def.name);
      expect([def.name, p.dates.length, p.skipped.length]).toEqual([def.name, 848, 70]);
      const reasons = new Map<string, number>();
      for (const s of p.skipped) reasons.set(s.reason, (reasons.get(s.reason) ?? 0) + 1);
      expect(Object.fromEntries(reasons)).toEqual({
        'bootstrap: first 14 days of season 2021-22': 14,
        'bootstrap: first 14 days of season 2022-23': 14,
        'bootstrap: first 14 days of season 2023-24': 14,
        'bootstrap: first 14 days of season 2024-25': 14,
        'bootstrap: first 14 days of season 2025-26': 14,
      });
    }
  });

  test('TDZA declares stricter needs: fewer dates than 848, every extra skip explained', async () => {
    const p = await plan('team_defense_zone_analysis');
    expect(p.dates.length + p.skipped.length).toBe(918);
    expect(p.dates.length).toBeLessThan(848);
    expect(p.dates.length).toBeGreaterThan(780);
    const extra = p.skipped.filter((s) => !s.reason.startsWith('bootstrap'));
    expect(extra.length).toBe(848 - p.dates.length);
    for (const s of extra) expect(s.reason).toMatch(/^TDZA: fewer than 10 prior games for some team playing \([A-Z]{3} \d(, [A-Z]{3} \d)*\)$/);
  });
});

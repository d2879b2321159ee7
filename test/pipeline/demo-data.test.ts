/**
 * The demo generator is the embedded pipeline's only input, so what downstream SQL assumes about
 * nba_raw is checked here: the seed's calendar (918 dates, 70 of them bootstrap), its volumes and
 * missing-data rates, box scores that add up, and seeding that is deterministic and idempotent.
 */
import { createHash } from 'node:crypto';
import {
  BOOTSTRAP_DAYS,
  DEMO_PRESETS,
  DEMO_TABLE_NAMES,
  FULL_RANGE,
  SEASON_STARTS,
  type DemoData,
  generateDemoData,
  seedDemoData,
} from '../../src/pipeline/demo';
import type { Row } from '../../src/warehouse/types';
import { DuckDbWarehouse } from '../../src/warehouse/duckdb';

const DAY_MS = 86_400_000;
const addDays = (iso: string, n: number): string => new Date(Date.parse(`${iso}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);

function digest(data: DemoData): Record<string, string> {
  return Object.fromEntries(
    DEMO_TABLE_NAMES.map((table) => {
      const hash = createHash('sha256');
      for (const row of data[table]) hash.update(JSON.stringify(row));
      return [table, hash.digest('hex')];
    }),
  );
}

function inRange(data: DemoData, from: string, to: string): Omit<DemoData, 'teams' | 'rosters'> {
  const pick = (rows: Row[]): Row[] => rows.filter((r) => String(r.game_date) >= from && String(r.game_date) <= to);
  return {
    schedule: pick(data.schedule),
    player_boxscores: pick(data.player_boxscores),
    team_boxscores: pick(data.team_boxscores),
    prop_lines: pick(data.prop_lines),
  };
}

function countBy<T>(items: readonly T[], key: (t: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

let full: DemoData;

beforeAll(() => {
  full = generateDemoData();
});

describe('determinism', () => {
  it('gives byte-identical rows for the same seed over the full range', () => {
    expect(digest(generateDemoData({ seed: 20211019 }))).toEqual(digest(full));
  });

  it('gives different rows for a different seed', () => {
    const a = generateDemoData({ ...DEMO_PRESETS.tiny, seed: 1 });
    const b = generateDemoData({ ...DEMO_PRESETS.tiny, seed: 2 });
    expect(digest(a).player_boxscores).not.toEqual(digest(b).player_boxscores);
    expect(digest(a).schedule).not.toEqual(digest(b).schedule);
  });

  it.each([
    ['small preset', DEMO_PRESETS.small.from, DEMO_PRESETS.small.to],
    ['a playoff stretch', '2023-04-10', '2023-06-30'],
    ['across an off-season', '2022-06-01', '2022-10-31'],
    ['the last days of the range', '2025-12-20', FULL_RANGE.to],
  ])('reproduces the full range exactly for a sub-range (%s)', (_, from, to) => {
    const sub = generateDemoData({ from, to });
    expect(sub.schedule.length).toBeGreaterThan(0);
    expect(inRange(sub, from, to)).toEqual(inRange(full, from, to));
    const seasons = new Set(sub.schedule.map((r) => r.season));
    expect(sub.rosters).toEqual(full.rosters.filter((r) => seasons.has(r.season)));
    expect(sub.teams).toEqual(full.teams);
  });
});

describe('calendar', () => {
  it('has exactly 918 game dates over the full range, all inside it', () => {
    const dates = [...new Set(full.schedule.map((r) => String(r.game_date)))].sort();
    expect(dates).toHaveLength(918);
    expect(dates[0]).toBe(FULL_RANGE.from);
    expect(dates[dates.length - 1]).toBe(FULL_RANGE.to);
  });

  it('opens every season on its start date with games on each of the 14 bootstrap days', () => {
    let bootstrapDates = 0;
    for (const [season, start] of Object.entries(SEASON_STARTS)) {
      const seasonDates = new Set(full.schedule.filter((r) => r.season === season).map((r) => String(r.game_date)));
      expect([...seasonDates].sort()[0]).toBe(start);
      for (let i = 0; i < BOOTSTRAP_DAYS; i++) {
        expect(seasonDates.has(addDays(start, i))).toBe(true);
        bootstrapDates++;
      }
    }
    expect(bootstrapDates).toBe(70);
  });

  it('schedules 82 regular-season games per team (41 at home), a play-in and best-of-7 playoffs', () => {
    const winners = new Map<string, string>();
    const byGame = new Map<string, Row[]>();
    for (const t of full.team_boxscores) byGame.set(String(t.game_id), [...(byGame.get(String(t.game_id)) ?? []), t]);
    for (const [gameId, [a, b]] of byGame) winners.set(gameId, String(Number(a?.points) > Number(b?.points) ? a?.team_abbr : b?.team_abbr));

    for (const season of ['2021-22', '2022-23', '2023-24', '2024-25']) {
      const games = full.schedule.filter((r) => r.season === season);
      const regular = games.filter((r) => r.season_type === 'regular');
      expect(regular).toHaveLength(1230);
      const appearances = countBy(regular.flatMap((r) => [String(r.home_team_abbr), String(r.away_team_abbr)]), (t) => t);
      expect([...appearances.values()]).toEqual(new Array(30).fill(82));
      expect([...countBy(regular, (r) => String(r.home_team_abbr)).values()]).toEqual(new Array(30).fill(41));
      expect(games.filter((r) => r.season_type === 'play_in')).toHaveLength(6);

      const series = new Map<string, Row[]>();
      for (const g of games.filter((r) => r.season_type === 'playoffs')) {
        const key = String(g.game_id).slice(0, 9);
        series.set(key, [...(series.get(key) ?? []), g]);
      }
      expect(series.size).toBe(15);
      for (const seriesGames of series.values()) {
        expect(seriesGames.length).toBeGreaterThanOrEqual(4);
        expect(seriesGames.length).toBeLessThanOrEqual(7);
        const wins = countBy(seriesGames, (g) => winners.get(String(g.game_id)) ?? '');
        const last = seriesGames[seriesGames.length - 1];
        expect(wins.get(winners.get(String(last?.game_id)) ?? '')).toBe(4);
        expect(Math.max(...[...wins.values()])).toBe(4);
      }
    }
  });

  it('never has a team twice on one date, and 1–15 games per date', () => {
    const perDate = countBy(full.schedule, (r) => String(r.game_date));
    expect(Math.min(...perDate.values())).toBeGreaterThanOrEqual(1);
    expect(Math.max(...perDate.values())).toBeLessThanOrEqual(15);
    const teamDates = countBy(
      full.schedule.flatMap((r) => [`${r.game_date}/${r.home_team_abbr}`, `${r.game_date}/${r.away_team_abbr}`]),
      (k) => k,
    );
    expect(Math.max(...teamDates.values())).toBe(1);
    const ids = full.schedule.map((r) => String(r.game_id));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^00[245]\d{7}$/);
  });
});

describe('volumes and missing data at the seed scale', () => {
  it('matches the seed row counts', () => {
    expect(full.teams).toHaveLength(30);
    expect(full.player_boxscores.length).toBeGreaterThanOrEqual(120_000);
    expect(full.player_boxscores.length).toBeLessThanOrEqual(138_000);
    expect(full.team_boxscores.length).toBeGreaterThanOrEqual(11_200);
    expect(full.team_boxscores.length).toBeLessThanOrEqual(12_200);
    expect(full.team_boxscores.length).toBe(2 * full.schedule.length);
    const rosterSize = countBy(full.rosters, (r) => `${r.season}/${r.team_abbr}`);
    const rosteredTeamGames = full.team_boxscores.reduce((n, t) => n + (rosterSize.get(`${t.season}/${t.team_abbr}`) ?? 0), 0);
    expect(rosteredTeamGames).toBeGreaterThanOrEqual(170_000);
    expect(rosteredTeamGames).toBeLessThanOrEqual(200_000);
    expect(full.prop_lines.length).toBeGreaterThan(50_000);
  });

  it('reproduces the historical gaps: minutes ~3.7%, usage-rate inputs ~14% missing', () => {
    const rows = full.player_boxscores;
    const share = (pred: (r: Row) => boolean): number => rows.filter(pred).length / rows.length;
    expect(share((r) => r.minutes === null)).toBeGreaterThanOrEqual(0.03);
    expect(share((r) => r.minutes === null)).toBeLessThanOrEqual(0.045);
    expect(share((r) => r.minutes === null || r.turnovers === null)).toBeGreaterThanOrEqual(0.12);
    expect(share((r) => r.minutes === null || r.turnovers === null)).toBeLessThanOrEqual(0.16);
    expect(full.team_boxscores.filter((t) => Object.values(t).some((v) => v === null))).toEqual([]);
  });

  it('prices lines for box-score players, near what they score', () => {
    const played = new Map(full.player_boxscores.map((r) => [`${r.game_id}/${r.player_lookup}`, Number(r.points)]));
    let over = 0;
    const orphans: Row[] = [];
    const offGrid: Row[] = [];
    for (const p of full.prop_lines) {
      const points = played.get(`${p.game_id}/${p.player_lookup}`);
      if (points === undefined) orphans.push(p);
      if (Number(p.points_line) * 2 !== Math.round(Number(p.points_line) * 2)) offGrid.push(p);
      if ((points ?? 0) > Number(p.points_line)) over++;
    }
    expect(orphans).toEqual([]);
    expect(offGrid).toEqual([]);
    const overRate = over / full.prop_lines.length;
    expect(overRate).toBeGreaterThan(0.4);
    expect(overRate).toBeLessThan(0.6);
  });
});

describe('seeding DuckDB', () => {
  let warehouse: DuckDbWarehouse;

  beforeAll(async () => {
    warehouse = new DuckDbWarehouse({ path: ':memory:' });
    const summary = await seedDemoData(warehouse, { preset: 'full' });
    expect(summary.gameDates).toBe(918);
    expect(summary.rows.player_boxscores).toBe(full.player_boxscores.length);
  });

  afterAll(async () => {
    await warehouse.close();
  });

  const zero = async (sql: string): Promise<void> => {
    const rows = await warehouse.query(sql);
    expect(rows).toEqual([]);
  };

  it('team box scores equal the sum of their players', async () => {
    const cols = ['points', 'fgm', 'fga', 'fg3m', 'fg3a', 'ftm', 'fta', 'oreb', 'dreb', 'assists', 'steals', 'blocks', 'fouls'];
    const zones = ['paint_fgm', 'paint_fga', 'mid_fgm', 'mid_fga'];
    await zero(`
      WITH p AS (
        SELECT game_id, team_abbr, ${[...cols, ...zones].map((c) => `SUM(${c}) AS ${c}`).join(', ')},
               SUM(turnovers) AS turnovers, COUNT(*) - COUNT(turnovers) AS missing_tov,
               SUM(minutes) AS minutes, COUNT(*) - COUNT(minutes) AS missing_min
        FROM nba_raw.player_boxscores GROUP BY 1, 2)
      SELECT t.game_id, t.team_abbr FROM nba_raw.team_boxscores t JOIN p USING (game_id, team_abbr)
      WHERE ${[...cols, ...zones].map((c) => `t.${c} <> p.${c}`).join(' OR ')}
         OR (p.missing_tov = 0 AND t.turnovers <> p.turnovers)
         OR (p.missing_min = 0 AND t.minutes <> p.minutes)`);
    await zero(`
      SELECT t.game_id FROM nba_raw.team_boxscores t
      LEFT JOIN nba_raw.player_boxscores p USING (game_id, team_abbr) WHERE p.game_id IS NULL`);
  });

  it('keeps each row internally consistent', async () => {
    for (const table of ['player_boxscores', 'team_boxscores']) {
      await zero(`
        SELECT game_id FROM nba_raw.${table}
        WHERE points <> 2 * fgm + fg3m + ftm
           OR fgm <> paint_fgm + mid_fgm + fg3m OR fga <> paint_fga + mid_fga + fg3a
           OR fgm > fga OR fg3m > fg3a OR ftm > fta OR paint_fgm > paint_fga OR mid_fgm > mid_fga
           OR least(fgm, fg3m, ftm, oreb, dreb, assists, steals, blocks, fouls, paint_fgm, mid_fgm) < 0`);
    }
    await zero(`SELECT game_id FROM nba_raw.player_boxscores WHERE fouls > 6 OR minutes <= 0 OR minutes > 63`);
    await zero(`SELECT game_id FROM nba_raw.team_boxscores WHERE assists > fgm OR (minutes - 240) % 25 <> 0 OR minutes < 240`);
  });

  it('has one winner per game, overtime in a few percent of games', async () => {
    await zero(`
      SELECT game_id FROM nba_raw.team_boxscores GROUP BY game_id
      HAVING COUNT(*) <> 2 OR MIN(points) = MAX(points) OR COUNT(DISTINCT minutes) <> 1 OR SUM(CASE WHEN is_home THEN 1 ELSE 0 END) <> 1`);
    const [ot] = await warehouse.query(
      `SELECT AVG(CASE WHEN minutes > 240 THEN 1.0 ELSE 0 END) AS share FROM nba_raw.team_boxscores`,
    );
    expect(Number(ot?.share)).toBeGreaterThan(0.04);
    expect(Number(ot?.share)).toBeLessThan(0.08);
  });

  it('puts every box-score player on his team’s season roster, five starters a side', async () => {
    await zero(`
      SELECT p.game_id, p.player_lookup FROM nba_raw.player_boxscores p
      LEFT JOIN nba_raw.rosters r ON r.season = p.season AND r.team_abbr = p.team_abbr AND r.player_lookup = p.player_lookup
      WHERE r.player_lookup IS NULL`);
    await zero(`
      SELECT game_id, team_abbr FROM nba_raw.player_boxscores GROUP BY 1, 2
      HAVING SUM(CASE WHEN starter THEN 1 ELSE 0 END) <> 5 OR COUNT(*) < 8 OR COUNT(*) > 13`);
    await zero(`SELECT season, player_lookup FROM nba_raw.rosters GROUP BY 1, 2 HAVING COUNT(*) > 1`);
  });
});

describe('seedDemoData', () => {
  const counts = async (warehouse: DuckDbWarehouse): Promise<Record<string, number>> => {
    const out: Record<string, number> = {};
    for (const table of DEMO_TABLE_NAMES) {
      const [row] = await warehouse.query(`SELECT COUNT(*) AS n FROM nba_raw.${table}`);
      out[table] = Number(row?.n);
    }
    return out;
  };

  it('is idempotent: seeding again, or seeding a sub-range, leaves every count unchanged', async () => {
    const warehouse = new DuckDbWarehouse({ path: ':memory:' });
    try {
      const first = await seedDemoData(warehouse, { preset: 'small' });
      expect(first.from).toBe('2024-10-22');
      expect(first.firstGameDate).toBe('2024-10-22');
      expect(first.gameDates).toBeGreaterThanOrEqual(BOOTSTRAP_DAYS + 28);
      const before = await counts(warehouse);
      expect(before.player_boxscores).toBe(first.rows.player_boxscores);
      expect(before.schedule).toBeGreaterThan(0);

      await seedDemoData(warehouse, { preset: 'small' });
      expect(await counts(warehouse)).toEqual(before);
      await seedDemoData(warehouse, { preset: 'tiny' });
      expect(await counts(warehouse)).toEqual(before);
      await seedDemoData(warehouse, { from: '2024-11-01', to: '2024-11-03' });
      expect(await counts(warehouse)).toEqual(before);
    } finally {
      await warehouse.close();
    }
  });

  it('lets from/to override the preset and clips to the league’s history', async () => {
    const warehouse = new DuckDbWarehouse({ path: ':memory:' });
    try {
      const summary = await seedDemoData(warehouse, { preset: 'tiny', from: '2021-10-01', to: '2021-10-20' });
      expect(summary.gameDates).toBe(2);
      expect([summary.firstGameDate, summary.lastGameDate]).toEqual(['2021-10-19', '2021-10-20']);
      const empty = await seedDemoData(warehouse, { from: '2021-07-01', to: '2021-07-31' });
      expect(empty.gameDates).toBe(0);
      expect(empty.firstGameDate).toBeNull();
    } finally {
      await warehouse.close();
    }
  });

  it.each([
    [{ from: '2024-13-01' }, /from must be a date written YYYY-MM-DD/],
    [{ to: '2024-02-30' }, /to must be a date written YYYY-MM-DD/],
    [{ from: '24-10-22' }, /from must be a date written YYYY-MM-DD/],
    [{ from: '2024-11-02', to: '2024-11-01' }, /from 2024-11-02 is after to 2024-11-01/],
    [{ preset: 'huge' as 'full' }, /unknown demo data preset "huge"/],
    [{ seed: 1.5 }, /seed: must be an integer/],
  ])('rejects bad input %j with one clear message, before touching the warehouse', async (options, message) => {
    const warehouse = new DuckDbWarehouse({ path: ':memory:' });
    try {
      await expect(seedDemoData(warehouse, options)).rejects.toThrow(message);
      expect(await warehouse.tableExists({ dataset: 'nba_raw', table: 'schedule' })).toBe(false);
    } finally {
      await warehouse.close();
    }
  });

  it('rejects bad dates in the generator too', () => {
    expect(() => generateDemoData({ from: 'yesterday' })).toThrow(/from must be a date written YYYY-MM-DD/);
    expect(() => generateDemoData({ from: '2024-01-02', to: '2024-01-01' })).toThrow(/is after to/);
  });
});

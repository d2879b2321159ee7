/**
 * Which dates a processor runs and which it skips, with the reason for every skip. The gate's
 * expected counts come from the same plan, so "why 804 and not 848?" always has an answer.
 */
import type { DatePlan, SkippedDate } from '../shared/types';
import { type QueryOptions, sqlDate, type Warehouse } from '../warehouse/types';
import { rawSchedule } from './raw';
import type { ProcessorDef } from './types';

export const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/** True for a real calendar date written YYYY-MM-DD. */
export function isIsoDate(s: string): boolean {
  if (!DATE_RE.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

export interface GameDate {
  date: string;
  season: string;
  /** Days since the season's first game date. */
  dayOfSeason: number;
}

/** Game dates in [from, to] from the schedule, with their position in the season. */
export async function listGameDates(warehouse: Warehouse, from: string, to: string, opts?: QueryOptions): Promise<GameDate[]> {
  const d = warehouse.dialect;
  const schedule = d.table(rawSchedule);
  const rows = await warehouse.query(
    `WITH season_start AS (SELECT season, MIN(game_date) AS start_date FROM ${schedule} GROUP BY season),
          dates AS (SELECT DISTINCT game_date, season FROM ${schedule}
                    WHERE game_date BETWEEN ${d.dateParam('from')} AND ${d.dateParam('to')})
     SELECT dates.game_date AS date, dates.season AS season,
            ${d.dateDiffDays('dates.game_date', 'season_start.start_date')} AS day_of_season
     FROM dates JOIN season_start ON dates.season = season_start.season
     ORDER BY dates.game_date`,
    { from: sqlDate(from), to: sqlDate(to) },
    opts,
  );
  return rows.map((r) => ({ date: String(r.date), season: String(r.season), dayOfSeason: Number(r.day_of_season) }));
}

export async function planProcessorDates(
  warehouse: Warehouse,
  def: ProcessorDef,
  from: string,
  to: string,
  bootstrapDays: number,
  opts?: QueryOptions,
): Promise<DatePlan> {
  // Every job of the plan is labelled with the processor it plans for (BigQuery job labels).
  const labelled: QueryOptions = { ...opts, labels: { ...opts?.labels, processor: def.name } };
  const gameDates = await listGameDates(warehouse, from, to, labelled);
  const skipped = new Map<string, string>();
  if (def.bootstrap) {
    for (const g of gameDates) {
      if (g.dayOfSeason < bootstrapDays) {
        skipped.set(g.date, `bootstrap: first ${bootstrapDays} days of season ${g.season}`);
      }
    }
  }
  if (def.skipRule) {
    const rows = await warehouse.query(def.skipRule.sql(warehouse.dialect), { from: sqlDate(from), to: sqlDate(to) }, labelled);
    for (const r of rows) {
      const date = String(r.skip_date);
      if (!skipped.has(date)) skipped.set(date, String(r.reason ?? def.skipRule.describe));
    }
  }
  const dates: string[] = [];
  const skippedList: SkippedDate[] = [];
  for (const g of gameDates) {
    const reason = skipped.get(g.date);
    if (reason === undefined) dates.push(g.date);
    else skippedList.push({ date: g.date, reason });
  }
  return { processor: def.name, dates, skipped: skippedList };
}

/**
 * The demo league's calendar: which seasons exist, when they start, which days have no games, and
 * how many game dates each season has. The per-season date counts are fixed (not drawn from the
 * seed) so that every seed gives the seed's 918 game dates, 70 of them bootstrap days.
 */

/** Days since 1970-01-01 (UTC); the generator does all date maths on these. */
export type DayNumber = number;

const MS_PER_DAY = 86_400_000;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

export function isIsoDate(s: string): boolean {
  if (!DATE_RE.test(s)) return false;
  const t = Date.parse(`${s}T00:00:00Z`);
  return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === s;
}

export function toDay(iso: string): DayNumber {
  return Math.round(Date.parse(`${iso}T00:00:00Z`) / MS_PER_DAY);
}

export function toIso(day: DayNumber): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

/** 0 = Sunday … 6 = Saturday. */
export function weekday(day: DayNumber): number {
  // 1970-01-01 was a Thursday.
  return (((day + 4) % 7) + 7) % 7;
}

export interface DateRange {
  from: string;
  to: string;
}

/** Everything the demo league has: the seed's backfill range. */
export const FULL_RANGE: Readonly<DateRange> = Object.freeze({ from: '2021-10-19', to: '2026-01-07' });

/** The platform skips the first 14 days of every season (not enough history for Phase 4+). */
export const BOOTSTRAP_DAYS = 14;

export interface SeasonDef {
  /** '2021-22' */
  season: string;
  /** Two-digit start year, as it appears in NBA game ids ('21'). */
  yy: string;
  /** Opening night: the season's first game date. */
  start: string;
  /** All-Star Sunday; the break runs Friday to Wednesday around it. */
  allStarSunday: string;
  /**
   * Game dates of the whole season (regular season + 3 play-in dates + playoffs). The regular
   * season absorbs the seed-dependent length of the playoffs so this total never changes.
   */
  gameDates: number;
}

/**
 * 210 + 210 + 210 + 211 full seasons, plus 2025-26's first 77 dates (opening night to 2026-01-07
 * less Thanksgiving and Christmas Eve) = 918.
 */
export const SEASONS: readonly SeasonDef[] = [
  { season: '2021-22', yy: '21', start: '2021-10-19', allStarSunday: '2022-02-20', gameDates: 210 },
  { season: '2022-23', yy: '22', start: '2022-10-18', allStarSunday: '2023-02-19', gameDates: 210 },
  { season: '2023-24', yy: '23', start: '2023-10-24', allStarSunday: '2024-02-18', gameDates: 210 },
  { season: '2024-25', yy: '24', start: '2024-10-22', allStarSunday: '2025-02-16', gameDates: 211 },
  { season: '2025-26', yy: '25', start: '2025-10-21', allStarSunday: '2026-02-15', gameDates: 211 },
];

export const SEASON_STARTS: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(SEASONS.map((s) => [s.season, s.start])),
);

/** Thanksgiving, Christmas Eve and the All-Star break: the league's dark days. */
export function noGameDays(def: SeasonDef): Set<DayNumber> {
  const year = Number(def.start.slice(0, 4));
  const nov1 = toDay(`${year}-11-01`);
  const firstThursday = nov1 + ((4 - weekday(nov1) + 7) % 7);
  const days = new Set<DayNumber>([firstThursday + 21, toDay(`${year}-12-24`)]);
  const asg = toDay(def.allStarSunday);
  for (let d = asg - 2; d <= asg + 3; d++) days.add(d);
  return days;
}

/**
 * Checks a requested range and returns it intact. One clear message for the CLI to print; the
 * caller decides whether that is exit code 2.
 */
export function validateDateRange(range: DateRange): DateRange {
  for (const [name, value] of [
    ['from', range.from],
    ['to', range.to],
  ] as const) {
    if (typeof value !== 'string' || !isIsoDate(value)) {
      throw new Error(`invalid demo data range: ${name} must be a date written YYYY-MM-DD, got ${JSON.stringify(value)}`);
    }
  }
  if (range.from > range.to) {
    throw new Error(`invalid demo data range: from ${range.from} is after to ${range.to}`);
  }
  return { from: range.from, to: range.to };
}

export function validateSeed(seed: number): number {
  if (!Number.isSafeInteger(seed)) {
    throw new Error(`invalid demo data seed: must be an integer, got ${JSON.stringify(seed)}`);
  }
  return seed;
}

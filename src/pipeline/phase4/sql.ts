/**
 * Building blocks shared by the Phase 4 (nba_precompute) processors.
 *
 * The one rule every Phase 4 query keeps: a row for date D is computed from history strictly
 * before D. The date's own Phase 3 results (box scores, summaries) are never read; only the date's
 * pre-game context (who plays whom, rest, the points line) is. A row for D is therefore the same
 * whether it is computed the morning of the games or years later in a backfill.
 *
 * "Recent" windows are per season: a team's or player's last N games *this season* before the date.
 * Every history scan is also bounded by SEASON_LOOKBACK_DAYS so BigQuery prunes date partitions;
 * the season filter is the real bound.
 */
import type { Dialect } from '../../warehouse/types';
import { SEASON_LOOKBACK_DAYS } from '../phase3/sql';
import { rowNumberOver } from '../sql';

export const PRECOMPUTE_DATASET = 'nba_precompute';

/** TDZA: a team's defensive sample is its last 15 games of the season. */
export const TDZA_WINDOW_GAMES = 15;
/** TDZA is skipped on a date when any team playing has fewer prior games than this. */
export const TDZA_MIN_PRIOR_GAMES = 10;
/** PSZA: a player's shot profile is his last 10 games of the season. */
export const PSZA_WINDOW_GAMES = 10;
/** PCF: pace is a team's last 10 games; usage trend compares the last 5 with the last 15. */
export const PACE_WINDOW_GAMES = 10;
export const USAGE_SHORT_WINDOW = 5;
export const USAGE_LONG_WINDOW = 15;
/** PCF's composite adjustment is clamped to ±5 points: the factors nudge a baseline, never replace it. */
export const COMPOSITE_CLAMP_POINTS = 5;

/**
 * WHERE conditions selecting rows of a history table strictly before the date, within the
 * lookback, in a season that `seasonsCte` (a CTE with a `season` column) plays on the date.
 */
export function priorSeasonRows(d: Dialect, seasonsCte: string, alias?: string): string {
  const p = alias ? `${alias}.` : '';
  const date = d.dateParam('date');
  return `${p}game_date < ${date} AND ${p}game_date >= ${d.addDays(date, -SEASON_LOOKBACK_DAYS)}
    AND ${p}season IN (SELECT season FROM ${seasonsCte})`;
}

/**
 * `ROW_NUMBER() … AS`-ready rank of a subject's (player's, team's) games this season, newest first:
 * 1 is the last game before the date. `source` is the Phase 3 table read under `alias`; its key
 * columns are the window's row key, so two games on one date are ordered by game_id and the "last
 * N games" are the same rows on every run and on both engines.
 */
export function newestGameFirst(alias: string, subjectColumn: string, source: { keyColumns: readonly string[] }): string {
  const [first, ...rest] = source.keyColumns.map((c) => `${alias}.${c}`);
  if (first === undefined) throw new Error(`${alias}: the source table declares no key columns`);
  return rowNumberOver({
    partitionBy: [`${alias}.season`, `${alias}.${subjectColumn}`],
    orderBy: [
      { expr: `${alias}.game_date`, desc: true },
      { expr: `${alias}.game_id`, desc: true },
    ],
    rowKey: [first, ...rest],
  });
}

/** Number of the expressions that are not NULL (an INT64 expression). */
export function notNullCount(exprs: readonly string[]): string {
  return balancedSum(exprs.map((e) => `(CASE WHEN ${e} IS NOT NULL THEN 1 ELSE 0 END)`));
}

/**
 * a + b + c + … as a balanced tree ((a + b) + (c + d)): the same integer sum, but nested log2(n)
 * deep instead of n. A left-deep chain of 30 features nests the analysed expression tree deeper
 * than Google's analyser will serialise ("Failed to read message." from ZetaSQL).
 */
export function balancedSum(terms: readonly string[]): string {
  if (terms.length === 0) return '0';
  if (terms.length === 1) return terms[0] as string;
  const mid = Math.ceil(terms.length / 2);
  return `(${balancedSum(terms.slice(0, mid))} + ${balancedSum(terms.slice(mid))})`;
}

/**
 * SQL building blocks shared by the Phase 3 processors. Everything here is portable between
 * DuckDB and BigQuery Standard SQL: engine differences go through `Dialect`, and the rest is plain
 * CASE / CAST / aggregates / joins. Shooting formulas live here once, so the player and team
 * tables can never disagree on what "true shooting" means.
 */
import type { ColumnDef, Dialect, TableRef } from '../../warehouse/types';
import { rawPropLines } from '../raw';
import { float64 } from '../sql';

export const ANALYTICS_DATASET = 'nba_analytics';

/**
 * How far back a "this season so far" aggregate may look. Every query also filters on the season,
 * which is the real bound; the date bound exists so BigQuery prunes date partitions instead of
 * scanning every season for each of ~900 dates. A season (even 2019-20 with its bubble) spans
 * less than this.
 */
export const SEASON_LOOKBACK_DAYS = 400;

/** Columns of a target table, declared `as const` so select lists can be checked by name. */
export type ColumnList = readonly ColumnDef[];
export type ColumnName<C extends ColumnList> = C[number]['name'];

/**
 * The SELECT list in target column order (the TableProcessorDef contract), each expression CAST to
 * its declared type. Order comes from the column list, never from the object's key order; the cast
 * makes the SELECT's types the declared ones on every engine (DuckDB would otherwise yield DECIMAL
 * for `0.44 * fta` and HUGEINT for a SUM of BIGINT). A missing or undeclared column is a type
 * error here and, for callers that bypass the types, a thrown Error.
 */
export function projection<C extends ColumnList>(
  d: Dialect,
  columns: C,
  exprs: Record<ColumnName<C>, string>,
): string {
  const byName = exprs as Record<string, string>;
  const declared = new Set(columns.map((c) => c.name));
  const extra = Object.keys(byName).filter((n) => !declared.has(n));
  if (extra.length > 0) throw new Error(`expressions for undeclared columns: ${extra.join(', ')}`);
  return columns
    .map((c) => {
      const expr = byName[c.name];
      if (expr === undefined) throw new Error(`no expression for column ${c.name}`);
      return `CAST(${expr} AS ${d.columnType(c.type)}) AS ${c.name}`;
    })
    .join(',\n  ');
}

/**
 * The share of free-throw attempts that end a possession (and-ones and technicals do not), the
 * usual 0.44. Spelled through float64() so both engines multiply in binary floating point.
 */
export const FREE_THROW_POSSESSION_WEIGHT = 0.44;

/** `0.44 * alias.fta` as FLOAT64 on both engines. */
export function freeThrowPossessionsExpr(d: Dialect, alias: string): string {
  return `${float64(d, FREE_THROW_POSSESSION_WEIGHT)} * ${alias}.fta`;
}

/** Estimated possessions: FGA − OREB + TOV + 0.44·FTA (NULL when turnovers are unknown). */
export function possessionsExpr(d: Dialect, alias: string): string {
  return `(${alias}.fga - ${alias}.oreb + ${alias}.turnovers + ${freeThrowPossessionsExpr(d, alias)})`;
}

/** True shooting %: PTS / (2·(FGA + 0.44·FTA)); NULL without attempts. */
export function tsPctExpr(d: Dialect, alias: string): string {
  return d.safeDivide(`${alias}.points`, `2 * (${alias}.fga + ${freeThrowPossessionsExpr(d, alias)})`);
}

/** Effective FG %: (FGM + 0.5·3PM) / FGA; NULL without attempts. */
export function efgPctExpr(d: Dialect, alias: string): string {
  return d.safeDivide(`${alias}.fgm + 0.5 * ${alias}.fg3m`, `${alias}.fga`);
}

/**
 * The date's consensus points line per player and game: the average over bookmakers. Lines are
 * published before tip-off, so reading the date's lines is not peeking at its results.
 */
export function consensusLinesCte(d: Dialect, name = 'consensus_lines'): string {
  return `${name} AS (
  SELECT game_id, player_lookup, AVG(points_line) AS points_line
  FROM ${d.table(rawPropLines)}
  WHERE game_date = ${d.dateParam('date')} AND points_line IS NOT NULL
  GROUP BY game_id, player_lookup
)`;
}

/** `name AS (SELECT columns FROM table WHERE game_date = date)`: a raw input narrowed to the date. */
export function onDateCte(d: Dialect, name: string, ref: TableRef, columns = '*'): string {
  return `${name} AS (
  SELECT ${columns} FROM ${d.table(ref)} WHERE game_date = ${d.dateParam('date')}
)`;
}

/**
 * The pre-game team context shared by the two "upcoming" processors: for every team playing on
 * the date, its rest, its recent schedule load and its season record so far. Only the schedule and
 * box scores of earlier dates are read, so a context row for a date is the same whether it is
 * computed the morning of the game or years later in a backfill.
 *
 * The CTEs end in `team_context`: one row per (game_id, team_abbr) of the date with columns
 *   game_id, game_date, season, season_type, team_abbr, opponent_team_abbr, is_home,
 *   days_rest, games_in_last_7_days, season_games_played, season_wins, season_win_pct.
 */
import type { Dialect } from '../../warehouse/types';
import { rawSchedule, rawTeamBoxscores } from '../raw';
import { SEASON_LOOKBACK_DAYS } from './sql';

/** CTE definitions (without the leading WITH), to be followed by more CTEs or a SELECT. */
export function teamContextCtes(d: Dialect): string {
  const date = d.dateParam('date');
  const lookbackStart = d.addDays(date, -SEASON_LOOKBACK_DAYS);
  const schedule = d.table(rawSchedule);
  const teamBoxscores = d.table(rawTeamBoxscores);
  return `date_games AS (
  SELECT game_id, game_date, season, season_type, home_team_abbr, away_team_abbr
  FROM ${schedule}
  WHERE game_date = ${date}
),
date_team_games AS (
  SELECT game_id, game_date, season, season_type,
         home_team_abbr AS team_abbr, away_team_abbr AS opponent_team_abbr, TRUE AS is_home
  FROM date_games
  UNION ALL
  SELECT game_id, game_date, season, season_type,
         away_team_abbr AS team_abbr, home_team_abbr AS opponent_team_abbr, FALSE AS is_home
  FROM date_games
),
prior_schedule AS (
  SELECT game_id, game_date, season, home_team_abbr, away_team_abbr
  FROM ${schedule}
  WHERE game_date < ${date} AND game_date >= ${lookbackStart}
    AND season IN (SELECT season FROM date_games)
),
prior_team_games AS (
  SELECT game_id, game_date, season, home_team_abbr AS team_abbr FROM prior_schedule
  UNION ALL
  SELECT game_id, game_date, season, away_team_abbr AS team_abbr FROM prior_schedule
),
team_schedule_load AS (
  SELECT g.game_id, g.team_abbr,
         MAX(p.game_date) AS previous_game_date,
         SUM(CASE WHEN p.game_date >= ${d.addDays(date, -7)} THEN 1 ELSE 0 END) AS games_in_last_7_days
  FROM date_team_games AS g
  LEFT JOIN prior_team_games AS p ON p.team_abbr = g.team_abbr AND p.season = g.season
  GROUP BY g.game_id, g.team_abbr
),
prior_team_boxscores AS (
  SELECT game_id, season, team_abbr, opponent_team_abbr, points
  FROM ${teamBoxscores}
  WHERE game_date < ${date} AND game_date >= ${lookbackStart}
    AND season IN (SELECT season FROM date_games)
),
team_season_record AS (
  SELECT tb.season, tb.team_abbr,
         COUNT(DISTINCT tb.game_id) AS games_played,
         SUM(CASE WHEN tb.points > opp.points THEN 1 ELSE 0 END) AS wins
  FROM prior_team_boxscores AS tb
  JOIN prior_team_boxscores AS opp ON opp.game_id = tb.game_id AND opp.team_abbr = tb.opponent_team_abbr
  GROUP BY tb.season, tb.team_abbr
),
team_context AS (
  SELECT g.game_id, g.game_date, g.season, g.season_type, g.team_abbr, g.opponent_team_abbr, g.is_home,
         ${d.dateDiffDays('g.game_date', 'l.previous_game_date')} AS days_rest,
         l.games_in_last_7_days,
         COALESCE(r.games_played, 0) AS season_games_played,
         COALESCE(r.wins, 0) AS season_wins,
         ${d.safeDivide('r.wins', 'r.games_played')} AS season_win_pct
  FROM date_team_games AS g
  JOIN team_schedule_load AS l ON l.game_id = g.game_id AND l.team_abbr = g.team_abbr
  LEFT JOIN team_season_record AS r ON r.season = g.season AND r.team_abbr = g.team_abbr
)`;
}

/** A team plays on consecutive days; the season's first game is never a back-to-back. */
export function backToBackExpr(daysRest: string): string {
  return `CASE WHEN ${daysRest} = 1 THEN TRUE ELSE FALSE END`;
}

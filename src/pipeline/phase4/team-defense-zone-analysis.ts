/**
 * team_defense_zone_analysis (TDZA): for every team playing on the date, what opponents have shot
 * against it by zone — paint, mid-range, three — over its last 15 games of the season before the
 * date: FG% allowed and attempt shares allowed per zone, points allowed per game, defensive rating,
 * and the same zone FG% for the whole league this season (so a reader sees "allows 4 points of
 * paint FG% above the league" without a second query). PCF's zone matchup reads these rows.
 *
 * Percentages are pooled over the sample (Σ makes / Σ attempts), not an average of per-game
 * percentages, so a 2-for-2 night weighs what two attempts weigh.
 *
 * A defensive profile from a handful of games is noise, so the processor declares a stricter need
 * than the 14-day bootstrap: a date is skipped when any team playing that day has fewer than 10
 * prior games this season. That rule is what keeps TDZA's coverage (804 in the seed) below the
 * other Phase 4 tables' (848), and every such date carries its reason in the plan.
 */
import type { Dialect } from '../../warehouse/types';
import { teamDefenseGameSummary, upcomingTeamGameContext } from '../phase3';
import { projection } from '../phase3/sql';
import { rawSchedule } from '../raw';
import type { SkipRule, TableProcessorDef } from '../types';
import { newestGameFirst, PRECOMPUTE_DATASET, priorSeasonRows, TDZA_MIN_PRIOR_GAMES, TDZA_WINDOW_GAMES } from './sql';
import { rankOver, requireAll } from '../sql';

const columns = [
  { name: 'analysis_date', type: 'DATE' },
  { name: 'team_abbr', type: 'STRING' },
  { name: 'game_id', type: 'STRING' },
  { name: 'season', type: 'STRING' },
  { name: 'opponent_team_abbr', type: 'STRING' },
  /** Defensive games in the sample: min(15, games this season before the date). */
  { name: 'games_in_sample', type: 'INT64' },
  { name: 'sample_first_game_date', type: 'DATE' },
  { name: 'sample_last_game_date', type: 'DATE' },
  { name: 'points_allowed_per_game', type: 'FLOAT64' },
  { name: 'opp_fg_pct_allowed', type: 'FLOAT64' },
  { name: 'paint_fg_pct_allowed', type: 'FLOAT64' },
  { name: 'mid_fg_pct_allowed', type: 'FLOAT64' },
  { name: 'three_fg_pct_allowed', type: 'FLOAT64' },
  /** Shares of the opponents' field-goal attempts by zone (they sum to 1). */
  { name: 'paint_attempt_share_allowed', type: 'FLOAT64' },
  { name: 'mid_attempt_share_allowed', type: 'FLOAT64' },
  { name: 'three_attempt_share_allowed', type: 'FLOAT64' },
  /** 100 · points allowed / opponent possessions, over games whose possessions are known. */
  { name: 'defensive_rating', type: 'FLOAT64' },
  /** League-wide zone FG% this season before the date (every team's defensive games). */
  { name: 'league_paint_fg_pct', type: 'FLOAT64' },
  { name: 'league_mid_fg_pct', type: 'FLOAT64' },
  { name: 'league_three_fg_pct', type: 'FLOAT64' },
  { name: 'league_points_allowed_per_game', type: 'FLOAT64' },
  /** FG% allowed minus the league's: positive means the zone is easier than average against this team. */
  { name: 'paint_fg_pct_vs_league', type: 'FLOAT64' },
  { name: 'mid_fg_pct_vs_league', type: 'FLOAT64' },
  { name: 'three_fg_pct_vs_league', type: 'FLOAT64' },
] as const;

function select(d: Dialect): string {
  const date = d.dateParam('date');
  return `WITH
date_teams AS (
  SELECT game_id, season, team_abbr, opponent_team_abbr
  FROM ${d.table(upcomingTeamGameContext.target)}
  WHERE game_date = ${date}
),
season_defense AS (
  SELECT game_id, game_date, season, defending_team_abbr, points_allowed, opp_fgm, opp_fga, opp_fg3m, opp_fg3a,
         opp_paint_fgm, opp_paint_fga, opp_mid_fgm, opp_mid_fga, opponent_possessions
  FROM ${d.table(teamDefenseGameSummary.target)}
  WHERE ${priorSeasonRows(d, 'date_teams')}
),
recent_defense AS (
  SELECT * FROM (
    SELECT sd.*,
           ${newestGameFirst('sd', 'defending_team_abbr', teamDefenseGameSummary)} AS game_rank
    FROM season_defense AS sd
  ) AS ranked
  WHERE game_rank <= ${TDZA_WINDOW_GAMES}
),
team_sample AS (
  SELECT season, defending_team_abbr AS team_abbr,
         COUNT(*) AS games,
         MIN(game_date) AS first_game_date,
         MAX(game_date) AS last_game_date,
         AVG(points_allowed) AS points_allowed_per_game,
         SUM(opp_fgm) AS fgm, SUM(opp_fga) AS fga, SUM(opp_fg3m) AS fg3m, SUM(opp_fg3a) AS fg3a,
         SUM(opp_paint_fgm) AS paint_fgm, SUM(opp_paint_fga) AS paint_fga,
         SUM(opp_mid_fgm) AS mid_fgm, SUM(opp_mid_fga) AS mid_fga,
         SUM(CASE WHEN opponent_possessions IS NOT NULL THEN points_allowed END) AS rated_points,
         SUM(opponent_possessions) AS possessions
  FROM recent_defense
  GROUP BY season, defending_team_abbr
),
team_rates AS (
  SELECT season, team_abbr, games, first_game_date, last_game_date, points_allowed_per_game,
         ${d.safeDivide('fgm', 'fga')} AS fg_pct,
         ${d.safeDivide('paint_fgm', 'paint_fga')} AS paint_fg_pct,
         ${d.safeDivide('mid_fgm', 'mid_fga')} AS mid_fg_pct,
         ${d.safeDivide('fg3m', 'fg3a')} AS three_fg_pct,
         ${d.safeDivide('paint_fga', 'fga')} AS paint_share,
         ${d.safeDivide('mid_fga', 'fga')} AS mid_share,
         ${d.safeDivide('fg3a', 'fga')} AS three_share,
         ${d.safeDivide('100 * rated_points', 'possessions')} AS defensive_rating
  FROM team_sample
),
league AS (
  SELECT season,
         ${d.safeDivide('SUM(opp_paint_fgm)', 'SUM(opp_paint_fga)')} AS paint_fg_pct,
         ${d.safeDivide('SUM(opp_mid_fgm)', 'SUM(opp_mid_fga)')} AS mid_fg_pct,
         ${d.safeDivide('SUM(opp_fg3m)', 'SUM(opp_fg3a)')} AS three_fg_pct,
         AVG(points_allowed) AS points_allowed_per_game
  FROM season_defense
  GROUP BY season
)
SELECT
  ${projection(d, columns, {
    analysis_date: date,
    team_abbr: 'dt.team_abbr',
    game_id: 'dt.game_id',
    season: 'dt.season',
    opponent_team_abbr: 'dt.opponent_team_abbr',
    games_in_sample: 'tr.games',
    sample_first_game_date: 'tr.first_game_date',
    sample_last_game_date: 'tr.last_game_date',
    points_allowed_per_game: 'tr.points_allowed_per_game',
    opp_fg_pct_allowed: 'tr.fg_pct',
    paint_fg_pct_allowed: 'tr.paint_fg_pct',
    mid_fg_pct_allowed: 'tr.mid_fg_pct',
    three_fg_pct_allowed: 'tr.three_fg_pct',
    paint_attempt_share_allowed: 'tr.paint_share',
    mid_attempt_share_allowed: 'tr.mid_share',
    three_attempt_share_allowed: 'tr.three_share',
    defensive_rating: 'tr.defensive_rating',
    league_paint_fg_pct: 'lg.paint_fg_pct',
    league_mid_fg_pct: 'lg.mid_fg_pct',
    league_three_fg_pct: 'lg.three_fg_pct',
    league_points_allowed_per_game: 'lg.points_allowed_per_game',
    paint_fg_pct_vs_league: 'tr.paint_fg_pct - lg.paint_fg_pct',
    mid_fg_pct_vs_league: 'tr.mid_fg_pct - lg.mid_fg_pct',
    three_fg_pct_vs_league: 'tr.three_fg_pct - lg.three_fg_pct',
  })}
FROM date_teams AS dt
JOIN team_rates AS tr ON tr.season = dt.season AND tr.team_abbr = dt.team_abbr
LEFT JOIN league AS lg ON lg.season = dt.season`;
}

/**
 * Counted from the schedule, not from Phase 3 output: the plan (and so the gate's expected count)
 * is the same before and after Phase 3 has run. RANK() − 1 over a team's season games by date is
 * the number of its games on earlier dates (games on one date share a rank, so no tie-breaker; a
 * game without a date sorts last on both engines and moves no other game's rank).
 *
 * The reason names the teams behind the skip with their prior-game counts, sorted by team
 * ("… (GSW 5, LAL 5)"), so a coverage report can say which teams cost TDZA its dates. STRING_AGG
 * with ORDER BY means the same on both engines: NULLs skipped, the order given, never empty here
 * because every group holds at least one short team.
 */
export const tdzaSkipRule: SkipRule = {
  describe: `fewer than ${TDZA_MIN_PRIOR_GAMES} prior games this season for some team playing that day`,
  sql: (d) => {
    const schedule = d.table(rawSchedule);
    const teamCount = d.concat('team_abbr', `' '`, `CAST(prior_games AS ${d.columnType('STRING')})`);
    return `WITH
range_seasons AS (
  SELECT DISTINCT season FROM ${schedule}
  WHERE game_date BETWEEN ${d.dateParam('from')} AND ${d.dateParam('to')}
),
team_games AS (
  SELECT game_date, season, home_team_abbr AS team_abbr FROM ${schedule}
  WHERE season IN (SELECT season FROM range_seasons)
  UNION ALL
  SELECT game_date, season, away_team_abbr AS team_abbr FROM ${schedule}
  WHERE season IN (SELECT season FROM range_seasons)
),
numbered AS (
  SELECT game_date, team_abbr,
         ${rankOver({ partitionBy: ['season', 'team_abbr'], orderBy: [{ expr: 'game_date', nulls: 'last' }] })} - 1 AS prior_games
  FROM team_games
),
short_teams AS (
  SELECT game_date, team_abbr, prior_games FROM numbered
  WHERE game_date BETWEEN ${d.dateParam('from')} AND ${d.dateParam('to')}
    AND prior_games < ${TDZA_MIN_PRIOR_GAMES}
)
SELECT game_date AS skip_date,
       ${d.concat(
         `'TDZA: fewer than ${TDZA_MIN_PRIOR_GAMES} prior games for some team playing ('`,
         `STRING_AGG(${teamCount}, ', ' ORDER BY team_abbr)`,
         `')'`,
       )} AS reason
FROM short_teams
GROUP BY game_date`;
  },
};

export const teamDefenseZoneAnalysis: TableProcessorDef = {
  kind: 'table',
  name: 'team_defense_zone_analysis',
  phase: 4,
  group: 1,
  bootstrap: true,
  skipRule: tdzaSkipRule,
  description:
    "For every team playing: opponents' FG% and attempt shares by zone (paint / mid / three), points allowed and defensive rating over its last 15 games this season, against the league's zone FG%",
  target: { dataset: PRECOMPUTE_DATASET, table: 'team_defense_zone_analysis', columns },
  keyColumns: ['analysis_date', 'team_abbr'],
  dateColumn: 'analysis_date',
  inputs: [upcomingTeamGameContext.target, teamDefenseGameSummary.target, rawSchedule],
  select,
  requiredInput: (d) => requireAll(d, [{ ref: upcomingTeamGameContext.target, dateColumn: 'game_date' }]),
  fieldCoverage: [
    { column: 'points_allowed_per_game', min: 1.0 },
    {
      column: 'paint_fg_pct_allowed',
      min: 1.0,
      note: 'every team in the sample has 10+ games, so opponents always took paint shots',
    },
  ],
};

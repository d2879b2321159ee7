/**
 * One game's rows: player box scores, the two team box scores and the pre-game points lines.
 *
 * Everything random here comes from one stream keyed by (seed, game_id); the other inputs are
 * season-level (ratings, rosters, the schedule's decided winner). So a game's rows are the same
 * whether it is generated alone or as part of the full range.
 *
 * Team rows are sums of the player rows, computed before the feed gaps are applied: a player's
 * NULL minutes or turnovers hide his value, never remove it from the team total.
 */
import type { Row } from '../../warehouse/types';
import type { DayNumber } from './calendar';
import { type SeasonLeague, type SeasonPlayer, TEAMS } from './league';
import { Rng, clamp } from './random';
import type { Game } from './schedule';

/** Share of player rows whose minutes are missing from the feed (the seed: 96.3% coverage). */
export const MISSING_MINUTES_RATE = 0.037;
/**
 * Share of player rows whose turnovers are missing. Independent of missing minutes, so the rows
 * lacking a usage-rate input come to ~13.3% (the seed: 86.2% usage-rate coverage). Drawn per row,
 * not per team-game: per-game gaps made a month's coverage swing by ±2 points, enough to fail the
 * 85% gate on a short range by chance alone.
 */
export const MISSING_TURNOVERS_RATE = 0.1;
export const OVERTIME_RATE = 0.06;
export const BOOKMAKERS = ['draftkings', 'fanduel'] as const;

/** Relative minutes by rotation slot (best available player first), before per-game noise. */
const ROTATION_MINUTES = [37, 35, 34, 32, 30, 24, 20, 16, 12, 8, 6, 4, 3];
const MAX_ACTIVE = ROTATION_MINUTES.length;
const MIN_ACTIVE = 8;
/** League-wide scoring drift between seasons (pace and efficiency rose through 2023-24). */
const SEASON_PACE: Record<string, number> = {
  '2021-22': 0.975,
  '2022-23': 1.0,
  '2023-24': 1.01,
  '2024-25': 1.005,
  '2025-26': 1.01,
};
/** Per 240 team minutes at league-average pace. */
const TEAM_FGA = 88.5;
const TEAM_FTA = 22;
const ASSISTED_SHARE = 0.61;
const TEAM_STEALS = 7.6;
const TEAM_BLOCKS = 4.9;
const TEAM_TURNOVERS = 13.8;
const TEAM_FOULS = 19.5;
const PRICE_PAIRS: ReadonlyArray<readonly [number, number]> = [
  [-110, -110],
  [-110, -110],
  [-110, -110],
  [-115, -105],
  [-105, -115],
  [-120, 100],
  [100, -120],
  [-125, 105],
  [105, -125],
];

interface Line {
  sp: SeasonPlayer;
  starter: boolean;
  /** Quarter-minutes: exact in binary, so the players' minutes sum to 240 without rounding error. */
  quarters: number;
  /** Pre-game expectation, what a bookmaker prices on. */
  expectedMinutes: number;
  hot: number;
  paintA: number;
  paintM: number;
  midA: number;
  midM: number;
  threeA: number;
  threeM: number;
  fta: number;
  ftm: number;
  oreb: number;
  dreb: number;
  ast: number;
  stl: number;
  blk: number;
  tov: number;
  pf: number;
}

interface Side {
  team: number;
  opponent: number;
  isHome: boolean;
  lines: Line[];
  /** Multiplier on this side's shooting percentages for this game. */
  shooting: number;
}

export interface GameRows {
  players: Row[];
  teams: Row[];
  props: Row[];
}

function isInjured(sp: SeasonPlayer, day: DayNumber): boolean {
  return sp.injuries.some(([first, last]) => day >= first && day <= last);
}

/** Who dresses and plays: healthy regulars almost always, the end of the bench now and then. */
function chooseActive(rng: Rng, roster: readonly SeasonPlayer[], day: DayNumber, playoffs: boolean): SeasonPlayer[] {
  const active: SeasonPlayer[] = [];
  const healthyBench: SeasonPlayer[] = [];
  for (const sp of roster) {
    const p =
      sp.rank < 2 && !playoffs ? 0.93 : sp.rank < 8 ? 0.96 : sp.rank < 10 ? 0.85 : sp.rank < 12 ? 0.5 : playoffs ? 0.3 : 0.24;
    const injured = isInjured(sp, day);
    if (!injured && rng.chance(p)) active.push(sp);
    else if (!injured) healthyBench.push(sp);
  }
  // A team can always field eight: the healthiest bench first, then whoever is left.
  const fallback = [...healthyBench, ...roster.filter((sp) => isInjured(sp, day))];
  while (active.length < MIN_ACTIVE && fallback.length > 0) active.push(fallback.shift() as SeasonPlayer);
  active.sort((a, b) => a.rank - b.rank);
  return active.slice(0, MAX_ACTIVE);
}

/** Largest-remainder split of the team's quarter-minutes, so the total is exact. */
function allocateQuarters(weights: readonly number[], total: number): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const raw = weights.map((w) => (total * w) / sum);
  const quarters = raw.map(Math.floor);
  let rest = total - quarters.reduce((a, b) => a + b, 0);
  const order = raw.map((r, i) => ({ i, frac: r - Math.floor(r) })).sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (const { i } of order) {
    if (rest <= 0) break;
    quarters[i] = (quarters[i] ?? 0) + 1;
    rest--;
  }
  return quarters;
}

function buildSide(
  rng: Rng,
  league: SeasonLeague,
  game: Game,
  team: number,
  opponent: number,
  overtimes: number,
): Side {
  const playoffs = game.seasonType === 'playoffs';
  const roster = league.rosters[team] ?? [];
  const active = chooseActive(rng, roster, game.day, playoffs);
  const baseWeights = active.map((_, slot) => {
    const base = ROTATION_MINUTES[slot] ?? 3;
    // Playoff rotations shorten: starters play more, the end of the bench less.
    return playoffs ? base * (slot < 5 ? 1.15 : slot >= 9 ? 0.5 : 1) : base;
  });
  const baseSum = baseWeights.reduce((a, b) => a + b, 0);
  const noisy = baseWeights.map((w, slot) => w * (slot < 9 ? rng.uniform(0.85, 1.15) : rng.uniform(0.6, 1.4)));
  const quarters = allocateQuarters(noisy, (240 + 25 * overtimes) * 4);
  const lines = active.map(
    (sp, slot): Line => ({
      sp,
      starter: slot < 5,
      quarters: quarters[slot] ?? 0,
      expectedMinutes: (240 * (baseWeights[slot] ?? 0)) / baseSum,
      hot: clamp(1 + 0.05 * rng.normal(), 0.85, 1.15),
      paintA: 0,
      paintM: 0,
      midA: 0,
      midM: 0,
      threeA: 0,
      threeM: 0,
      fta: 0,
      ftm: 0,
      oreb: 0,
      dreb: 0,
      ast: 0,
      stl: 0,
      blk: 0,
      tov: 0,
      pf: 0,
    }),
  );
  const isHome = team === game.home;
  const shooting = (league.offense[team] ?? 1) * (league.defense[opponent] ?? 1) * (isHome ? 1.01 : 1);
  return { team, opponent, isHome, lines, shooting };
}

const minutesOf = (l: Line): number => l.quarters / 4;
const fgm = (l: Line): number => l.paintM + l.midM + l.threeM;
const fga = (l: Line): number => l.paintA + l.midA + l.threeA;
const pointsOf = (l: Line): number => 2 * (l.paintM + l.midM) + 3 * l.threeM + l.ftm;
const sum = (lines: readonly Line[], f: (l: Line) => number): number => lines.reduce((a, l) => a + f(l), 0);

/**
 * Shot and free-throw volume is shared out by minutes × usage. The team's attempts are drawn as one
 * total first: real attempt counts vary far less than a sum of independent per-player counts would.
 */
function shootSide(rng: Rng, side: Side, teamFga: number, teamFta: number): void {
  const fgaWeights = side.lines.map((l) => minutesOf(l) * l.sp.usage);
  const ftaWeights = side.lines.map((l) => minutesOf(l) * l.sp.usage * l.sp.ftRate);
  for (const l of side.lines) l.paintA = l.paintM = l.midA = l.midM = l.threeA = l.threeM = l.fta = l.ftm = 0;
  const attempts = Math.max(60, Math.round(teamFga + 4 * rng.normal()));
  distribute(rng, side.lines, attempts, fgaWeights, (l) => {
    const sp = l.sp;
    const zone = rng.next();
    const roll = rng.next() / (side.shooting * l.hot);
    if (zone < sp.threeShare) {
      l.threeA++;
      if (roll < sp.threePct) l.threeM++;
    } else if (zone < sp.threeShare + (1 - sp.threeShare) * sp.paintShare) {
      l.paintA++;
      if (roll < sp.paintPct) l.paintM++;
    } else {
      l.midA++;
      if (roll < sp.midPct) l.midM++;
    }
  });
  distribute(rng, side.lines, rng.poisson(teamFta), ftaWeights, (l) => {
    l.fta++;
    if (rng.next() < l.sp.ftPct) l.ftm++;
  });
}

/**
 * Last resort when resampling could not produce the decided winner (a heavy upset): turn the
 * winner's misses into makes, then hand out made free throws, until the margin is right.
 */
function forceMargin(rng: Rng, winner: Side, loser: Side, minMargin: number): void {
  for (let guard = 0; guard < 500; guard++) {
    const margin = sum(winner.lines, pointsOf) - sum(loser.lines, pointsOf);
    if (margin >= minMargin) return;
    const shooters = winner.lines.filter((l) => l.threeA > l.threeM || l.paintA > l.paintM || l.midA > l.midM);
    if (shooters.length > 0) {
      const l = rng.pick(shooters);
      if (l.paintA > l.paintM) l.paintM++;
      else if (l.threeA > l.threeM) l.threeM++;
      else l.midM++;
    } else {
      const l = winner.lines[0] as Line;
      l.fta++;
      l.ftm++;
    }
  }
}

/** Hands out `total` events one at a time, each to a line drawn with probability ∝ its weight. */
function distribute(rng: Rng, lines: readonly Line[], total: number, weights: readonly number[], apply: (l: Line) => void): void {
  const weightSum = weights.reduce((a, b) => a + b, 0);
  if (weightSum <= 0) return;
  for (let k = 0; k < total; k++) apply(lines[rng.weighted(weights, weightSum)] as Line);
}

/** Everything but shooting, given the final shots (rebounds follow the misses on the floor). */
function fillCounting(rng: Rng, side: Side, opponent: Side, paceMinutes: number): void {
  const lines = side.lines;
  for (const l of lines) l.oreb = l.dreb = l.ast = l.stl = l.blk = l.tov = l.pf = 0;
  const ownMisses = sum(lines, fga) - sum(lines, fgm);
  const oppMisses = sum(opponent.lines, fga) - sum(opponent.lines, fgm);
  const weights = (rate: (l: Line) => number): number[] => lines.map((l) => minutesOf(l) * rate(l));
  distribute(rng, lines, rng.poisson(0.235 * ownMisses), weights((l) => l.sp.orebRate), (l) => l.oreb++);
  distribute(rng, lines, rng.poisson(0.74 * oppMisses), weights((l) => l.sp.drebRate), (l) => l.dreb++);
  // Assists never exceed made baskets: each is drawn from the team's makes.
  distribute(rng, lines, rng.binomial(sum(lines, fgm), ASSISTED_SHARE), weights((l) => l.sp.astRate), (l) => l.ast++);
  distribute(rng, lines, rng.poisson(TEAM_STEALS * paceMinutes), weights((l) => l.sp.stlRate), (l) => l.stl++);
  distribute(rng, lines, rng.poisson(TEAM_BLOCKS * paceMinutes), weights((l) => l.sp.blkRate), (l) => l.blk++);
  distribute(rng, lines, rng.poisson(TEAM_TURNOVERS * paceMinutes), weights((l) => l.sp.tovRate * Math.sqrt(l.sp.usage)), (l) => l.tov++);
  // Six fouls and you are out: a fouled-out player's next foul goes to a teammate.
  const foulWeights = weights((l) => l.sp.foulRate);
  distribute(rng, lines, rng.poisson(TEAM_FOULS * paceMinutes), foulWeights, (l) => {
    if (l.pf < 6) {
      l.pf++;
      return;
    }
    const open = lines.find((x) => x.pf < 6);
    if (open) open.pf++;
  });
}

/** Points a bookmaker would expect from the player before tip-off. */
function expectedPoints(side: Side, l: Line, teamFga: number, teamFta: number): number {
  const fgaTotal = sum(side.lines, (x) => x.expectedMinutes * x.sp.usage);
  const ftaTotal = sum(side.lines, (x) => x.expectedMinutes * x.sp.usage * x.sp.ftRate);
  const sp = l.sp;
  const shots = (teamFga * l.expectedMinutes * sp.usage) / fgaTotal;
  const frees = (teamFta * l.expectedMinutes * sp.usage * sp.ftRate) / ftaTotal;
  const twoShare = 1 - sp.threeShare;
  const perShot =
    side.shooting *
    (3 * sp.threeShare * sp.threePct + 2 * twoShare * (sp.paintShare * sp.paintPct + (1 - sp.paintShare) * sp.midPct));
  return shots * perShot + frees * sp.ftPct;
}

function statColumns(lines: readonly Line[]): Row {
  return {
    points: sum(lines, pointsOf),
    fgm: sum(lines, fgm),
    fga: sum(lines, fga),
    fg3m: sum(lines, (l) => l.threeM),
    fg3a: sum(lines, (l) => l.threeA),
    ftm: sum(lines, (l) => l.ftm),
    fta: sum(lines, (l) => l.fta),
    oreb: sum(lines, (l) => l.oreb),
    dreb: sum(lines, (l) => l.dreb),
    assists: sum(lines, (l) => l.ast),
    steals: sum(lines, (l) => l.stl),
    blocks: sum(lines, (l) => l.blk),
    turnovers: sum(lines, (l) => l.tov),
    fouls: sum(lines, (l) => l.pf),
    paint_fgm: sum(lines, (l) => l.paintM),
    paint_fga: sum(lines, (l) => l.paintA),
    mid_fgm: sum(lines, (l) => l.midM),
    mid_fga: sum(lines, (l) => l.midA),
  };
}

export function generateGameRows(seed: number, league: SeasonLeague, game: Game): GameRows {
  const rng = Rng.of(seed, 'game', game.gameId);
  const overtimes = rng.chance(OVERTIME_RATE) ? (rng.chance(0.12) ? (rng.chance(0.15) ? 3 : 2) : 1) : 0;
  const teamMinutes = 240 + 25 * overtimes;
  const home = buildSide(rng, league, game, game.home, game.away, overtimes);
  const away = buildSide(rng, league, game, game.away, game.home, overtimes);
  const pace =
    (((league.pace[game.home] ?? 1) + (league.pace[game.away] ?? 1)) / 2) *
    clamp(1 + 0.03 * rng.normal(), 0.9, 1.1) *
    (SEASON_PACE[game.season] ?? 1);
  const paceMinutes = (pace * teamMinutes) / 240;
  const teamFga = TEAM_FGA * paceMinutes;
  const teamFta = TEAM_FTA * paceMinutes;
  const [winner, loser] = game.homeWins ? [home, away] : [away, home];

  // Resample the shooting until it agrees with the decided winner: the margin keeps a natural
  // shape instead of piling up at one point. Overtime games also have to be close.
  const maxMargin = overtimes > 0 ? 12 : Infinity;
  let agreed = false;
  for (let attempt = 0; attempt < 60 && !agreed; attempt++) {
    shootSide(rng, home, teamFga, teamFta);
    shootSide(rng, away, teamFga, teamFta);
    const margin = sum(winner.lines, pointsOf) - sum(loser.lines, pointsOf);
    agreed = margin >= 1 && margin <= maxMargin;
  }
  if (!agreed) forceMargin(rng, winner, loser, 1);
  fillCounting(rng, home, away, paceMinutes);
  fillCounting(rng, away, home, paceMinutes);

  const players: Row[] = [];
  const teams: Row[] = [];
  const props: Row[] = [];
  for (const side of [home, away]) {
    const teamAbbr = TEAMS[side.team]?.abbr ?? '';
    const opponentAbbr = TEAMS[side.opponent]?.abbr ?? '';
    teams.push({
      game_id: game.gameId,
      game_date: game.date,
      season: game.season,
      team_abbr: teamAbbr,
      opponent_team_abbr: opponentAbbr,
      is_home: side.isHome,
      minutes: teamMinutes,
      ...statColumns(side.lines),
    });
    for (const l of side.lines) {
      const stats = statColumns([l]);
      const turnoversMissing = rng.chance(MISSING_TURNOVERS_RATE);
      players.push({
        game_id: game.gameId,
        game_date: game.date,
        season: game.season,
        team_abbr: teamAbbr,
        opponent_team_abbr: opponentAbbr,
        player_lookup: l.sp.player.lookup,
        player_name: l.sp.player.name,
        starter: l.starter,
        minutes: rng.chance(MISSING_MINUTES_RATE) ? null : minutesOf(l),
        ...stats,
        turnovers: turnoversMissing ? null : stats.turnovers ?? null,
      });
    }
    // Lines are posted for the rotation, priced off expectations, not the result.
    for (const l of side.lines) {
      if (l.expectedMinutes < 20 || !rng.chance(0.95)) continue;
      // Priced for regulation at the game's pace: nobody posts a line expecting overtime.
      const fair = expectedPoints(side, l, TEAM_FGA * pace, TEAM_FTA * pace) * clamp(1 + 0.06 * rng.normal(), 0.8, 1.2);
      const line = Math.max(2.5, Math.floor(fair) + 0.5);
      const books = BOOKMAKERS.filter((_, i) => rng.chance(i === 0 ? 0.93 : 0.8));
      if (books.length === 0) books.push(BOOKMAKERS[0]);
      for (const bookmaker of books) {
        const [over, under] = rng.pick(PRICE_PAIRS);
        const shift = rng.chance(0.2) ? rng.pick([-1, -0.5, 0.5, 1]) : 0;
        props.push({
          game_id: game.gameId,
          game_date: game.date,
          player_lookup: l.sp.player.lookup,
          bookmaker,
          points_line: Math.max(0.5, line + shift),
          over_price: over,
          under_price: under,
        });
      }
    }
  }
  return { players, teams, props };
}

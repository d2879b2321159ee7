/**
 * One season's games: an 82-game regular season, the play-in and best-of-7 playoffs.
 *
 * The order of work is what keeps the season's date count fixed for every seed: the playoff
 * skeleton (series lengths and the days between games) is drawn first, and the regular season gets
 * the remaining game dates. Who plays in the playoffs is decided afterwards from the standings,
 * which come from each game's outcome — drawn from (seed, game_id), the same key the box score uses.
 */
import { type DayNumber, type SeasonDef, noGameDays, toDay, toIso, weekday } from './calendar';
import { type Conference, type SeasonLeague, TEAMS } from './league';
import { Rng } from './random';

export type SeasonType = 'regular' | 'play_in' | 'playoffs';

export interface Game {
  gameId: string;
  day: DayNumber;
  date: string;
  season: string;
  seasonType: SeasonType;
  home: number;
  away: number;
  /** Decided here, honoured by the box score: the winner always scores more. */
  homeWins: boolean;
}

export interface SeasonSchedule {
  def: SeasonDef;
  /** By date, then game_id. */
  games: Game[];
  /** Regular-season wins per team index. */
  wins: number[];
}

interface Matchup {
  home: number;
  away: number;
}

interface SeriesPlan {
  round: number;
  index: number;
  length: number;
  /** Day offsets from the first playoff day, one per game. */
  offsets: number[];
}

const MAX_GAMES_PER_DATE = 15;
const REGULAR_GAMES_PER_TEAM = 82;
/** Relative slate size by weekday (Sun..Sat): national-TV Thursdays are light, Wednesdays full. */
const WEEKDAY_LOAD = [0.85, 1.1, 0.8, 1.3, 0.5, 1.2, 1.0];

function logistic(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Probability that the home team wins a regular-season or play-in game. */
function homeWinProbability(league: SeasonLeague, home: number, away: number): number {
  return logistic(0.55 * ((league.strength[home] ?? 0) - (league.strength[away] ?? 0)) + 0.25);
}

function conferenceTeams(conference: Conference): number[] {
  return TEAMS.flatMap((t, i) => (t.conference === conference ? [i] : []));
}

/**
 * 1230 games, 82 per team, 41 at home: two against each team of the other conference, four
 * against ten conference rivals and three against the other four. The three-game pairs form a
 * circulant graph on a shuffled order of the conference, oriented so each team hosts two of them
 * twice — which is what makes 41 home games come out exactly.
 */
function regularSeasonMatchups(seed: number, def: SeasonDef): Matchup[] {
  const rng = Rng.of(seed, 'matchups', def.season);
  const games: Matchup[] = [];
  for (const conference of ['East', 'West'] as const) {
    const order = rng.shuffle(conferenceTeams(conference));
    const n = order.length;
    const threeGame = new Map<string, number>();
    order.forEach((team, i) => {
      for (const step of [1, 2]) {
        const other = order[(i + step) % n] as number;
        threeGame.set(`${Math.min(team, other)}-${Math.max(team, other)}`, team);
      }
    });
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const a = order[i] as number;
        const b = order[j] as number;
        const twiceHome = threeGame.get(`${Math.min(a, b)}-${Math.max(a, b)}`);
        if (twiceHome !== undefined) {
          const other = twiceHome === a ? b : a;
          games.push({ home: twiceHome, away: other }, { home: twiceHome, away: other }, { home: other, away: twiceHome });
        } else {
          games.push({ home: a, away: b }, { home: a, away: b }, { home: b, away: a }, { home: b, away: a });
        }
      }
    }
  }
  const east = conferenceTeams('East');
  const west = conferenceTeams('West');
  for (const e of east) for (const w of west) games.push({ home: e, away: w }, { home: w, away: e });
  return games;
}

/**
 * Places every matchup on a date: each date gets 1–15 games, no team plays twice a day, and a team
 * that played yesterday is penalised (two nights in a row happen ~a dozen times a season, three
 * never unless the calendar forces it). Teams with many games left relative to the dates left are
 * scheduled first, which is what lets the last date close the season. Returns undefined when an
 * attempt paints itself into a corner; the caller retries with the next attempt's stream.
 */
function placeRegularSeason(
  matchups: readonly Matchup[],
  dates: readonly DayNumber[],
  rng: Rng,
): Array<Matchup & { day: DayNumber }> | undefined {
  const teamCount = TEAMS.length;
  const left = new Array<number>(teamCount).fill(REGULAR_GAMES_PER_TEAM);
  const last = new Array<number>(teamCount).fill(-100);
  const beforeLast = new Array<number>(teamCount).fill(-100);
  let remaining = matchups.slice();
  const placed: Array<Matchup & { day: DayNumber }> = [];

  for (let di = 0; di < dates.length; di++) {
    const day = dates[di] as DayNumber;
    const datesLeft = dates.length - di;
    const gamesLeft = remaining.length;
    let target: number;
    if (datesLeft === 1) {
      if (gamesLeft > MAX_GAMES_PER_DATE) return undefined;
      target = gamesLeft;
    } else {
      const atLeast = Math.max(1, gamesLeft - MAX_GAMES_PER_DATE * (datesLeft - 1));
      const wanted = Math.round((gamesLeft / datesLeft) * (WEEKDAY_LOAD[weekday(day)] ?? 1) * rng.uniform(0.6, 1.4));
      target = Math.min(MAX_GAMES_PER_DATE, Math.max(atLeast, wanted, 1));
    }

    const fatigue = (team: number): number => {
      if (last[team] !== day - 1) return 0;
      return beforeLast[team] === day - 2 ? 6 : 0.3;
    };
    const urgency = (team: number): number => (4 * (left[team] ?? 0)) / datesLeft;
    const scored = remaining.map((m, i) => ({
      i,
      score: urgency(m.home) + urgency(m.away) - fatigue(m.home) - fatigue(m.away) + 0.3 * rng.next(),
    }));
    scored.sort((a, b) => b.score - a.score || a.i - b.i);

    const busy = new Uint8Array(teamCount);
    const taken = new Uint8Array(remaining.length);
    let count = 0;
    const take = (i: number): void => {
      const m = remaining[i] as Matchup;
      busy[m.home] = 1;
      busy[m.away] = 1;
      taken[i] = 1;
      count++;
    };

    // Teams with as many games left as dates left must play today, whatever it costs.
    const mustPlay = left
      .map((n, team) => ({ n, team }))
      .filter((t) => t.n >= datesLeft)
      .sort((a, b) => b.n - a.n || a.team - b.team);
    for (const { n, team } of mustPlay) {
      if (n > datesLeft) return undefined;
      if (busy[team]) continue;
      const pick = scored.find((s) => {
        const m = remaining[s.i] as Matchup;
        return (m.home === team || m.away === team) && !busy[m.home] && !busy[m.away];
      });
      if (!pick) return undefined;
      take(pick.i);
    }
    for (const s of scored) {
      if (count >= target) break;
      const m = remaining[s.i] as Matchup;
      const thirdNight = fatigue(m.home) > 1 || fatigue(m.away) > 1;
      if (!taken[s.i] && !busy[m.home] && !busy[m.away] && !thirdNight) take(s.i);
    }
    if (count === 0 || count > MAX_GAMES_PER_DATE) return undefined;

    const next: Matchup[] = [];
    remaining.forEach((m, i) => {
      if (!taken[i]) {
        next.push(m);
        return;
      }
      placed.push({ ...m, day });
      for (const team of [m.home, m.away]) {
        left[team] = (left[team] ?? 0) - 1;
        beforeLast[team] = last[team] ?? -100;
        last[team] = day;
      }
    });
    remaining = next;
  }
  return remaining.length === 0 ? placed : undefined;
}

function seriesLength(rng: Rng): number {
  const r = rng.next();
  return r < 0.15 ? 4 : r < 0.4 ? 5 : r < 0.72 ? 6 : 7;
}

/** Distinct game days of a playoff plan. */
function playoffDays(plans: readonly SeriesPlan[]): number {
  return new Set(plans.flatMap((p) => p.offsets)).size;
}

/**
 * The playoff bracket's shape in days, before anyone knows who is in it. A plan whose game days
 * fall outside 39–47 is redrawn: the regular season takes what the playoffs leave, and this keeps
 * it ending in early-to-mid April as the real one does.
 */
function planPlayoffs(seed: number, def: SeasonDef): SeriesPlan[] {
  let plans: SeriesPlan[] = [];
  for (let attempt = 0; attempt < 100; attempt++) {
    plans = drawPlayoffPlan(Rng.of(seed, 'playoff-plan', def.season, attempt));
    const days = playoffDays(plans);
    if (days >= 39 && days <= 47) break;
  }
  return plans;
}

function drawPlayoffPlan(rng: Rng): SeriesPlan[] {
  const plans: SeriesPlan[] = [];
  const schedule = (round: number, index: number, start: number): SeriesPlan => {
    const length = seriesLength(rng);
    const offsets = [start];
    for (let g = 1; g < length; g++) offsets.push((offsets[g - 1] as number) + (rng.chance(0.78) ? 2 : 3));
    const plan = { round, index, length, offsets };
    plans.push(plan);
    return plan;
  };
  let previous = Array.from({ length: 8 }, (_, i) => schedule(1, i, i % 2));
  for (let round = 2; round <= 4; round++) {
    const current: SeriesPlan[] = [];
    for (let j = 0; j < previous.length / 2; j++) {
      const a = previous[2 * j] as SeriesPlan;
      const b = previous[2 * j + 1] as SeriesPlan;
      const ready = Math.max(a.offsets[a.length - 1] as number, b.offsets[b.length - 1] as number);
      const rest = round === 4 ? rng.int(3, 6) : rng.pick([1, 2, 2, 3]);
      current.push(schedule(round, j, ready + rest));
    }
    previous = current;
  }
  return plans;
}

function regularSeasonDates(def: SeasonDef, count: number): DayNumber[] {
  const dark = noGameDays(def);
  const dates: DayNumber[] = [];
  for (let day = toDay(def.start); dates.length < count; day++) if (!dark.has(day)) dates.push(day);
  return dates;
}

function gameOf(def: SeasonDef, gameId: string, day: DayNumber, type: SeasonType, home: number, away: number, homeWins: boolean): Game {
  return { gameId, day, date: toIso(day), season: def.season, seasonType: type, home, away, homeWins };
}

export function buildSeasonSchedule(seed: number, league: SeasonLeague): SeasonSchedule {
  const def = league.def;
  const plans = planPlayoffs(seed, def);
  const regularDates = regularSeasonDates(def, def.gameDates - 3 - playoffDays(plans));

  const matchups = regularSeasonMatchups(seed, def);
  let placed: Array<Matchup & { day: DayNumber }> | undefined;
  for (let attempt = 0; attempt < 200 && !placed; attempt++) {
    placed = placeRegularSeason(matchups, regularDates, Rng.of(seed, 'regular-schedule', def.season, attempt));
  }
  if (!placed) throw new Error(`demo data: could not schedule the ${def.season} regular season for seed ${seed}`);
  placed.sort((a, b) => a.day - b.day || a.home - b.home);

  const games: Game[] = [];
  const wins = new Array<number>(TEAMS.length).fill(0);
  placed.forEach((m, i) => {
    const gameId = `002${def.yy}${String(i + 1).padStart(5, '0')}`;
    const homeWins = Rng.of(seed, 'outcome', gameId).next() < homeWinProbability(league, m.home, m.away);
    const winner = homeWins ? m.home : m.away;
    wins[winner] = (wins[winner] ?? 0) + 1;
    games.push(gameOf(def, gameId, m.day, 'regular', m.home, m.away, homeWins));
  });

  // Standings: wins, then underlying strength, then abbreviation — always a strict order.
  const seeds = (conference: Conference): number[] =>
    conferenceTeams(conference).sort(
      (a, b) => (wins[b] ?? 0) - (wins[a] ?? 0) || (league.strength[b] ?? 0) - (league.strength[a] ?? 0) || a - b,
    );
  const regularEnd = regularDates[regularDates.length - 1] as DayNumber;

  // Play-in: 7v8 and 9v10 (East Tuesday, West Wednesday); Friday, the 7v8 loser hosts the 9v10 winner.
  let playInNo = 0;
  const playIn = (day: DayNumber, home: number, away: number): { winner: number; loser: number } => {
    playInNo++;
    const gameId = `005${def.yy}${String(playInNo).padStart(5, '0')}`;
    const homeWins = Rng.of(seed, 'outcome', gameId).next() < homeWinProbability(league, home, away);
    games.push(gameOf(def, gameId, day, 'play_in', home, away, homeWins));
    return homeWins ? { winner: home, loser: away } : { winner: away, loser: home };
  };
  const bracket: Record<Conference, number[]> = { East: seeds('East'), West: seeds('West') };
  const firstRound: Record<Conference, { s78: ReturnType<typeof playIn>; s910: ReturnType<typeof playIn> }> = {
    East: { s78: { winner: 0, loser: 0 }, s910: { winner: 0, loser: 0 } },
    West: { s78: { winner: 0, loser: 0 }, s910: { winner: 0, loser: 0 } },
  };
  (['East', 'West'] as const).forEach((conference, c) => {
    const s = bracket[conference];
    const day = regularEnd + 2 + c;
    firstRound[conference] = {
      s78: playIn(day, s[6] as number, s[7] as number),
      s910: playIn(day, s[8] as number, s[9] as number),
    };
  });
  const playoffSeeds: Record<Conference, number[]> = { East: [], West: [] };
  for (const conference of ['East', 'West'] as const) {
    const { s78, s910 } = firstRound[conference];
    const last = playIn(regularEnd + 5, s78.loser, s910.winner);
    playoffSeeds[conference] = [...bracket[conference].slice(0, 6), s78.winner, last.winner];
  }

  // Playoffs: 1v8, 4v5, 3v6, 2v7 per conference, winners meet in bracket order, 2-2-1-1-1 home court.
  const playoffStart = regularEnd + 6;
  const seedOf = new Map<number, number>();
  for (const conference of ['East', 'West'] as const) playoffSeeds[conference].forEach((t, i) => seedOf.set(t, i + 1));
  const pairings = [
    [1, 8],
    [4, 5],
    [3, 6],
    [2, 7],
  ] as const;
  let entrants: Array<[number, number]> = (['East', 'West'] as const).flatMap((conference) =>
    pairings.map(([a, b]) => [playoffSeeds[conference][a - 1] as number, playoffSeeds[conference][b - 1] as number] as [number, number]),
  );
  for (let round = 1; round <= 4; round++) {
    const winners: number[] = [];
    const roundPlans = plans.filter((p) => p.round === round);
    roundPlans.forEach((plan, index) => {
      const [a, b] = entrants[index] as [number, number];
      // Home court: better seed inside a conference; the better record in the Finals.
      const aHasHomeCourt =
        round < 4
          ? (seedOf.get(a) ?? 0) < (seedOf.get(b) ?? 0)
          : ((wins[a] ?? 0) - (wins[b] ?? 0) || (league.strength[a] ?? 0) - (league.strength[b] ?? 0) || b - a) > 0;
      const high = aHasHomeCourt ? a : b;
      const low = high === a ? b : a;
      const rng = Rng.of(seed, 'series', def.season, round, index);
      const highWins = rng.next() < logistic(1.1 * ((league.strength[high] ?? 0) - (league.strength[low] ?? 0)) + 0.35);
      const winner = highWins ? high : low;
      // The winner takes the last game and exactly three of the others.
      const earlier = rng.shuffle(Array.from({ length: plan.length - 1 }, (_, g) => g)).slice(0, 3);
      for (let g = 0; g < plan.length; g++) {
        const highHome = g === 0 || g === 1 || g === 4 || g === 6;
        const home = highHome ? high : low;
        const away = highHome ? low : high;
        const gameWinner = g === plan.length - 1 || earlier.includes(g) ? winner : winner === high ? low : high;
        const gameId = `004${def.yy}00${round}${index}${g + 1}`;
        games.push(gameOf(def, gameId, playoffStart + (plan.offsets[g] as number), 'playoffs', home, away, gameWinner === home));
      }
      winners.push(winner);
    });
    entrants = [];
    for (let j = 0; j < winners.length / 2; j++) entrants.push([winners[2 * j] as number, winners[2 * j + 1] as number]);
  }

  games.sort((a, b) => a.day - b.day || (a.gameId < b.gameId ? -1 : a.gameId > b.gameId ? 1 : 0));
  return { def, games, wins };
}

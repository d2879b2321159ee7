/**
 * Teams, players and season rosters. A player's season ratings are drawn from (seed, season,
 * player) alone, so they hold for every game of that season: rolling averages downstream have a
 * real signal to find, and a star stays a star from October to June.
 *
 * Rosters evolve season to season (most players stay, some leave, free agents and rookies fill the
 * gaps), which keeps player_lookup continuity across seasons the way the real feeds have it.
 */
import { SEASONS, type DayNumber, type SeasonDef, toDay } from './calendar';
import { Rng, clamp } from './random';

export type Conference = 'East' | 'West';
export type Position = 'G' | 'F' | 'C';

export interface TeamDef {
  abbr: string;
  name: string;
  conference: Conference;
}

/** Alphabetical by abbreviation; a team's index in this list is its id inside the generator. */
export const TEAMS: readonly TeamDef[] = [
  { abbr: 'ATL', name: 'Atlanta Hawks', conference: 'East' },
  { abbr: 'BKN', name: 'Brooklyn Nets', conference: 'East' },
  { abbr: 'BOS', name: 'Boston Celtics', conference: 'East' },
  { abbr: 'CHA', name: 'Charlotte Hornets', conference: 'East' },
  { abbr: 'CHI', name: 'Chicago Bulls', conference: 'East' },
  { abbr: 'CLE', name: 'Cleveland Cavaliers', conference: 'East' },
  { abbr: 'DAL', name: 'Dallas Mavericks', conference: 'West' },
  { abbr: 'DEN', name: 'Denver Nuggets', conference: 'West' },
  { abbr: 'DET', name: 'Detroit Pistons', conference: 'East' },
  { abbr: 'GSW', name: 'Golden State Warriors', conference: 'West' },
  { abbr: 'HOU', name: 'Houston Rockets', conference: 'West' },
  { abbr: 'IND', name: 'Indiana Pacers', conference: 'East' },
  { abbr: 'LAC', name: 'LA Clippers', conference: 'West' },
  { abbr: 'LAL', name: 'Los Angeles Lakers', conference: 'West' },
  { abbr: 'MEM', name: 'Memphis Grizzlies', conference: 'West' },
  { abbr: 'MIA', name: 'Miami Heat', conference: 'East' },
  { abbr: 'MIL', name: 'Milwaukee Bucks', conference: 'East' },
  { abbr: 'MIN', name: 'Minnesota Timberwolves', conference: 'West' },
  { abbr: 'NOP', name: 'New Orleans Pelicans', conference: 'West' },
  { abbr: 'NYK', name: 'New York Knicks', conference: 'East' },
  { abbr: 'OKC', name: 'Oklahoma City Thunder', conference: 'West' },
  { abbr: 'ORL', name: 'Orlando Magic', conference: 'East' },
  { abbr: 'PHI', name: 'Philadelphia 76ers', conference: 'East' },
  { abbr: 'PHX', name: 'Phoenix Suns', conference: 'West' },
  { abbr: 'POR', name: 'Portland Trail Blazers', conference: 'West' },
  { abbr: 'SAC', name: 'Sacramento Kings', conference: 'West' },
  { abbr: 'SAS', name: 'San Antonio Spurs', conference: 'West' },
  { abbr: 'TOR', name: 'Toronto Raptors', conference: 'East' },
  { abbr: 'UTA', name: 'Utah Jazz', conference: 'West' },
  { abbr: 'WAS', name: 'Washington Wizards', conference: 'East' },
];

// Synthetic names: plausible, but combined at random so they are nobody in particular.
const FIRST_NAMES = [
  'Aaron', 'Adrian', 'Alec', 'Andre', 'Armand', 'Austin', 'Bennett', 'Blake', 'Brandon', 'Bryce',
  'Caleb', 'Cam', 'Carter', 'Cedric', 'Cole', 'Colin', 'Corey', 'Damon', 'Dante', 'Darius',
  'Dean', 'Desmond', 'Devin', 'Dominic', 'Drew', 'Elias', 'Emeka', 'Eric', 'Evan', 'Felix',
  'Gabe', 'Garrett', 'Grant', 'Hakeem', 'Isaac', 'Isaiah', 'Jalen', 'Jamal', 'Jaren', 'Jarrett',
  'Javon', 'Jordan', 'Julian', 'Kai', 'Keegan', 'Keon', 'Kobe', 'Lamar', 'Landry', 'Luca',
  'Malik', 'Marcus', 'Mason', 'Micah', 'Miles', 'Moses', 'Nate', 'Nico', 'Noah', 'Omar',
  'Oscar', 'Quentin', 'Rafael', 'Reggie', 'Rico', 'Ryan', 'Sam', 'Terrence', 'Theo', 'Tobias',
  'Trey', 'Tyrese', 'Victor', 'Wade', 'Xavier', 'Zach',
];
const LAST_NAMES = [
  'Abernathy', 'Adebayo-Cole', 'Alvarado', 'Ashby', 'Bamford', 'Barlow', 'Beaumont', 'Blackwood',
  'Bogdan', 'Brandt', 'Caldwell', 'Castellan', 'Chandler', 'Colquitt', 'Crowder', 'Dalton',
  'Delacroix', 'Drayton', 'Dunleavy', 'Eastman', 'Ellery', 'Fairbanks', 'Faulk', 'Fenwick',
  'Garrison', 'Goodwin', 'Gorski', 'Hadley', 'Halvorsen', 'Harlan', 'Hollins', 'Ibarra', 'Jankovic',
  'Jessup', 'Kasprzak', 'Keller', 'Kingsley', 'Lattimore', 'Lindqvist', 'Lockhart', 'Maddox',
  'Marchetti', 'Mbeki', 'McAllister', 'Merriweather', 'Monroe', 'Nakamura', 'Nwosu', 'Okafor',
  'Oyelaran', 'Pemberton', 'Petrakis', 'Pruitt', 'Quarles', 'Radcliffe', 'Ramsey', 'Rutherford',
  'Salcedo', 'Sandoval', 'Sefolosha', 'Shelton', 'Sokolov', 'Stroud', 'Tatum-Reyes', 'Thibodeaux',
  'Toomer', 'Upshaw', 'Valentin', 'Vasquez', 'Wainwright', 'Whitlock', 'Winslow', 'Yarbrough',
  'Zeller', 'Zubac-Hart',
];

export interface Player {
  id: number;
  lookup: string;
  name: string;
  position: Position;
  /** Career talent on a standard-normal scale; 2 is an All-Star. */
  talent: number;
  /** Shot-profile noise that belongs to the player, not the season (a shooter stays a shooter). */
  style: { three: number; paint: number; ftRate: number; ast: number };
}

/** One player's ratings for one season, with the team he is rostered on. */
export interface SeasonPlayer {
  player: Player;
  team: number;
  /** 0 = best on the roster; drives minutes and starter status. */
  rank: number;
  rating: number;
  usage: number;
  threeShare: number;
  /** Share of two-point attempts taken in the paint (the rest are mid-range). */
  paintShare: number;
  paintPct: number;
  midPct: number;
  threePct: number;
  ftPct: number;
  ftRate: number;
  orebRate: number;
  drebRate: number;
  astRate: number;
  stlRate: number;
  blkRate: number;
  tovRate: number;
  foulRate: number;
  /** Inclusive day ranges the player is out injured. */
  injuries: Array<[DayNumber, DayNumber]>;
}

export interface SeasonLeague {
  def: SeasonDef;
  /** By team index, each sorted by rank. */
  rosters: SeasonPlayer[][];
  /** Standardised team strength (mean 0, sd ~1): decides who wins. */
  strength: number[];
  /** Multiplier on the team's own shooting percentages. */
  offense: number[];
  /** Multiplier on the opponent's shooting percentages (below 1 is a good defence). */
  defense: number[];
  /** Possessions multiplier. */
  pace: number[];
}

export interface League {
  seasons: SeasonLeague[];
}

const POSITION_PROFILE: Record<
  Position,
  { three: number; paint: number; oreb: number; dreb: number; ast: number; stl: number; blk: number; tov: number; foul: number }
> = {
  G: { three: 0.47, paint: 0.55, oreb: 0.4, dreb: 0.65, ast: 1.9, stl: 1.2, blk: 0.35, tov: 1.2, foul: 0.85 },
  F: { three: 0.42, paint: 0.66, oreb: 0.9, dreb: 1.0, ast: 0.9, stl: 1.0, blk: 0.9, tov: 0.95, foul: 1.0 },
  C: { three: 0.14, paint: 0.86, oreb: 2.0, dreb: 1.7, ast: 0.6, stl: 0.75, blk: 2.6, tov: 0.9, foul: 1.35 },
};

/** How much each roster rank contributes to team strength (roughly its share of minutes). */
const STRENGTH_WEIGHTS = [0.2, 0.17, 0.15, 0.13, 0.11, 0.08, 0.07, 0.05, 0.04];

function positionTargets(size: number): Record<Position, number> {
  const guards = Math.ceil((size - 3) / 2);
  return { C: 3, G: guards, F: size - 3 - guards };
}

function neededPosition(roster: readonly Player[], size: number): Position {
  const targets = positionTargets(size);
  const have: Record<Position, number> = { G: 0, F: 0, C: 0 };
  for (const p of roster) have[p.position]++;
  let best: Position = 'G';
  let bestGap = -Infinity;
  for (const pos of ['G', 'F', 'C'] as const) {
    const gap = targets[pos] - have[pos];
    if (gap > bestGap) {
      best = pos;
      bestGap = gap;
    }
  }
  return best;
}

class PlayerFactory {
  readonly players: Player[] = [];
  private readonly lookups = new Set<string>();

  constructor(private readonly seed: number) {}

  create(position: Position, rookie: boolean): Player {
    const id = this.players.length;
    const rng = Rng.of(this.seed, 'player', id);
    // Redraw on a clash: player_lookup is the join key downstream and must be unique.
    const draw = (attempt: number): { name: string; lookup: string } => {
      const base = `${rng.pick(FIRST_NAMES)} ${rng.pick(LAST_NAMES)}`;
      const name = attempt > 20 ? `${base} ${['Jr.', 'II', 'III', 'IV'][attempt % 4] ?? 'Jr.'}` : base;
      return { name, lookup: name.toLowerCase().replace(/[^a-z0-9]/g, '') };
    };
    let attempt = 0;
    let { name, lookup } = draw(attempt);
    while (this.lookups.has(lookup)) ({ name, lookup } = draw(++attempt));
    this.lookups.add(lookup);
    const talent = rng.normal() - (rookie ? 0.25 : 0);
    const player: Player = {
      id,
      lookup,
      name,
      position,
      talent,
      style: { three: rng.normal(), paint: rng.normal(), ftRate: rng.normal(), ast: rng.normal() },
    };
    this.players.push(player);
    return player;
  }
}

function rosterSize(seed: number, season: string, team: number): number {
  const r = Rng.of(seed, 'roster-size', season, team).next();
  // Mean ~15.8: standard contracts plus two-way and in-season signings.
  return r < 0.4 ? 15 : r < 0.78 ? 16 : 17;
}

/** Season-by-season roster moves; each season's rosters follow from the previous season's. */
function simulateRosters(seed: number): Player[][][] {
  const factory = new PlayerFactory(seed);
  const bySeason: Player[][][] = [];
  let previous: Player[][] | undefined;
  for (const def of SEASONS) {
    const rng = Rng.of(seed, 'roster-moves', def.season);
    const rosters: Player[][] = TEAMS.map(() => []);
    let pool: Player[] = [];
    if (previous) {
      previous.forEach((roster, team) => {
        for (const p of roster) {
          const stays = rng.chance(p.talent > 1 ? 0.8 : 0.68);
          if (stays) (rosters[team] as Player[]).push(p);
          else if (rng.chance(0.75)) pool.push(p);
        }
      });
    }
    const order = rng.shuffle(TEAMS.map((_, i) => i));
    for (const team of order) {
      const roster = rosters[team] as Player[];
      const size = rosterSize(seed, def.season, team);
      if (roster.length > size) {
        roster.sort((a, b) => b.talent - a.talent || a.id - b.id);
        pool.push(...roster.splice(size));
      }
      while (roster.length < size) {
        const position = neededPosition(roster, size);
        const candidates = previous ? pool.filter((p) => p.position === position) : [];
        if (candidates.length > 0 && rng.chance(0.5)) {
          const signed = rng.pick(candidates);
          pool = pool.filter((p) => p !== signed);
          roster.push(signed);
        } else {
          roster.push(factory.create(position, previous !== undefined));
        }
      }
    }
    bySeason.push(rosters);
    previous = rosters;
  }
  return bySeason;
}

function seasonRatings(seed: number, def: SeasonDef, player: Player, team: number): SeasonPlayer {
  const rng = Rng.of(seed, 'season-player', def.season, player.id);
  const profile = POSITION_PROFILE[player.position];
  const rating = player.talent + 0.3 * rng.normal();
  const center = player.position === 'C';
  const injuries: Array<[DayNumber, DayNumber]> = [];
  const r = rng.next();
  const spells = r < 0.5 ? 0 : r < 0.82 ? 1 : 2;
  const start = toDay(def.start);
  for (let i = 0; i < spells; i++) {
    const first = start + rng.int(0, 235);
    const length = 1 + Math.min(30, Math.floor(-6 * Math.log(1 - rng.next())));
    injuries.push([first, first + length - 1]);
  }
  return {
    player,
    team,
    rank: 0,
    rating,
    usage: Math.exp(0.3 * clamp(rating, -2.5, 3)),
    threeShare: clamp(profile.three + 0.08 * player.style.three + 0.02 * rng.normal(), 0.02, 0.65),
    paintShare: clamp(profile.paint + 0.08 * player.style.paint, 0.3, 0.95),
    paintPct: clamp(0.565 + (center ? 0.04 : 0) + 0.025 * rating + 0.03 * rng.normal(), 0.45, 0.74),
    midPct: clamp(0.41 + 0.015 * rating + 0.04 * rng.normal(), 0.3, 0.52),
    threePct: clamp(0.355 - (center ? 0.03 : 0) + 0.01 * rating + 0.03 * rng.normal(), 0.25, 0.45),
    ftPct: clamp(0.78 - (center ? 0.08 : 0) + 0.02 * rating + 0.07 * rng.normal(), 0.5, 0.94),
    ftRate: clamp((center ? 1.1 : 1) * (1 + 0.25 * player.style.ftRate + 0.1 * rating), 0.4, 2),
    orebRate: profile.oreb * clamp(1 + 0.15 * rng.normal(), 0.5, 1.5),
    drebRate: profile.dreb * clamp(1 + 0.15 * rng.normal(), 0.5, 1.5),
    astRate: profile.ast * Math.exp(0.2 * rating + 0.25 * player.style.ast),
    stlRate: profile.stl * clamp(1 + 0.2 * rng.normal(), 0.4, 1.6),
    blkRate: profile.blk * clamp(1 + 0.25 * rng.normal(), 0.3, 1.8),
    tovRate: profile.tov,
    foulRate: profile.foul,
    injuries,
  };
}

function standardise(values: readonly number[]): number[] {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length) || 1;
  return values.map((v) => (v - mean) / sd);
}

/** Every season's rosters and ratings. Cheap (a few thousand players), so always built whole. */
export function buildLeague(seed: number): League {
  const rosterPlayers = simulateRosters(seed);
  const seasons = SEASONS.map((def, s): SeasonLeague => {
    const byTeam = rosterPlayers[s] as Player[][];
    const rosters = byTeam.map((players, team) => {
      const rated = players.map((p) => seasonRatings(seed, def, p, team));
      rated.sort((a, b) => b.rating - a.rating || a.player.id - b.player.id);
      rated.forEach((p, rank) => (p.rank = rank));
      return rated;
    });
    const rng = Rng.of(seed, 'team-season', def.season);
    const raw = rosters.map((roster) =>
      STRENGTH_WEIGHTS.reduce((sum, w, i) => sum + w * (roster[i]?.rating ?? -1), 0) + 0.12 * rng.normal(),
    );
    const strength = standardise(raw);
    const offense = strength.map((z) => 1 + 0.01 * (0.7 * z + 0.7 * rng.normal()));
    const defense = strength.map((z) => 1 - 0.01 * (0.6 * z + 0.8 * rng.normal()));
    const pace = strength.map(() => 1 + 0.02 * rng.normal());
    return { def, rosters, strength, offense, defense, pace };
  });
  return { seasons };
}

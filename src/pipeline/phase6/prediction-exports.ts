/**
 * Phase 6: one JSON file per game date, `predictions/<date>.json` in the export sink (a local
 * folder or a GCS prefix) — the date's predictions joined with their results, grouped by game,
 * with a hit-rate summary.
 *
 * The write is idempotent and atomic: the document is built in a fixed key order with games,
 * players and predictions sorted, and the sink writes each object atomically (see ExportSink). A
 * reader never sees half a file, and re-exporting a date replaces its one object with an
 * identical one (the document holds no timestamps; `generated_by` is the backfill id). The phase
 * gate asks the same sink which dates exist, so every worker host gives the same answer.
 */
import { z } from 'zod';
import type { ExportSink } from '../../exports/types';
import { type QueryOptions, type Row, sqlDate, type Warehouse, WarehouseError } from '../../warehouse/types';
import { isIsoDate } from '../dates';
import { predictionAccuracy, playerPropPredictions } from '../phase5';
import { rawSchedule } from '../raw';
import type { ExportProcessorDef } from '../types';

export const EXPORT_SCHEMA_VERSION = 1;
export const PREDICTIONS_EXPORT_FOLDER = 'predictions';

const predictionSchema = z.strictObject({
  system_id: z.string().min(1),
  predicted_points: z.number(),
  recommendation: z.enum(['OVER', 'UNDER', 'PASS']),
  confidence: z.number().min(0).max(1),
  /** NULL for a PASS, a push, or a player without a graded result. */
  hit: z.boolean().nullable(),
});

const playerSchema = z.strictObject({
  player_lookup: z.string().min(1),
  player_name: z.string(),
  points_line: z.number(),
  /** NULL when the player has no graded result (did not play). */
  actual_points: z.number().int().nullable(),
  predictions: z.array(predictionSchema).min(1),
});

const gameSchema = z.strictObject({
  game_id: z.string().min(1),
  home_team_abbr: z.string().min(1),
  away_team_abbr: z.string().min(1),
  players: z.array(playerSchema).min(1),
});

export const dateExportSchema = z
  .strictObject({
    schema_version: z.literal(EXPORT_SCHEMA_VERSION),
    game_date: z.iso.date(),
    generated_by: z.string().min(1),
    games: z.array(gameSchema),
    summary: z.strictObject({
      predictions: z.number().int().nonnegative(),
      hits: z.number().int().nonnegative(),
      misses: z.number().int().nonnegative(),
      /** hits / (hits + misses); NULL when nothing was graded. */
      hit_rate: z.number().min(0).max(1).nullable(),
    }),
  })
  .superRefine((doc, ctx) => {
    const all = doc.games.flatMap((g) => g.players.flatMap((p) => p.predictions));
    const hits = all.filter((p) => p.hit === true).length;
    const misses = all.filter((p) => p.hit === false).length;
    if (doc.summary.predictions !== all.length || doc.summary.hits !== hits || doc.summary.misses !== misses) {
      ctx.addIssue({
        code: 'custom',
        path: ['summary'],
        message: `summary (${doc.summary.predictions} predictions, ${doc.summary.hits} hits, ${doc.summary.misses} misses) disagrees with the games (${all.length}, ${hits}, ${misses})`,
      });
    }
  });

export type DateExport = z.infer<typeof dateExportSchema>;

export const predictionExports: ExportProcessorDef = {
  kind: 'export',
  name: 'prediction_exports',
  phase: 6,
  group: 1,
  bootstrap: true,
  description: `One JSON file per game date (${PREDICTIONS_EXPORT_FOLDER}/<date>.json): predictions with their results, grouped by game, and the day's hit rate`,
  inputs: [playerPropPredictions.target, predictionAccuracy.target],
};

/** A date's object name inside the export sink. */
export function exportObjectName(date: string): string {
  return `${PREDICTIONS_EXPORT_FOLDER}/${date}.json`;
}

/** Rounded for readers (the tables keep full precision); deterministic for the same input. */
function round(x: number, places: number): number {
  const f = 10 ** places;
  return Math.round(x * f) / f;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Builds the date's document from joined rows (one per prediction). Pure: tests call it directly. */
export function buildDateExport(date: string, backfillId: string, rows: readonly Row[]): DateExport {
  const sorted = [...rows].sort(
    (a, b) =>
      compare(String(a.game_id), String(b.game_id)) ||
      compare(String(a.player_lookup), String(b.player_lookup)) ||
      compare(String(a.system_id), String(b.system_id)),
  );
  const games: DateExport['games'] = [];
  let hits = 0;
  let misses = 0;
  for (const r of sorted) {
    let game = games[games.length - 1];
    if (!game || game.game_id !== r.game_id) {
      game = {
        game_id: String(r.game_id),
        home_team_abbr: String(r.home_team_abbr),
        away_team_abbr: String(r.away_team_abbr),
        players: [],
      };
      games.push(game);
    }
    let player = game.players[game.players.length - 1];
    if (!player || player.player_lookup !== r.player_lookup) {
      player = {
        player_lookup: String(r.player_lookup),
        player_name: String(r.player_name ?? r.player_lookup),
        points_line: Number(r.points_line),
        actual_points: r.actual_points === null || r.actual_points === undefined ? null : Number(r.actual_points),
        predictions: [],
      };
      game.players.push(player);
    }
    const hit = typeof r.hit === 'boolean' ? r.hit : null;
    if (hit === true) hits += 1;
    if (hit === false) misses += 1;
    player.predictions.push({
      system_id: String(r.system_id),
      predicted_points: round(Number(r.predicted_points), 2),
      recommendation: String(r.recommendation) as 'OVER' | 'UNDER' | 'PASS',
      confidence: round(Number(r.confidence), 3),
      hit,
    });
  }
  return {
    schema_version: EXPORT_SCHEMA_VERSION,
    game_date: date,
    generated_by: backfillId,
    games,
    summary: {
      predictions: sorted.length,
      hits,
      misses,
      hit_rate: hits + misses === 0 ? null : round(hits / (hits + misses), 4),
    },
  };
}

/**
 * Exports one date. Throws WarehouseError('missing_input') when Phase 5 has no predictions for the
 * date, or predictions but no graded results (prediction_accuracy has not run for it).
 */
export async function exportDate(
  warehouse: Warehouse,
  date: string,
  sink: ExportSink,
  ctx: { backfillId: string },
  opts?: QueryOptions,
): Promise<{ location: string; predictions: number }> {
  if (!isIsoDate(date)) throw new Error(`not a date: ${JSON.stringify(date)}`);
  const d = warehouse.dialect;
  for (const ref of predictionExports.inputs) {
    if (!(await warehouse.tableExists(ref))) {
      throw new WarehouseError(`missing input for prediction_exports on ${date}: ${ref.dataset}.${ref.table} does not exist`, 'missing_input');
    }
  }
  const [counts] = await warehouse.query(
    `SELECT
       (SELECT count(*) FROM ${d.table(playerPropPredictions.target)} WHERE game_date = ${d.dateParam('date')}) AS predictions,
       (SELECT count(*) FROM ${d.table(predictionAccuracy.target)} WHERE game_date = ${d.dateParam('date')}) AS graded`,
    { date: sqlDate(date) },
    opts,
  );
  const predictions = Number(counts?.predictions ?? 0);
  const graded = Number(counts?.graded ?? 0);
  if (predictions === 0 || graded === 0) {
    const which = predictions === 0 ? 'nba_predictions.player_prop_predictions' : 'nba_predictions.prediction_accuracy';
    throw new WarehouseError(`missing input for prediction_exports on ${date}: ${which} has no rows for it`, 'missing_input');
  }
  const rows = await warehouse.query(
    `SELECT p.game_id, s.home_team_abbr, s.away_team_abbr, p.player_lookup, p.player_name, p.points_line,
            a.actual_points, p.system_id, p.predicted_points, p.recommendation, p.confidence, a.hit
     FROM ${d.table(playerPropPredictions.target)} AS p
     LEFT JOIN ${d.table(predictionAccuracy.target)} AS a
       ON a.game_date = p.game_date AND a.player_lookup = p.player_lookup AND a.system_id = p.system_id
     LEFT JOIN ${d.table(rawSchedule)} AS s ON s.game_id = p.game_id AND s.game_date = p.game_date
     WHERE p.game_date = ${d.dateParam('date')}
     ORDER BY p.game_id, p.player_lookup, p.system_id`,
    { date: sqlDate(date) },
    opts,
  );
  const unscheduled = rows.find((r) => r.home_team_abbr === null || r.away_team_abbr === null);
  if (unscheduled) {
    throw new WarehouseError(
      `missing input for prediction_exports on ${date}: game ${String(unscheduled.game_id)} is not in nba_raw.schedule`,
      'missing_input',
    );
  }
  // Validating before writing: a file that exists is always a valid export.
  const doc = dateExportSchema.parse(buildDateExport(date, ctx.backfillId, rows));
  const name = exportObjectName(date);
  await sink.write(name, `${JSON.stringify(doc, null, 2)}\n`, { contentType: 'application/json; charset=utf-8' });
  return { location: sink.locationOf(name), predictions: doc.summary.predictions };
}

/** The dates among `dates` whose export exists in the sink (the phase gate's "present" set). */
export async function listExportedDates(sink: ExportSink, dates: readonly string[]): Promise<Set<string>> {
  const present = await sink.listPresent(PREDICTIONS_EXPORT_FOLDER, dates.map((date) => `${date}.json`));
  return new Set(dates.filter((date) => present.has(`${date}.json`)));
}

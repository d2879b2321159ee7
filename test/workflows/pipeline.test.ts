/**
 * The whole pipeline on the small preset (the 2024-25 season's 14 bootstrap days plus about a
 * month): Phases 3 → 4 → 5 → 6, each gate passing, and the expected counts matching what was written.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startBackfill } from '../../src/client/backfill-client';
import { DEMO_PRESETS } from '../../src/pipeline/demo';
import { dateExportSchema } from '../../src/pipeline/phase6';
import { ALL_PROCESSORS } from '../../src/pipeline/registry';
import type { BackfillRequest } from '../../src/shared/types';
import type { DuckDbWarehouse } from '../../src/warehouse';
import { seededWarehouse, startWorker, tempDir, testEnv } from '../helpers/harness';

describe('the whole pipeline, Phases 3–6', () => {
  let env: TestWorkflowEnvironment;
  let warehouse: DuckDbWarehouse;
  const exportDir = tempDir('exports');

  beforeAll(async () => {
    env = await testEnv();
    warehouse = await seededWarehouse('small');
  });
  afterAll(async () => {
    await warehouse?.close();
    await env?.teardown();
  });

  test('completes with every gate passing; expected counts match the rows written; a re-run changes no row count', async () => {
    const worker = await startWorker(env, warehouse, { config: { exportDir } });
    try {
      const { from, to } = DEMO_PRESETS.small;
      const request: BackfillRequest = { from, to, phases: [3, 4, 5, 6], concurrency: 4, gatePolicy: 'wait' };
      const { handle } = await startBackfill(env.client, worker.config.taskQueue, request);
      const result = (await handle.result());
      expect(result.status).toBe('completed');
      expect(result.gates.map((g) => [g.phase, g.ok])).toEqual([
        [3, true],
        [4, true],
        [5, true],
        [6, true],
      ]);

      const [games] = await warehouse.query(
        `SELECT count(DISTINCT game_date) AS n FROM nba_raw.schedule WHERE game_date BETWEEN DATE '${from}' AND DATE '${to}'`,
      );
      const gameDates = Number(games?.n);
      const tables = result.gates.flatMap((g) => g.tables);
      expect(tables.map((t) => t.processor).sort()).toEqual(ALL_PROCESSORS.map((p) => p.name).sort());
      for (const t of tables) {
        const def = ALL_PROCESSORS.find((p) => p.name === t.processor);
        // Every expected date has rows, nothing more: expected counts account for skips.
        expect({ processor: t.processor, actual: t.actualDates }).toEqual({ processor: t.processor, actual: t.expectedDates });
        expect(t.expectedDates + t.skippedDates).toBe(gameDates);
        if (def?.phase === 3) expect(t.skippedDates).toBe(0);
        else expect(t.skipReasons['bootstrap: first 14 days of season 2024-25']).toBe(14);
        expect(t.duplicateKeys).toBe(0);
        if (def?.kind === 'table') {
          const [row] = await warehouse.query(
            `SELECT count(DISTINCT ${def.dateColumn}) AS n FROM ${def.target.dataset}.${def.target.table} WHERE ${def.dateColumn} BETWEEN DATE '${from}' AND DATE '${to}'`,
          );
          expect(Number(row?.n)).toBe(t.expectedDates);
        }
      }
      // TDZA declares stricter needs than the bootstrap, and says why for each date it skips.
      const tdza = tables.find((t) => t.processor === 'team_defense_zone_analysis');
      const otherReasons = Object.keys(tdza?.skipReasons ?? {}).filter((r) => !r.startsWith('bootstrap'));
      expect(otherReasons.length).toBeGreaterThan(0);
      expect(otherReasons.every((r) => r.startsWith('TDZA: fewer than 10 prior games'))).toBe(true);

      // One export per expected date, each valid against its schema.
      const exportsGate = tables.find((t) => t.processor === 'prediction_exports');
      const files = fs.readdirSync(path.join(exportDir, 'predictions')).filter((f) => f.endsWith('.json'));
      expect(files).toHaveLength(exportsGate?.expectedDates ?? -1);
      for (const f of files.slice(0, 5)) {
        dateExportSchema.parse(JSON.parse(fs.readFileSync(path.join(exportDir, 'predictions', f), 'utf8')));
      }

      // Re-running the completed backfill changes no row count.
      const counts = async (): Promise<Record<string, number>> => {
        const out: Record<string, number> = {};
        for (const def of ALL_PROCESSORS) {
          if (def.kind !== 'table') continue;
          const [row] = await warehouse.query(`SELECT count(*) AS n FROM ${def.target.dataset}.${def.target.table}`);
          out[def.name] = Number(row?.n);
        }
        return out;
      };
      const before = await counts();
      const rerun = await startBackfill(env.client, worker.config.taskQueue, request);
      expect(((await rerun.handle.result())).status).toBe('completed');
      expect(await counts()).toEqual(before);
      expect(fs.readdirSync(path.join(exportDir, 'predictions')).filter((f) => f.endsWith('.json'))).toHaveLength(files.length);
    } finally {
      await worker.stop();
    }
  });
});

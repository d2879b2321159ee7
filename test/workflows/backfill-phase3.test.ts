/**
 * The backfill workflow over Phase 3 on a seeded warehouse: children per processor, gate, result.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { getBackfillStatus, startBackfill } from '../../src/client/backfill-client';
import { backfillProgressQuery, processorProgressQuery } from '../../src/shared/messages';
import { phase3Processors } from '../../src/pipeline/phase3';
import { BACKFILL_PROCESSOR, BACKFILL_PROGRESS, BACKFILL_STATUS } from '../../src/shared/search-attributes';
import type { BackfillRequest } from '../../src/shared/types';
import type { DuckDbWarehouse } from '../../src/warehouse';
import type { RunDateInput } from '../../src/shared/types';
import { eventually, seededWarehouse, startWorker, testEnv } from '../helpers/harness';

describe('backfillWorkflow, Phase 3', () => {
  let env: TestWorkflowEnvironment;
  let warehouse: DuckDbWarehouse;

  beforeAll(async () => {
    env = await testEnv();
    warehouse = await seededWarehouse('tiny');
  });
  afterAll(async () => {
    await warehouse?.close();
    await env?.teardown();
  });

  test('runs every Phase 3 processor over every game date, passes its gate, and a re-run changes no row count', async () => {
    const worker = await startWorker(env, warehouse);
    try {
      const request: BackfillRequest = { from: '2024-10-22', to: '2024-11-12', phases: [3], concurrency: 3, gatePolicy: 'wait' };
      const first = await startBackfill(env.client, worker.config.taskQueue, request);
      // Starting the same request again attaches instead of starting a twin.
      const twin = await startBackfill(env.client, worker.config.taskQueue, request);
      expect(twin.attached).toBe(true);
      expect(twin.backfillId).toBe(first.backfillId);
      const result = (await first.handle.result());
      expect(result.status).toBe('completed');
      const [games] = await warehouse.query(
        "SELECT count(DISTINCT game_date) AS n FROM nba_raw.schedule WHERE game_date BETWEEN DATE '2024-10-22' AND DATE '2024-11-12'",
      );
      const gameDates = Number(games?.n);
      expect(result.processors).toHaveLength(5);
      for (const p of result.processors) {
        expect(p.done).toBe(gameDates);
        expect(p.failed).toEqual({});
      }
      expect(result.gates).toHaveLength(1);
      expect(result.gates[0]?.ok).toBe(true);

      const counts = async (): Promise<number[]> =>
        Promise.all(
          phase3Processors.map(async (def) => {
            const [row] = await warehouse.query(`SELECT count(*) AS n FROM ${def.target.dataset}.${def.target.table}`);
            return Number(row?.n);
          }),
        );
      const before = await counts();
      expect(before.every((n) => n > 0)).toBe(true);

      const status = await getBackfillStatus(env.client, first.backfillId);
      expect(status.status).toBe('COMPLETED');

      // What the Web UI shows: search attributes to filter by, a summary on every workflow.
      const parent = await first.handle.describe();
      expect(parent.typedSearchAttributes.get(BACKFILL_STATUS)).toBe('completed');
      expect(parent.typedSearchAttributes.get(BACKFILL_PROGRESS)).toBe(100);
      expect(await parent.staticSummary()).toBe('Backfill 2024-10-22 → 2024-11-12, phases 3');
      const child = await env.client.workflow.getHandle(`${first.backfillId}/player_game_summary`).describe();
      expect(await child.staticSummary()).toMatch(/^player_game_summary \(phase 3\) for backfill-2024-10-22-2024-11-12-p3: \d+ dates, 0 skipped$/);
      expect(child.typedSearchAttributes.get(BACKFILL_PROCESSOR)).toBe('player_game_summary');
      expect(child.typedSearchAttributes.get(BACKFILL_STATUS)).toBe('completed');
      // Visibility is eventually consistent: wait for all six to be listed.
      const expectedIds = [first.backfillId, ...phase3Processors.map((p) => `${first.backfillId}/${p.name}`)].sort();
      const byId = await eventually(async () => {
        const ids: string[] = [];
        // Other test files on this shared server may have run a backfill of the same range.
        const query = `BackfillId = '${first.backfillId}' AND TaskQueue = '${worker.config.taskQueue}'`;
        for await (const wf of env.client.workflow.list({ query })) ids.push(wf.workflowId);
        return ids.length >= expectedIds.length ? ids.sort() : undefined;
      });
      expect(byId).toEqual(expectedIds);

      // Re-running the completed backfill writes every date again and changes no row count.
      const rerun = await startBackfill(env.client, worker.config.taskQueue, request);
      expect(rerun.attached).toBe(false);
      const again = (await rerun.handle.result());
      expect(again.status).toBe('completed');
      expect(await counts()).toEqual(before);
    } finally {
      await worker.stop();
    }
  });

  test('status: a child that does not answer in time is shown with the numbers the parent last heard from it', async () => {
    // player_game_summary's third date and later wait for the test: the child has done 2 dates and
    // has the third in flight, while the parent last heard (at the 5 % step) 2 done and none in flight.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let calls = 0;
    const worker = await startWorker(env, warehouse, {
      wrap: (acts) => ({
        ...acts,
        async runProcessorForDate(input: RunDateInput) {
          calls += 1;
          if (calls > 2) await held;
          return acts.runProcessorForDate(input);
        },
      }),
    });
    try {
      const name = 'player_game_summary';
      const request: BackfillRequest = { from: '2024-10-22', to: '2024-11-10', phases: [3], processors: [name], concurrency: 1, gatePolicy: 'wait', dateDispatch: 'activity' };
      const { handle, backfillId } = await startBackfill(env.client, worker.config.taskQueue, request);
      const child = env.client.workflow.getHandle(`${backfillId}/${name}`);
      const live = await eventually(async () => {
        const p = await child.query(processorProgressQuery).catch(() => undefined);
        return p && p.done === 2 && p.inFlight.length === 1 ? p : undefined;
      });
      const heard = await eventually(async () => {
        const p = (await handle.query(backfillProgressQuery)).processors.find((x) => x.processor === name);
        return p && p.done === 2 ? p : undefined;
      });
      expect(heard.inFlight).toEqual([]);

      const late = await getBackfillStatus(env.client, backfillId, { childWaitMs: 1 });
      const fresh = await getBackfillStatus(env.client, backfillId, { childWaitMs: 10_000 });
      const shown = (s: typeof late) => s.progress?.processors.find((x) => x.processor === name);
      // Too late: the parent's view. In time (the control): the child's own, with its date in flight.
      expect(shown(late)?.inFlight).toEqual([]);
      expect(shown(late)?.done).toBe(2);
      expect(shown(fresh)?.inFlight).toEqual(live.inFlight);
      expect(shown(fresh)?.done).toBe(2);

      release();
      expect((await handle.result()).status).toBe('completed');
    } finally {
      release?.();
      await worker.stop();
    }
  });
});

/**
 * A poison date: one date of one processor meets a permanent error (a schema mismatch in its
 * input, injected at the warehouse interface). It is tried once — retrying cannot fix it — and
 * recorded with its message; every other date and processor completes; the phase gate fails and
 * names it. Once the operator has removed the cause, `backfill retry-failed <id>` re-runs exactly
 * that date and the backfill completes.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { runCli } from '../../src/cli';
import { startBackfill } from '../../src/client/backfill-client';
import { backfillProgressQuery } from '../../src/shared/messages';
import type { BackfillRequest } from '../../src/shared/types';
import { eventually, seededWarehouse, startWorker, testEnv } from '../helpers/harness';
import { FaultyWarehouse } from '../helpers/faulty-warehouse';
import { testServerAddress } from '../helpers/temporal-env';

const PROCESSOR = 'player_game_summary';
const DATE = '2024-10-24';
const MESSAGE = 'column minutes_played is STRING in the box-score feed for 2024-10-24, expected INT64';

// Both dispatches of a date (DateDispatch): a regular activity, and a local one (DuckDB's default).
describe.each(['activity', 'local'] as const)('a poison date, dates dispatched as %s activities', (dateDispatch) => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await testEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  test('is recorded with its message, the rest completes, the gate reports it, and retry-failed completes it once the cause is gone', async () => {
    const warehouse = await seededWarehouse('tiny');
    let causePresent = true;
    let faulty: FaultyWarehouse | undefined;
    const worker = await startWorker(env, warehouse, {
      wrapWarehouse: (w) => (faulty = new FaultyWarehouse(w, { poison: { processor: PROCESSOR, date: DATE, message: MESSAGE, active: () => causePresent } })),
    });
    try {
      const request: BackfillRequest = { from: '2024-10-22', to: '2024-10-28', phases: [3], concurrency: 3, gatePolicy: 'wait', dateDispatch };
      const { handle, backfillId } = await startBackfill(env.client, worker.config.taskQueue, request);
      const held = await eventually(async () => {
        const p = await handle.query(backfillProgressQuery);
        return p.stage.kind === 'gate_failed' ? p : undefined;
      });

      // Recorded with its message, after one attempt: a schema error is not retried.
      const error = `SchemaError: ${MESSAGE}`;
      expect(faulty!.counts.poison).toBe(1);
      const poisoned = held.processors.find((p) => p.processor === PROCESSOR);
      expect(poisoned?.failures).toEqual([{ date: DATE, error }]);
      // Everything else completed.
      for (const p of held.processors) {
        expect(p.status).toBe('completed');
        expect(p.done).toBe(p.total - p.skipped - (p.processor === PROCESSOR ? 1 : 0));
        if (p.processor !== PROCESSOR) expect(p.failed).toBe(0);
      }
      // The gate reports it, with the message.
      const gate = held.gates[0]!;
      expect(gate.ok).toBe(false);
      expect(gate.tables.find((t) => t.processor === PROCESSOR)?.failedDates).toEqual([{ date: DATE, error }]);
      expect(gate.tables.filter((t) => t.processor !== PROCESSOR).every((t) => t.failedDates.length === 0)).toBe(true);
      expect(gate.problems.join('\n')).toContain(DATE);
      expect(await rowsOn(DATE)).toBe(0);

      // The operator fixes the feed, then asks for the failed dates again.
      causePresent = false;
      let out = '';
      const code = await runCli(['retry-failed', backfillId], {
        out: (s) => (out += s),
        err: (s) => (out += s),
        env: { TEMPORAL_ADDRESS: testServerAddress(), BACKFILL_TASK_QUEUE: worker.config.taskQueue },
      });
      expect({ code, out }).toMatchObject({ code: 0 });
      const result = await handle.result();
      expect(result.status).toBe('completed');
      expect(result.gates.map((g) => g.ok)).toEqual([false, true]);
      expect(result.processors.every((p) => Object.keys(p.failed).length === 0)).toBe(true);
      expect(await env.client.workflow.getHandle(`${backfillId}/${PROCESSOR}/retry-1`).result()).toMatchObject({ done: 1, total: 1 });
      expect(await rowsOn(DATE)).toBeGreaterThan(0);
    } finally {
      await worker.stop();
      await warehouse.close();
    }

    async function rowsOn(date: string): Promise<number> {
      const [row] = await warehouse.query(`SELECT count(*) AS n FROM nba_analytics.${PROCESSOR} WHERE game_date = DATE '${date}'`);
      return Number(row?.n);
    }
  });
});

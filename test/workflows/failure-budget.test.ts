/**
 * The failure budget on the real dev server: a poison input fails every date of one processor (its
 * per-date work meets a missing input, injected at the warehouse interface). After three failures
 * in a row with the same error class the whole backfill pauses itself — `paused_failures` on the
 * backfill and on that processor, the reason naming the error in `status` and the Web UI's
 * details — having attempted only a few of the processor's dates. Once the cause is gone,
 * `retry-failed` and `resume` complete it with no failed date.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { runCli } from '../../src/cli';
import { startBackfill } from '../../src/client/backfill-client';
import { backfillProgressQuery, processorProgressQuery } from '../../src/shared/messages';
import { BACKFILL_STATUS } from '../../src/shared/search-attributes';
import type { BackfillRequest } from '../../src/shared/types';
import { eventually, seededWarehouse, startWorker, testEnv } from '../helpers/harness';
import { SteeringWarehouse } from '../helpers/steering-warehouse';
import { testServerAddress } from '../helpers/temporal-env';

const PROCESSOR = 'player_game_summary';
const OTHER = 'team_offense_game_summary';
const MESSAGE = 'no box scores loaded for this date: the raw feed is empty';

describe('failure budget', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await testEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  test('a processor failing every date pauses the whole backfill after 3 in a row; retry-failed + resume after the fix completes it', async () => {
    const warehouse = await seededWarehouse('tiny');
    let causePresent = true;
    let steering: SteeringWarehouse | undefined;
    const worker = await startWorker(env, warehouse, {
      wrapWarehouse: (w) => (steering = new SteeringWarehouse(w, { poison: { processor: PROCESSOR, message: MESSAGE, active: () => causePresent } })),
    });
    const cli = async (...argv: string[]): Promise<{ code: number; out: string; err: string }> => {
      let out = '';
      let err = '';
      const code = await runCli(argv, {
        out: (s) => (out += s),
        err: (s) => (err += s),
        env: { TEMPORAL_ADDRESS: testServerAddress(), BACKFILL_TASK_QUEUE: worker.config.taskQueue },
      });
      return { code, out, err };
    };
    try {
      const concurrency = 2;
      const request: BackfillRequest = { from: '2024-10-22', to: '2024-11-12', phases: [3], processors: [PROCESSOR, OTHER], concurrency, gatePolicy: 'wait' };
      const { handle, backfillId } = await startBackfill(env.client, worker.config.taskQueue, request);
      const child = env.client.workflow.getHandle(`${backfillId}/${PROCESSOR}`);

      // Paused by itself, and the dates in flight then drained.
      const paused = await eventually(async () => {
        const p = await handle.query(backfillProgressQuery);
        if (p.pauseReason?.kind !== 'failures') return undefined;
        const c = await child.query(processorProgressQuery);
        return c.inFlight.length === 0 ? { p, c } : undefined;
      });
      expect(paused.p.paused).toBe(true);
      expect(paused.p.pauseReason).toMatchObject({
        kind: 'failures',
        status: 'paused_failures',
        trip: { kind: 'in_a_row', processor: PROCESSOR, errorClass: 'MissingInputError', failed: 3 },
      });
      const reason = paused.p.pauseReason?.kind === 'failures' ? paused.p.pauseReason.trip.reason : '';
      expect(reason).toContain('MissingInputError');
      expect(reason).toContain(MESSAGE);

      // Not all dates were wasted: the three in a row, plus at most the rest of the window in flight.
      const planned = paused.c.total - paused.c.skipped;
      const attempted = steering!.attempted.get(PROCESSOR)?.size ?? 0;
      expect(planned).toBeGreaterThan(10);
      expect(attempted).toBeGreaterThanOrEqual(3);
      expect(attempted).toBeLessThanOrEqual(3 + concurrency - 1);
      expect(paused.c.failed).toBe(attempted);
      expect(paused.c.budgetTrip?.errorClass).toBe('MissingInputError');

      // The search attribute on the backfill and on the processor, the reason in the Web UI's details and in status.
      const attrs = async (id: string): Promise<string | undefined> => (await env.client.workflow.getHandle(id).describe()).typedSearchAttributes.get(BACKFILL_STATUS);
      await eventually(async () => (await attrs(backfillId)) === 'paused_failures' && (await attrs(`${backfillId}/${PROCESSOR}`)) === 'paused_failures');
      const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
      expect(metadata.currentDetails).toContain('PAUSED by the failure budget');
      expect(metadata.currentDetails).toContain('MissingInputError');
      const status = await cli('status', backfillId);
      expect(status.code).toBe(0);
      expect(status.out).toContain('PAUSED by the failure budget');
      expect(status.out).toContain('common error: MissingInputError');
      const listed = await cli('list', '--status', 'paused_failures');
      expect(listed.code).toBe(0);

      // Still paused: nothing new starts while the cause is there (the attempts stand as they were).
      expect(steering!.attempted.get(PROCESSOR)?.size).toBe(attempted);

      // The operator fixes the feed, re-runs what failed and resumes.
      causePresent = false;
      const retried = await cli('retry-failed', backfillId);
      expect(retried).toMatchObject({ code: 0 });
      expect(retried.out).toContain(backfillId);
      const resumed = await cli('resume', backfillId);
      expect(resumed.code).toBe(0);

      const result = await handle.result();
      expect(result.status).toBe('completed');
      expect(result.gates.map((g) => g.ok)).toEqual([true]);
      for (const p of result.processors) expect(p.failed).toEqual({});
      const poisoned = result.processors.find((p) => p.processor === PROCESSOR)!;
      expect(poisoned.done).toBe(planned);
      expect(await attrs(backfillId)).toBe('completed');
    } finally {
      await worker.stop();
      await warehouse.close();
    }
  });
});

/**
 * Adaptive warehouse load on a real backfill: latency and transient errors injected at the
 * warehouse interface while Phase 3 runs. The admitted limit (read from the slots workflow, as
 * `status` and the Web UI show it) starts at the cap, backs off on errors and on slowness, recovers
 * when the warehouse is healthy again, and the calls in flight at the warehouse never pass the cap.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { slotsWorkflowId } from '../../src/activities/temporal-slots';
import { runCli } from '../../src/cli';
import { startBackfill } from '../../src/client/backfill-client';
import { formatWarehouseLoad, warehouseLoad } from '../../src/client/warehouse-load';
import { warehouseKey } from '../../src/config';
import { admittedLimit, slotsStateQuery, type SlotsState } from '../../src/shared/messages';
import { eventually, seededWarehouse, startWorker, testEnv } from '../helpers/harness';
import { FaultyWarehouse } from '../helpers/faulty-warehouse';
import { testServerAddress } from '../helpers/temporal-env';

const CAP = 4;
const BASE_LATENCY_MS = 150;

describe('adaptive warehouse load', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await testEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  test(`backs off on transient errors and on latency, recovers, never above the cap of ${CAP}`, async () => {
    // Enough work (Phases 3 and 4 of the small preset, ~370 dates at 150 ms or more each) that
    // every step below finds dates still to write, however slow the machine.
    const warehouse = await seededWarehouse('small');
    let mode: 'healthy' | 'errors' | 'slow' = 'healthy';
    let faulty: FaultyWarehouse | undefined;
    const worker = await startWorker(env, warehouse, {
      config: { warehouseMaxInFlight: CAP },
      wrapWarehouse: (w) =>
        (faulty = new FaultyWarehouse(w, {
          transient: { rate: 0.5, seed: 3, active: () => mode === 'errors' },
          writeLatencyMs: () => (mode === 'slow' ? BASE_LATENCY_MS * 6 : BASE_LATENCY_MS),
        })),
    });
    const slots = env.client.workflow.getHandle(slotsWorkflowId(warehouseKey(worker.config)));
    const state = (): Promise<SlotsState | undefined> => slots.query(slotsStateQuery).catch(() => undefined);
    const limitNow = async (): Promise<number | undefined> => {
      const s = await state();
      return s ? admittedLimit(s) : undefined;
    };
    const seen: number[] = [];
    /** The state once the limit has changed for a reason matching `why` after `sinceMs` (workflow time ≈ wall time here). */
    const changed = (sinceMs: number, why: RegExp, ok: (limit: number) => boolean, giveUpMs: number) =>
      eventually(async () => {
        const s = await state();
        const change = s?.adaptive?.lastChange;
        return s && change && change.atMs >= sinceMs && why.test(change.reason) && ok(admittedLimit(s)) ? s : undefined;
      }, 50, giveUpMs);
    const sampler = setInterval(() => void limitNow().then((l) => l !== undefined && seen.push(l)), 100);
    try {
      const { handle, backfillId } = await startBackfill(env.client, worker.config.taskQueue, {
        from: '2024-10-22',
        to: '2024-12-06',
        phases: [3, 4],
        concurrency: 4,
        gatePolicy: 'wait',
        retry: { maximumAttempts: 20, initialIntervalMs: 100, backoffCoefficient: 2, maximumIntervalMs: 500 },
      });
      // Healthy: the cap is admitted, and Phase 3's writes have latency baselines (slowness is
      // judged against a kind of work's own baseline, so it is tested while those kinds still run).
      const phase3 = ['player_game_summary', 'team_offense_game_summary', 'team_defense_game_summary'];
      const baselined = await eventually(async () => {
        const s = await state();
        return s && admittedLimit(s) === CAP && phase3.every((k) => s.adaptive?.baselines[k] !== undefined) ? s : undefined;
      }, 100, 60_000);
      expect(baselined && admittedLimit(baselined)).toBe(CAP);

      // (On a busy machine the latency rule may move the limit too; each step waits for its own reason.)
      mode = 'slow';
      const slowed = await changed(Date.now(), /against a baseline of/, (l) => l < CAP, 120_000);
      expect(slowed?.adaptive?.lastChange?.reason).toMatch(/against a baseline of/);

      mode = 'healthy';
      const recoveredFromSlow = await changed(Date.now(), /succeeded at baseline latency/, (l) => l === CAP, 120_000);
      expect(recoveredFromSlow && admittedLimit(recoveredFromSlow)).toBe(CAP);

      mode = 'errors';
      const backedOff = await changed(Date.now(), /transient warehouse error/, (l) => l < CAP, 60_000);
      expect(backedOff?.adaptive?.lastChange?.reason).toMatch(/transient warehouse error/);
      // What `status` shows, read from the server alone (the slots workflow's memo).
      const shown = await eventually(async () => {
        const load = await warehouseLoad(env.client, warehouseKey(worker.config));
        return load && load.limit < CAP ? load : undefined;
      }, 50, 30_000);
      // …and `backfill status` prints it.
      let out = '';
      const code = await runCli(['status', backfillId], {
        out: (s) => (out += s),
        err: () => undefined,
        env: { TEMPORAL_ADDRESS: testServerAddress(), BACKFILL_TASK_QUEUE: worker.config.taskQueue, DUCKDB_PATH: worker.config.duckdbPath, WAREHOUSE_MAX_IN_FLIGHT: String(CAP) },
      });
      expect(code).toBe(0);
      expect(out).toMatch(new RegExp(`warehouse load: \\d of ${CAP} operations admitted at once \\(adaptive, floor 1\\) — last change`));
      expect(formatWarehouseLoad(shown)).toMatch(new RegExp(`^warehouse load: \\d of ${CAP} operations admitted at once \\(adaptive, floor 1\\) — last change \\d → \\d: .*transient warehouse error`));

      mode = 'healthy';
      const recovered = await changed(Date.now(), /succeeded at baseline latency/, (l) => l === CAP, 120_000);
      expect(recovered?.adaptive?.lastChange?.reason).toMatch(/succeeded at baseline latency/);

      mode = 'healthy';
      const result = await handle.result();
      expect(result.status).toBe('completed');
      process.stdout.write(
        `adaptive-load: limits seen ${[...new Set(seen)].join(', ')}; after errors ${admittedLimit(backedOff!)} (${backedOff?.adaptive?.lastChange?.reason}); ` +
          `after slowness ${admittedLimit(slowed!)} (${slowed?.adaptive?.lastChange?.reason}); peak in flight at the warehouse ${faulty?.counts.peakInFlight}\n`,
      );
      expect(Math.max(...seen)).toBeLessThanOrEqual(CAP);
      expect(Math.min(...seen)).toBeGreaterThanOrEqual(1);
      expect(faulty!.counts.peakInFlight).toBeLessThanOrEqual(CAP);
      expect(faulty!.counts.transient).toBeGreaterThan(0);
    } finally {
      clearInterval(sampler);
      await worker.stop();
      await warehouse.close();
    }
  });
});

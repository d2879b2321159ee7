/**
 * A worker process's leased share of the warehouse cap (src/activities/leased-slots.ts) against the
 * real warehouse-slots workflow: slots given back when a phase ends come back for the next phase
 * through the request already parked at the workflow, not after that request's deadline.
 */
import { randomBytes } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { LeasedWarehouseSlots } from '../../src/activities/leased-slots';
import type { ReleaseSlot } from '../../src/activities/warehouse-slots';
import { slotsWorkflowId } from '../../src/activities/temporal-slots';
import type { WarehouseSlotsInput } from '../../src/workflows/warehouse-slots';
import { eventually, testEnv } from '../helpers/harness';
import { bundle, uniqueTaskQueue } from '../helpers/temporal-env';

describe('a process leasing a share of the cap', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await testEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  test('slots it gave back between two phases come back through its parked request, with no new round trip', async () => {
    const taskQueue = uniqueTaskQueue('leased');
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await bundle() });
    const running = worker.run();
    const key = `leased-${randomBytes(4).toString('hex')}`;
    // A long lease: the parked request waits a third of it (40 s), far longer than this test takes
    // even on a loaded machine, so it is still parked when the next phase asks.
    const input: WarehouseSlotsInput = { capacity: 2, leaseMs: 120_000 };
    await env.client.workflow.start('warehouseSlotsWorkflow', { workflowId: slotsWorkflowId(key), taskQueue, args: [input] });
    const slots = new LeasedWarehouseSlots(env.client, taskQueue, key, 2, { lingerMs: 100 });
    try {
      // "Phase 3": more dates than the cap. The third waits, so the process's one request parks at
      // the workflow (it holds its whole share; the request renews the lease meanwhile).
      const first = await Promise.all([slots.acquire('a'), slots.acquire('b')]);
      const third = slots.acquire('c');
      // Parked until its deadline, read from the workflow's history: the workflow wakes a parked
      // request once when the holder's turn (SHARE_TURN_MS) ends, and a request woken after the
      // give-back below returns (its process then wants nothing), so wait until that wake is past.
      // (Waiting a fixed time past the turn was not enough on a loaded machine.)
      expect(await eventually(() => parkedUntilDeadline(env, key), 50, 30_000)).toBe(true);
      await Promise.all(first.map((release) => release()));
      const thirdRelease = await third;
      await thirdRelease();
      // The phase ends: after lingering, the idle slots go back to the workflow.
      expect(await eventually(async () => (slots.held() === 0 ? true : undefined), 20, 10_000)).toBe(true);
      const requestsBefore = slots.requestsSent;
      expect((slots as unknown as { asking: boolean }).asking).toBe(true);

      // "Phase 4": dates want slots again while the renewal request is still parked (it waits up to
      // a third of the lease). The process tells the workflow what it now wants; the parked request
      // returns with the grant.
      const next: ReleaseSlot[] = await Promise.all([slots.acquire('d'), slots.acquire('e')]);
      expect(slots.inUse()).toBe(2);
      // Without telling its want, the process would wait for the parked request's deadline and then
      // need a new request for the grant.
      expect(slots.requestsSent).toBe(requestsBefore);
      await Promise.all(next.map((release) => release()));
    } finally {
      await slots.close();
      await env.client.workflow.getHandle(slotsWorkflowId(key)).terminate('test finished').catch(() => undefined);
      worker.shutdown();
      await running;
    }
  });
});

/**
 * True once the slots workflow holds one lease request open and has set that request's only
 * remaining timer to its deadline (a third of the 120 s lease): nothing but a grant or that
 * deadline returns it now.
 */
async function parkedUntilDeadline(env: TestWorkflowEnvironment, key: string): Promise<boolean> {
  const events = (await env.client.workflow.getHandle(slotsWorkflowId(key)).fetchHistory()).events ?? [];
  const accepted = events.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
  const completed = events.filter((e) => e.workflowExecutionUpdateCompletedEventAttributes);
  if (accepted.length !== completed.length + 1) return false;
  const open = events.lastIndexOf(accepted[accepted.length - 1]!);
  const timers = events.slice(open).filter((e) => e.timerStartedEventAttributes || e.timerFiredEventAttributes);
  const last = timers[timers.length - 1];
  const seconds = Number(last?.timerStartedEventAttributes?.startToFireTimeout?.seconds?.toString() ?? 0);
  return seconds >= 30;
}

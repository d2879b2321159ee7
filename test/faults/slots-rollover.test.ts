/**
 * The warehouse-slots workflow rolling over (continue-as-new) under load: with a history limit
 * small enough that it rolls over several times while requests queue, every request is served
 * exactly once — none lost to a rollover — and the cap holds throughout, measured by the holders.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { testEnv } from '../helpers/harness';
import { runSlotsLoad } from '../helpers/slots-load';

const CAPACITY = 3;
const REQUESTS = 60;

describe('the slots workflow rolling over under load', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await testEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  test(`${REQUESTS} requests from 4 processes, a cap of ${CAPACITY}, a history limit of 120 events: nothing lost, the cap held`, async () => {
    const load = await runSlotsLoad(env, { capacity: CAPACITY, requests: REQUESTS, processes: 4, holdMs: 20, historyEventLimit: 120 });
    process.stdout.write(`slots-rollover: ${load.served} requests served over ${load.runs} runs, at most ${load.peak} at once\n`);
    expect(load.runs).toBeGreaterThanOrEqual(3);
    expect(load.served).toBe(REQUESTS);
    // Every grant counted once across the runs (the count travels with continue-as-new).
    expect(load.state.granted).toBe(REQUESTS);
    expect(load.peak).toBeLessThanOrEqual(CAPACITY);
    expect(load.state.maxHeldObserved).toBeLessThanOrEqual(CAPACITY);
    expect(load.state.held).toEqual([]);
    expect(load.state.waiting).toEqual([]);
  });
});

/**
 * The warehouse-slots workflow rolling over (continue-as-new) under load: with a history limit
 * small enough that it rolls over several times while requests queue, every request is served
 * exactly once — none lost to a rollover — and the cap holds throughout, measured by the holders.
 * Both client protocols: shares leased per worker process (the default) and a slot per date.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { slotsHeld } from '../../src/shared/messages';
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

  test(`per-date slots: ${REQUESTS} requests from 4 processes, a cap of ${CAPACITY}, a history limit of 120 events: nothing lost, the cap held`, async () => {
    const load = await runSlotsLoad(env, { capacity: CAPACITY, requests: REQUESTS, processes: 4, holdMs: 20, historyEventLimit: 120, leasing: 'per-date' });
    process.stdout.write(`slots-rollover (per date): ${load.served} requests served over ${load.runs} runs, at most ${load.peak} at once\n`);
    expect(load.runs).toBeGreaterThanOrEqual(3);
    expect(load.served).toBe(REQUESTS);
    // Every grant counted once across the runs (the count travels with continue-as-new).
    expect(load.state.granted).toBe(REQUESTS);
    expect(load.peak).toBeLessThanOrEqual(CAPACITY);
    expect(load.state.maxHeldObserved).toBeLessThanOrEqual(CAPACITY);
    expect(load.state.held).toEqual([]);
    expect(load.state.waiting).toEqual([]);
  });

  test(`process shares: ${REQUESTS * 4} requests from 4 processes contending for a cap of ${CAPACITY}, a history limit of 60 events: nothing lost, the cap held, shares rotate`, async () => {
    // Four processes, three slots: a process keeps its slot for a turn of a few seconds, then the
    // one that waited longest is served, so every process is served while all four still have work.
    const load = await runSlotsLoad(env, { capacity: CAPACITY, requests: REQUESTS * 4, processes: 4, holdMs: 100, historyEventLimit: 60 });
    const firstHalf = load.serviceOrder.slice(0, load.serviceOrder.length / 2);
    process.stdout.write(
      `slots-rollover (process shares): ${load.served} requests served over ${load.runs} runs, at most ${load.peak} at once, ` +
        `first half served ${[0, 1, 2, 3].map((i) => firstHalf.filter((x) => x === i).length).join('/')} per process\n`,
    );
    expect(load.runs).toBeGreaterThanOrEqual(2);
    expect(load.served).toBe(REQUESTS * 4);
    expect(load.peak).toBeLessThanOrEqual(CAPACITY);
    expect(load.state.maxHeldObserved).toBeLessThanOrEqual(CAPACITY);
    // Nobody starved: every process got slots while all four still had work waiting.
    for (const i of [0, 1, 2, 3]) expect(firstHalf.filter((x) => x === i).length).toBeGreaterThan(0);
    // Every share was given back when its process stopped.
    expect(slotsHeld(load.state)).toBe(0);
  });
});

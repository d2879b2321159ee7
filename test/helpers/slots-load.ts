/**
 * Load on the warehouse-slots workflow alone: many holders from several "processes" (one
 * LeasedWarehouseSlots or TemporalWarehouseSlots each, as each worker process has) take a slot, hold it briefly and give it
 * back, with the workflow started on a history limit small enough that it rolls over under the
 * load. Counts what the slots protect — holders inside at once — as the warehouse would.
 */
import { randomBytes } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { LeasedWarehouseSlots } from '../../src/activities/leased-slots';
import { TemporalWarehouseSlots, slotsWorkflowId } from '../../src/activities/temporal-slots';
import type { WarehouseSlots } from '../../src/activities/warehouse-slots';
import { slotsHeld, slotsStateQuery, type SlotsState } from '../../src/shared/messages';
import type { WarehouseSlotsInput } from '../../src/workflows/warehouse-slots';
import { bundle, uniqueTaskQueue } from './temporal-env';

export interface SlotsLoadOptions {
  capacity: number;
  requests: number;
  processes: number;
  /** How long each holder keeps its slot. */
  holdMs: number;
  historyEventLimit: number;
  /** The client protocol (the worker's `slotLeasing`); process shares by default. */
  leasing?: 'process' | 'per-date';
}

export interface SlotsLoadResult {
  workflowId: string;
  /** The first run's id (the one a recorded history starts from). */
  firstRunId: string;
  /** Requests that got a slot (each exactly once if none was lost). */
  served: number;
  /** The most holders inside at once, measured by the holders themselves. */
  peak: number;
  /** The process of each request served, in the order they got their slots. */
  serviceOrder: number[];
  /** Runs of the slots workflow: 1 + rollovers. */
  runs: number;
  state: SlotsState;
}

export async function runSlotsLoad(env: TestWorkflowEnvironment, options: SlotsLoadOptions): Promise<SlotsLoadResult> {
  const taskQueue = uniqueTaskQueue('slots-load');
  const key = `load-${randomBytes(4).toString('hex')}`;
  const workflowId = slotsWorkflowId(key);
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await bundle() });
  const running = worker.run();
  try {
    // Started by us with the small limit; every acquire's update-with-start then finds it running.
    const input: WarehouseSlotsInput = { capacity: options.capacity, historyEventLimit: options.historyEventLimit };
    const started = await env.client.workflow.start('warehouseSlotsWorkflow', { workflowId, taskQueue, args: [input] });
    const processes: WarehouseSlots[] = Array.from({ length: options.processes }, (_, i) =>
      options.leasing === 'per-date'
        ? new TemporalWarehouseSlots(env.client, taskQueue, key, options.capacity)
        : new LeasedWarehouseSlots(env.client, taskQueue, key, options.capacity, { processName: `load-process-${i}` }),
    );
    let inside = 0;
    let peak = 0;
    let served = 0;
    const serviceOrder: number[] = [];
    await Promise.all(
      Array.from({ length: options.requests }, async (_, i) => {
        const release = await processes[i % processes.length]!.acquire(`holder-${i}`);
        inside += 1;
        served += 1;
        serviceOrder.push(i % processes.length);
        peak = Math.max(peak, inside);
        await new Promise((r) => setTimeout(r, options.holdMs));
        inside -= 1;
        await release({ kind: 'load', ms: options.holdMs });
      }),
    );
    const handle = env.client.workflow.getHandle(workflowId);
    // Processes give their shares back when they stop.
    await Promise.all(processes.map(async (p) => p.close?.()));
    // Releases are signals: wait until the workflow has seen them all.
    let state: SlotsState;
    for (;;) {
      state = await handle.query(slotsStateQuery);
      if (slotsHeld(state) === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const runs = (await env.client.workflow.count(`WorkflowId = '${workflowId}'`)).count;
    return { workflowId, firstRunId: started.firstExecutionRunId, served, peak, serviceOrder, runs, state };
  } finally {
    for await (const wf of env.client.workflow.list({ query: `WorkflowId = '${workflowId}' AND ExecutionStatus = 'Running'` })) {
      await env.client.workflow.getHandle(wf.workflowId, wf.runId).terminate('load finished').catch(() => undefined);
    }
    worker.shutdown();
    await running;
  }
}

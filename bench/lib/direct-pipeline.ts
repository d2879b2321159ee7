/**
 * The bench's baseline: the backfill's own activity functions (createActivities) called in a plain
 * loop, without Temporal — in the workflow's order and with its concurrency: describe the pipeline,
 * plan every processor up front, then phase by phase and group by group the processors of a group
 * side by side, each with a sliding window of `concurrency` dates in flight, then the phase's gate.
 * The warehouse cap is the same number, held by an in-process semaphore (LocalWarehouseSlots).
 *
 * Activities read Context.current() (heartbeats, cancellation, their info); each call runs inside
 * a MockActivityEnvironment from @temporalio/testing, the SDK's own activity context without a
 * server, so what the activity does is exactly what it does under a worker.
 */
import { DefaultLogger } from '@temporalio/worker';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { BackfillActivities } from '../../src/activities';
import type { PhasePlan } from '../../src/pipeline/registry';
import type { DatePlan, PhaseGateReport } from '../../src/shared/types';
import { epochMs } from './bench-warehouse';

export interface DirectRunOptions {
  activities: BackfillActivities;
  backfillId: string;
  from: string;
  to: string;
  phases: number[];
  /** Dates in flight per processor. */
  concurrency: number;
  bootstrapDays: number;
  gateThresholds?: Record<string, number>;
}

export interface DirectRunResult {
  startMs: number;
  endMs: number;
  seconds: number;
  shape: PhasePlan[];
  plans: DatePlan[];
  /** Processor × date activities run. */
  dateTasks: number;
  failures: Array<{ processor: string; date: string; error: string }>;
  gates: PhaseGateReport[];
}

/** Runs `fn` over `items` with at most `window` in flight, starting the next as soon as one ends. */
export async function slidingWindow<T>(items: readonly T[], window: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(window, items.length)) }, lane));
}

export async function runDirectPipeline(options: DirectRunOptions): Promise<DirectRunResult> {
  const { activities, backfillId } = options;
  const sdkLogger = new DefaultLogger('WARN');
  let activitySeq = 0;
  /** One activity call inside the SDK's activity context, as a worker would run it (first attempt). */
  const inContext = <R>(workflowId: string, activityType: string, call: () => Promise<R>): Promise<R> => {
    activitySeq += 1;
    const env = new MockActivityEnvironment(
      {
        activityId: String(activitySeq),
        activityType,
        workflowExecution: { workflowId, runId: 'direct' },
        heartbeatTimeoutMs: 30_000,
      },
      { logger: sdkLogger },
    );
    return env.run(call);
  };

  const startMs = epochMs();
  const shape = await inContext(backfillId, 'describePipeline', () => activities.describePipeline({ phases: options.phases }));
  const planned = await Promise.all(
    shape.flatMap((pp) =>
      pp.groups.flat().map((processor) =>
        inContext(backfillId, 'planProcessorDates', () =>
          activities.planProcessorDates({ processor, from: options.from, to: options.to, bootstrapDays: options.bootstrapDays }),
        ),
      ),
    ),
  );
  const planOf = new Map(planned.map((p) => [p.processor, p]));
  const failures: DirectRunResult['failures'] = [];
  const gates: PhaseGateReport[] = [];
  let dateTasks = 0;

  for (const { phase, groups } of shape) {
    const failedDates: Record<string, Record<string, string>> = {};
    for (const group of groups) {
      await Promise.all(
        group.map(async (processor) => {
          const failed: Record<string, string> = {};
          failedDates[processor] = failed;
          await slidingWindow(planOf.get(processor)?.dates ?? [], options.concurrency, async (date) => {
            dateTasks += 1;
            try {
              await inContext(`${backfillId}/${processor}`, 'runProcessorForDate', () => activities.runProcessorForDate({ backfillId, processor, date }));
            } catch (err) {
              const error = err instanceof Error ? err.message : String(err);
              failed[date] = error;
              failures.push({ processor, date, error });
            }
          });
        }),
      );
    }
    gates.push(
      await inContext(backfillId, 'validatePhase', () =>
        activities.validatePhase({
          phase,
          from: options.from,
          to: options.to,
          processors: groups.flat(),
          failedDates,
          bootstrapDays: options.bootstrapDays,
          ...(options.gateThresholds ? { thresholds: options.gateThresholds } : {}),
        }),
      ),
    );
  }
  const endMs = epochMs();
  return { startMs, endMs, seconds: (endMs - startMs) / 1000, shape, plans: planned, dateTasks, failures, gates };
}

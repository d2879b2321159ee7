/**
 * Activities: everything that touches the warehouse or the export sink. Built by a factory so the
 * worker (and tests) choose the warehouse, logger and slot cap; the workflow is typed against
 * ReturnType<typeof createActivities>.
 */
import { Context, ApplicationFailure, CancelledFailure } from '@temporalio/activity';
import type { Logger as PinoLogger } from 'pino';
import type { ExportSink } from '../exports';
import { createBackfillMetrics, type BackfillMetrics, type SlotActivity } from '../metrics';
import { planProcessorDates } from '../pipeline/dates';
import { runTableProcessor } from '../pipeline/engine';
import { exportDate, listExportedDates } from '../pipeline/phase6';
import { getProcessor, planPhases, type PhasePlan } from '../pipeline/registry';
import { validatePhase } from '../pipeline/validation';
import { withTrackingColumns, type ProcessorDef } from '../pipeline/types';
import { TRANSIENT_ERROR_TYPE } from '../shared/errors';
import type { DatePlan, PhaseGateReport, RunDateInput, RunDateResult } from '../shared/types';
import { WarehouseError, type Warehouse } from '../warehouse/types';
import type { WarehouseSlots } from './warehouse-slots';

export interface ActivityDeps {
  warehouse: Warehouse;
  logger: PinoLogger;
  slots: WarehouseSlots;
  /** Where Phase 6 writes and where the gate looks: the same place for every worker host. */
  exportSink: ExportSink;
  /** Field-coverage minimums overriding the processors' defaults ("table.column" → min). */
  gateThresholds?: Record<string, number>;
  /** Heartbeat period while a statement runs; the workflow's heartbeat time-out is well above it. */
  heartbeatIntervalMs?: number;
  /** Where per-date results and slot waits are counted (the worker serves them); a private registry by default. */
  metrics?: BackfillMetrics;
}

/** WarehouseError kinds → failure types the workflow's retry policy understands. */
export function toActivityFailure(err: unknown): Error {
  if (err instanceof ApplicationFailure || err instanceof CancelledFailure) return err;
  if (err instanceof WarehouseError) {
    switch (err.kind) {
      case 'syntax':
        return ApplicationFailure.nonRetryable(err.message, 'BadSqlError');
      case 'schema':
        return ApplicationFailure.nonRetryable(err.message, 'SchemaError');
      case 'missing_input':
        return ApplicationFailure.nonRetryable(err.message, 'MissingInputError');
      case 'cancelled':
        return new CancelledFailure(err.message);
      case 'transient':
        return ApplicationFailure.retryable(err.message, TRANSIENT_ERROR_TYPE);
      case 'refused':
        // Access, billing, the byte cap or a long-term quota: the operator must act; retries only burn attempts.
        return ApplicationFailure.nonRetryable(err.message, 'WarehouseRefusedError');
    }
  }
  const message = err instanceof Error ? err.message : String(err);
  return ApplicationFailure.retryable(message, TRANSIENT_ERROR_TYPE);
}

/** The backfill a gate, plan or dedupe runs for: the workflow that scheduled the activity. */
function callingWorkflowId(): string {
  return Context.current().info.workflowExecution?.workflowId ?? 'standalone';
}

/**
 * Whether this failure ends the date: Temporal will not retry it, because it is non-retryable or
 * this was the last attempt the retry policy allows.
 */
function isFinalAttempt(failure: Error): boolean {
  if (failure instanceof CancelledFailure) return false;
  if (failure instanceof ApplicationFailure && failure.nonRetryable) return true;
  const { attempt, retryPolicy } = Context.current().info;
  if (failure instanceof ApplicationFailure && failure.type && retryPolicy?.nonRetryableErrorTypes?.includes(failure.type)) return true;
  const max = retryPolicy?.maximumAttempts ?? 0;
  return max > 0 && attempt >= max;
}

function requireProcessor(name: string): ProcessorDef {
  const def = getProcessor(name);
  if (!def) throw ApplicationFailure.nonRetryable(`unknown processor "${name}"`, 'UnknownProcessorError');
  return def;
}

export function createActivities(deps: ActivityDeps) {
  const { warehouse, slots } = deps;
  const heartbeatEvery = deps.heartbeatIntervalMs ?? 5_000;
  const metrics = deps.metrics ?? createBackfillMetrics();

  /**
   * Runs `fn` holding a warehouse slot, heartbeating throughout (waiting for the slot included) so
   * cancellation reaches us and a dead worker is noticed by the heartbeat time-out.
   */
  async function withSlotAndHeartbeat<T>(
    activity: SlotActivity,
    stage: string,
    fn: (signal: AbortSignal) => Promise<T>,
    /** The kind of work for adaptive load's latency baselines (the processor of a write). */
    kind: string = activity,
  ): Promise<T> {
    const ctx = Context.current();
    const signal = ctx.cancellationSignal;
    // No heartbeat up front: a date of a few milliseconds would pay an RPC and a history write
    // for it. The first one goes out after heartbeatEvery, well inside the heartbeat time-out, and
    // says whether the date still waits for its slot.
    let now = `${stage}: waiting for a warehouse slot`;
    // A local activity (DateDispatch `local`) has no heartbeat: its workflow task keeps it alive.
    const timer = ctx.info.isLocal ? undefined : setInterval(() => ctx.heartbeat({ stage: now }), heartbeatEvery);
    try {
      // Stable across retries of this activity, unique across continue-as-new runs (activity ids restart).
      const execution = ctx.info.workflowExecution;
      const holder = `${execution?.workflowId ?? "standalone"}/${execution?.runId ?? ""}/${ctx.info.activityId}`;
      const waited = metrics.slotWait.startTimer({ activity });
      const release = await slots.acquire(holder, signal);
      waited();
      const started = Date.now();
      try {
        now = stage;
        const result = await fn(signal);
        await release({ kind, ms: Date.now() - started });
        return result;
      } catch (err) {
        // What adaptive load learns from: transient errors back the deployment off, others say nothing of load.
        const transient = err instanceof WarehouseError && err.kind === 'transient';
        await release({ kind, ms: Date.now() - started, ...(transient ? { transient, error: err.message.slice(0, 120) } : { failed: true }) });
        throw err;
      }
    } catch (err) {
      if (signal.aborted) throw new CancelledFailure(`cancelled during ${stage}`);
      throw toActivityFailure(err);
    } finally {
      clearInterval(timer);
    }
  }

  return {
    /** Phases and groups of a request; unknown names fail without retries. */
    describePipeline(input: { phases: number[]; processors?: string[] }): Promise<PhasePlan[]> {
      try {
        return Promise.resolve(planPhases(input.phases, input.processors));
      } catch (err) {
        return Promise.reject(ApplicationFailure.nonRetryable(err instanceof Error ? err.message : String(err), 'BadRequestError'));
      }
    },

    /** The phase gate: coverage, duplicate keys, field coverage and failed dates per table. */
    async validatePhase(input: {
      phase: number;
      from: string;
      to: string;
      processors: string[];
      failedDates: Record<string, Record<string, string>>;
      bootstrapDays: number;
      /** The request's thresholds; absent for requests started before they travelled with it. */
      thresholds?: Record<string, number>;
    }): Promise<PhaseGateReport> {
      const defs = input.processors.map(requireProcessor);
      const report = await withSlotAndHeartbeat('validate', `validate phase ${input.phase}`, (signal) =>
        validatePhase(warehouse, input.phase, defs, {
          queryOptions: { signal, labels: { backfill: callingWorkflowId(), phase: String(input.phase) } },
          from: input.from,
          to: input.to,
          bootstrapDays: input.bootstrapDays,
          failedDates: input.failedDates,
          exportedDates: (_def, dates) => listExportedDates(deps.exportSink, dates),
          ...(input.thresholds ? { thresholds: input.thresholds } : deps.gateThresholds ? { thresholds: deps.gateThresholds } : {}),
        }),
      );
      deps.logger.info(
        { backfill: callingWorkflowId(), phase: input.phase, ok: report.ok, problems: report.problems },
        report.ok ? 'phase gate passed' : 'phase gate failed',
      );
      return report;
    },

    /** Removes duplicate keys of a processor's table over a range, keeping the newest row. */
    async deduplicateTable(input: { processor: string; from: string; to: string }): Promise<{ rowsRemoved: number }> {
      const def = requireProcessor(input.processor);
      if (def.kind !== 'table') return { rowsRemoved: 0 };
      const result = await withSlotAndHeartbeat('deduplicate', 'deduplicate', (signal) =>
        warehouse.deduplicate(
          {
            target: withTrackingColumns(def.target),
            keyColumns: def.keyColumns,
            dateColumn: def.dateColumn,
            from: input.from,
            to: input.to,
            orderBy: 'processed_at',
          },
          { signal, labels: { backfill: callingWorkflowId(), processor: def.name } },
        ),
      );
      deps.logger.info(
        { backfill: callingWorkflowId(), phase: def.phase, processor: def.name, from: input.from, to: input.to, ...result },
        'deduplicated',
      );
      return result;
    },

    /** The dates a processor runs in [from, to] and the dates it skips, with reasons. */
    async planProcessorDates(input: {
      processor: string;
      from: string;
      to: string;
      bootstrapDays: number;
    }): Promise<DatePlan> {
      const def = requireProcessor(input.processor);
      const plan = await withSlotAndHeartbeat('plan', 'plan', (signal) =>
        planProcessorDates(warehouse, def, input.from, input.to, input.bootstrapDays, { signal, labels: { backfill: callingWorkflowId() } }),
      );
      // A skip is decided here, once per processor and backfill: the workflow runs the plan's dates and never these.
      if (plan.skipped.length > 0) {
        metrics.processorDates.inc({ processor: def.name, phase: String(def.phase), result: 'skipped' }, plan.skipped.length);
      }
      return plan;
    },

    /** One processor, one date: the idempotent write. */
    async runProcessorForDate(input: RunDateInput): Promise<RunDateResult> {
      const def = requireProcessor(input.processor);
      const info = Context.current().info;
      const log = deps.logger.child({
        backfill: input.backfillId,
        phase: def.phase,
        processor: input.processor,
        date: input.date,
        attempt: info.attempt,
      });
      const started = Date.now();
      const dateLabels = { processor: def.name, phase: String(def.phase) };
      // What this attempt's jobs billed (the cost budget sums it; engines that bill nothing never call back).
      let bytesBilled = 0;
      // How long the date held its warehouse slot: the ETA's measure of a date's work.
      let warehouseMs = 0;
      const result = await withSlotAndHeartbeat('write', 'write', async (signal) => {
        const heldFrom = Date.now();
        const opts = {
          signal,
          labels: { backfill: input.backfillId, processor: input.processor, date: input.date },
          onJobStatistics: (stats: { bytesBilled: number }) => {
            bytesBilled += stats.bytesBilled;
          },
        };
        if (def.kind === 'export') {
          const exported = await exportDate(warehouse, input.date, deps.exportSink, { backfillId: input.backfillId }, opts);
          warehouseMs = Date.now() - heldFrom;
          return { rowsWritten: exported.predictions };
        }
        try {
          return await runTableProcessor(warehouse, def, input.date, { backfillId: input.backfillId }, opts);
        } finally {
          warehouseMs = Date.now() - heldFrom;
        }
      }, def.name).catch((err: unknown) => {
        const final = err instanceof Error && isFinalAttempt(err);
        if (final) metrics.processorDates.inc({ ...dateLabels, result: 'failed' });
        log.warn({ err: err instanceof Error ? err.message : String(err), final }, final ? 'date failed' : 'date attempt failed');
        throw err;
      });
      metrics.processorDates.inc({ ...dateLabels, result: 'done' });
      metrics.rowsWritten.inc({ processor: def.name }, result.rowsWritten);
      log.info({ rowsWritten: result.rowsWritten, bytesBilled, ms: Date.now() - started }, 'date written');
      return { processor: def.name, date: input.date, rowsWritten: result.rowsWritten, bytesBilled, warehouseMs };
    },
  };
}

export type BackfillActivities = ReturnType<typeof createActivities>;

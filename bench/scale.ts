/**
 * `npm run bench:scale`: the whole pipeline at BigQuery-like latencies, scaled down. The warehouse
 * is wrapped in the latency model of bench/lib/latency-model.ts (per-processor seconds per date in
 * the seed's proportions, divided by BENCH_SCALE_FACTOR), and the backfill runs through Temporal
 * with the production worker at each cap of BENCH_SCALE_CAPS (1, 4, 8), the window per processor
 * max(the default window BACKFILL_CONCURRENCY = 6, cap + 2): above the cap, as the default window 6
 * is above the default cap 4, so a processor alone fills the cap and keeps its next dates waiting at
 * a slot instead of being launched only when one of its dates ends.
 *
 * For each cap it reports the makespan against the lower bound — max(total work ÷ cap, critical
 * path through the groups and gates) — as an efficiency; the tighter bound of any schedule that
 * keeps the group barriers and the window; where the rest went (start-up, plans, gaps between
 * groups, gates, the cap partly idle inside groups); and what the seed's Phase 4 (848 dates) would
 * take at that cap, scaled back up. Work is measured at the warehouse (the model's wait plus
 * DuckDB's own real work); the model-only bound is reported beside it.
 *
 * Second section (BENCH_SCALE_OVERLOAD=1, the default; 0 skips it): an overloaded warehouse — the
 * overload model of bench/lib/latency-model.ts, healthy concurrency H = BENCH_SCALE_HEALTHY (5):
 * above H operations in flight each new operation is slower by (n/H)² and fails transiently with a
 * probability growing with n − H. The pipeline runs at cap 8 twice, adaptive warehouse load off
 * (fixed cap 8) and on (ceiling 8, floor 1), side by side: makespan, transient errors, retries,
 * the admitted limit (sampled from the slots workflow every second: mean, max), the most calls in
 * flight at the warehouse (never above 8), and the adaptive run's limit changes with their reasons.
 *
 *   npm run bench:scale                                  # small preset (45 game dates), caps 1,4,8 + overload
 *   BENCH_SCALE_CAPS=4 BENCH_SCALE_FACTOR=200 BENCH_SCALE_OVERLOAD=0 npm run bench:scale
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../src/config';
import { locateTemporalCli } from '../src/devserver';
import { installTemporalRuntime } from '../src/logger';
import { planProcessorDates } from '../src/pipeline/dates';
import { KNOWN_PHASES, getProcessor, planPhases } from '../src/pipeline/registry';
import { DEFAULT_RETRY, type BackfillRequest, type RetrySettings } from '../src/shared/types';
import { DuckDbWarehouse } from '../src/warehouse';
import { forecastPoints } from './lib/forecast';
import { DEFAULT_OVERLOAD_MODEL, SEED_LATENCY_MODEL, describeOverload, scaledModel, sequentialHours, type OverloadModel } from './lib/latency-model';
import { VARIANTS, runOrchestrated } from './lib/orchestrated';
import { summarizeLimitSamples } from './lib/overload-figures';
import { runOverload, type OverloadRun } from './lib/overload-run';
import { efficiency, scheduleBounds, timeline, workFromTimeline, type BoundsInput, type PipelineShape } from './lib/schedule';
import {
  benchPreset,
  fmt,
  formatTable,
  gitCommit,
  machine,
  numberListSetting,
  positiveIntSetting,
  prepareTemplate,
  prepareWorkflowBundle,
  writeResults,
  runBench,
} from './lib/setup';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' }, pino.destination(2));
const say = (s = ''): void => {
  process.stdout.write(`${s}\n`);
};

/** The dates the seed's Phase 4 ran per processor (918 game dates less the 70 bootstrap dates). */
const SEED_PHASE4_DATES = 848;
/** 100: the small preset's whole pipeline takes about 3 minutes at cap 1. */
const DEFAULT_SCALE_FACTOR = 100;
/** The overload section's cap: the seed's 8 parallel workers that hung BigQuery. */
const OVERLOAD_CAP = 8;
/** Adaptive load's floor in the overload section (config warehouseMinInFlight's default). */
const OVERLOAD_FLOOR = 1;
/** How often the overload runs read the slots workflow's state. */
const LIMIT_SAMPLE_MS = 1_000;

/** The window per processor at a cap: above the cap, as the default window 6 is above the default cap 4. */
function windowFor(cap: number, defaultWindow: number): number {
  return Math.max(defaultWindow, cap + 2);
}

/** BENCH_SCALE_OVERLOAD: on unless "0", "off", "false" or "no". */
function overloadEnabled(value: string | undefined): boolean {
  return value === undefined || value.trim() === '' || !['0', 'off', 'false', 'no'].includes(value.trim().toLowerCase());
}

/** The model's work for a shape and plan: dates per processor × modelled seconds per date ÷ factor. */
function modelWork(shape: PipelineShape, dates: ReadonlyMap<string, number>, factor: number): BoundsInput['phases'] {
  return shape.map(({ phase, groups }) => ({
    phase,
    groups: groups.map((members) =>
      members.map((processor) => ({
        processor,
        dates: dates.get(processor) ?? 0,
        secondsPerDate: (SEED_LATENCY_MODEL[processor]?.secondsPerDate ?? 0) / factor,
      })),
    ),
  }));
}

interface OverloadRunFigures {
  adaptive: 'off' | 'on';
  completed: boolean;
  makespanSeconds: number;
  dateTasks: number;
  failedDates: number;
  gatesOk: boolean;
  modelledCalls: number;
  transientErrors: number;
  retries: number;
  datesRetried: number;
  /** Mean latency multiplier the model applied to modelled calls. */
  meanLatencyFactor: number | null;
  admittedLimit: { mean: number | null; min: number | null; max: number | null; samples: number };
  meanSlotsHeld: number | null;
  maxInFlightWarehouseOps: number;
  capHeld: boolean;
  /** n → modelled calls started with n in flight, and of those failed. */
  startsByInFlight: Record<string, number>;
  errorsByInFlight: Record<string, number>;
  limitChanges: Array<{ atSeconds: number; from: number; to: number; reason: string }>;
  unseenLimitChanges: number;
  workerCpuSeconds: number | null;
}

interface OverloadSection {
  model: OverloadModel;
  description: string;
  cap: number;
  floor: number;
  window: number;
  retry: RetrySettings;
  /** The model's bound at the healthy concurrency: what a perfect limiter holding n = H could do. */
  modelBoundAtHealthySeconds: number;
  runs: { off: OverloadRunFigures; on: OverloadRunFigures };
  /** Fixed-cap makespan ÷ adaptive makespan (> 1: adaptive finished sooner). */
  speedup: number | null;
  assumptions: string[];
}

function overloadFigures(adaptive: 'off' | 'on', run: OverloadRun): OverloadRunFigures {
  const limits = summarizeLimitSamples(run.samples, run.startMs);
  const o = run.overload;
  const result = run.result;
  const failedDates = result ? result.processors.reduce((n, p) => n + Object.keys(p.failed).length, 0) : 0;
  return {
    adaptive,
    completed: result !== null,
    makespanSeconds: Number(run.seconds.toFixed(2)),
    dateTasks: result ? result.processors.reduce((n, p) => n + p.done + Object.keys(p.failed).length, 0) : 0,
    failedDates,
    gatesOk: result ? result.gates.every((g) => g.ok) : false,
    modelledCalls: o.modelledCalls,
    transientErrors: o.transientErrors,
    retries: o.retries,
    datesRetried: o.datesRetried,
    meanLatencyFactor: o.modelledCalls > 0 ? Number((o.latencyFactorSum / o.modelledCalls).toFixed(2)) : null,
    admittedLimit: { mean: limits.meanLimit, min: limits.minLimit, max: limits.maxLimit, samples: limits.samples },
    meanSlotsHeld: limits.meanHeld,
    maxInFlightWarehouseOps: run.warehouse.maxInFlight,
    capHeld: run.warehouse.maxInFlight <= OVERLOAD_CAP,
    startsByInFlight: o.startsByInFlight,
    errorsByInFlight: o.errorsByInFlight,
    limitChanges: limits.changes.map((c) => ({ atSeconds: c.atSeconds, from: c.from, to: c.to, reason: c.reason })),
    unseenLimitChanges: limits.unseenChanges,
    workerCpuSeconds: run.workerCpuSeconds === null ? null : Number(run.workerCpuSeconds.toFixed(1)),
  };
}

function overloadSection(
  runs: { off: OverloadRun; on: OverloadRun },
  s: { model: OverloadModel; cap: number; floor: number; window: number; retry: RetrySettings; boundAtHealthy: { lowerBoundSeconds: number } },
): OverloadSection {
  const off = overloadFigures('off', runs.off);
  const on = overloadFigures('on', runs.on);
  return {
    model: s.model,
    description: describeOverload(s.model),
    cap: s.cap,
    floor: s.floor,
    window: s.window,
    retry: s.retry,
    modelBoundAtHealthySeconds: Number(s.boundAtHealthy.lowerBoundSeconds.toFixed(2)),
    runs: { off, on },
    speedup: off.completed && on.completed && on.makespanSeconds > 0 ? Number((off.makespanSeconds / on.makespanSeconds).toFixed(2)) : null,
    assumptions: [
      'The overload applies to the modelled call of each date attempt (the one carrying its BigQuery latency); the rest of a date, plans and gates run at DuckDB speed. n counts every warehouse call in flight in the deployment (one worker process here).',
      `Retries scaled like the dates: ${s.retry.maximumAttempts} attempts, back-off ${s.retry.initialIntervalMs} ms × ${s.retry.backoffCoefficient} up to ${s.retry.maximumIntervalMs} ms (the default policy ÷ the scale factor). Gate policy remediate and no failure budget, so neither run waits for an operator.`,
      'Adaptive load\'s own clocks are not scaled: a health report at most every 2 s, one decrease per 5 s, against dates of tenths of a second here (minutes on BigQuery), so here it reacts after many more dates than it would on BigQuery.',
      `The admitted limit is sampled from the slots workflow every ${LIMIT_SAMPLE_MS / 1000} s; it keeps only its last change, so changes overwritten between two samples are counted as unseen, not listed.`,
    ],
  };
}

function printOverload(o: OverloadSection): void {
  const { off, on } = o.runs;
  const limit = (f: OverloadRunFigures): string => `${fmt(f.admittedLimit.mean, 2)} / ${fmt(f.admittedLimit.max, 0)}`;
  say(`\nOverloaded warehouse at cap ${o.cap} (${o.description})`);
  say(
    formatTable(
      ['', 'adaptive off (fixed cap 8)', `adaptive on (ceiling ${o.cap}, floor ${o.floor})`],
      [
        ['makespan s', fmt(off.makespanSeconds), fmt(on.makespanSeconds)],
        ['completed / gates ok', `${String(off.completed)} / ${String(off.gatesOk)}`, `${String(on.completed)} / ${String(on.gatesOk)}`],
        ['date tasks (failed)', `${off.dateTasks} (${off.failedDates})`, `${on.dateTasks} (${on.failedDates})`],
        ['transient errors', String(off.transientErrors), String(on.transientErrors)],
        ['retries (dates retried)', `${off.retries} (${off.datesRetried})`, `${on.retries} (${on.datesRetried})`],
        ['mean latency factor', fmt(off.meanLatencyFactor, 2), fmt(on.meanLatencyFactor, 2)],
        ['admitted limit mean / max', limit(off), limit(on)],
        ['slots held, mean', fmt(off.meanSlotsHeld, 2), fmt(on.meanSlotsHeld, 2)],
        ['max in flight at warehouse', String(off.maxInFlightWarehouseOps), String(on.maxInFlightWarehouseOps)],
        ['limit changes seen (unseen)', `${off.limitChanges.length} (${off.unseenLimitChanges})`, `${on.limitChanges.length} (${on.unseenLimitChanges})`],
      ],
    ),
  );
  say(`model bound at the healthy concurrency (H = ${o.model.healthy}): ${fmt(o.modelBoundAtHealthySeconds)} s; fixed ÷ adaptive makespan: ${fmt(o.speedup, 2)}`);
  const levels = [...new Set([...Object.keys(off.startsByInFlight), ...Object.keys(on.startsByInFlight)])].map(Number).sort((a, b) => a - b);
  say('\nModelled calls by calls in flight when they started (failed)');
  say(
    formatTable(
      ['in flight', 'adaptive off', 'adaptive on'],
      levels.map((n) => [String(n), `${off.startsByInFlight[n] ?? 0} (${off.errorsByInFlight[n] ?? 0})`, `${on.startsByInFlight[n] ?? 0} (${on.errorsByInFlight[n] ?? 0})`]),
    ),
  );
  say('\nAdaptive run: limit changes seen (seconds from start, from → to, reason)');
  for (const c of on.limitChanges) say(`  ${fmt(c.atSeconds)} s  ${c.from} → ${c.to}  ${c.reason}`);
  if (on.unseenLimitChanges > 0) say(`  (+ at least ${on.unseenLimitChanges} change(s) overwritten between samples)`);
}

async function main(): Promise<void> {
  const preset = benchPreset(process.env.BENCH_PRESET, 'small');
  const maxDates = positiveIntSetting('BENCH_MAX_DATES', process.env.BENCH_MAX_DATES);
  const factor = positiveIntSetting('BENCH_SCALE_FACTOR', process.env.BENCH_SCALE_FACTOR) ?? DEFAULT_SCALE_FACTOR;
  const caps = numberListSetting('BENCH_SCALE_CAPS', process.env.BENCH_SCALE_CAPS, [1, 4, 8]);
  const phases = numberListSetting('BENCH_PHASES', process.env.BENCH_PHASES, [...KNOWN_PHASES]);
  const overloadOn = overloadEnabled(process.env.BENCH_SCALE_OVERLOAD);
  const overloadModel: OverloadModel = {
    ...DEFAULT_OVERLOAD_MODEL,
    healthy: positiveIntSetting('BENCH_SCALE_HEALTHY', process.env.BENCH_SCALE_HEALTHY) ?? DEFAULT_OVERLOAD_MODEL.healthy,
  };
  const config = loadConfig(process.env, { warehouse: 'duckdb' });
  const defaultVariant = VARIANTS.find((v) => v.name === 'default');
  if (!defaultVariant) throw new Error('no default variant');
  installTemporalRuntime(logger);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'props-backfill-scale-'));
  try {
    const range = await prepareTemplate(dir, preset, maxDates);
    const bundle = await prepareWorkflowBundle(dir);
    const cliPath = await locateTemporalCli({ allowBuild: true });
    const shape = planPhases(phases);
    // The plan the backfill will make, read up front for the model's bounds.
    const planned = new Map<string, number>();
    const w = new DuckDbWarehouse({ path: range.templateDuckdb });
    try {
      for (const name of shape.flatMap((p) => p.groups.flat())) {
        const def = getProcessor(name);
        if (def) planned.set(name, (await planProcessorDates(w, def, range.from, range.to, config.bootstrapDays)).dates.length);
      }
    } finally {
      await w.close();
    }
    const latency = scaledModel(factor);
    const m = machine();
    const seqModelSeconds = (sequentialHours(Object.fromEntries(planned)) * 3600) / factor;
    say(`Scale bench: preset ${preset}, ${range.from} → ${range.to} (${range.gameDates.length} game dates), phases ${phases.join(',')}`);
    say(`latency model ÷ ${factor} (BigQuery seconds per date → ms here); the model's whole pipeline one date at a time: ${seqModelSeconds.toFixed(0)} s here, ${((seqModelSeconds * factor) / 3600).toFixed(1)} h on BigQuery for these dates`);
    say(
      formatTable(
        ['processor', 'BigQuery s/date', 'here ms/date', 'basis', 'dates here'],
        Object.entries(SEED_LATENCY_MODEL).map(([name, mp]) => [name, fmt(mp.secondsPerDate), fmt(latency[name]), `${mp.basis}: ${mp.note}`, String(planned.get(name) ?? 0)]),
      ),
    );
    say(`machine: ${m.cores} cores; caps ${caps.join(', ')}, window per processor ${caps.map((c) => windowFor(c, config.defaultConcurrency)).join(', ')} (max(default ${config.defaultConcurrency}, cap + 2))`);
    if (overloadOn) say(`overload section: cap ${OVERLOAD_CAP}, adaptive off and on; warehouse model: ${describeOverload(overloadModel)}`);

    const perCap = [];
    say('\n== Healthy warehouse: makespan against the lower bound at each cap ==');
    for (const cap of caps) {
      const window = windowFor(cap, config.defaultConcurrency);
      say(`\n[cap ${cap}, window ${window}] through Temporal…`);
      const request: BackfillRequest = {
        from: range.from,
        to: range.to,
        phases,
        concurrency: window,
        gatePolicy: 'wait',
        bootstrapDays: config.bootstrapDays,
        // Dates of seconds, as on BigQuery: regular activities, BigQuery's default dispatch.
        dateDispatch: 'activity',
      };
      const run = await runOrchestrated({
        variant: defaultVariant,
        cliPath,
        dir: path.join(dir, `cap-${cap}`),
        templateDuckdb: range.templateDuckdb,
        workflowBundlePath: bundle,
        request,
        cap,
        dateLatencyMs: latency,
        etaPollMs: 2_000,
        logger,
      });
      const t = timeline(run.intervals, shape, cap);
      const measured = scheduleBounds({ phases: workFromTimeline(t, shape), cap, window, planSeconds: t.planSeconds });
      const model = scheduleBounds({ phases: modelWork(shape, planned, factor), cap, window });
      const firstCall = Math.min(...run.intervals.map((c) => c.startMs));
      const lastCall = Math.max(...run.intervals.map((c) => c.endMs));
      const groupsSeconds = t.groups.reduce((s, g) => s + g.seconds, 0);
      const gateSeconds = t.phases.reduce((s, p) => s + p.gateSeconds, 0);
      const gapsSeconds = t.groups.reduce((s, g) => s + g.gapBeforeSeconds, 0);
      const gateGapsSeconds = t.phases.reduce((s, p) => s + p.gapBeforeGateSeconds, 0);
      const idleInGroups = t.groups.reduce((s, g) => s + g.idleCapSeconds, 0);
      const phase4 = t.phases.find((p) => p.phase === 4);
      const phase4Dates = Math.max(0, ...t.processors.filter((p) => p.phase === 4).map((p) => p.dates));
      const phase4Shape = shape.filter((p) => p.phase === 4);
      const phase4Full = scheduleBounds({
        phases: modelWork(phase4Shape, new Map(phase4Shape.flatMap((p) => p.groups.flat()).map((n) => [n, SEED_PHASE4_DATES])), 1),
        cap,
        window,
      });
      const figures = {
        cap,
        window,
        makespanSeconds: Number(run.seconds.toFixed(2)),
        dateTasks: run.dateTasks,
        lowerBound: measured,
        efficiency: efficiency(measured.lowerBoundSeconds, run.seconds),
        barrierEfficiency: efficiency(measured.barrierBoundSeconds, run.seconds),
        modelLowerBound: model,
        modelEfficiency: efficiency(model.lowerBoundSeconds, run.seconds),
        // Busy slot-seconds ÷ (cap × the groups' spans): how full the cap was kept while dates ran.
        inGroupUtilization: groupsSeconds > 0 ? Number((t.groups.reduce((s, g) => s + g.busySeconds, 0) / (cap * groupsSeconds)).toFixed(3)) : 0,
        // What does not grow with the latency factor (orchestration between groups, plans and gates at
        // DuckDB speed): seconds here, and as seconds on BigQuery too, against a run of hours.
        fixedOverheadSeconds: Number((run.seconds - groupsSeconds).toFixed(2)),
        where: {
          startupSeconds: Number(((firstCall - run.startMs) / 1000).toFixed(2)),
          planSeconds: t.planSeconds,
          groupsSeconds: Number(groupsSeconds.toFixed(2)),
          idleCapInGroupsSeconds: Number(idleInGroups.toFixed(2)),
          gapsBetweenGroupsSeconds: Number(gapsSeconds.toFixed(2)),
          gapsBeforeGatesSeconds: Number(gateGapsSeconds.toFixed(2)),
          gatesSeconds: Number(gateSeconds.toFixed(2)),
          afterLastCallSeconds: Number(((run.endMs - lastCall) / 1000).toFixed(2)),
        },
        groups: t.groups.map((g) => ({ phase: g.phase, group: g.group, processors: g.processors, seconds: g.seconds, busySeconds: g.busySeconds, idleCapSeconds: g.idleCapSeconds, gapBeforeSeconds: g.gapBeforeSeconds })),
        processors: t.processors,
        phase4: phase4
          ? {
              seconds: phase4.seconds,
              dates: phase4Dates,
              // The measured Phase 4 span scaled back up to BigQuery time and to the seed's 848 dates.
              extrapolatedHoursAt848Dates: Number(((phase4.seconds * factor * (SEED_PHASE4_DATES / Math.max(1, phase4Dates))) / 3600).toFixed(1)),
              modelLowerBoundHoursAt848Dates: Number((phase4Full.lowerBoundSeconds / 3600).toFixed(1)),
              modelBarrierBoundHoursAt848Dates: Number((phase4Full.barrierBoundSeconds / 3600).toFixed(1)),
            }
          : null,
        maxInFlightWarehouseOps: run.warehouse.maxInFlight,
        capHeld: run.warehouse.maxInFlight <= cap,
        maxHistoryEventsPerRun: run.history.maxHistoryEventsPerRun,
        workerCpuSeconds: run.workerCpuSeconds === null ? null : Number(run.workerCpuSeconds.toFixed(1)),
        serverCpuSeconds: run.serverCpuSeconds === null ? null : Number(run.serverCpuSeconds.toFixed(1)),
        peakWorkerRssMiB: run.peakWorkerRssMiB,
        gatesOk: run.result.gates.every((g) => g.ok),
        forecast: forecastPoints(run.etaSamples, run.startMs, run.endMs),
      };
      perCap.push(figures);
      say(
        `[cap ${cap}] ${fmt(run.seconds)} s; lower bound ${fmt(measured.lowerBoundSeconds)} s (work ÷ cap ${fmt(measured.workBoundSeconds)}, critical path ${fmt(measured.criticalPathSeconds)}) → efficiency ${fmt(figures.efficiency, 2)}; ` +
          `barrier bound ${fmt(measured.barrierBoundSeconds)} s → ${fmt(figures.barrierEfficiency, 2)}; max in flight ${run.warehouse.maxInFlight}`,
      );
      if (!figures.capHeld) say(`!!! cap ${cap} EXCEEDED: ${run.warehouse.maxInFlight} warehouse operations in flight !!!`);
    }

    let overload: OverloadSection | null = null;
    if (overloadOn) {
      say(`\n== Overloaded warehouse at cap ${OVERLOAD_CAP}: adaptive load off and on ==`);
      say(`model: ${describeOverload(overloadModel)}`);
      const overloadWindow = windowFor(OVERLOAD_CAP, config.defaultConcurrency);
      const work = scheduleBounds({ phases: modelWork(shape, planned, factor), cap: overloadModel.healthy, window: overloadWindow });
      // Retries scaled like the dates: the default policy's 2 s → 1 min back-off is ÷ factor too.
      const retry = {
        maximumAttempts: DEFAULT_RETRY.maximumAttempts,
        initialIntervalMs: Math.max(10, Math.round(DEFAULT_RETRY.initialIntervalMs / factor)),
        backoffCoefficient: DEFAULT_RETRY.backoffCoefficient,
        maximumIntervalMs: Math.max(100, Math.round(DEFAULT_RETRY.maximumIntervalMs / factor)),
      };
      const request: BackfillRequest = {
        from: range.from,
        to: range.to,
        phases,
        concurrency: overloadWindow,
        // A date that still fails after its attempts is re-run once by the gate instead of waiting for an operator;
        // the failure budget is off so the comparison measures load, not the budget's pause.
        gatePolicy: 'remediate',
        failureBudget: null,
        retry,
        bootstrapDays: config.bootstrapDays,
        dateDispatch: 'activity',
      };
      const runs: Record<'off' | 'on', OverloadRun> = {} as Record<'off' | 'on', OverloadRun>;
      for (const adaptive of ['off', 'on'] as const) {
        say(`\n[overload, adaptive ${adaptive}] cap ${OVERLOAD_CAP}${adaptive === 'on' ? `, floor ${OVERLOAD_FLOOR}` : ' fixed'}, window ${overloadWindow}, through Temporal…`);
        const run = await runOverload({
          name: `adaptive-${adaptive}`,
          cliPath,
          dir: path.join(dir, `overload-${adaptive}`),
          templateDuckdb: range.templateDuckdb,
          workflowBundlePath: bundle,
          request,
          cap: OVERLOAD_CAP,
          adaptive,
          floor: OVERLOAD_FLOOR,
          dateLatencyMs: latency,
          model: overloadModel,
          sampleMs: LIMIT_SAMPLE_MS,
          timeoutMs: Math.max(600_000, 6 * work.workBoundSeconds * 1000),
          logger,
        });
        runs[adaptive] = run;
        say(
          `[overload, adaptive ${adaptive}] ${fmt(run.seconds)} s; ${run.overload.transientErrors} transient errors in ${run.overload.modelledCalls} modelled calls; ` +
            `max in flight ${run.warehouse.maxInFlight}`,
        );
        if (run.warehouse.maxInFlight > OVERLOAD_CAP) say(`!!! cap ${OVERLOAD_CAP} EXCEEDED: ${run.warehouse.maxInFlight} warehouse operations in flight !!!`);
      }
      overload = overloadSection(runs, { model: overloadModel, cap: OVERLOAD_CAP, floor: OVERLOAD_FLOOR, window: overloadWindow, retry, boundAtHealthy: work });
    }

    const at = new Date().toISOString();
    const results = {
      name: 'scale',
      at,
      commit: gitCommit(),
      machine: m,
      preset,
      from: range.from,
      to: range.to,
      dates: range.gameDates.length,
      phases,
      scaleFactor: factor,
      model: Object.fromEntries(
        Object.entries(SEED_LATENCY_MODEL).map(([name, mp]) => [name, { ...mp, secondsPerDate: Number(mp.secondsPerDate.toFixed(2)), msPerDateHere: latency[name] ?? 0, datesHere: planned.get(name) ?? 0 }]),
      ),
      assumptions: [
        `Latency model from the handoff (see bench/lib/latency-model.ts), divided by ${factor}; the first warehouse call of each (processor, date) waits the modelled time, inside the activity's warehouse slot, then DuckDB does the real work.`,
        `A date subset: the ${preset} preset (${range.gameDates.length} game dates) keeps each cap to a few minutes; Phase 4 at 848 dates is extrapolated linearly from its measured span, beside the model's own bound at 848 dates.`,
        'Plans and gates are not modelled (DuckDB speed).',
        `Window per processor max(the default ${config.defaultConcurrency}, cap + 2): a processor alone fills the cap and keeps dates waiting at a slot (the default window 6 above the default cap 4).`,
        'Efficiency = lower bound ÷ makespan, the bound from work measured at the warehouse: max(total work ÷ cap, critical path = plan + per group its longest date + gates). barrierEfficiency uses the bound of any schedule keeping the group barriers and the window.',
      ],
      caps: perCap,
      overload,
    };
    const file = writeResults('scale', at, results);

    say('\nMakespan against the lower bound');
    say(
      formatTable(
        ['cap', 'makespan s', 'lower bound s', 'efficiency', 'barrier bound s', 'barrier eff.', 'model bound s', 'in-group util.', 'Phase 4 @848 h (extrap.)', 'Phase 4 @848 h (model bound)'],
        perCap.map((c) => [
          String(c.cap),
          fmt(c.makespanSeconds),
          fmt(c.lowerBound.lowerBoundSeconds),
          fmt(c.efficiency, 2),
          fmt(c.lowerBound.barrierBoundSeconds),
          fmt(c.barrierEfficiency, 2),
          fmt(c.modelLowerBound.lowerBoundSeconds),
          fmt(c.inGroupUtilization, 2),
          fmt(c.phase4?.extrapolatedHoursAt848Dates),
          fmt(c.phase4?.modelLowerBoundHoursAt848Dates),
        ]),
      ),
    );
    say('\nWhere the makespan went (seconds)');
    say(
      formatTable(
        ['cap', 'start-up', 'plans', 'groups', '(cap idle in groups)', 'gaps before groups', 'gaps before gates', 'gates', 'after last call'],
        perCap.map((c) => [
          String(c.cap),
          fmt(c.where.startupSeconds, 2),
          fmt(c.where.planSeconds, 2),
          fmt(c.where.groupsSeconds, 2),
          fmt(c.where.idleCapInGroupsSeconds, 2),
          fmt(c.where.gapsBetweenGroupsSeconds, 2),
          fmt(c.where.gapsBeforeGatesSeconds, 2),
          fmt(c.where.gatesSeconds, 2),
          fmt(c.where.afterLastCallSeconds, 2),
        ]),
      ),
    );
    for (const c of perCap) {
      say(`\ncap ${c.cap}: groups (span, busy, cap idle, gap before)`);
      say(
        formatTable(
          ['group', 'span s', 'busy s', 'cap idle s', 'gap before s'],
          c.groups.map((g) => [`${g.phase}.${g.group} ${g.processors.join('+')}`, fmt(g.seconds, 2), fmt(g.busySeconds, 2), fmt(g.idleCapSeconds, 2), fmt(g.gapBeforeSeconds, 2)]),
        ),
      );
    }
    if (overload) printOverload(overload);
    say(`\nresults: ${path.relative(process.cwd(), file)}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

runBench('bench:scale', main);

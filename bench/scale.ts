/**
 * `npm run bench:scale`: the whole pipeline at BigQuery-like latencies, scaled down. The warehouse
 * is wrapped in the latency model of bench/lib/latency-model.ts (per-processor seconds per date in
 * the seed's proportions, divided by BENCH_SCALE_FACTOR), and the backfill runs through Temporal
 * with the production worker at each cap of BENCH_SCALE_CAPS (1, 4, 8), the window per processor
 * equal to the cap so one processor alone can fill it.
 *
 * For each cap it reports the makespan against the lower bound — max(total work ÷ cap, critical
 * path through the groups and gates) — as an efficiency; the tighter bound of any schedule that
 * keeps the group barriers and the window; where the rest went (start-up, plans, gaps between
 * groups, gates, the cap partly idle inside groups); and what the seed's Phase 4 (848 dates) would
 * take at that cap, scaled back up. Work is measured at the warehouse (the model's wait plus
 * DuckDB's own real work); the model-only bound is reported beside it.
 *
 *   npm run bench:scale                                  # small preset (45 game dates), caps 1,4,8
 *   BENCH_SCALE_CAPS=4 BENCH_SCALE_FACTOR=200 npm run bench:scale
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
import type { BackfillRequest } from '../src/shared/types';
import { DuckDbWarehouse } from '../src/warehouse';
import { forecastPoints } from './lib/forecast';
import { SEED_LATENCY_MODEL, scaledModel, sequentialHours } from './lib/latency-model';
import { VARIANTS, runOrchestrated } from './lib/orchestrated';
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
} from './lib/setup';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' }, pino.destination(2));
const say = (s = ''): void => {
  process.stdout.write(`${s}\n`);
};

/** The dates the seed's Phase 4 ran per processor (918 game dates less the 70 bootstrap dates). */
const SEED_PHASE4_DATES = 848;
/** 100: the small preset's whole pipeline takes about 3 minutes at cap 1. */
const DEFAULT_SCALE_FACTOR = 100;

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

async function main(): Promise<void> {
  const preset = benchPreset(process.env.BENCH_PRESET, 'small');
  const maxDates = positiveIntSetting('BENCH_MAX_DATES', process.env.BENCH_MAX_DATES);
  const factor = positiveIntSetting('BENCH_SCALE_FACTOR', process.env.BENCH_SCALE_FACTOR) ?? DEFAULT_SCALE_FACTOR;
  const caps = numberListSetting('BENCH_SCALE_CAPS', process.env.BENCH_SCALE_CAPS, [1, 4, 8]);
  const phases = numberListSetting('BENCH_PHASES', process.env.BENCH_PHASES, [...KNOWN_PHASES]);
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
    say(`machine: ${m.cores} cores; caps ${caps.join(', ')}, window = cap`);

    const perCap = [];
    for (const cap of caps) {
      say(`\n[cap ${cap}] through Temporal…`);
      const request: BackfillRequest = {
        from: range.from,
        to: range.to,
        phases,
        concurrency: cap,
        gatePolicy: 'wait',
        bootstrapDays: config.bootstrapDays,
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
      const measured = scheduleBounds({ phases: workFromTimeline(t, shape), cap, window: cap, planSeconds: t.planSeconds });
      const model = scheduleBounds({ phases: modelWork(shape, planned, factor), cap, window: cap });
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
        window: cap,
      });
      const figures = {
        cap,
        window: cap,
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
        'Window per processor = cap, so the window never limits a processor below the cap.',
        'Efficiency = lower bound ÷ makespan, the bound from work measured at the warehouse: max(total work ÷ cap, critical path = plan + per group its longest date + gates). barrierEfficiency uses the bound of any schedule keeping the group barriers and the window.',
      ],
      caps: perCap,
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
    say(`\nresults: ${path.relative(process.cwd(), file)}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:scale failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);

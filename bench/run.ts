/**
 * `npm run bench`: the whole pipeline (Phases 3 → 4 → 5 → 6 over the demo range, seed volumes, on
 * DuckDB) measured twice in one run —
 *   direct:        the same activity functions in a plain loop, same order, same window, same cap
 *                  (an in-process semaphore), no Temporal → directSeconds;
 *   orchestrated:  through Temporal with the default settings (worker in a child process, fresh dev
 *                  server) → orchestratedSeconds; plus any ablation variants BENCH_VARIANTS names.
 * Reports overheadRatio = orchestrated ÷ direct, orchestration ms per date task, per phase and per
 * processor seconds and dates per hour (both runs, measured at the warehouse), the most warehouse
 * operations ever in flight (never above the cap), the longest history of any run of any workflow,
 * the worker's peak RSS, worker and server CPU seconds (the worker's and the loop's per thread), and how accurate the whole-backfill ETA of
 * `status` was at 10%, 25% and 50% of the run. Prints a table; writes bench/results/. Benchmarks
 * report; they never pass or fail on time.
 *
 *   npm run bench                                   # full range, default variant
 *   BENCH_VARIANTS=all npm run bench                # + activity-dispatch, per-date-slots, sdk-workflow-threads, eager-dispatch
 *   BENCH_PRESET=small BENCH_MAX_DATES=20 npm run bench
 *   BENCH_PHASES=3 npm run bench                    # Phase 3 only
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { createActivities } from '../src/activities';
import { dateDispatchOf, loadConfig, type Config } from '../src/config';
import { locateTemporalCli } from '../src/devserver';
import { createExportSink } from '../src/exports';
import { installTemporalRuntime } from '../src/logger';
import { createBackfillMetrics, instrumentWarehouse } from '../src/metrics';
import { KNOWN_PHASES } from '../src/pipeline/registry';
import { ensureWarehouseTables } from '../src/pipeline/tables';
import type { BackfillRequest } from '../src/shared/types';
import { createWarehouse } from '../src/warehouse';
import { BenchWarehouse } from './lib/bench-warehouse';
import { runDirectPipeline, type DirectRunResult } from './lib/direct-pipeline';
import { forecastPoints, type ForecastPoint } from './lib/forecast';
import { LocalWarehouseSlots } from './lib/local-slots';
import { runOrchestrated, selectVariants, type OrchestratedRun } from './lib/orchestrated';
import { formatThreadCpu, otherCpuBetween, processCpuSeconds, readMachineCpu, threadCpuBetween, threadCpuSeconds, type ThreadCpu } from './lib/procfs';
import { medianRound, overhead, timeBreakdown, timeline, type TimeBreakdown, type Timeline } from './lib/schedule';
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

/**
 * CPU other processes may use during a run before the bench calls it disturbed: 2 % of the
 * machine's capacity over the run, at least 2 s. A quiet machine shows 0.0 s on the full and the
 * small preset (the kernel's own threads, ~1 s, are counted apart).
 */
function interferenceLimit(runSeconds: number, cores: number): number {
  return Math.max(2, 0.02 * runSeconds * cores);
}

const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' }, pino.destination(2));
const say = (s = ''): void => {
  process.stdout.write(`${s}\n`);
};

interface DirectMeasure {
  run: DirectRunResult;
  timeline: Timeline;
  cpuSeconds: number;
  /** The bench process's threads over the loop, the busiest first. */
  threadCpu: ThreadCpu[];
  /** CPU the rest of the machine used meanwhile (all busy CPU less this process and kernel threads): interference. */
  otherCpuSeconds: number | null;
  /** CPU of the kernel's own threads meanwhile (write-back of the run's own files, mostly). */
  kernelCpuSeconds: number;
  peakRssMiB: number;
  maxInFlight: number;
  overCapCalls: number;
  warehouseCalls: number;
}

async function measureDirect(
  templateDuckdb: string,
  dir: string,
  request: BackfillRequest,
  cap: number,
  config: Config,
): Promise<DirectMeasure> {
  const duckdbPath = path.join(dir, 'direct.duckdb');
  fs.copyFileSync(templateDuckdb, duckdbPath);
  // The engine the worker builds from the same config (DuckDB's settings included), on the loop's own file.
  const bench = new BenchWarehouse(createWarehouse({ ...config, duckdbPath }), {
    cap,
    onOverCap: (n) => say(`\n!!! direct loop: ${n} warehouse operations in flight, above the cap of ${cap} !!!\n`),
  });
  // As in the worker: the metrics decorator around the warehouse, the activities' own logger.
  const metrics = createBackfillMetrics();
  const warehouse = instrumentWarehouse(bench, metrics);
  await ensureWarehouseTables(warehouse);
  const activities = createActivities({
    warehouse,
    logger: logger.child({ component: 'activity' }),
    slots: new LocalWarehouseSlots(cap),
    exportSink: createExportSink({ exportDir: path.join(dir, 'direct-exports'), gcsApiEndpoint: '' }),
    gateThresholds: config.gateThresholds,
    metrics,
  });
  let peakRss = process.memoryUsage().rss;
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 250);
  const cpu0 = process.cpuUsage();
  const threads0 = threadCpuSeconds(process.pid);
  const machine0 = readMachineCpu();
  const ticks0 = processCpuSeconds(process.pid);
  try {
    const run = await runDirectPipeline({
      activities,
      backfillId: 'bench-direct',
      from: request.from,
      to: request.to,
      phases: request.phases,
      concurrency: request.concurrency,
      bootstrapDays: request.bootstrapDays ?? 14,
      ...(request.gateThresholds ? { gateThresholds: request.gateThresholds } : {}),
    });
    const cpu = process.cpuUsage(cpu0);
    const threadCpu = threadCpuBetween(threads0, threadCpuSeconds(process.pid));
    const ticks1 = processCpuSeconds(process.pid);
    const machineCpu = otherCpuBetween(machine0, readMachineCpu(), ticks0 === null || ticks1 === null ? null : ticks1 - ticks0);
    const stats = bench.snapshot();
    if (process.env.BENCH_KEEP_DIR) fs.writeFileSync(path.join(dir, 'direct-intervals.json'), JSON.stringify(bench.intervals));
    return {
      run,
      timeline: timeline(bench.intervals, run.shape, cap),
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      threadCpu,
      ...machineCpu,
      peakRssMiB: Math.round(peakRss / 2 ** 20),
      maxInFlight: stats.maxInFlight,
      overCapCalls: stats.overCapCalls,
      warehouseCalls: stats.calls,
    };
  } finally {
    clearInterval(rssTimer);
    await bench.close();
  }
}

function variantFigures(o: OrchestratedRun, direct: DirectMeasure, cap: number) {
  return {
    name: o.variant.name,
    description: o.variant.description,
    workerOptions: o.variant.workerOptions,
    config: o.variant.config ?? {},
    serverArgs: o.variant.serverArgs,
    orchestratedSeconds: Number(o.seconds.toFixed(2)),
    ...overhead(o.seconds, direct.run.seconds, o.dateTasks),
    dateTasks: o.dateTasks,
    workerCpuSeconds: o.workerCpuSeconds === null ? null : Number(o.workerCpuSeconds.toFixed(1)),
    workerThreadCpu: o.workerThreadCpu,
    otherCpuSeconds: o.otherCpuSeconds === null ? null : Number(o.otherCpuSeconds.toFixed(1)),
    kernelCpuSeconds: Number(o.kernelCpuSeconds.toFixed(1)),
    serverCpuSeconds: o.serverCpuSeconds === null ? null : Number(o.serverCpuSeconds.toFixed(1)),
    clientCpuSeconds: Number(o.clientCpuSeconds.toFixed(1)),
    peakWorkerRssMiB: o.peakWorkerRssMiB,
    workerMemory: o.workerMemory,
    maxInFlightWarehouseOps: o.warehouse.maxInFlight,
    capHeld: o.warehouse.maxInFlight <= cap,
    warehouseCalls: o.warehouse.calls,
    maxHistoryEventsPerRun: o.history.maxHistoryEventsPerRun,
    historyRuns: o.history.runs,
    maxHistoryEventsByWorkflowType: o.history.maxByWorkflowType,
    longestRun: o.history.longestRun,
    gatesOk: o.result.gates.every((g) => g.ok),
    failedDates: failedDates(o),
  };
}

interface Round {
  round: number;
  /** What ran, in order. */
  order: string[];
  direct: DirectMeasure;
  runs: OrchestratedRun[];
  /** The measured variant's seconds ÷ the loop's, this round. */
  ratio: number;
}

/** Dates the run recorded as failed, over its processors. */
function failedDates(o: OrchestratedRun): number {
  return o.result.processors.reduce((n, p) => n + Object.keys(p.failed).length, 0);
}

/** The run whose ratio the bench reports: the default variant's, else the first variant's. */
function measuredRun(runs: readonly OrchestratedRun[]): OrchestratedRun {
  const run = runs.find((r) => r.variant.name === 'default') ?? runs[0];
  if (!run) throw new Error('no variant ran');
  return run;
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

function reportDirect(direct: DirectMeasure): void {
  say(`[direct] ${direct.run.seconds.toFixed(1)} s, ${direct.run.dateTasks} date tasks, ${direct.cpuSeconds.toFixed(1)} CPU s, max in flight ${direct.maxInFlight}, ${direct.warehouseCalls} warehouse calls`);
  say(`[direct] CPU s by thread: ${formatThreadCpu(direct.threadCpu)}; other processes on the machine meanwhile ${fmt(direct.otherCpuSeconds)} CPU s, kernel threads ${fmt(direct.kernelCpuSeconds)}`);
  if (direct.run.failures.length > 0) say(`!!! direct loop: ${direct.run.failures.length} dates failed, e.g. ${JSON.stringify(direct.run.failures[0])}`);
}

function reportOrchestrated(run: OrchestratedRun): void {
  const name = run.variant.name;
  say(
    `[${name}] ${run.seconds.toFixed(1)} s, ${run.dateTasks} date tasks, worker CPU ${fmt(run.workerCpuSeconds)} s, ` +
      `server CPU ${fmt(run.serverCpuSeconds)} s, bench client CPU ${fmt(run.clientCpuSeconds)} s, peak worker RSS ${fmt(run.peakWorkerRssMiB, 0)} MiB, ` +
      `max in flight ${run.warehouse.maxInFlight}, longest history ${run.history.maxHistoryEventsPerRun} events`,
  );
  say(`[${name}] worker CPU s by thread: ${formatThreadCpu(run.workerThreadCpu)}; other processes on the machine meanwhile ${fmt(run.otherCpuSeconds)} CPU s, kernel threads ${fmt(run.kernelCpuSeconds)}`);
  const mem = run.workerMemory;
  const peak = mem.atPeak ? `; at the RSS peak ${mem.atPeak.rssAnonMiB} MiB private, ${mem.atPeak.rssFileMiB} MiB mapped files (code)` : '';
  const duck = mem.duckdbMiB !== undefined ? `; DuckDB's own accounting at most ${mem.duckdbMiB} MiB` : '';
  say(
    `[${name}] worker memory peaks: RSS ${mem.rssMiB} MiB, JS heap ${mem.heapUsedMiB} MiB, external ${mem.externalMiB} MiB ` +
      `(array buffers ${mem.arrayBuffersMiB} MiB)${peak}${duck}; the rest is native (Temporal's core, V8 besides the JS heap, allocators)`,
  );
}

async function main(): Promise<void> {
  const preset = benchPreset(process.env.BENCH_PRESET, 'full');
  const maxDates = positiveIntSetting('BENCH_MAX_DATES', process.env.BENCH_MAX_DATES);
  const phases = numberListSetting('BENCH_PHASES', process.env.BENCH_PHASES, [...KNOWN_PHASES]);
  const variants = selectVariants(process.env.BENCH_VARIANTS, 'default');
  const rounds = positiveIntSetting('BENCH_ROUNDS', process.env.BENCH_ROUNDS) ?? 3;
  // The deployment's defaults (or what the environment sets), on the embedded engine.
  const config = loadConfig(process.env, { warehouse: 'duckdb' });
  const cap = config.warehouseMaxInFlight;
  const concurrency = config.defaultConcurrency;
  installTemporalRuntime(logger);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'props-backfill-bench-'));
  try {
    const range = await prepareTemplate(dir, preset, maxDates);
    const bundle = await prepareWorkflowBundle(dir);
    const cliPath = await locateTemporalCli({ allowBuild: true });
    const request: BackfillRequest = {
      from: range.from,
      to: range.to,
      phases,
      concurrency,
      gatePolicy: 'wait',
      bootstrapDays: config.bootstrapDays,
      ...(Object.keys(config.gateThresholds).length > 0 ? { gateThresholds: config.gateThresholds } : {}),
      dateDispatch: dateDispatchOf(config),
    };
    const m = machine();
    say(`Pipeline bench: preset ${preset}, ${range.from} → ${range.to} (${range.gameDates.length} game dates), phases ${phases.join(',')}`);
    say(`window ${concurrency} dates per processor, warehouse cap ${cap}, DuckDB memory limit ${config.duckdbMemoryLimit}, threads ${config.duckdbThreads}; machine: ${m.cores} cores, ${m.cpuModel}`);
    say(`variants: ${variants.map((v) => v.name).join(', ')}; ${rounds} round(s), the order rotated each round`);

    // Rounds, the order rotated each round (loop first, then Temporal first, …): the machine's
    // speed drifts over minutes (the same loop took 78–107 s on this machine), and a single pair
    // measured one after the other puts that drift into the ratio.
    const allRounds: Round[] = [];
    for (let r = 0; r < rounds; r++) {
      const roundDir = path.join(dir, `round-${r + 1}`);
      fs.mkdirSync(roundDir, { recursive: true });
      const items: Array<'direct' | (typeof variants)[number]> = ['direct', ...variants];
      const order = items.map((_, i) => items[(i + r) % items.length]!);
      let direct: DirectMeasure | undefined;
      const runs: OrchestratedRun[] = [];
      for (const item of order) {
        if (item === 'direct') {
          say(`\n[round ${r + 1}/${rounds}] [direct] the activities in a plain loop…`);
          direct = await measureDirect(range.templateDuckdb, roundDir, request, cap, config);
          reportDirect(direct);
          continue;
        }
        const variant = item;
        say(`\n[round ${r + 1}/${rounds}] [${variant.name}] through Temporal…`);
        const run = await runOrchestrated({
          variant,
          cliPath,
          dir: path.join(roundDir, variant.name),
          templateDuckdb: range.templateDuckdb,
          workflowBundlePath: bundle,
          request,
          cap,
          duckdbMemoryLimit: config.duckdbMemoryLimit,
          duckdbThreads: config.duckdbThreads,
          etaPollMs: 2_000,
          logger,
        });
        runs.push(run);
        reportOrchestrated(run);
        // Only the kept folder needs the warehouse files; a round's copies are hundreds of MiB.
        if (!process.env.BENCH_KEEP_DIR) fs.rmSync(path.join(roundDir, variant.name, 'warehouse.duckdb'), { force: true });
      }
      if (!direct) throw new Error('the plain loop did not run');
      if (!process.env.BENCH_KEEP_DIR) fs.rmSync(path.join(roundDir, 'direct.duckdb'), { force: true });
      const measured = measuredRun(runs);
      allRounds.push({ round: r + 1, order: order.map((x) => (x === 'direct' ? 'direct' : x.name)), direct, runs, ratio: measured.seconds / direct.run.seconds });
      say(`[round ${r + 1}/${rounds}] ${measured.variant.name} ÷ direct = ${fmt(measured.seconds / direct.run.seconds, 3)} (${fmt(measured.seconds)} s / ${fmt(direct.run.seconds)} s)`);
    }
    // The round with the median ratio carries the detailed figures (phases, processors, breakdown);
    // limits (cap, history, RSS) are the worst over every round.
    const representative = medianRound(allRounds);
    const { direct, runs } = representative;
    const main = measuredRun(runs);
    const mainTimeline = timeline(main.intervals, direct.run.shape, cap);
    const variantsOut = runs.map((r) => variantFigures(r, direct, cap));
    const defaultSeconds = runs.find((r) => r.variant.name === 'default')?.seconds;
    const forecast: ForecastPoint[] = forecastPoints(main.etaSamples, main.startMs, main.endMs);
    const mainFigures = variantFigures(main, direct, cap);
    const breakdown = { orchestrated: timeBreakdown(mainTimeline, cap), direct: timeBreakdown(direct.timeline, cap) };
    const everyRun = allRounds.flatMap((r) => r.runs);
    const maxInFlight = Math.max(...allRounds.map((r) => r.direct.maxInFlight), ...everyRun.map((r) => r.warehouse.maxInFlight));
    const mainName = main.variant.name;
    const mainRuns = allRounds.map((r) => measuredRun(r.runs));
    const peakRss = Math.max(...mainRuns.map((r) => r.peakWorkerRssMiB ?? 0));
    const ratios = allRounds.map((r) => r.ratio);

    const at = new Date().toISOString();
    const results = {
      name: `pipeline-${preset}${maxDates !== undefined ? `-${range.gameDates.length}dates` : ''}${phases.join('') !== KNOWN_PHASES.join('') ? `-p${phases.join('')}` : ''}`,
      at,
      commit: gitCommit(),
      machine: m,
      preset,
      from: range.from,
      to: range.to,
      phases,
      dates: range.gameDates.length,
      dateTasks: main.dateTasks,
      cap,
      concurrency,
      duckdbMemoryLimit: config.duckdbMemoryLimit,
      duckdbThreads: config.duckdbThreads,
      measuredVariant: main.variant.name,
      /** The round with the median ratio: its two runs give the seconds and every detailed figure below. */
      representativeRound: representative.round,
      orchestratedSeconds: mainFigures.orchestratedSeconds,
      directSeconds: Number(direct.run.seconds.toFixed(2)),
      /** The median over the rounds of orchestrated ÷ direct (each round's pair measured back to back). */
      overheadRatio: mainFigures.overheadRatio,
      orchestrationMsPerTask: mainFigures.orchestrationMsPerTask,
      /** Every round's ratio, and Σ orchestrated ÷ Σ direct over the rounds. */
      overheadRatios: ratios.map((x) => Number(x.toFixed(3))),
      overheadRatioPooled: Number((sum(mainRuns.map((r) => r.seconds)) / sum(allRounds.map((r) => r.direct.run.seconds))).toFixed(3)),
      rounds: allRounds.map((r) => ({
        round: r.round,
        order: r.order,
        directSeconds: Number(r.direct.run.seconds.toFixed(2)),
        directCpuSeconds: Number(r.direct.cpuSeconds.toFixed(1)),
        directOtherCpuSeconds: r.direct.otherCpuSeconds === null ? null : Number(r.direct.otherCpuSeconds.toFixed(1)),
        orchestrated: r.runs.map((o) => ({
          variant: o.variant.name,
          seconds: Number(o.seconds.toFixed(2)),
          ratio: Number((o.seconds / r.direct.run.seconds).toFixed(3)),
          workerCpuSeconds: o.workerCpuSeconds === null ? null : Number(o.workerCpuSeconds.toFixed(1)),
          serverCpuSeconds: o.serverCpuSeconds === null ? null : Number(o.serverCpuSeconds.toFixed(1)),
          otherCpuSeconds: o.otherCpuSeconds === null ? null : Number(o.otherCpuSeconds.toFixed(1)),
          peakWorkerRssMiB: o.peakWorkerRssMiB,
        })),
      })),
      maxInFlightWarehouseOps: maxInFlight,
      capHeld: maxInFlight <= cap,
      maxHistoryEventsPerRun: Math.max(...everyRun.map((r) => r.history.maxHistoryEventsPerRun)),
      /** The highest over every round's run of the measured variant. */
      peakWorkerRssMiB: peakRss,
      workerCpuSeconds: mainFigures.workerCpuSeconds,
      workerThreadCpu: mainFigures.workerThreadCpu,
      otherCpuSeconds: mainFigures.otherCpuSeconds,
      serverCpuSeconds: mainFigures.serverCpuSeconds,
      clientCpuSeconds: mainFigures.clientCpuSeconds,
      /** Adaptive load during the measured run: the admitted limit sampled with the ETA, and its changes. */
      admittedWarehouseLimit: main.admitted,
      direct: {
        seconds: Number(direct.run.seconds.toFixed(2)),
        dateTasks: direct.run.dateTasks,
        cpuSeconds: Number(direct.cpuSeconds.toFixed(1)),
        threadCpu: direct.threadCpu,
        otherCpuSeconds: direct.otherCpuSeconds === null ? null : Number(direct.otherCpuSeconds.toFixed(1)),
        kernelCpuSeconds: Number(direct.kernelCpuSeconds.toFixed(1)),
        peakProcessRssMiB: direct.peakRssMiB,
        maxInFlightWarehouseOps: direct.maxInFlight,
        warehouseCalls: direct.warehouseCalls,
        failedDates: direct.run.failures.length,
        gatesOk: direct.run.gates.every((g) => g.ok),
      },
      overheadBreakdown: breakdown,
      phaseFigures: mainTimeline.phases.map((p) => ({
        phase: p.phase,
        orchestrated: p,
        direct: direct.timeline.phases.find((d) => d.phase === p.phase) ?? null,
      })),
      processorFigures: mainTimeline.processors.map((p) => ({
        processor: p.processor,
        phase: p.phase,
        group: p.group,
        orchestrated: { dates: p.dates, seconds: p.seconds, datesPerHour: p.datesPerHour },
        direct: (({ dates, seconds, datesPerHour }) => ({ dates, seconds, datesPerHour }))(
          direct.timeline.processors.find((d) => d.processor === p.processor) ?? { dates: 0, seconds: 0, datesPerHour: 0 },
        ),
      })),
      forecast: {
        note: 'the whole-backfill ETA `status` showed, sampled every 2 s during the measured run; error = predicted end − actual end (positive: pessimistic), also as % of the time that actually remained',
        samples: main.etaSamples.length,
        points: forecast,
        /** Every sample: [seconds since start, % finished, ETA seconds]. */
        series: main.etaSamples.map((e) => [Number(((e.atMs - main.startMs) / 1000).toFixed(1)), e.percentFinished, e.etaSeconds]),
      },
      variants: variantsOut.map((v) => ({
        ...v,
        vsDefaultSeconds: defaultSeconds === undefined ? null : Number((v.orchestratedSeconds - defaultSeconds).toFixed(2)),
      })),
      notes: [
        'Per phase and per processor seconds are measured at the warehouse in both runs: a processor from its first date call to its last; a phase from its first date call to the end of its gate.',
        'The worker runs in a child process (production createBackfillWorker); workerCpuSeconds and peakWorkerRssMiB are that process alone (/proc), serverCpuSeconds the dev server process, both over the backfill (start-up excluded); workerThreadCpu and direct.threadCpu are per thread (main = the main thread; Node names its other threads all "node": the libuv pool, where DuckDB calls run, and V8 platform threads; threads that ended during the run are not listed).',
        'otherCpuSeconds (each run): CPU the rest of the machine used meanwhile, from /proc/stat less the processes measured and the kernel threads (kernelCpuSeconds, mostly write-back of the files of the run itself); above 2 % of the machine capacity over the run (at least 2 s) the bench prints that the figures are not comparable.',
        'directSeconds includes planning, the per-group barriers and the gates, like the workflow; the direct loop holds the cap with an in-process semaphore.',
      ],
    };
    const file = writeResults(results.name, at, results);

    say(`\nRounds (the order rotated each round; ratio = ${mainName} ÷ direct)`);
    say(
      formatTable(
        ['round', 'order', 'direct s', ...variants.map((v) => `${v.name} s`), 'ratio'],
        allRounds.map((r) => [
          `${r.round}${r === representative ? ' (median)' : ''}`,
          r.order.join(' → '),
          fmt(r.direct.run.seconds),
          ...variants.map((v) => fmt(r.runs.find((x) => x.variant.name === v.name)?.seconds)),
          fmt(r.ratio, 3),
        ]),
      ),
    );
    say(`\nFigures (round ${representative.round})`);
    say(
      formatTable(
        ['', 'seconds', '× direct', 'ms/task', 'worker CPU s', 'server CPU s', 'peak RSS MiB', 'max in flight', 'max history'],
        [
          ['direct loop', fmt(direct.run.seconds), '1.00', '', fmt(direct.cpuSeconds), '', String(direct.peakRssMiB), String(direct.maxInFlight), ''],
          ...variantsOut.map((v) => [
            `temporal: ${v.name}`,
            fmt(v.orchestratedSeconds),
            fmt(v.overheadRatio, 2),
            fmt(v.orchestrationMsPerTask),
            fmt(v.workerCpuSeconds),
            fmt(v.serverCpuSeconds),
            fmt(v.peakWorkerRssMiB, 0),
            String(v.maxInFlightWarehouseOps),
            String(v.maxHistoryEventsPerRun),
          ]),
        ],
      ),
    );
    say(`\nWhere the time went (${main.variant.name} vs direct, from the warehouse's calls; seconds unless said)`);
    const rows: Array<[string, keyof TimeBreakdown]> = [
      ['first call to last', 'spanSeconds'],
      ['inside dependency groups', 'groupsSeconds'],
      ['  date work ÷ cap', 'dateWorkPerCapSeconds'],
      ['  cap left idle', 'idleCapInGroupsSeconds'],
      ['gaps before groups', 'gapsBeforeGroupsSeconds'],
      ['gates (with the gap before)', 'gatesSeconds'],
      ['planning', 'planSeconds'],
      ['warehouse ms per date task', 'dateTaskMs'],
    ];
    say(
      formatTable(
        ['', 'temporal', 'direct', 'difference'],
        rows.map(([label, k]) => [label, fmt(breakdown.orchestrated[k], 2), fmt(breakdown.direct[k], 2), fmt(breakdown.orchestrated[k] - breakdown.direct[k], 2)]),
      ),
    );
    say(`\nPer phase (${main.variant.name} vs direct; dates/h = distinct game dates)`);
    say(
      formatTable(
        ['phase', 'temporal s', 'direct s', 'temporal dates/h', 'direct dates/h', 'gate s (t/d)'],
        results.phaseFigures.map((p) => [
          String(p.phase),
          fmt(p.orchestrated.seconds),
          fmt(p.direct?.seconds),
          fmt(p.orchestrated.datesPerHour, 0),
          fmt(p.direct?.datesPerHour, 0),
          `${fmt(p.orchestrated.gateSeconds, 2)} / ${fmt(p.direct?.gateSeconds, 2)}`,
        ]),
      ),
    );
    say('\nPer processor');
    say(
      formatTable(
        ['processor', 'dates', 'temporal s', 'direct s', 'temporal dates/h', 'direct dates/h'],
        results.processorFigures.map((p) => [
          `${p.phase}.${p.group} ${p.processor}`,
          String(p.orchestrated.dates),
          fmt(p.orchestrated.seconds),
          fmt(p.direct.seconds),
          fmt(p.orchestrated.datesPerHour, 0),
          fmt(p.direct.datesPerHour, 0),
        ]),
      ),
    );
    say(
      `\nAdaptive load: admitted limit min ${main.admitted.min ?? '—'}, mean ${main.admitted.mean ?? '—'} of cap ${cap} over ${main.admitted.samples} samples` +
        (main.admitted.changes.length > 0 ? `; changes:\n${main.admitted.changes.map((c) => `  ${c}`).join('\n')}` : '; no change'),
    );
    say(`\nForecast accuracy of the whole-backfill ETA (${main.etaSamples.length} samples, run of ${main.seconds.toFixed(0)} s)`);
    say(
      formatTable(
        ['point', 'at s', 'finished %', 'ETA s', 'predicted end s', 'actual end s', 'error s', 'error % of remaining'],
        forecast.map((f) => [
          `${f.at}% ${f.by}`,
          fmt(f.sampledAtSeconds),
          String(f.percentFinished),
          fmt(f.etaSeconds, 0),
          fmt(f.predictedEndSeconds),
          fmt(f.actualEndSeconds),
          fmt(f.errorSeconds),
          fmt(f.errorPctOfRemaining),
        ]),
      ),
    );
    say(
      `\noverheadRatio ${results.overheadRatio}, the median of ${rounds} round(s): ${results.overheadRatios.join(', ')} ` +
        `(pooled ${results.overheadRatioPooled}); round ${representative.round}: ${results.orchestratedSeconds} s / ${results.directSeconds} s, ` +
        `${results.orchestrationMsPerTask} ms of orchestration per date task over ${results.dateTasks} tasks; peak worker RSS over the rounds ${peakRss} MiB`,
    );
    // A run that failed dates did less (or more, retrying) work than the other: its ratio compares unlike runs.
    const failedDirect = sum(allRounds.map((r) => r.direct.run.failures.length));
    const failedOrchestrated = sum(allRounds.map((r) => failedDates(measuredRun(r.runs))));
    if (failedDirect > 0 || failedOrchestrated > 0) {
      say(`!!! not comparable: dates failed (plain loop ${failedDirect}, through Temporal ${failedOrchestrated}); see the messages above`);
    }
    // Something else busy on the machine (a build, a test run) slows one run and not the other.
    const interfered = allRounds.flatMap((round) => [
      { run: `the plain loop (round ${round.round})`, other: round.direct.otherCpuSeconds, seconds: round.direct.run.seconds },
      ...round.runs.map((r) => ({ run: `temporal: ${r.variant.name} (round ${round.round})`, other: r.otherCpuSeconds, seconds: r.seconds })),
    ]).filter((x) => x.other !== null && x.other > interferenceLimit(x.seconds, m.cores));
    for (const x of interfered) {
      say(`!!! not comparable: other processes on this machine used ${fmt(x.other)} CPU s during ${x.run}`);
    }
    if (!results.capHeld) say(`!!! THE WAREHOUSE CAP OF ${cap} WAS EXCEEDED: ${maxInFlight} operations in flight !!!`);
    else say(`warehouse cap ${cap} held: at most ${maxInFlight} operations in flight`);
    say(`results: ${path.relative(process.cwd(), file)}`);
  } finally {
    // BENCH_KEEP_DIR (any value, as in bench:recovery) keeps the run's files (warehouse intervals, logs) to study.
    if (process.env.BENCH_KEEP_DIR) say(`kept: ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}

runBench('bench', main);

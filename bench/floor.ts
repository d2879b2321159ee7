/**
 * `npm run bench:floor`: what Temporal itself costs per date, with no warehouse to compete with.
 *
 * The full bench (`npm run bench`) measures the whole pipeline through Temporal against a plain
 * loop; on 2 cores the two share the CPU with DuckDB, so its ratio mixes Temporal's own cost with
 * the contention that cost causes. This bench takes DuckDB out: the production processor workflow
 * (the production bundle, the production Worker class, workflow code in the main thread, local
 * dispatch as on DuckDB) runs as many dates as the full pipeline's date tasks, each date an
 * activity that holds one of `cap` slots for BENCH_FLOOR_DATE_MS (a timer, no CPU) — the full
 * bench's mean date at the warehouse — with the default window and cap, BENCH_FLOOR_PROCESSORS
 * processors side by side. Beside it the same activity in a plain loop, same window, same cap.
 *
 * It reports both runs' seconds and their ratio (the latency Temporal adds when the CPU is free),
 * and the CPU Temporal spends per date: this process by thread (the worker's main thread, where the
 * workflows and activities run, the SDK core's threads) and the dev server. That CPU is what the
 * full bench's Temporal run needs on top of the loop's, before any contention.
 *
 *   npm run bench:floor
 *   BENCH_FLOOR_DATES=2000 npm run bench:floor
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import pino from 'pino';
import { loadConfig, workflowStackTracesOf } from '../src/config';
import { locateTemporalCli } from '../src/devserver';
import { installTemporalRuntime } from '../src/logger';
import { LOCAL_DISPATCH_TASK_TIMEOUT_MS, type ProcessorWorkflowInput } from '../src/shared/types';
import { workerClassRunningWorkflowsInProcess } from '../src/workflow-runtime';
import { slidingWindow } from './lib/direct-pipeline';
import { LocalWarehouseSlots } from './lib/local-slots';
import { processCpuSeconds, threadCpuBetween, threadCpuSeconds, formatThreadCpu, type ThreadCpu } from './lib/procfs';
import { fmt, formatTable, gitCommit, machine, positiveIntSetting, prepareWorkflowBundle, runBench, startRunServer, writeResults } from './lib/setup';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' }, pino.destination(2));
const say = (s = ''): void => {
  process.stdout.write(`${s}\n`);
};

/** The full bench's date tasks (918 game dates, Phases 3–6). */
const FULL_PIPELINE_DATE_TASKS = 11_333;

/** Dates that each hold one of `cap` slots (the plain loop's semaphore) for `ms` and do nothing else. */
function idleDates(cap: number, ms: number) {
  const slots = new LocalWarehouseSlots(cap);
  let maxHeld = 0;
  const runProcessorForDate = async (input: { processor: string; date: string }) => {
    const release = await slots.acquire(input.date);
    maxHeld = Math.max(maxHeld, slots.inUse());
    try {
      await new Promise((resolve) => setTimeout(resolve, ms));
    } finally {
      await release();
    }
    return { processor: input.processor, date: input.date, rowsWritten: 1, bytesBilled: 0, warehouseMs: ms };
  };
  return { activities: { runProcessorForDate }, maxHeld: () => maxHeld };
}

interface Measured {
  seconds: number;
  threads: ThreadCpu[];
  processCpuSeconds: number;
  serverCpuSeconds?: number;
  maxInFlight: number;
}

/** This process's CPU seconds since `before` (/proc, every thread, ended ones included). */
function cpuSince(before: number | null): number {
  const now = processCpuSeconds(process.pid);
  return before === null || now === null ? Number.NaN : now - before;
}

async function main(): Promise<void> {
  const dates = positiveIntSetting('BENCH_FLOOR_DATES', process.env.BENCH_FLOOR_DATES) ?? FULL_PIPELINE_DATE_TASKS;
  const dateMs = positiveIntSetting('BENCH_FLOOR_DATE_MS', process.env.BENCH_FLOOR_DATE_MS) ?? 26;
  const processors = positiveIntSetting('BENCH_FLOOR_PROCESSORS', process.env.BENCH_FLOOR_PROCESSORS) ?? 4;
  const config = loadConfig(process.env, { warehouse: 'duckdb' });
  const cap = config.warehouseMaxInFlight;
  const window = config.defaultConcurrency;
  installTemporalRuntime(logger);
  const perProcessor = Array.from({ length: processors }, (_, i) => Math.floor(dates / processors) + (i < dates % processors ? 1 : 0));
  const dateLists = perProcessor.map((n, i) => Array.from({ length: n }, (_, k) => `p${i}-${k}`));

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'props-backfill-floor-'));
  try {
    const bundle = await prepareWorkflowBundle(dir);
    const cliPath = await locateTemporalCli({ allowBuild: true });
    say(`Floor bench: ${dates} dates of ${dateMs} ms, ${processors} processors side by side, window ${window}, cap ${cap}`);

    // The plain loop: each processor's dates through a sliding window, the cap held by the same slots.
    say('[direct] the dates in a plain loop…');
    const loopDates = idleDates(cap, dateMs);
    const loopThreads0 = threadCpuSeconds(process.pid);
    const loopCpu0 = processCpuSeconds(process.pid);
    const loopStart = Date.now();
    await Promise.all(
      dateLists.map((list, i) => slidingWindow(list, window, async (date) => void (await loopDates.activities.runProcessorForDate({ processor: `p${i}`, date })))),
    );
    const direct: Measured = {
      seconds: (Date.now() - loopStart) / 1000,
      threads: threadCpuBetween(loopThreads0, threadCpuSeconds(process.pid)),
      processCpuSeconds: cpuSince(loopCpu0),
      maxInFlight: loopDates.maxHeld(),
    };
    say(`[direct] ${fmt(direct.seconds)} s, CPU ${fmt(direct.processCpuSeconds)} s (${formatThreadCpu(direct.threads)})`);

    say('[temporal] the production processor workflow, local dispatch…');
    const server = await startRunServer(cliPath, dir);
    try {
      const connection = await NativeConnection.connect({ address: server.address });
      const clientConnection = await Connection.connect({ address: server.address });
      const client = new Client({ connection: clientConnection });
      const taskQueue = 'floor';
      const temporalDates = idleDates(cap, dateMs);
      const WorkerClass = workerClassRunningWorkflowsInProcess({ stackTraces: workflowStackTracesOf(config) });
      const worker = await WorkerClass.create({ connection, taskQueue, workflowBundle: { codePath: bundle }, activities: temporalDates.activities });
      const running = worker.run();
      try {
        const threads0 = threadCpuSeconds(process.pid);
        const cpu0 = processCpuSeconds(process.pid);
        const server0 = processCpuSeconds(server.pid);
        const start = Date.now();
        await Promise.all(
          dateLists.map((list, i) => {
            const input: ProcessorWorkflowInput = {
              backfillId: 'floor',
              processor: `p${i}`,
              phase: 3,
              dates: list,
              skipped: [],
              concurrency: window,
              dateDispatch: 'local',
            };
            // As the backfill starts its children with local dispatch: a checkpoint every 80 % of this.
            return client.workflow.execute('processorBackfillWorkflow', {
              taskQueue,
              workflowId: `floor/p${i}`,
              args: [input],
              workflowTaskTimeout: LOCAL_DISPATCH_TASK_TIMEOUT_MS,
            });
          }),
        );
        const seconds = (Date.now() - start) / 1000;
        const threads = threadCpuBetween(threads0, threadCpuSeconds(process.pid));
        const server1 = processCpuSeconds(server.pid);
        const temporal: Measured = {
          seconds,
          threads,
          processCpuSeconds: cpuSince(cpu0),
          ...(server0 !== null && server1 !== null ? { serverCpuSeconds: server1 - server0 } : {}),
          maxInFlight: temporalDates.maxHeld(),
        };
        say(`[temporal] ${fmt(temporal.seconds)} s, CPU ${fmt(temporal.processCpuSeconds)} s (${formatThreadCpu(temporal.threads)}), server ${fmt(temporal.serverCpuSeconds)} s`);
        report({ dates, dateMs, processors, window, cap, direct, temporal });
      } finally {
        worker.shutdown();
        await running;
        await clientConnection.close();
        await connection.close();
      }
    } finally {
      await server.stop();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function report(r: { dates: number; dateMs: number; processors: number; window: number; cap: number; direct: Measured; temporal: Measured }): void {
  const { direct, temporal } = r;
  const extraCpu = temporal.processCpuSeconds - direct.processCpuSeconds + (temporal.serverCpuSeconds ?? 0);
  const cpuMsPerDate = (extraCpu / r.dates) * 1000;
  const mainThread = (m: Measured): number => m.threads.find((t) => t.thread === 'main')?.cpuSeconds ?? 0;
  const at = new Date().toISOString();
  const results = {
    name: 'floor',
    at,
    commit: gitCommit(),
    machine: machine(),
    dates: r.dates,
    dateMs: r.dateMs,
    processors: r.processors,
    window: r.window,
    cap: r.cap,
    directSeconds: direct.seconds,
    temporalSeconds: temporal.seconds,
    latencyRatio: Number((temporal.seconds / direct.seconds).toFixed(3)),
    directCpuSeconds: Number(direct.processCpuSeconds.toFixed(1)),
    temporalProcessCpuSeconds: Number(temporal.processCpuSeconds.toFixed(1)),
    temporalMainThreadCpuSeconds: Number(mainThread(temporal).toFixed(1)),
    serverCpuSeconds: temporal.serverCpuSeconds === undefined ? null : Number(temporal.serverCpuSeconds.toFixed(1)),
    temporalCpuMsPerDate: Number(cpuMsPerDate.toFixed(2)),
    maxInFlight: { direct: direct.maxInFlight, temporal: temporal.maxInFlight },
    threads: { direct: direct.threads, temporal: temporal.threads },
    notes: [
      'No warehouse: each date holds one of `cap` slots for dateMs on a timer. The workflow, the worker class, the bundle and the dispatch are production ones.',
      'temporalCpuMsPerDate = (this process\'s CPU in the Temporal run − in the loop + the dev server\'s CPU) ÷ dates: what Temporal adds per date on a machine with CPU to spare.',
    ],
  };
  say();
  say(
    formatTable(
      ['run', 'seconds', 'CPU s (this process)', 'main thread', 'server CPU s', 'max in flight'],
      [
        ['plain loop', fmt(direct.seconds), fmt(direct.processCpuSeconds), fmt(mainThread(direct)), '—', String(direct.maxInFlight)],
        ['through Temporal', fmt(temporal.seconds), fmt(temporal.processCpuSeconds), fmt(mainThread(temporal)), fmt(temporal.serverCpuSeconds), String(temporal.maxInFlight)],
      ],
    ),
  );
  say();
  say(`latency ratio ${results.latencyRatio} (${fmt(temporal.seconds, 2)} s / ${fmt(direct.seconds, 2)} s); Temporal's CPU ${fmt(cpuMsPerDate, 2)} ms per date (${fmt(extraCpu)} s over ${r.dates} dates, server included)`);
  const file = writeResults('floor', at, results);
  say(`written: ${path.relative(process.cwd(), file)} (and floor-latest.json)`);
}

runBench('bench:floor', main);

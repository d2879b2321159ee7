/**
 * One orchestrated run of the bench: a fresh Temporal dev server (with the variant's extra
 * arguments), a fresh copy of the seeded DuckDB file, the production worker in a child process
 * (bench-worker.ts) with the variant's worker options, and the backfill started and awaited as
 * `backfill start --wait` would. Measures, over the backfill alone (worker start-up excluded):
 * wall seconds, the worker's and the server's CPU seconds (/proc), the worker's peak RSS, the
 * warehouse's calls (in flight, intervals), the longest history of any run of any workflow on the
 * server (closed continued-as-new runs included), and — polled every couple of seconds — the
 * whole-backfill ETA `status` shows, for the forecast-accuracy figures.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Logger } from 'pino';
import { getBackfillStatus, startBackfill } from '../../src/client/backfill-client';
import type { ConfigOverrides } from '../../src/config';
import { WAREHOUSE_LOAD_MEMO, type WarehouseLoadMemo } from '../../src/shared/messages';
import { WORKER_NODE_OPTIONS } from '../../src/node-options';
import { percentFinished } from '../../src/shared/progress';
import type { BackfillRequest, BackfillResult } from '../../src/shared/types';
import type { BenchWarehouseStats } from './bench-warehouse';
import { epochMs } from './bench-warehouse';
import type { BenchWorkerOptions, ChildMessage, ParentMessage, WorkerMemory } from './bench-worker';
import type { EtaSample } from './forecast';
import { otherCpuBetween, processCpuSeconds, readMachineCpu, processPeakRssMiB, threadCpuBetween, threadCpuSeconds, type ThreadCpu } from './procfs';
import type { CallInterval } from './schedule';
import { sleep, waitForChildMessage } from './child-messages';
import { BenchSettingError, startRunServer } from './setup';
const waitFor = <T extends ChildMessage['type']>(child: ChildProcess, type: T, timeoutMs: number): Promise<Extract<ChildMessage, { type: T }>> =>
  waitForChildMessage<ChildMessage, T>(child, type, timeoutMs, 'bench worker');


/** One way of running the orchestrated backfill, for ablation: what a change buys shows as the difference. */
export interface Variant {
  name: string;
  description: string;
  /** Extra createBackfillWorker options (passed through as given). */
  workerOptions: Record<string, unknown>;
  /** Extra `temporal server start-dev` arguments. */
  serverArgs: string[];
  /** Changes to the backfill request (e.g. how dates are dispatched). */
  request?: Partial<BackfillRequest>;
  /** The worker's settings changed, as its environment would (e.g. WORKFLOW_STACK_TRACES). */
  config?: ConfigOverrides;
}

export const VARIANTS: readonly Variant[] = [
  { name: 'default', description: 'default settings', workerOptions: {}, serverArgs: [] },
  {
    name: 'activity-dispatch',
    // DateDispatch 'activity': each date a regular activity (the default on BigQuery), where the
    // DuckDB default is a local activity. What local dispatch buys shows as the difference.
    description: "dateDispatch 'activity': every date a regular activity (schedule, poll, complete, a workflow task each)",
    workerOptions: {},
    serverArgs: [],
    request: { dateDispatch: 'activity' },
  },
  {
    name: 'per-date-slots',
    // BackfillWorkerOptions.slotLeasing: 'process' (default) leases a share of the cap per worker
    // process; 'per-date' is the earlier protocol, one update and one signal to the slots workflow
    // per date. Passed through untyped, so this variant still runs (as the default) on a tree
    // where the option does not exist.
    description: "slotLeasing 'per-date': an update and a signal to the slots workflow for every date",
    workerOptions: { slotLeasing: 'per-date' },
    serverArgs: [],
  },
  {
    name: 'sdk-workflow-threads',
    // BackfillWorkerOptions.workflowRuntime: 'sdk-threads' is the SDK's default, each Worker's
    // workflow code on a thread of its own with a vm time-out (a watchdog thread started and joined)
    // on every call into it; the default runs it in the main thread under our stall watchdog.
    description: "workflowRuntime 'sdk-threads': the SDK's workflow threads, a vm time-out on every call",
    workerOptions: { workflowRuntime: 'sdk-threads' },
    serverArgs: [],
  },
  {
    name: 'stack-traces',
    // WORKFLOW_STACK_TRACES=on: the SDK's stack-trace promise hooks, which every promise of the
    // worker passes through; `auto` leaves them off on DuckDB. What that buys shows as the difference.
    description: 'WORKFLOW_STACK_TRACES=on: the Web UI stack traces, the SDK promise hooks on every promise',
    workerOptions: {},
    serverArgs: [],
    config: { workflowStackTraces: 'on' },
  },
  {
    name: 'sqlite-fsync',
    // The dev server's persisted file with SQLite's own defaults, as before PERSISTED_SQLITE_PRAGMAS
    // (src/devserver/server.ts): a rollback journal synced on every commit. Later pragmas win.
    description: 'dev server SQLite with a rollback journal and synchronous=FULL (an fsync per commit), SQLite\'s default',
    workerOptions: {},
    serverArgs: ['--sqlite-pragma', 'journal_mode=delete', '--sqlite-pragma', 'synchronous=full'],
  },
  {
    name: 'eager-dispatch',
    description: 'regular activities, dev server with system.enableActivityEagerExecution=true (the SDK asks for eager activities by default)',
    workerOptions: {},
    serverArgs: ['--dynamic-config-value', 'system.enableActivityEagerExecution=true'],
    // Eager dispatch concerns regular activities only.
    request: { dateDispatch: 'activity' },
  },
];

/** The variants BENCH_VARIANTS names ("all", or a comma-separated list); `fallback` when unset. */
export function selectVariants(spec: string | undefined, fallback: string): Variant[] {
  const text = spec === undefined || spec.trim() === '' ? fallback : spec;
  if (text.trim() === 'all') return [...VARIANTS];
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  return names.map((name) => {
    const v = VARIANTS.find((x) => x.name === name);
    if (!v) throw new BenchSettingError(`BENCH_VARIANTS: unknown variant "${name}"; known: ${VARIANTS.map((x) => x.name).join(', ')}, or all`);
    return v;
  });
}

export interface HistoryFigures {
  /** Runs of every workflow on the server, closed continued-as-new runs included. */
  runs: number;
  maxHistoryEventsPerRun: number;
  /** workflow type → the longest history of any of its runs. */
  maxByWorkflowType: Record<string, number>;
  longestRun: { workflowId: string; runId: string; type: string; events: number } | null;
}

export interface OrchestratedRun {
  variant: Variant;
  backfillId: string;
  startMs: number;
  endMs: number;
  seconds: number;
  result: BackfillResult;
  /** Processor × date activities done. */
  dateTasks: number;
  workerCpuSeconds: number | null;
  /** The worker's threads over the backfill, the busiest first (/proc/<pid>/task). */
  workerThreadCpu: ThreadCpu[];
  /** CPU the rest of the machine used meanwhile (all busy CPU less worker, server, bench and kernel threads): interference. */
  otherCpuSeconds: number | null;
  /** CPU of the kernel's own threads meanwhile (write-back of the run's own files, mostly). */
  kernelCpuSeconds: number;
  serverCpuSeconds: number | null;
  /** The bench's own process over the run: the client starting the backfill, waiting, polling `status` for the ETA. */
  clientCpuSeconds: number;
  peakWorkerRssMiB: number | null;
  /** Peaks of the worker's memory by kind (its own sampling). */
  workerMemory: WorkerMemory;
  warehouse: BenchWarehouseStats;
  intervals: CallInterval[];
  history: HistoryFigures;
  etaSamples: EtaSample[];
  /** The admitted warehouse limit (adaptive load) at each poll, from the slots workflow's memo, and its changes. */
  admitted: AdmittedFigures;
  serverStartupMs: number;
}

export interface AdmittedFigures {
  samples: number;
  min: number | null;
  mean: number | null;
  /** Distinct changes seen (from → to: reason), in order. */
  changes: string[];
}

export interface OrchestratedOptions {
  variant: Variant;
  cliPath: string;
  /** A folder of its own for this run (server database, logs, warehouse copy, exports). */
  dir: string;
  /** The seeded DuckDB file, copied for this run. */
  templateDuckdb: string;
  workflowBundlePath: string;
  request: BackfillRequest;
  cap: number;
  /** DuckDB's buffer-pool limit for the worker, the same as the plain loop's. */
  duckdbMemoryLimit?: string;
  /** DuckDB's threads for the worker, the same as the plain loop's. */
  duckdbThreads?: number;
  dateLatencyMs?: Record<string, number>;
  /** How often to read the ETA `status` shows (ms); 0: never. */
  etaPollMs: number;
  logger: Logger;
}

/** Longest histories over every run of every workflow the server knows. */
export async function historyFigures(client: Client): Promise<HistoryFigures> {
  const out: HistoryFigures = { runs: 0, maxHistoryEventsPerRun: 0, maxByWorkflowType: {}, longestRun: null };
  for await (const info of client.workflow.list()) {
    let events = info.historyLength;
    // Visibility records a running workflow's length at its last update; ask the workflow itself.
    if (info.status.name === 'RUNNING' || !(events > 0)) {
      const handle = client.workflow.getHandle(info.workflowId, info.runId);
      events = info.status.name === 'RUNNING' ? (await handle.describe()).historyLength : (await handle.fetchHistory()).events?.length ?? 0;
    }
    out.runs += 1;
    out.maxByWorkflowType[info.type] = Math.max(out.maxByWorkflowType[info.type] ?? 0, events);
    if (events > out.maxHistoryEventsPerRun) {
      out.maxHistoryEventsPerRun = events;
      out.longestRun = { workflowId: info.workflowId, runId: info.runId, type: info.type, events };
    }
  }
  return out;
}



/** CPU seconds between two /proc readings; null when either is missing. */
const spent = (before: number | null, after: number | null): number | null => (before === null || after === null ? null : after - before);

export async function runOrchestrated(options: OrchestratedOptions): Promise<OrchestratedRun> {
  const { variant, dir, logger } = options;
  fs.mkdirSync(dir, { recursive: true });
  const duckdbPath = path.join(dir, 'warehouse.duckdb');
  fs.copyFileSync(options.templateDuckdb, duckdbPath);
  const server = await startRunServer(options.cliPath, dir, variant.serverArgs);
  const logFd = fs.openSync(path.join(dir, 'worker.log'), 'a');
  // A deployed worker's node options (the Dockerfile's NODE_OPTIONS), then any of
  // BENCH_WORKER_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the worker alone.
  const execArgv = `${WORKER_NODE_OPTIONS} ${process.env.BENCH_WORKER_NODE_ARGS ?? ''}`.split(/\s+/).filter(Boolean);
  const child = fork(path.join(__dirname, 'bench-worker.js'), [], { stdio: ['ignore', logFd, logFd, 'ipc'], execArgv });
  fs.closeSync(logFd);
  const clientConnection = await Connection.connect({ address: server.address });
  const client = new Client({ connection: clientConnection });
  try {
    const taskQueue = `bench-${variant.name}`;
    const workerOptions: BenchWorkerOptions = {
      temporalAddress: server.address,
      taskQueue,
      slotsTaskQueue: `${taskQueue}-slots`,
      duckdbPath,
      exportDir: path.join(dir, 'exports'),
      cap: options.cap,
      ...(options.duckdbMemoryLimit ? { duckdbMemoryLimit: options.duckdbMemoryLimit } : {}),
      ...(options.duckdbThreads ? { duckdbThreads: options.duckdbThreads } : {}),
      logLevel: 'warn',
      workflowBundlePath: options.workflowBundlePath,
      workerOptions: variant.workerOptions,
      ...(variant.config ? { configOverrides: variant.config } : {}),
      intervalsFile: path.join(dir, 'intervals.json'),
      ...(options.dateLatencyMs ? { dateLatencyMs: options.dateLatencyMs } : {}),
    };
    const ready = waitFor(child, 'ready', 120_000);
    child.send({ type: 'start', options: workerOptions } satisfies ParentMessage);
    const { pid: workerPid } = await ready;
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'over-cap') {
        logger.error({ variant: variant.name, inFlight: m.inFlight, cap: options.cap }, 'WAREHOUSE CAP EXCEEDED');
        process.stdout.write(`\n!!! ${variant.name}: ${m.inFlight} warehouse operations in flight, above the cap of ${options.cap} !!!\n\n`);
      }
    });

    const workerCpu0 = processCpuSeconds(workerPid);
    const workerThreads0 = threadCpuSeconds(workerPid);
    const serverCpu0 = processCpuSeconds(server.pid);
    const clientCpu0 = process.cpuUsage();
    const clientTicks0 = processCpuSeconds(process.pid);
    const machine0 = readMachineCpu();
    const startMs = epochMs();
    const { backfillId, handle } = await startBackfill(client, taskQueue, { ...options.request, ...variant.request });
    const etaSamples: EtaSample[] = [];
    const limits: number[] = [];
    const changes: string[] = [];
    const sampleAdmitted = async (): Promise<void> => {
      for await (const wf of client.workflow.list({ query: `WorkflowType = 'warehouseSlotsWorkflow' AND ExecutionStatus = 'Running'` })) {
        const memo = (await client.workflow.getHandle(wf.workflowId).describe()).memo?.[WAREHOUSE_LOAD_MEMO] as WarehouseLoadMemo | undefined;
        if (!memo) continue;
        limits.push(memo.limit);
        const change = memo.lastChange ? `${memo.lastChange.from} → ${memo.lastChange.to}: ${memo.lastChange.reason}` : undefined;
        if (change && changes[changes.length - 1] !== change) changes.push(change);
      }
    };
    let finished = false;
    const poller = (async () => {
      if (options.etaPollMs <= 0) return;
      while (!finished) {
        await sleep(options.etaPollMs);
        if (finished) break;
        try {
          const status = await getBackfillStatus(client, backfillId);
          if (status.status === 'RUNNING' && status.progress) {
            etaSamples.push({ atMs: epochMs(), percentFinished: percentFinished(status.progress.processors), etaSeconds: status.progress.etaSeconds });
          }
          await sampleAdmitted();
        } catch (err) {
          logger.debug({ err }, 'status poll failed');
        }
      }
    })();
    const result = await handle.result();
    const endMs = epochMs();
    finished = true;
    await poller;
    const workerCpu1 = processCpuSeconds(workerPid);
    const workerThreadCpu = threadCpuBetween(workerThreads0, threadCpuSeconds(workerPid));
    const serverCpu1 = processCpuSeconds(server.pid);
    const clientCpu = process.cpuUsage(clientCpu0);
    const clientTicks1 = processCpuSeconds(process.pid);
    const workerCpuSeconds = spent(workerCpu0, workerCpu1);
    const serverCpuSeconds = spent(serverCpu0, serverCpu1);
    const clientSeconds = spent(clientTicks0, clientTicks1);
    const measuredSeconds = workerCpuSeconds === null || serverCpuSeconds === null || clientSeconds === null ? null : workerCpuSeconds + serverCpuSeconds + clientSeconds;
    const machineCpu = otherCpuBetween(machine0, readMachineCpu(), measuredSeconds);
    const peakWorkerRssMiB = processPeakRssMiB(workerPid);

    // Visibility catches up with the last closes within moments.
    await sleep(1_500);
    const history = await historyFigures(client);
    const stopped = waitFor(child, 'stopped', 60_000);
    child.send({ type: 'stop' } satisfies ParentMessage);
    const { stats, memory: workerMemory } = await stopped;
    const intervals = JSON.parse(fs.readFileSync(workerOptions.intervalsFile, 'utf8')) as CallInterval[];
    const dateTasks = result.processors.reduce((n, p) => n + p.done + Object.keys(p.failed).length, 0);
    return {
      variant,
      backfillId,
      startMs,
      endMs,
      seconds: (endMs - startMs) / 1000,
      result,
      dateTasks,
      workerCpuSeconds,
      workerThreadCpu,
      ...machineCpu,
      serverCpuSeconds,
      clientCpuSeconds: (clientCpu.user + clientCpu.system) / 1e6,
      peakWorkerRssMiB,
      workerMemory,
      warehouse: stats,
      intervals,
      history,
      etaSamples,
      admitted: {
        samples: limits.length,
        min: limits.length > 0 ? Math.min(...limits) : null,
        mean: limits.length > 0 ? Number((limits.reduce((a, b) => a + b, 0) / limits.length).toFixed(2)) : null,
        changes,
      },
      serverStartupMs: server.startupMs,
    };
  } finally {
    // A stopped worker exits by itself (writing its CPU profile, when asked for one); wait a little.
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await clientConnection.close();
    await server.stop();
  }
}

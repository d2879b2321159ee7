/**
 * How a worker process runs its workflow code: on its own main thread, in one V8 context shared by
 * the process's Workers (the backfill's task queue and the warehouse-slots queue), watched by a
 * stall watchdog.
 *
 * The SDK's default runs each Worker's workflows on a thread of its own (one more V8 isolate), and
 * bounds every call into workflow code with Node's `vm` timeout, which starts and joins a watchdog
 * thread per call — ~3.7 calls per activation, ~1.2 activations per date. Profiled on the full bench
 * (2 cores, every core busy with DuckDB), the workflow thread spent 31 s of a 118 s run inside those
 * calls. In process, without the per-call timeout (the SDK's own in-process path, the one its replay
 * and debug mode use, with the timeout left out), side by side in three benches: 52–113 MiB less
 * each time (one isolate less); 5–7 s and ~20 CPU s less in two, no gain in the third (README,
 * "Workflow code in the worker's main thread").
 *
 * What the per-call timeout bought is detection of workflow code that never yields (an endless
 * loop): the SDK fails the workflow task with "Script execution timed out". Here a watchdog thread
 * takes its place for the whole main thread: the main thread ticks a shared clock, the watchdog
 * reads it; blocked for `warnMs` it logs one error line naming the workflow activation in progress,
 * blocked for `exitMs` it kills the process (a stuck main thread serves no workflow, activity or
 * heartbeat; its supervisor restarts it, and a killed worker loses nothing). It writes straight to
 * the log's file descriptor: the main thread cannot forward anything while it is stuck.
 *
 * Workflow stack traces (the Web UI's "Stack Trace" tab) come from promise hooks the SDK installs
 * for the whole process: every promise of the worker — activities', DuckDB's, the SDK's own — goes
 * through them, and each workflow promise captures and source-maps a stack. Side by side on the full
 * bench they cost 8–21 s of a 98–117 s run (five pairs) (`stackTraces: false` stops them; the query then
 * answers that stack traces are not enabled). Stopped or started again per runtime created, for the
 * whole process: one process runs one deployment's setting.
 *
 * `Worker.createWorkflowCreator` is the SDK's protected hook for how a Worker runs workflow code, and
 * the stack-trace switch reaches the SDK's `globalHandlers` (lib/workflow/vm-shared); fine while
 * `@temporalio/*` stays pinned to one version, to be re-checked on upgrade.
 */
import { Worker as NodeThread } from 'node:worker_threads';
import { Worker } from '@temporalio/worker';
// The SDK's process-wide stack-trace hooks (not exported from the package's index).
import { globalHandlers } from '@temporalio/worker/lib/workflow/vm-shared';

type CreateWorkflowCreator = (typeof Worker)['createWorkflowCreator'];
type WorkflowCreator = Awaited<ReturnType<CreateWorkflowCreator>>;
type WorkflowInstance = Awaited<ReturnType<WorkflowCreator['createWorkflow']>>;

/** The SDK's default bound for one call into workflow code. */
export const STALL_WARN_MS = 5_000;
/** Main thread blocked this long: the process is killed so its supervisor restarts it. */
export const STALL_EXIT_MS = 60_000;

export interface StallWatchdogOptions {
  warnMs?: number;
  exitMs?: number;
  /** How often the main thread ticks and the watchdog looks. */
  tickMs?: number;
  /** File descriptor for the watchdog's lines (default stderr, where the logs go). */
  fd?: number;
}

export interface StallWatchdog {
  /** The workflow activation about to run on the main thread, named in a stall's line. */
  enter(label: Uint8Array): void;
  leave(): void;
  stop(): Promise<void>;
}

const LABEL_BYTES = 512;

/** Runs in the watchdog thread: plain JavaScript, no imports of ours. */
const WATCHDOG_SOURCE = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const os = require('node:os');
const { clock, label, warnMs, exitMs, tickMs, fd, pid } = workerData;
const times = new Float64Array(clock, 0, 1); // [last tick]
const bytes = new Uint8Array(label, 4);
const length = new Int32Array(label, 0, 1);
const inFlight = new Int32Array(clock, 8, 1);
const hostname = os.hostname();
let warnedAt = 0;
function line(level, msg, fields) {
  const text = JSON.stringify({ level, time: Date.now(), pid, hostname, component: 'stall-watchdog', ...fields, msg });
  try { fs.writeSync(fd, text + '\\n'); } catch {}
}
// The workflow activation on the main thread, if one is: its type, id and run id.
function activation() {
  if (Atomics.load(inFlight, 0) <= 0) return {};
  const text = Buffer.from(bytes.subarray(0, Math.min(Atomics.load(length, 0), bytes.length))).toString('utf8');
  try { return JSON.parse(text); } catch { return { activation: text }; }
}
setInterval(() => {
  const blockedMs = Date.now() - times[0];
  if (blockedMs < warnMs) { warnedAt = 0; return; }
  if (blockedMs >= exitMs) {
    line(60, 'the worker\\'s main thread has been blocked for ' + Math.round(blockedMs / 1000) + ' s: killing the process so its supervisor restarts it (running dates are retried, none lost)', { blockedMs, ...activation() });
    process.kill(pid, 'SIGKILL');
    return;
  }
  if (warnedAt === 0) {
    warnedAt = Date.now();
    line(50, 'the worker\\'s main thread has been blocked for ' + Math.round(blockedMs / 1000) + ' s: workflow code that never yields (an endless loop) stalls every workflow, activity and heartbeat of this worker; the process is killed at ' + Math.round(exitMs / 1000) + ' s', { blockedMs, ...activation() });
  }
}, tickMs);
`;

/**
 * Starts the watchdog thread. The main thread's tick is an unref'd timer, and the thread is
 * unref'd: neither keeps the process alive.
 */
export function startStallWatchdog(options: StallWatchdogOptions = {}): StallWatchdog {
  const warnMs = options.warnMs ?? STALL_WARN_MS;
  const exitMs = options.exitMs ?? STALL_EXIT_MS;
  const tickMs = options.tickMs ?? 1_000;
  // [0] last tick (ms since epoch, float64), [8..12) activations in flight (int32).
  const clock = new SharedArrayBuffer(16);
  const times = new Float64Array(clock, 0, 1);
  const inFlight = new Int32Array(clock, 8, 1);
  // [0..4) label length (int32), then its UTF-8 bytes.
  const label = new SharedArrayBuffer(4 + LABEL_BYTES);
  const labelLength = new Int32Array(label, 0, 1);
  const labelBytes = new Uint8Array(label, 4);
  times[0] = Date.now();
  const tick = setInterval(() => (times[0] = Date.now()), tickMs);
  tick.unref();
  const thread = new NodeThread(WATCHDOG_SOURCE, {
    eval: true,
    workerData: { clock, label, warnMs, exitMs, tickMs, fd: options.fd ?? 2, pid: process.pid },
  });
  thread.unref();
  return {
    enter(bytes) {
      const n = Math.min(bytes.length, LABEL_BYTES);
      labelBytes.set(bytes.subarray(0, n));
      Atomics.store(labelLength, 0, n);
      Atomics.add(inFlight, 0, 1);
    },
    leave() {
      Atomics.sub(inFlight, 0, 1);
    },
    async stop() {
      clearInterval(tick);
      await thread.terminate();
    },
  };
}

/** One watchdog per process, however many Workers (or backfill workers) it runs; stopped with the last. */
let processWatchdog: { watchdog: StallWatchdog; users: number } | undefined;

function acquireWatchdog(options: StallWatchdogOptions): StallWatchdog {
  processWatchdog ??= { watchdog: startStallWatchdog(options), users: 0 };
  processWatchdog.users += 1;
  return processWatchdog.watchdog;
}

async function releaseWatchdog(): Promise<void> {
  if (processWatchdog === undefined) return;
  processWatchdog.users -= 1;
  if (processWatchdog.users > 0) return;
  const { watchdog } = processWatchdog;
  processWatchdog = undefined;
  await watchdog.stop();
}

function watched(workflow: WorkflowInstance, label: Uint8Array, watchdog: StallWatchdog): WorkflowInstance {
  return {
    activate(activation) {
      watchdog.enter(label);
      return workflow.activate(activation).finally(() => watchdog.leave());
    },
    getAndResetSinkCalls: () => workflow.getAndResetSinkCalls(),
    dispose: () => workflow.dispose(),
  };
}

export interface InProcessWorkflowsOptions {
  watchdog?: StallWatchdogOptions;
  /** Collect workflow stack traces (the SDK's promise hooks); default true. */
  stackTraces?: boolean;
}

/**
 * The SDK's switch, private in its types: `uninstall()`, the public one, would also take away the
 * source-mapping of workflow errors' stacks, which stays. Checked by the stack-trace tests (on: the
 * trace; off: the query says they are not enabled).
 */
const stackTraceHooks = globalHandlers as unknown as { setPromiseHook(): void; stopPromiseHook(): void; promiseHookInstalled: boolean };

/** Stops or restarts the SDK's stack-trace promise hooks (installed when the first runtime is created). */
function setStackTraces(on: boolean): void {
  if (on === stackTraceHooks.promiseHookInstalled) return;
  if (on) {
    stackTraceHooks.setPromiseHook();
  } else {
    stackTraceHooks.stopPromiseHook();
    stackTraceHooks.promiseHookInstalled = false;
  }
}

/**
 * A Worker class whose instances run their workflows in this process's main thread, in one shared
 * context, under one stall watchdog. Create the Worker with activities first: the context checks
 * local activities against the names of the Worker that created it. The Workers must run the same
 * workflow bundle. `watchdog` sets the process's stall watchdog when this class starts it (the first
 * Worker of the process to run workflows in process does); the defaults are STALL_WARN_MS and
 * STALL_EXIT_MS. `stackTraces` (default true) keeps or stops the SDK's stack-trace hooks.
 */
export function workerClassRunningWorkflowsInProcess(options: InProcessWorkflowsOptions = {}): typeof Worker {
  const watchdogOptions = options.watchdog ?? {};
  const stackTraces = options.stackTraces ?? true;
  let shared: Promise<WorkflowCreator> | undefined;
  let users = 0;
  return class InProcessWorkflowsWorker extends Worker {
    protected static override async createWorkflowCreator(...args: Parameters<CreateWorkflowCreator>): Promise<WorkflowCreator> {
      if (shared === undefined) {
        const [workflowBundle, compiledOptions, logger] = args;
        // The SDK's in-process path (its debug and replay mode) with no per-call vm timeout.
        shared = super.createWorkflowCreator(
          workflowBundle,
          { ...compiledOptions, debugMode: true, isolateExecutionTimeoutMs: undefined as unknown as number },
          logger,
        );
        // A failed start is not kept: the next Worker tries again.
        shared.catch(() => (shared = undefined));
      }
      const creator = await shared;
      // Workflows read whether stack traces are on when they are created: set it before the first.
      setStackTraces(stackTraces);
      const watchdog = acquireWatchdog(watchdogOptions);
      users += 1;
      let destroyed = false;
      return {
        createWorkflow: async (options) => {
          const { workflowType, workflowId, runId } = options.info;
          const label = Buffer.from(JSON.stringify({ workflowType, workflowId, runId }), 'utf8');
          return watched(await creator.createWorkflow(options), label, watchdog);
        },
        async destroy() {
          if (destroyed) return;
          destroyed = true;
          users -= 1;
          const last = users === 0;
          if (last) shared = undefined;
          await Promise.all([releaseWatchdog(), last ? creator.destroy() : undefined]);
        },
      };
    }
  };
}

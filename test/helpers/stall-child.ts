/**
 * A process for test/workflows/workflow-runtime.test.ts: starts the stall watchdog with short
 * limits (lines to stdout), then does what argv[2] says:
 *   stall-in-activation  enters an activation and never yields (an endless loop);
 *   stall-outside        enters and leaves an activation, then blocks the main thread;
 *   brief                enters, runs 100 ms without yielding, leaves, idles, stops, exits 0.
 */
import { startStallWatchdog } from '../../src/workflow-runtime';

const mode = process.argv[2];
const label = Buffer.from(JSON.stringify({ workflowType: 'processorBackfillWorkflow', workflowId: 'stall-test', runId: 'run-1' }), 'utf8');

function spin(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy
  }
}

async function main(): Promise<void> {
  const brief = mode === 'brief';
  const watchdog = startStallWatchdog({ warnMs: brief ? 1_500 : 300, exitMs: brief ? 10_000 : 1_500, tickMs: 50, fd: 1 });
  // Let the watchdog thread start before the main thread blocks.
  await new Promise((resolve) => setTimeout(resolve, 300));
  watchdog.enter(label);
  if (mode === 'stall-in-activation') for (;;) spin(1_000);
  if (brief) spin(100);
  watchdog.leave();
  if (mode === 'stall-outside') for (;;) spin(1_000);
  await new Promise((resolve) => setTimeout(resolve, 500));
  await watchdog.stop();
}

void main();

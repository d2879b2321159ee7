/**
 * Workflows for test/helpers/stall-workflow-child.ts (bundled by the child, never deployed): one
 * that finishes at once, and one whose code never yields.
 */

export async function quickWorkflow(): Promise<string> {
  return 'done';
}

export async function spinningWorkflow(): Promise<void> {
  // An endless loop: the worker's main thread is stuck in this workflow's activation.
  for (;;) {
    // never yields
  }
}

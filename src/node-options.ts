/**
 * Node options of a deployed worker process (the Dockerfile sets NODE_OPTIONS to this, see test/unit/compose.test.ts; the bench
 * runs its worker with them). V8 otherwise sizes its heaps for the machine and lets garbage pile
 * up: on the full demo pipeline the worker's main heap peaked at 149 MiB and its RSS at 806 MiB;
 * with these limits about 60 MiB and 604–668 MiB over later runs, at the same speed and CPU
 * (`npm run bench`, README). The live heap of a worker is tens of MiB; 320 MiB leaves room for
 * BigQuery result pages.
 */
export const WORKER_NODE_OPTIONS = '--max-old-space-size=320 --max-semi-space-size=8';

/**
 * Test access to the shared dev server started by global-setup.ts.
 *
 *   let env: TestWorkflowEnvironment;
 *   beforeAll(async () => { env = await getTestEnv(); });
 *   afterAll(async () => { await env?.teardown(); });
 *   … Worker.create({ connection: env.nativeConnection, taskQueue: uniqueTaskQueue('gate'),
 *                     workflowBundle: await bundle(), activities })
 */
import { randomBytes } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { WORKFLOW_INTERCEPTOR_MODULES } from '../../src/workflow-bundle';

/** The shared server's host:port; throws when the tests were not started through jest's global setup. */
export function testServerAddress(): string {
  const address = process.env.TEMPORAL_TEST_ADDRESS;
  if (address === undefined || address === '') {
    throw new Error('TEMPORAL_TEST_ADDRESS is not set: run the tests with jest, whose global setup starts the dev server.');
  }
  return address;
}

/** A new environment on the shared server (namespace `default`); call `teardown()` on it in afterAll. */
export function getTestEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createFromExistingServer({ address: testServerAddress(), namespace: 'default' });
}

const bundles = new Map<string, Promise<WorkflowBundleWithSourceMap>>();

/**
 * The workflow bundle, built once per test file (jest gives each file its own module registry) and
 * per path. Bundling takes seconds; a bundle per test would dominate the run. The path is resolved
 * only when called, so importing this helper works before `src/workflows` exists.
 */
export function bundle(
  workflowsPath: string = require.resolve('../../src/workflows'),
  /** The production interceptors (src/workflow-bundle.ts) unless told otherwise. */
  interceptorModules: readonly string[] = WORKFLOW_INTERCEPTOR_MODULES,
): Promise<WorkflowBundleWithSourceMap> {
  const key = `${workflowsPath}|${interceptorModules.join(',')}`;
  let pending = bundles.get(key);
  if (pending === undefined) {
    pending = bundleWorkflowCode({ workflowsPath, workflowInterceptorModules: [...interceptorModules], logger: new DefaultLogger('WARN') });
    // A failed bundle is not cached, so a later call reports the error again instead of a stale promise.
    void pending.catch(() => bundles.delete(key));
    bundles.set(key, pending);
  }
  return pending;
}

/** A task queue no other test (or earlier run on a persisted server) uses: `<prefix>-<time>-<random>`. */
export function uniqueTaskQueue(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

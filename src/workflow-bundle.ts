/**
 * The workflow bundle, prebuilt when the production image is built. Bundling at worker start runs
 * webpack and SWC for several seconds in every worker process; the image instead runs
 * `node dist/src/workflow-bundle.js` once, which writes the bundle next to the compiled worker, and
 * each worker loads that file. Without it (a checkout, `npm start`, the tests) the worker bundles
 * `./workflows` itself, as before. `npm run build` empties dist/ first, so a bundle never outlives
 * the code it was built from.
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, type WorkerOptions } from '@temporalio/worker';

export const PREBUILT_WORKFLOW_BUNDLE = path.join(__dirname, 'workflows.bundle.js');
/** Bundled with the workflows: the stale-activation guard (src/workflows/stale-activation.ts). */
export const WORKFLOW_INTERCEPTOR_MODULES: readonly string[] = [require.resolve('./workflows/interceptors')];

/** Where the worker gets its workflow code: the prebuilt bundle when present, else the sources (with the interceptors). */
export function workflowSource(prebuilt: string = PREBUILT_WORKFLOW_BUNDLE): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath' | 'interceptors'> {
  return fs.existsSync(prebuilt)
    ? { workflowBundle: { codePath: prebuilt } }
    : { workflowsPath: require.resolve('./workflows'), interceptors: { workflowModules: [...WORKFLOW_INTERCEPTOR_MODULES] } };
}

/** Bundles `./workflows` and writes the bundle to `outFile`; returns its size in bytes. */
export async function writeWorkflowBundle(outFile: string = PREBUILT_WORKFLOW_BUNDLE): Promise<number> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('./workflows'),
    workflowInterceptorModules: [...WORKFLOW_INTERCEPTOR_MODULES],
    logger: new DefaultLogger('WARN'),
  });
  await fs.promises.writeFile(outFile, code);
  return Buffer.byteLength(code);
}

if (require.main === module) {
  writeWorkflowBundle(process.argv[2]).then(
    (bytes) => process.stdout.write(`workflow bundle written (${bytes} bytes)\n`),
    (err: unknown) => {
      process.stderr.write(`workflow bundle failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}

/**
 * The prebuilt workflow bundle of the production image: written once by src/workflow-bundle.ts,
 * loaded by the worker through `workflowBundle: { codePath }` when the file exists, and able to run
 * our workflows — a recorded history replays on it. Without the file the worker bundles the sources,
 * as in development and the other tests.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { workflowSource, writeWorkflowBundle } from '../../src/workflow-bundle';
import { tempDir } from '../helpers/harness';

const history: unknown = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'replay', 'histories', 'processor-backfill-first-run.json'), 'utf8'));

describe('prebuilt workflow bundle', () => {
  const dir = tempDir('bundle');
  const codePath = path.join(dir, 'workflows.bundle.js');

  beforeAll(async () => {
    await writeWorkflowBundle(codePath);
  });

  test('without the file, the worker bundles the workflow sources with their interceptors', () => {
    expect(workflowSource(path.join(dir, 'absent.js'))).toEqual({
      workflowsPath: require.resolve('../../src/workflows'),
      interceptors: { workflowModules: [require.resolve('../../src/workflows/interceptors')] },
    });
  });

  test('the prebuilt bundle carries the stale-activation guard', () => {
    expect(fs.readFileSync(codePath, 'utf8')).toContain('StaleActivationError');
  });

  test('with the file, the worker loads it by path', () => {
    expect(workflowSource(codePath)).toEqual({ workflowBundle: { codePath } });
  });

  test('a recorded history replays on the prebuilt bundle', async () => {
    await expect(Worker.runReplayHistory({ workflowBundle: { codePath } }, history)).resolves.toBeUndefined();
  });

  test('a damaged bundle is refused (negative control)', async () => {
    const damaged = path.join(dir, 'damaged.js');
    fs.writeFileSync(damaged, fs.readFileSync(codePath, 'utf8').slice(0, 2_000));
    await expect(Worker.runReplayHistory({ workflowBundle: { codePath: damaged } }, history)).rejects.toThrow();
  });
});

/**
 * A process for test/workflows/workflow-runtime.test.ts: a Worker of the production in-process
 * class (src/workflow-runtime.ts) with a short stall watchdog (lines to stdout) runs
 * test/helpers/stall-workflows.ts — first `quickWorkflow` to its end, then `spinningWorkflow`,
 * whose activation never yields, so the watchdog warns with the activation it sees and kills this
 * process. Arguments: Temporal address, task queue; the workflow ids are `<task queue>-quick` and
 * `<task queue>-spin`.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, bundleWorkflowCode } from '@temporalio/worker';
import { workerClassRunningWorkflowsInProcess } from '../../src/workflow-runtime';

async function main(): Promise<void> {
  const [address = '', taskQueue = ''] = process.argv.slice(2);
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./stall-workflows'), logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } });
  const connection = await NativeConnection.connect({ address });
  const client = new Client({ connection: await Connection.connect({ address }) });
  const WorkerClass = workerClassRunningWorkflowsInProcess({ watchdog: { warnMs: 500, exitMs: 2_500, tickMs: 50, fd: 1 } });
  const worker = await WorkerClass.create({ connection, taskQueue, workflowBundle });
  await worker.runUntil(async () => {
    await client.workflow.execute('quickWorkflow', { taskQueue, workflowId: `${taskQueue}-quick`, args: [] });
    await client.workflow.start('spinningWorkflow', { taskQueue, workflowId: `${taskQueue}-spin`, args: [] });
    // The spinning activation blocks this thread; the watchdog ends the process.
    await new Promise(() => undefined);
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});

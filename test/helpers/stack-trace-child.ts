/**
 * A process for test/workflows/workflow-runtime.test.ts: the Web UI's stack-trace query against a
 * workflow run the production way (src/workflow-runtime.ts, in this process's main thread). Jest
 * runs test code in a realm of its own, where the SDK's stack-trace hook cannot see workflow
 * errors, so this is checked in a plain process. Prints one JSON line: { trace }.
 * Arguments: Temporal address, workflow bundle file, task queue, `in-process` | `sdk-threads`.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { workerClassRunningWorkflowsInProcess } from '../../src/workflow-runtime';

async function main(): Promise<void> {
  const [address = '', codePath = '', taskQueue = '', mode = ''] = process.argv.slice(2);
  const connection = await NativeConnection.connect({ address });
  const clientConnection = await Connection.connect({ address });
  const client = new Client({ connection: clientConnection });
  const WorkerClass = mode === 'sdk-threads' ? Worker : workerClassRunningWorkflowsInProcess();
  const worker = await WorkerClass.create({ connection, taskQueue, workflowBundle: { codePath } });
  await worker.runUntil(async () => {
    const handle = await client.workflow.start('warehouseSlotsWorkflow', { taskQueue, workflowId: `${taskQueue}-slots`, args: [{ capacity: 2 }] });
    try {
      const trace = await handle.query<string>('__stack_trace');
      process.stdout.write(`${JSON.stringify({ trace })}\n`);
    } finally {
      await handle.terminate('stack trace read');
    }
  });
  await clientConnection.close();
  await connection.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});

/**
 * A process for test/workflows/workflow-runtime.test.ts: the Web UI's stack-trace query against a
 * workflow run the production way (src/workflow-runtime.ts, in this process's main thread). Jest
 * runs test code in a realm of its own, where the SDK's stack-trace hook cannot see workflow
 * errors, so this is checked in a plain process. Prints one JSON line per query: { trace } or
 * { error }. Arguments: Temporal address, workflow bundle file, task queue, and the mode:
 *   in-process       stack traces on;
 *   in-process-off   stack traces off (WORKFLOW_STACK_TRACES=off);
 *   off-then-on      off, then that Worker stopped and a Worker with them on started — as an
 *                    operator restarts a worker with WORKFLOW_STACK_TRACES=on — and the same
 *                    workflow, still running, queried again;
 *   sdk-threads      the SDK's own workflow threads (the control).
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { workerClassRunningWorkflowsInProcess } from '../../src/workflow-runtime';

async function stackTrace(client: Client, workflowId: string): Promise<{ trace: string } | { error: string }> {
  return client.workflow
    .getHandle(workflowId)
    .query<string>('__stack_trace')
    .then(
      (trace) => ({ trace }),
      (err: unknown) => ({ error: err instanceof Error ? err.message : String(err) }),
    );
}

async function main(): Promise<void> {
  const [address = '', codePath = '', taskQueue = '', mode = ''] = process.argv.slice(2);
  const connection = await NativeConnection.connect({ address });
  const clientConnection = await Connection.connect({ address });
  const client = new Client({ connection: clientConnection });
  const workflowId = `${taskQueue}-slots`;
  const classFor = (stackTraces: boolean): typeof Worker => (mode === 'sdk-threads' ? Worker : workerClassRunningWorkflowsInProcess({ stackTraces }));
  const phases = mode === 'off-then-on' ? [false, true] : [mode !== 'in-process-off'];
  try {
    for (const [i, stackTraces] of phases.entries()) {
      const worker = await classFor(stackTraces).create({ connection, taskQueue, workflowBundle: { codePath } });
      await worker.runUntil(async () => {
        if (i === 0) await client.workflow.start('warehouseSlotsWorkflow', { taskQueue, workflowId, args: [{ capacity: 2 }] });
        process.stdout.write(`${JSON.stringify(await stackTrace(client, workflowId))}\n`);
      });
    }
  } finally {
    await client.workflow.getHandle(workflowId).terminate('stack trace read').catch(() => undefined);
    await clientConnection.close();
    await connection.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});

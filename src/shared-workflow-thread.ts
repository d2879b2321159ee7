/**
 * One workflow thread for the Workers of one process. The SDK gives every Worker its own thread
 * and V8 isolate for workflow code, and a worker process runs two Workers (the backfill's task
 * queue and the warehouse-slots queue, which every process polls); the slots workflow needs
 * almost none of its thread (0.4 CPU s over the full bench) but its isolate costs memory all the
 * same. `Worker.createWorkflowCreator` is the SDK's protected hook for how a Worker runs its
 * workflow code: the class returned here creates the thread once and hands it to each Worker
 * created through it, and stops it when the last of them has stopped.
 */
import { Worker } from '@temporalio/worker';

type CreateWorkflowCreator = (typeof Worker)['createWorkflowCreator'];
type WorkflowCreator = Awaited<ReturnType<CreateWorkflowCreator>>;

/**
 * A Worker class whose instances share one workflow thread. Create the Worker with activities
 * first: the thread checks local activities against the names of the Worker that created it.
 * The Workers must run the same workflow bundle.
 */
export function workerClassSharingWorkflowThread(): typeof Worker {
  let shared: Promise<WorkflowCreator> | undefined;
  let users = 0;
  return class SharedWorkflowThreadWorker extends Worker {
    protected static override async createWorkflowCreator(...args: Parameters<CreateWorkflowCreator>): Promise<WorkflowCreator> {
      if (shared === undefined) {
        shared = super.createWorkflowCreator(...args);
        // A failed start is not kept: the next Worker tries again.
        shared.catch(() => (shared = undefined));
      }
      const creator = await shared;
      users += 1;
      let destroyed = false;
      return {
        createWorkflow: (options) => creator.createWorkflow(options),
        async destroy() {
          if (destroyed) return;
          destroyed = true;
          users -= 1;
          if (users > 0) return;
          shared = undefined;
          await creator.destroy();
        },
      };
    }
  };
}

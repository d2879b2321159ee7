/**
 * Workflow interceptors, bundled with every workflow (src/workflow-bundle.ts names this module):
 * the stale-activation guard (./stale-activation.ts) sees every activation before workflow code runs.
 */
import type { WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { staleActivationGuard } from './stale-activation';

export const interceptors: WorkflowInterceptorsFactory = () => {
  const guard = staleActivationGuard();
  return {
    internals: [
      {
        activate(input, next) {
          guard.check(input.activation);
          return next(input);
        },
      },
    ],
  };
};

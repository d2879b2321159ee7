export { processorBackfillWorkflow } from './processor-backfill';
export { backfillWorkflow } from './backfill';

export { processorBackfillWorkflow } from './processor-backfill';
export { backfillWorkflow } from './backfill';
export { warehouseSlotsWorkflow } from './warehouse-slots';

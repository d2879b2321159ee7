/**
 * Deliberately changed workflow code, for the replay test's negative control: the backfill workflow
 * waits on a timer before doing anything, so replaying any recorded backfill history against it
 * must fail with a determinism error. If it did not, the replay test could not catch a real change.
 */
import { sleep } from '@temporalio/workflow';

export { processorBackfillWorkflow, warehouseSlotsWorkflow } from '../../src/workflows';

export async function backfillWorkflow(): Promise<void> {
  await sleep('1 minute');
}

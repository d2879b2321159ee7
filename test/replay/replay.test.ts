/**
 * Determinism guard: every recorded history in histories/ must replay against today's workflow
 * code. A change that breaks one needs `patched()` (or a new workflow type), not a new recording.
 * Every workflow type has histories, and together they exercise what most often breaks replay:
 * continue-as-new, signals and updates, failed gates and their remedies, the slots' rollover.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker } from '@temporalio/worker';
import * as workflows from '../../src/workflows';
import { bundle } from '../helpers/temporal-env';
import { SHORT_LEASE_PATCH } from '../../src/workflows/warehouse-slots';
import { REPORTS_DELIVERED_PATCH } from '../../src/workflows/processor-backfill';

const HISTORIES = path.join(__dirname, 'histories');
const files = fs.readdirSync(HISTORIES).filter((f) => f.endsWith('.json')).sort();

interface HistoryEvent {
  eventType: string;
  workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string }; input?: { payloads?: Array<{ data?: string }> } };
  workflowExecutionSignaledEventAttributes?: { signalName?: string };
  workflowExecutionUpdateAcceptedEventAttributes?: { acceptedRequest?: { input?: { name?: string } } };
  markerRecordedEventAttributes?: { details?: { 'patch-data'?: { payloads?: Array<{ data?: string }> } } };
}

function load(file: string): { file: string; type: string; input: Record<string, unknown>; events: HistoryEvent[] } {
  const { events } = JSON.parse(fs.readFileSync(path.join(HISTORIES, file), 'utf8')) as { events: HistoryEvent[] };
  const started = events[0]?.workflowExecutionStartedEventAttributes;
  const data = started?.input?.payloads?.[0]?.data;
  return {
    file,
    type: started?.workflowType?.name ?? '?',
    input: data ? (JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as Record<string, unknown>) : {},
    events,
  };
}

const signals = (h: ReturnType<typeof load>): string[] => h.events.map((e) => e.workflowExecutionSignaledEventAttributes?.signalName ?? '');
const updates = (h: ReturnType<typeof load>): string[] => h.events.map((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name ?? '');
/** Patch ids recorded in the history's markers. */
const patches = (h: ReturnType<typeof load>): string[] =>
  h.events.flatMap((e) => {
    const data = e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data;
    if (!data) return [];
    const decoded = JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { id?: string };
    return decoded.id ? [decoded.id] : [];
  });
/** Signals the workflow sent to others (its progress reports to the parent) whose delivery the history recorded. */
const signalsSent = (h: ReturnType<typeof load>): number => h.events.filter((e) => e.eventType === 'EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED').length;
const continuedAsNew = (h: ReturnType<typeof load>): boolean => h.events.some((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW');

describe('replay of recorded histories', () => {
  test('every workflow type has recorded histories, covering continue-as-new, signals, updates, gate remedies and rollover', () => {
    const histories = files.map(load);
    const of = (type: string) => histories.filter((h) => h.type === type);
    expect(Object.fromEntries(Object.keys(workflows).map((type) => [type, of(type).length > 0]))).toEqual({
      processorBackfillWorkflow: true,
      backfillWorkflow: true,
      warehouseSlotsWorkflow: true,
    });
    const processor = of('processorBackfillWorkflow');
    const backfill = of('backfillWorkflow');
    expect({
      'processor: continue-as-new': processor.some(continuedAsNew),
      'processor: pause and resume': processor.some((h) => signals(h).includes('pause') && signals(h).includes('resume')),
      'processor: set-concurrency': processor.some((h) => updates(h).includes('set-concurrency')),
      'backfill: a failed gate and retry-phase': backfill.some((h) => signals(h).includes('retry-phase')),
      'backfill: a failed gate remediated': backfill.some((h) => h.input.gatePolicy === 'remediate'),
      'slots: rollover': of('warehouseSlotsWorkflow').some(continuedAsNew),
      'failure budget: paused, failed dates requeued, resumed': processor.some((h) => signals(h).includes('requeue-failed') && signals(h).includes('resume')),
      'processor: dates as local activities, continue-as-new': processor.some((h) => h.input.dateDispatch === 'local' && continuedAsNew(h)),
      'backfill: dates as local activities': backfill.some((h) => h.input.dateDispatch === 'local'),
      'slots: process shares and health reports': of('warehouseSlotsWorkflow').some(
        (h) => updates(h).includes('lease-slots') && signals(h).includes('warehouse-health') && continuedAsNew(h),
      ),
      'slots: the short lease (patch slots-short-lease), rolling over': of('warehouseSlotsWorkflow').some((h) => patches(h).includes(SHORT_LEASE_PATCH) && continuedAsNew(h)),
      'processor: reports delivered before completing (patch await-parent-reports)': processor.some(
        (h) => patches(h).includes(REPORTS_DELIVERED_PATCH) && signalsSent(h) > 0,
      ),
    }).toEqual({
      'processor: continue-as-new': true,
      'processor: pause and resume': true,
      'processor: set-concurrency': true,
      'backfill: a failed gate and retry-phase': true,
      'backfill: a failed gate remediated': true,
      'slots: rollover': true,
      'failure budget: paused, failed dates requeued, resumed': true,
      'processor: dates as local activities, continue-as-new': true,
      'backfill: dates as local activities': true,
      'slots: process shares and health reports': true,
      'slots: the short lease (patch slots-short-lease), rolling over': true,
      'processor: reports delivered before completing (patch await-parent-reports)': true,
    });
  });

  test.each(files)('%s replays without non-determinism', async (file) => {
    const history: unknown = JSON.parse(fs.readFileSync(path.join(HISTORIES, file), 'utf8'));
    await expect(Worker.runReplayHistory({ workflowBundle: await bundle() }, history)).resolves.toBeUndefined();
  });

  test('negative control: a history replayed against deliberately changed workflow code is caught', async () => {
    const history: unknown = JSON.parse(fs.readFileSync(path.join(HISTORIES, 'backfill-phase3.json'), 'utf8'));
    const altered = await bundle(require.resolve('./altered-workflows'));
    await expect(Worker.runReplayHistory({ workflowBundle: altered }, history)).rejects.toThrow(DeterminismViolationError);
  });
});

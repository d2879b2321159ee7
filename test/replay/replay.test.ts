/**
 * Determinism guard: every recorded history in histories/ must replay against today's workflow
 * code. A change that breaks one needs `patched()` (or a new workflow type), not a new recording.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker } from '@temporalio/worker';
import { bundle } from '../helpers/temporal-env';

const HISTORIES = path.join(__dirname, 'histories');
const files = fs.readdirSync(HISTORIES).filter((f) => f.endsWith('.json')).sort();

describe('replay of recorded histories', () => {
  test('there are recorded histories of both workflows', () => {
    expect(files.some((f) => f.startsWith('processor-backfill'))).toBe(true);
    expect(files.some((f) => f.startsWith('backfill-'))).toBe(true);
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

/**
 * What an operator sees without our CLI: the Web UI and the plain Temporal CLI read the same
 * things — search attributes kept current (status, phase, progress %, ETA), the parent's current
 * details naming the phase, its progress, the ETA and the slowest processor, and pause/resume by
 * plain signals. Everything here goes through the real `temporal` binary against the test server.
 */
import { execFile } from 'node:child_process';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startBackfill } from '../../src/client/backfill-client';
import { locateTemporalCli } from '../../src/devserver';
import { backfillProgressQuery, processorProgressQuery } from '../../src/shared/messages';
import type { ProcessorProgress } from '../../src/shared/types';
import type { DuckDbWarehouse } from '../../src/warehouse';
import { eventually, seededWarehouse, startWorker, testEnv, type RunningWorker } from '../helpers/harness';
import { testServerAddress } from '../helpers/temporal-env';

/** How long each date takes (the real work plus this), so a pause has dates in flight to wait for. */
const DATE_DELAY_MS = 600;
const PROCESSORS = ['player_game_summary', 'team_offense_game_summary'];

let cliPath: string;

/** `temporal <args>` against the test server, its stdout parsed as JSON (`-o json`). */
function temporal<T = unknown>(...args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(
      cliPath,
      [...args, '--address', testServerAddress(), '--namespace', 'default', '-o', 'json'],
      { timeout: 30_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`temporal ${args.join(' ')} failed: ${stderr || error.message}`));
        else resolve((stdout.trim() === '' ? null : JSON.parse(stdout)) as T);
      },
    );
  });
}

interface Payload {
  data: string;
}
interface CliExecution {
  execution: { workflowId: string };
  searchAttributes?: { indexedFields?: Record<string, Payload> };
}

/** Search attributes as the CLI prints them (json/plain payloads, base64) → name → value. */
function attributesOf(e: CliExecution): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(e.searchAttributes?.indexedFields ?? {}).map(([k, v]) => [k, JSON.parse(Buffer.from(v.data, 'base64').toString('utf8')) as unknown]),
  );
}

async function describeAttributes(workflowId: string): Promise<Record<string, unknown>> {
  const d = await temporal<{ workflowExecutionInfo: CliExecution }>('workflow', 'describe', '--workflow-id', workflowId);
  return attributesOf(d.workflowExecutionInfo);
}

/** The workflow's current details, through the `__temporal_workflow_metadata` query the Web UI uses. */
async function currentDetails(workflowId: string): Promise<string> {
  const m = await temporal<{ queryResult: Array<{ currentDetails?: string }> }>('workflow', 'metadata', '--workflow-id', workflowId);
  return m.queryResult[0]?.currentDetails ?? '';
}

/** `temporal workflow list --query …` → workflow id → search attributes. */
async function listed(query: string): Promise<Map<string, Record<string, unknown>>> {
  const rows = (await temporal<CliExecution[] | null>('workflow', 'list', '--query', query)) ?? [];
  return new Map(rows.map((r) => [r.execution.workflowId, attributesOf(r)]));
}

describe('the Web UI and the plain Temporal CLI tell the same story', () => {
  let env: TestWorkflowEnvironment;
  let warehouse: DuckDbWarehouse;
  let worker: RunningWorker;
  /** The parent's BackfillStatus seen while the backfill was paused (for the last test). */
  let parentStatusWhilePaused: unknown;

  beforeAll(async () => {
    cliPath = await locateTemporalCli();
    env = await testEnv();
    warehouse = await seededWarehouse('tiny');
    worker = await startWorker(env, warehouse, {
      wrap: (acts) => ({
        ...acts,
        async runProcessorForDate(input: Parameters<typeof acts.runProcessorForDate>[0]) {
          await new Promise((r) => setTimeout(r, DATE_DELAY_MS));
          return acts.runProcessorForDate(input);
        },
      }),
    });
  });
  afterAll(async () => {
    await worker?.stop();
    await warehouse?.close();
    await env?.teardown();
  });

  test('attributes and current details while running; `temporal workflow signal` pauses and resumes the backfill and its children', async () => {
    const { backfillId: id, handle } = await startBackfill(env.client, worker.config.taskQueue, {
      from: '2024-10-22',
      to: '2024-11-12',
      phases: [3],
      processors: PROCESSORS,
      concurrency: 2,
      gatePolicy: 'wait',
    });
    const children = PROCESSORS.map((p) => env.client.workflow.getHandle(`${id}/${p}`));
    const mine = `BackfillId = '${id}' AND TaskQueue = '${worker.config.taskQueue}'`;

    // Running: the parent's details name the phase, the share finished, the ETA and the slowest processor.
    const running = await eventually(async () => {
      const details = await currentDetails(id);
      return /backfill ETA \d+ (s|min)/.test(details) && /slowest: \w+ \(/.test(details) ? details : undefined;
    });
    expect(running).toMatch(new RegExp(`^\\*\\*${id}\\*\\* 2024-10-22 → 2024-11-12: Phase 3, group 1 — \\d+% of processor-dates finished, backfill ETA `));
    expect(running).toMatch(new RegExp(`slowest: (${PROCESSORS.join('|')}) \\(\\d+ (s|min) left\\)`));
    const attrs = await eventually(async () => {
      const a = await describeAttributes(id);
      return typeof a.BackfillEtaMinutes === 'number' && typeof a.BackfillProgressPct === 'number' ? a : undefined;
    });
    expect(attrs).toMatchObject({ BackfillId: id, BackfillStatus: 'running', BackfillPhase: 3 });
    expect(attrs.BackfillProgressPct).toBeGreaterThanOrEqual(0);
    expect(attrs.BackfillProgressPct).toBeLessThan(100);
    expect(attrs.BackfillEtaMinutes).toBeGreaterThanOrEqual(0);

    // Pause with the plain CLI: the parent forwards it; no new date starts, the ones in flight finish.
    await temporal('workflow', 'signal', '--workflow-id', id, '--name', 'pause');
    const eachChild = (until: (p: ProcessorProgress) => boolean): Promise<ProcessorProgress[]> =>
      Promise.all(
        children.map((c) =>
          eventually(async () => {
            const p = await c.query(processorProgressQuery);
            return until(p) ? p : undefined;
          }),
        ),
      );
    const atPause = await eachChild((p) => p.status === 'paused');
    const drained = await eachChild((p) => p.inFlight.length === 0);
    const finished = (p: ProcessorProgress): number => p.done + p.failed;
    drained.forEach((p, i) => {
      expect(finished(p)).toBe(finished(atPause[i]!) + atPause[i]!.inFlight.length);
      expect(finished(p)).toBeLessThan(p.total - p.skipped);
    });
    await new Promise((r) => setTimeout(r, 3 * DATE_DELAY_MS));
    const later = await Promise.all(children.map((c) => c.query(processorProgressQuery)));
    later.forEach((p, i) => {
      expect(finished(p)).toBe(finished(drained[i]!));
      expect(p.inFlight).toEqual([]);
    });
    expect((await handle.query(backfillProgressQuery)).paused).toBe(true);
    expect(await currentDetails(id)).toMatch(/^\*\*.*: Phase 3, group 1 — PAUSED — \d+% of processor-dates finished/);
    // In the Web UI's list: the children read paused.
    await eventually(async () => {
      const paused = await listed(`${mine} AND BackfillStatus = 'paused'`);
      return children.every((c) => paused.has(c.workflowId));
    });
    parentStatusWhilePaused = (await describeAttributes(id)).BackfillStatus;

    // Resume with the plain CLI; the backfill completes.
    await temporal('workflow', 'signal', '--workflow-id', id, '--name', 'resume');
    await eventually(async () => (await children[0]!.query(processorProgressQuery)).status !== 'paused');
    const result = await handle.result();
    expect(result.status).toBe('completed');
    expect(result.processors.every((p) => p.done > 0 && Object.keys(p.failed).length === 0)).toBe(true);

    // Finished: the list by BackfillId holds the parent and its children, all completed, the
    // parent at 100% with no time left — and the README's filters find it.
    const all = await eventually(async () => {
      const rows = await listed(mine);
      return rows.size === 3 && [...rows.values()].every((a) => a.BackfillStatus === 'completed') ? rows : undefined;
    });
    expect(all.get(id)).toMatchObject({ BackfillId: id, BackfillStatus: 'completed', BackfillPhase: 3, BackfillProgressPct: 100, BackfillEtaMinutes: 0 });
    for (const c of children) expect(all.get(c.workflowId)).toMatchObject({ BackfillId: id, BackfillPhase: 3, BackfillProgressPct: 100 });
    expect([...(await listed(`${mine} AND BackfillEtaMinutes < 30`)).keys()]).toEqual([id]);
    expect((await listed(`BackfillStatus = "completed" AND BackfillId = "${id}"`)).has(id)).toBe(true);
    expect(await currentDetails(id)).toMatch(/: completed — 100% of processor-dates finished/);
  });

  // The parent's own BackfillStatus follows pause/resume, as its children's does.
  test("the parent's BackfillStatus reads paused while paused", () => {
    expect(parentStatusWhilePaused).toBe('paused');
  });
});

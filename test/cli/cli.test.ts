/**
 * The CLI in-process (commander with exitOverride) against the real dev server and a real worker,
 * plus the installed bin as a subprocess: exit codes 0 / 1 / 2, one clear line for bad input, and
 * nothing started when the input is bad.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { runCli } from '../../src/cli';
import { PROGRESS_QUERY_WAIT_MS } from '../../src/client/backfill-client';
import { processorProgressQuery } from '../../src/shared/messages';
import { DuckDbWarehouse } from '../../src/warehouse';
import { eventually, seededWarehouse, startWorker, tempDir, testEnv, type RunningWorker } from '../helpers/harness';
import { testServerAddress, uniqueTaskQueue } from '../helpers/temporal-env';

const UNHANDLED_COMMAND = temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND;

interface Run {
  code: number;
  out: string;
  err: string;
}

async function cli(argv: string[], env: Record<string, string> = {}): Promise<Run> {
  let out = '';
  let err = '';
  const code = await runCli(argv, {
    out: (s) => (out += s),
    err: (s) => (err += s),
    env: { TEMPORAL_ADDRESS: testServerAddress(), ...env },
    watchIntervalMs: 200,
  });
  return { code, out, err };
}

describe('backfill CLI: bad input', () => {
  const taskQueue = uniqueTaskQueue('cli-bad');
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await testEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  test.each([
    [['start', '--from', '2024-13-01', '--to', '2024-11-01'], /--from must be a date written YYYY-MM-DD, got "2024-13-01"/],
    [['start', '--from', '2024-11-02', '--to', '2024-11-01'], /--from 2024-11-02 is after --to 2024-11-01/],
    [['start', '--from', '2024-11-01', '--to', '2024-11-02', '--phases', '3,9'], /unknown phase "9"/],
    [['start', '--from', '2024-11-01', '--to', '2024-11-02', '--processors', 'nope'], /unknown processor "nope"/],
    [['start', '--from', '2024-11-01', '--to', '2024-11-02', '--processors', 'ml_feature_store_v2'], /is in phase 4, not in the requested phases 3/],
    [['start', '--from', '2024-11-01', '--to', '2024-11-02', '--concurrency', '0'], /--concurrency must be an integer from 1 to 64, got "0"/],
    [['start', '--from', '2024-11-01', '--to', '2024-11-02', '--gate-policy', 'maybe'], /gate-policy.*maybe/],
    [['start', '--from', '2024-11-01'], /required option '--to <date>' not specified/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['set-concurrency', 'some-id', 'many'], /--concurrency must be an integer/],
    [['validate', '--phase', '9', '--from', '2024-11-01', '--to', '2024-11-02'], /unknown phase 9/],
    [['seed-demo', '--preset', 'huge'], /--preset must be one of full, small, tiny, got "huge"/],
    [['dedupe', '--table', 'nope', '--from', '2024-11-01', '--to', '2024-11-02'], /unknown processor table "nope"/],
    [['status', 'some-id', '--watch', '--json'], /--watch and --json do not go together/],
    [['start', '--from', '2024-11-01', '--to', '2024-11-02', '--gate-thresholds', 'player_game_summary.usage_ratee=0.8'], /--gate-thresholds: unknown gate threshold "player_game_summary.usage_ratee"/],
    [['list', '--status', 'sideways'], /--status must be one of running, completed, .*, got "sideways"/],
    [['list', '--limit', '0'], /--limit must be an integer from 1 to 1000, got "0"/],
    [['start', '--from', '2024-11-01', '--to', '2024-11-02', '--failure-budget', '5'], /--failure-budget: expected off, F\/W or F\/W,R .*got "5"/],
    [['start', '--from', '2024-11-01', '--to', '2024-11-02', '--failure-budget', '25/20'], /--failure-budget: .*25 failed of the last 20 is not possible/],
    [['start', '--from', '2024-11-01', '--to', '2024-11-02', '--failure-budget', '0/20,0'], /--failure-budget: .*never trips: say off/],
    [['start', '--from', '2024-11-01', '--to', '2024-11-02', '--max-bytes-billed-total', '2 TiBs'], /--max-bytes-billed-total: expected a size such as 2TiB/],
    [['start', '--from', '2024-11-01', '--to', '2024-11-02', '--max-bytes-billed-total', '0GiB'], /--max-bytes-billed-total: expected a size above 0 bytes/],
    [['start', '--from', '2024-11-01', '--to', '2024-11-02', '--force'], /--force goes with --max-bytes-billed-total/],
    [['set-cost-budget', 'some-id', 'lots'], /size: expected a size such as 2TiB/],
  ])('%j → exit 2, one line, nothing started', async (argv, message) => {
    const r = await cli(argv, { BACKFILL_TASK_QUEUE: taskQueue, DUCKDB_PATH: path.join(tempDir('cli'), 'w.duckdb') });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(r.out).toBe('');
  });

  test.each([
    [{ WAREHOUSE: 'bigquery' }, 'backfill: invalid setting BIGQUERY_PROJECT: required when WAREHOUSE=bigquery'],
    [{ WAREHOUSE: 'snowflake' }, 'backfill: invalid setting WAREHOUSE: must be one of duckdb, bigquery'],
    [{ WAREHOUSE: 'bigquery', BIGQUERY_PROJECT: 'my-project', BIGQUERY_DATASETS: 'nba_raw:raw' }, /^backfill: invalid setting BIGQUERY_DATASETS: "nba_raw:raw" is not/],
    [{ WAREHOUSE: 'bigquery', BIGQUERY_PROJECT: 'my-project', GOOGLE_APPLICATION_CREDENTIALS: '/no/such/key.json' }, /^backfill: invalid setting GOOGLE_APPLICATION_CREDENTIALS: cannot read \/no\/such\/key.json/],
    [{ EXPORT_DIR: 'gs://' }, /^backfill: invalid setting EXPORT_DIR: export location "gs:\/\/" names no bucket/],
  ])('bad configuration %j → exit 2, one line naming the setting, nothing started', async (vars, message) => {
    const r = await cli(['start', '--from', '2024-11-01', '--to', '2024-11-02'], { BACKFILL_TASK_QUEUE: taskQueue, ...vars });
    expect(r.code).toBe(2);
    expect(r.err.trim()).toMatch(message);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.out).toBe('');
  });

  test('after all that bad input, nothing was started', async () => {
    const started = [];
    for await (const wf of env.client.workflow.list({ query: `TaskQueue = '${taskQueue}'` })) started.push(wf.workflowId);
    expect(started).toEqual([]);
  });

  test('a bad setting in the environment is a usage error naming it', async () => {
    const r = await cli(['status', 'x'], { WAREHOUSE_MAX_IN_FLIGHT: 'lots' });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/invalid setting WAREHOUSE_MAX_IN_FLIGHT/);
  });

  test('an unreachable server is one clear line and exit 1', async () => {
    const r = await cli(['status', 'x'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^backfill: cannot reach Temporal at 127\.0\.0\.1:1 \(set TEMPORAL_ADDRESS/);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });

  test('an unknown backfill id is exit 1', async () => {
    const r = await cli(['status', 'backfill-nope']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no backfill with id "backfill-nope"/);
  });

  test.each([
    [{ DEMO_PHASES: '3,9' }, 'npm start: DEMO_PHASES: unknown phase "9"; known phases: 3, 4, 5, 6'],
    [{ DEMO_PRESET: 'huge' }, 'npm start: DEMO_PRESET must be one of full, small, tiny'],
    [{ WAREHOUSE_MAX_IN_FLIGHT: 'x' }, /^npm start: invalid setting WAREHOUSE_MAX_IN_FLIGHT: /],
    [{ WAREHOUSE: 'bigquery' }, 'npm start: invalid setting BIGQUERY_PROJECT: required when WAREHOUSE=bigquery'],
    [{ argv: '--phases 3,9' }, '--phases: unknown phase "9"; known phases: 3, 4, 5, 6'],
    [{ argv: '--from 2024-13-01' }, 'npm start: --from must be a date written YYYY-MM-DD, got "2024-13-01"'],
    [{ argv: '--preset huge' }, 'npm start: --preset must be one of full, small, tiny'],
    [{ argv: '--frobnicate' }, /^npm start: Unknown option '--frobnicate'.*\(usage: npm start/],
  ])('npm start with %j exits 2 with one line before starting anything', async (vars, message) => {
    const start = path.resolve(__dirname, '../../dist/src/start.js');
    const dataDir = tempDir('start-bad');
    const { argv = '', ...envVars } = vars as Record<string, string>;
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(process.execPath, [start, ...argv.split(' ').filter(Boolean)], { env: { ...process.env, BACKFILL_DATA_DIR: dataDir, ...envVars } }, (error, _stdout, stderr) =>
        resolve({ code: error ? (error.code as number) : 0, stderr }),
      );
    });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    // Nothing was started or created: no dev server data, no warehouse.
    expect(fs.readdirSync(dataDir)).toEqual([]);
  });

  test('the installed bin prints one line without a stack trace for bad input', async () => {
    const bin = path.resolve(__dirname, '../../bin/backfill.js');
    const result = await new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
      execFile(process.execPath, [bin, 'start', '--from', 'yesterday', '--to', '2024-11-01'], { env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' } }, (error, stdout, stderr) =>
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr }),
      );
    });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('backfill: --from must be a date written YYYY-MM-DD, got "yesterday"');
    expect(result.stdout).toBe('');
  });
});

describe('backfill CLI: operating a backfill', () => {
  let env: TestWorkflowEnvironment;
  let warehouse: DuckDbWarehouse;
  let worker: RunningWorker;
  let envVars: Record<string, string>;
  /** Set by the pause test only, so every other test here runs on its own. */
  let holding = false;
  let openGate: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (openGate = resolve));

  beforeAll(async () => {
    env = await testEnv();
    warehouse = await seededWarehouse('tiny');
    // Slow dates a little, and hold player_game_summary's dates after its first two at a gate the
    // test opens once `pause` is acknowledged: pause always finds work left, however loaded the machine.
    let started = 0;
    worker = await startWorker(env, warehouse, {
      wrap: (acts) => ({
        ...acts,
        async runProcessorForDate(input: Parameters<typeof acts.runProcessorForDate>[0]) {
          if (holding && input.processor === 'player_game_summary' && ++started > 2) await held;
          await new Promise((r) => setTimeout(r, 150));
          return acts.runProcessorForDate(input);
        },
      }),
    });
    // Regular activities: pause, cancel and status land between two dates at once. (With local
    // dispatch, DuckDB's default, they land at the next checkpoint, within LOCAL_DISPATCH_CHECKPOINT_MS,
    // by which time these few slowed dates may all be done: test/workflows/local-dispatch.test.ts.)
    envVars = { BACKFILL_TASK_QUEUE: worker.config.taskQueue, DATE_DISPATCH: 'activity' };
  });
  afterAll(async () => {
    openGate();
    await worker?.stop();
    await warehouse?.close();
    await env?.teardown();
  });

  test('start, pause, status --json, resume, start --wait attaches and exits 0', async () => {
    holding = true;
    const args = ['--from', '2024-10-22', '--to', '2024-11-05', '--phases', '3', '--processors', 'player_game_summary,team_offense_game_summary', '--concurrency', '2'];
    const started = await cli(['start', ...args, '--json'], envVars);
    expect(started.code).toBe(0);
    const { id, attached } = JSON.parse(started.out) as { id: string; attached: boolean };
    expect(id).toMatch(/^backfill-2024-10-22-2024-11-05-p3-[0-9a-f]{8}$/);
    expect(attached).toBe(false);

    // The id a request maps to is printable without starting anything.
    const printed = await cli(['id', ...args.slice(0, 8)]);
    expect(printed.out.trim()).toBe(id);

    await eventually(async () => {
      const p = await env.client.workflow.getHandle(`${id}/player_game_summary`).query(processorProgressQuery).catch(() => undefined);
      return p && p.done >= 2;
    });
    const pause = await cli(['pause', id], envVars);
    expect(pause.err).toBe('');
    expect(pause.code).toBe(0);
    // The dates in flight may finish now; no new one starts.
    openGate();
    const paused = await eventually(async () => {
      const p = await env.client.workflow.getHandle(`${id}/player_game_summary`).query(processorProgressQuery);
      return p.status === 'paused' && p.inFlight.length === 0 ? p : undefined;
    });
    expect(paused.done).toBeLessThan(paused.total);

    const status = await cli(['status', id, '--json'], envVars);
    expect(status.code).toBe(0);
    const json = JSON.parse(status.out) as { id: string; status: string; paused: boolean; dateDispatch: string; processors: Array<Record<string, unknown>> };
    expect(json.id).toBe(id);
    // DATE_DISPATCH travelled with the request and the operator sees it.
    expect(json.dateDispatch).toBe('activity');
    expect(json.status).toBe('RUNNING');
    expect(json.paused).toBe(true);
    expect(json.processors.map((p) => p.name).sort()).toEqual(['player_game_summary', 'team_offense_game_summary']);
    for (const p of json.processors) {
      for (const key of ['name', 'total', 'done', 'skipped', 'failed']) expect(p).toHaveProperty(key);
    }

    const human = await cli(['status', id], envVars);
    expect(human.out).toMatch(/\(PAUSED\)/);
    expect(human.out).toMatch(/dates as regular activities/);
    expect(human.out).toMatch(/player_game_summary\s+\[[#-]+\]/);

    expect((await cli(['set-concurrency', id, '3'], envVars)).out).toMatch(/concurrency of .*: 2 → 3/);
    // Forwarded to the running processors.
    await eventually(async () => (await env.client.workflow.getHandle(`${id}/player_game_summary`).query(processorProgressQuery)).concurrency === 3);
    expect((await cli(['set-concurrency', id, '65'], envVars)).err).toMatch(/from 1 to 64, got "65"/);
    // Gate decisions are refused while no gate is waiting.
    const early = await cli(['approve-gate', id], envVars);
    expect(early.code).toBe(1);
    expect(early.err).toMatch(/is not waiting at a failed gate \(stage: running\)/);
    expect((await cli(['resume', id], envVars)).code).toBe(0);

    // Same request again, waiting: attaches to the running backfill and exits 0 when it completes.
    const waited = await cli(['start', ...args, '--wait'], envVars);
    expect(waited.code).toBe(0);
    expect(waited.err).toMatch(/attached to the running backfill/);
    expect(waited.out.split('\n')[0]).toBe(id);
    expect(waited.out).toMatch(/COMPLETED/);

    const done = JSON.parse((await cli(['status', id, '--json'], envVars)).out) as { status: string; processors: Array<{ done: number; failed: number }> };
    expect(done.status).toBe('COMPLETED');
    expect(done.processors.every((p) => p.done > 0 && p.failed === 0)).toBe(true);

    const listed = await cli(['list'], envVars);
    expect(listed.out).toContain(id);
    // Operating on a closed backfill is refused clearly.
    const late = await cli(['pause', id], envVars);
    expect(late.code).toBe(1);
    expect(late.err).toMatch(/is COMPLETED, not running/);
  });

  test('status --watch follows a backfill to its end (plain lines off a terminal); list filters by status and shows progress', async () => {
    const args = ['--from', '2024-10-22', '--to', '2024-10-29', '--phases', '3', '--processors', 'team_offense_game_summary', '--concurrency', '2'];
    const { id } = JSON.parse((await cli(['start', ...args, '--json'], envVars)).out) as { id: string };
    const watched = await cli(['status', id, '--watch'], envVars);
    expect(watched.code).toBe(0);
    const snapshots = watched.out.split(`${id}: `).filter(Boolean);
    expect(snapshots.length).toBeGreaterThanOrEqual(1);
    // No cursor movement off a terminal; the last snapshot is the completed one.
    expect(watched.out).not.toContain('\x1b[');
    expect(snapshots[snapshots.length - 1]).toMatch(/^COMPLETED — completed .*100%/);
    expect(watched.out).toMatch(/Phase 3\s+gate PASSED/);
    expect(watched.out).toMatch(/team_offense_game_summary\s+\[#+\] 100%/);

    const completed = JSON.parse((await cli(['list', '--status', 'completed', '--json'], envVars)).out) as Array<{ id: string; progressPct: number | null; status: string }>;
    expect(completed.find((r) => r.id === id)).toMatchObject({ status: 'COMPLETED', progressPct: 100 });
    const running = JSON.parse((await cli(['list', '--status', 'running', '--json'], envVars)).out) as Array<{ id: string }>;
    expect(running.map((r) => r.id)).not.toContain(id);
    expect((await cli(['list', '--status', 'completed'], envVars)).out).toMatch(new RegExp(`${id}  COMPLETED.*100%  started \\d+[smhd] ago`));
  });

  test('cancel stops the backfill and its processors; dates already written stay written', async () => {
    const args = ['--from', '2024-10-22', '--to', '2024-11-12', '--phases', '3', '--processors', 'upcoming_team_game_context', '--concurrency', '1'];
    const { id } = JSON.parse((await cli(['start', ...args, '--json'], envVars)).out) as { id: string };
    const child = env.client.workflow.getHandle(`${id}/upcoming_team_game_context`);
    await eventually(async () => {
      const p = await child.query(processorProgressQuery).catch(() => undefined);
      return p && p.done >= 1;
    });
    const cancelled = await cli(['cancel', id], envVars);
    expect(cancelled.code).toBe(0);
    expect(cancelled.out).toMatch(/cancel requested for/);
    await eventually(async () => (await env.client.workflow.getHandle(id).describe()).status.name === 'CANCELLED');
    await eventually(async () => (await child.describe()).status.name === 'CANCELLED');
    // The dates in flight were cancelled with it, and no workflow task failed in our code on the way
    // (their rejections once went unhandled: "Unhandled Promise rejection"). A completion the server
    // turns away because the cancel arrived meanwhile (cause UNHANDLED_COMMAND) is Temporal's own
    // race, retried at once, and not ours.
    const failedTasks = ((await child.fetchHistory()).events ?? []).filter(
      (e) => e.workflowTaskFailedEventAttributes && e.workflowTaskFailedEventAttributes.cause !== UNHANDLED_COMMAND,
    );
    expect(failedTasks.map((e) => e.workflowTaskFailedEventAttributes?.failure?.message)).toEqual([]);
    const [row] = await warehouse.query(
      `SELECT count(DISTINCT game_date) AS n FROM nba_analytics.upcoming_team_game_context WHERE source_backfill_id = '${id}'`,
    );
    expect(Number(row?.n)).toBeGreaterThanOrEqual(1);
    const status = JSON.parse((await cli(['status', id, '--json'], envVars)).out) as { status: string };
    expect(status.status).toBe('CANCELLED');
  });

  test('seed-demo, validate and dedupe work on a warehouse file', async () => {
    const duckdb = path.join(tempDir('cli-wh'), 'w.duckdb');
    const seeded = await cli(['seed-demo', '--preset', 'tiny', '--to', '2024-10-30'], { DUCKDB_PATH: duckdb });
    expect(seeded.code).toBe(0);
    const summary = JSON.parse(seeded.out) as { gameDates: number; rows: Record<string, number> };
    expect(summary.gameDates).toBe(9);
    expect(summary.rows.player_boxscores).toBeGreaterThan(0);

    // Nothing processed yet: the Phase 3 gate fails, naming the missing dates.
    const report = await cli(['validate', '--phase', '3', '--from', '2024-10-22', '--to', '2024-10-30', '--json'], { DUCKDB_PATH: duckdb });
    expect(report.code).toBe(1);
    const gate = JSON.parse(report.out) as { ok: boolean; tables: Array<{ expectedDates: number; missingDates: string[] }> };
    expect(gate.ok).toBe(false);
    expect(gate.tables).toHaveLength(5);
    expect(gate.tables.every((t) => t.expectedDates === 9 && t.missingDates.length === 9)).toBe(true);
    expect(report.err).toMatch(/phase 3 gate failed/);

    const dedupe = await cli(['dedupe', '--table', 'nba_analytics.player_game_summary', '--from', '2024-10-22', '--to', '2024-10-30'], { DUCKDB_PATH: duckdb });
    expect(dedupe.code).toBe(0);
    expect(dedupe.out).toMatch(/removed 0 duplicate row\(s\)/);
  });
});

interface DryRunProcessor {
  processor: string;
  datesToRun: number;
  observedRate: { backfillId: string; dates: number; firstProcessedAt: string; lastProcessedAt: string; datesPerHour: number } | null;
  estimateRate: { datesPerHour: number; borrowed: boolean } | null;
  estimatedSeconds: number | null;
}

interface DryRunPlan {
  phases: Array<{ phase: number; groups: DryRunProcessor[][] }>;
  totals: { estimatedSeconds: number | null };
  notes: string[];
}

describe('backfill start --dry-run', () => {
  test('prints the plan per phase and processor, with skip reasons and expected coverage, and starts and writes nothing', async () => {
    const duckdb = path.join(tempDir('cli-plan'), 'w.duckdb');
    const taskQueue = uniqueTaskQueue('cli-plan');
    expect((await cli(['seed-demo', '--preset', 'tiny'], { DUCKDB_PATH: duckdb })).code).toBe(0);
    const vars = { DUCKDB_PATH: duckdb, BACKFILL_TASK_QUEUE: taskQueue };
    const args = ['start', '--from', '2024-10-22', '--to', '2024-11-12', '--phases', '3,4', '--dry-run'];

    const text = await cli(args, vars);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^Plan for backfill-2024-10-22-2024-11-12-p34 .*dry run: nothing started, no table written/);
    expect(text.out).toMatch(/player_game_summary +→ nba_analytics\.player_game_summary/);
    expect(text.out).toMatch(/skipped \d+: bootstrap: first 14 days of season 2024-25/);
    expect(text.out).toMatch(/note: duckdb bills no bytes/);

    const json = await cli([...args, '--json'], vars);
    expect(json.code).toBe(0);
    const plan = JSON.parse(json.out) as {
      dryRun: boolean;
      phases: Array<{ phase: number; groups: Array<Array<{ processor: string; gameDates: number; datesToRun: number; skipped: number; skipReasons: Record<string, number>; expectedCoverage: { expected: number; of: number } }>> }>;
      totals: { dateTasks: number; skipped: number; bytes?: unknown };
    };
    expect(plan.dryRun).toBe(true);
    expect(plan.phases.map((p) => p.phase)).toEqual([3, 4]);
    const all = plan.phases.flatMap((p) => p.groups.flat());
    const gameDates = all[0]!.gameDates;
    expect(gameDates).toBeGreaterThan(14);
    for (const p of all) {
      // The numbers add up: run + skipped = game dates, and every skip has a reason.
      expect(p.datesToRun + p.skipped).toBe(gameDates);
      expect(Object.values(p.skipReasons).reduce((a, b) => a + b, 0)).toBe(p.skipped);
      expect(p.expectedCoverage).toEqual({ expected: p.datesToRun, of: gameDates });
    }
    expect(all.filter((p) => plan.phases[0]!.groups.flat().includes(p)).every((p) => p.skipped === 0)).toBe(true);
    expect(all.find((p) => p.processor === 'team_defense_zone_analysis')!.skipped).toBeGreaterThan(0);
    expect(plan.totals.dateTasks).toBe(all.reduce((a, p) => a + p.datesToRun, 0));
    expect(plan.totals.bytes).toBeUndefined();

    // Nothing started, nothing written.
    const env = await testEnv();
    const started = [];
    try {
      for await (const wf of env.client.workflow.list({ query: `TaskQueue = '${taskQueue}'` })) started.push(wf.workflowId);
    } finally {
      await env.teardown();
    }
    expect(started).toEqual([]);
    const report = await cli(['validate', '--phase', '3', '--from', '2024-10-22', '--to', '2024-11-12', '--json'], { DUCKDB_PATH: duckdb });
    const gate = JSON.parse(report.out) as { tables: Array<{ rows: number }> };
    expect(gate.tables.every((t) => t.rows === 0)).toBe(true);
  });

  test('estimates the duration from earlier runs of the same processors: none before the first run, then per processor and in total', async () => {
    const seeded = await seededWarehouse('tiny', { dir: tempDir('cli-plan-rates') });
    const duckdb = seeded.path;
    await seeded.close();
    const vars = { DUCKDB_PATH: duckdb };
    const dryRun = ['start', '--from', '2024-10-22', '--to', '2024-11-12', '--phases', '3,4', '--dry-run'];

    // No earlier run: no estimate, and the plan says why.
    const before = JSON.parse((await cli([...dryRun, '--json'], vars)).out) as DryRunPlan;
    expect(before.totals.estimatedSeconds).toBeNull();
    for (const p of before.phases.flatMap((x) => x.groups.flat())) expect(p).toMatchObject({ observedRate: null, estimateRate: null, estimatedSeconds: null });
    expect(before.notes).toContainEqual(expect.stringMatching(/^no duration estimate: no earlier run of these processors wrote at least 3 dates/));
    const beforeText = await cli(dryRun, vars);
    expect(beforeText.out).toMatch(/^estimated duration: unknown/m);
    expect(beforeText.out).toMatch(/^note: no duration estimate/m);

    // A real Phase 3 backfill of the same range on the dev server; the worker lets go of the file after.
    const env = await testEnv();
    const warehouse = new DuckDbWarehouse({ path: duckdb });
    const worker = await startWorker(env, warehouse);
    let id: string;
    try {
      const run = await cli(['start', '--from', '2024-10-22', '--to', '2024-11-12', '--phases', '3', '--concurrency', '2', '--wait'], { BACKFILL_TASK_QUEUE: worker.config.taskQueue });
      expect(run.code).toBe(0);
      id = run.out.split('\n')[0]!;
    } finally {
      await worker.stop();
      await warehouse.close();
      await env.teardown();
    }

    const plan = JSON.parse((await cli([...dryRun, '--json'], vars)).out) as DryRunPlan;
    const [phase3, phase4] = plan.phases;
    const observed = phase3!.groups.flat();
    for (const p of observed) {
      // Phase 3's rates are that run's own: its dates over the span of its write times.
      const r = p.observedRate!;
      expect(r.backfillId).toBe(id);
      expect(r.dates).toBe(p.datesToRun);
      expect(r.datesPerHour).toBeCloseTo(((r.dates - 1) / (Date.parse(r.lastProcessedAt) - Date.parse(r.firstProcessedAt))) * 3_600_000, 6);
      expect(p.estimateRate).toEqual({ datesPerHour: r.datesPerHour, borrowed: false });
      expect(p.estimatedSeconds).toBe(Math.round((p.datesToRun / r.datesPerHour) * 3600));
    }
    // Phase 4 never ran: what has dates to run borrows the mean of Phase 3's rates, and the notes
    // name it; what has none (TDZA here: every date skipped) takes no time and borrows nothing.
    const mean = observed.reduce((a, p) => a + p.observedRate!.datesPerHour, 0) / observed.length;
    const idle = phase4!.groups.flat().filter((p) => p.datesToRun === 0);
    for (const p of idle) expect(p).toMatchObject({ observedRate: null, estimateRate: null, estimatedSeconds: 0 });
    const borrowers = phase4!.groups.flat().filter((p) => p.datesToRun > 0);
    expect(borrowers.length).toBeGreaterThan(0);
    for (const p of borrowers) {
      expect(p.observedRate).toBeNull();
      expect(p.estimateRate!.borrowed).toBe(true);
      expect(p.estimateRate!.datesPerHour).toBeCloseTo(mean, 6);
      expect(p.estimatedSeconds).toBe(Math.round((p.datesToRun / p.estimateRate!.datesPerHour) * 3600));
      expect(plan.notes.find((n) => n.startsWith('no earlier run to measure for'))).toContain(p.processor);
    }
    // Groups as long as their slowest processor, phases in sequence.
    const total = plan.phases.reduce((sum, ph) => sum + ph.groups.reduce((g, group) => g + Math.max(...group.map((p) => p.estimatedSeconds!)), 0), 0);
    expect(plan.totals.estimatedSeconds).toBe(total);
    expect(plan.notes).toContainEqual(expect.stringMatching(/at whatever window, warehouse cap and date range that run had/));

    const text = (await cli(dryRun, vars)).out;
    expect(text).toMatch(/^estimated duration ~\d+ (s|min|h)\b.* from earlier runs' rates; .*borrowed the mean rate$/m);
    expect(text).toMatch(new RegExp(`player_game_summary.*\\n\\s+takes ~\\d+ (s|min) at [\\d.]+ dates/h, as ${id} ran \\d+ dates`));
    expect(text).toMatch(/takes ~\d+ (s|min) at [\d.]+ dates\/h, borrowed: the mean of the others' rates/);
  });

  test('a bad range is refused before the warehouse is opened', async () => {
    const r = await cli(['start', '--from', '2024-11-12', '--to', '2024-10-22', '--dry-run'], { DUCKDB_PATH: path.join(tempDir('cli-plan-bad'), 'w.duckdb') });
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe('backfill: --from 2024-11-12 is after --to 2024-10-22');
  });
});

describe('secrets stay out of workflows', () => {
  test('a BigQuery start with a key file: neither its path nor its contents reach the workflow input, history or search attributes', async () => {
    const dir = tempDir('cli-secret');
    const keyFile = path.join(dir, 'sa-key.json');
    const secret = '-----BEGIN PRIVATE KEY-----MIIEvQIBADANBgkqhkiG9w0BAQEFAASC';
    fs.writeFileSync(keyFile, JSON.stringify({ type: 'service_account', private_key: secret, client_email: 'x@y.iam.gserviceaccount.com' }));
    const taskQueue = uniqueTaskQueue('cli-secret');
    const r = await cli(['start', '--from', '2024-11-01', '--to', '2024-11-02', '--json'], {
      BACKFILL_TASK_QUEUE: taskQueue,
      WAREHOUSE: 'bigquery',
      BIGQUERY_PROJECT: 'nba-props-platform',
      GOOGLE_APPLICATION_CREDENTIALS: keyFile,
    });
    expect(r.code).toBe(0);
    const { id } = JSON.parse(r.out) as { id: string };
    const env = await testEnv();
    try {
      const handle = env.client.workflow.getHandle(id);
      // Payloads are bytes: decode every one, so the search reads what the server stores.
      const texts: string[] = [];
      const walk = (v: unknown): void => {
        if (v instanceof Uint8Array) texts.push(Buffer.from(v).toString('utf8'));
        else if (Array.isArray(v)) v.forEach(walk);
        else if (v && typeof v === 'object') Object.values(v).forEach(walk);
        else if (typeof v === 'string') texts.push(v);
      };
      walk(await handle.fetchHistory());
      const history = texts.join('\n');
      const description = JSON.stringify(await handle.describe(), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
      for (const text of [history, description]) {
        expect(text).not.toContain('PRIVATE KEY');
        expect(text).not.toContain(keyFile);
        expect(text).not.toContain('sa-key');
      }
      // The control: the history does hold the request, so the search above looked in the right place.
      expect(history).toContain('"from":"2024-11-01"');
      await handle.terminate('test done');
    } finally {
      await env.teardown();
    }
  });
});

describe('backfill CLI: no worker running', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await testEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  test('status says no worker answered (after PROGRESS_QUERY_WAIT_MS, not the server\'s 30 s) instead of hanging', async () => {
    const id = `backfill-no-worker-${Date.now()}`;
    const request = { from: '2024-10-22', to: '2024-10-23', phases: [3], concurrency: 1, gatePolicy: 'wait' };
    // Started on a task queue no worker polls: it stays RUNNING with its first task pending.
    await env.client.workflow.start('backfillWorkflow', { workflowId: id, taskQueue: uniqueTaskQueue('cli-no-worker'), args: [request] });
    try {
      const r = await cli(['status', id]);
      expect(r.code).toBe(0);
      expect(r.out).toContain(`${id}: RUNNING`);
      expect(r.out).toContain(`note: no worker answered the progress query within ${PROGRESS_QUERY_WAIT_MS / 1_000} s`);
    } finally {
      await env.client.workflow.getHandle(id).terminate('test finished');
    }
  });
});

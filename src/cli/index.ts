/**
 * `backfill` — the operator's CLI. Built by a factory so tests drive it in-process; what the user
 * asked for goes to `out`, diagnostics to the logger (stderr).
 */
import { Command, CommanderError, Option } from 'commander';
import { Client, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ConfigError, dateDispatchOf, loadConfig, parseGateThresholds, warehouseKey, type Config } from '../config';
import { backfillIdFor, getBackfillStatus, startBackfill } from '../client/backfill-client';
import { warehouseLoad } from '../client/warehouse-load';
import { retryBackfill, RetryRefused, type RetryKind } from '../client/follow-up';
import { KNOWN_PHASES } from '../pipeline/registry';
import {
  approveGateSignal,
  backfillProgressQuery,
  pauseSignal,
  resumeSignal,
  setConcurrencyUpdate,
  setCostBudgetUpdate,
} from '../shared/messages';
import { BACKFILL_ETA_MINUTES, BACKFILL_ID, BACKFILL_PROGRESS, BACKFILL_STATUS, BACKFILL_STATUS_VALUES } from '../shared/search-attributes';
import { withoutSecret } from '../config/secret';
import { connectClient, describeTemporalConnection, temporalTlsEnabled } from '../temporal';
import { CliError, UsageError } from './errors';
import { bytes, formatStatus, statusJson } from './format';
import { parseByteBudgetFlag, parseConcurrency, parseFailureBudgetFlag, parseGatePolicy, parseList, parsePhases, parseRange } from './parse';
import { registerWarehouseCommands } from './warehouse-commands';
import { registerReportCommand } from './report-command';
import { registerDoctorCommand } from './doctor';
import { watchBackfill } from './watch';

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Whether `out` is a terminal (live views redraw in place only there). */
  tty?: boolean;
  /** Polling period of `status --watch` (tests make it short). */
  watchIntervalMs?: number;
}

const EXECUTION_STATUSES = ['running', 'completed', 'failed', 'cancelled', 'terminated', 'timed_out', 'continued_as_new'];
const STAGE_STATUSES: readonly string[] = BACKFILL_STATUS_VALUES;

/** The visibility query of `list --status` (values from fixed lists only, never spliced free text). */
function listQuery(status: string | undefined): string {
  const base = "WorkflowType = 'backfillWorkflow'";
  if (status === undefined) return base;
  const s = status.toLowerCase();
  if (s === 'gate_failed' || s === 'paused' || s === 'paused_failures' || s === 'paused_cost' || s === 'validating' || s === 'remediating' || s === 'planning') {
    return `${base} AND BackfillStatus = '${s}'`;
  }
  if (EXECUTION_STATUSES.includes(s)) {
    const name = s === 'timed_out' ? 'TimedOut' : s === 'continued_as_new' ? 'ContinuedAsNew' : s.charAt(0).toUpperCase() + s.slice(1);
    return `${base} AND ExecutionStatus = '${name}'`;
  }
  throw new UsageError(`--status must be one of ${[...new Set([...EXECUTION_STATUSES, ...STAGE_STATUSES])].join(', ')}, got "${status}"`);
}

/** `--phase N`: one of the phases the pipeline knows (whether the backfill has it is checked later). */
function parsePhase(value: string): number {
  if (!/^\d+$/.test(value) || !KNOWN_PHASES.includes(Number(value) as (typeof KNOWN_PHASES)[number])) {
    throw new UsageError(`--phase: unknown phase "${value}"; known phases: ${KNOWN_PHASES.join(', ')}`);
  }
  return Number(value);
}

function ageOf(start: Date): string {
  const s = Math.max(0, (Date.now() - start.getTime()) / 1000);
  if (s < 120) return `${Math.round(s)}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

interface ListRow {
  id: string;
  /** The original of a follow-up (its BackfillId), null for an original. */
  followUpOf: string | null;
  status: string;
  stage: string | null;
  progressPct: number | null;
  etaMinutes: number | null;
  start: string;
  age: string;
}

/**
 * Originals in the order listed, each followed by its listed follow-ups, oldest first; a follow-up
 * whose original is not in the list keeps its own place.
 */
export function withFollowUpsUnderOriginals<R extends { id: string; followUpOf: string | null; start: string }>(rows: readonly R[]): R[] {
  const listed = new Set(rows.filter((r) => r.followUpOf === null).map((r) => r.id));
  const byOriginal = new Map<string, R[]>();
  for (const r of rows) {
    if (r.followUpOf !== null && listed.has(r.followUpOf)) byOriginal.set(r.followUpOf, [...(byOriginal.get(r.followUpOf) ?? []), r]);
  }
  const out: R[] = [];
  for (const r of rows) {
    if (r.followUpOf !== null && listed.has(r.followUpOf)) continue;
    out.push(r);
    if (r.followUpOf === null) out.push(...(byOriginal.get(r.id) ?? []).sort((a, b) => a.start.localeCompare(b.start)));
  }
  return out;
}

export interface CliContext {
  io: CliIo;
  config(): Config;
  client(): Promise<Client>;
  close(): Promise<void>;
}

export function createContext(io: CliIo): CliContext {
  let config: Config | undefined;
  let client: Client | undefined;
  let connectionClose: (() => Promise<void>) | undefined;
  const getConfig = (): Config => {
    if (!config) {
      try {
        config = loadConfig(io.env);
      } catch (err) {
        if (err instanceof ConfigError) throw new UsageError(err.message);
        throw err;
      }
    }
    return config;
  };
  return {
    io,
    config: getConfig,
    async client() {
      if (client) return client;
      const cfg = getConfig();
      let connection;
      try {
        connection = await connectClient(cfg);
      } catch (err) {
        const cause = withoutSecret(err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err), cfg.temporalApiKey);
        // A TLS client against a plaintext server (or the reverse) fails the same way as a wrong address.
        const hint = temporalTlsEnabled(cfg)
          ? `over ${describeTemporalConnection(cfg)} (check TEMPORAL_ADDRESS and TEMPORAL_TLS*; a local dev server speaks plaintext)`
          : '(set TEMPORAL_ADDRESS, or run `npm start` for a local server)';
        throw new CliError(`cannot reach Temporal at ${cfg.temporalAddress} ${hint}: ${cause}`);
      }
      connectionClose = () => connection.close();
      client = new Client({ connection, namespace: cfg.temporalNamespace });
      return client;
    },
    async close() {
      await connectionClose?.();
    },
  };
}

const line = (ctx: CliContext, text: string): void => ctx.io.out(`${text}\n`);

async function withBackfill<T>(ctx: CliContext, id: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = await ctx.client();
  try {
    return await fn(client);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new CliError(`no backfill with id "${id}"`);
    throw err;
  }
}

export function createCli(ctx: CliContext): Command {
  const program = new Command('backfill')
    .description('Durable multi-phase NBA props backfill on Temporal')
    .showHelpAfterError(false)
    .configureOutput({ writeOut: (s) => ctx.io.out(s), writeErr: (s) => ctx.io.err(s), outputError: () => undefined })
    .exitOverride();

  program
    .command('worker')
    .description('run a worker (Temporal workflows and warehouse activities) until SIGINT/SIGTERM')
    .action(async () => {
      const { runWorker } = await import('../worker');
      await runWorker(ctx.config());
    });

  program
    .command('start')
    .description('start a backfill (or attach to the running one for the same request) and print its id')
    .requiredOption('--from <date>', 'first game date, YYYY-MM-DD')
    .requiredOption('--to <date>', 'last game date, YYYY-MM-DD')
    .option('--phases <list>', `phases to run, comma-separated (known: ${KNOWN_PHASES.join(',')})`, '3')
    .option('--processors <list>', 'only these processors, comma-separated')
    .option('--concurrency <n>', 'dates in flight per processor')
    .addOption(new Option('--gate-policy <policy>', 'on a failed gate: wait for an operator, or remediate').choices(['wait', 'remediate']).default('wait'))
    .option('--wait', 'wait for the backfill to finish; exit 0 when it completed, 1 when it failed')
    .option('--gate-thresholds <list>', 'field-coverage minimums for the gates, table.column=min,… (default: GATE_THRESHOLDS, then the processors\' own)')
    .option(
      '--failure-budget <budget>',
      "pause the whole backfill when a processor's failures pass this: F/W (F of its last W finished dates failed), " +
        'F/W,R (… or R in a row failed with the same error class; 0 turns a trip off), or off (default 5/20,3)',
    )
    .option(
      '--max-bytes-billed-total <size>',
      "pause before the bytes billed by the backfill's dates would pass this (e.g. 2TiB, 500GiB, 1.5TB); on BigQuery the " +
        "dry-run estimate is checked first and start refuses when it alone passes the budget (see --force); on DuckDB nothing is billed: accepted, noted as not applicable",
    )
    .option('--force', 'start even when the dry-run estimate passes --max-bytes-billed-total')
    .option('--dry-run', 'print the plan (dates to run and skipped, expected coverage, BigQuery bytes, against the budget) without starting anything; exit 2 when the estimate passes --max-bytes-billed-total')
    .option('--json', 'print JSON')
    .action(async (opts: { from: string; to: string; phases: string; processors?: string; concurrency?: string; gatePolicy?: string; gateThresholds?: string; failureBudget?: string; maxBytesBilledTotal?: string; force?: boolean; wait?: boolean; dryRun?: boolean; json?: boolean }) => {
      const config = ctx.config();
      let gateThresholds = config.gateThresholds;
      if (opts.gateThresholds !== undefined) {
        try {
          gateThresholds = { ...config.gateThresholds, ...parseGateThresholds(opts.gateThresholds) };
        } catch (err) {
          throw new UsageError(`--gate-thresholds: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      const { from, to } = parseRange(opts.from, opts.to);
      const phases = parsePhases(opts.phases, KNOWN_PHASES);
      const processors = parseList(opts.processors);
      const concurrency = parseConcurrency(opts.concurrency, config.defaultConcurrency);
      const gatePolicy = parseGatePolicy(opts.gatePolicy);
      const failureBudget = parseFailureBudgetFlag(opts.failureBudget);
      const maxBytesBilledTotal = parseByteBudgetFlag(opts.maxBytesBilledTotal);
      if (opts.force && maxBytesBilledTotal === undefined) throw new UsageError('--force goes with --max-bytes-billed-total: it starts a backfill whose estimate passes that budget');
      // Validate names before anything is started.
      const { planPhases } = await import('../pipeline/registry');
      try {
        planPhases(phases, processors);
      } catch (err) {
        throw new UsageError(err instanceof Error ? err.message : String(err));
      }
      const overBudget = (estimate: number, budget: number): UsageError =>
        new UsageError(
          `the dry-run estimate ${bytes(estimate)} passes --max-bytes-billed-total ${bytes(budget)}: raise the budget, narrow the request, or --force to start anyway`,
        );
      if (opts.dryRun) {
        const { dryRunPlan } = await import('./warehouse-commands');
        const plan = await dryRunPlan(ctx, { from, to, phases, ...(processors ? { processors } : {}), json: opts.json === true, ...(maxBytesBilledTotal !== undefined ? { maxBytesBilledTotal } : {}) });
        const estimate = plan.totals.bytes?.totalBytes;
        if (maxBytesBilledTotal !== undefined && estimate !== undefined && estimate > maxBytesBilledTotal && !opts.force) throw overBudget(estimate, maxBytesBilledTotal);
        return;
      }
      if (maxBytesBilledTotal !== undefined) {
        if (config.warehouse === 'bigquery') {
          // Priced before anything starts: dry-run jobs bill nothing.
          const { estimatePlan } = await import('./warehouse-commands');
          const estimate = (await estimatePlan(ctx, { from, to, phases, ...(processors ? { processors } : {}) })).totals.bytes?.totalBytes;
          if (estimate !== undefined && estimate > maxBytesBilledTotal && !opts.force) throw overBudget(estimate, maxBytesBilledTotal);
          if (estimate !== undefined && !opts.json) ctx.io.err(`estimated scan ${bytes(estimate)} of the ${bytes(maxBytesBilledTotal)} budget\n`);
        } else if (!opts.json) {
          ctx.io.err(`note: --max-bytes-billed-total is not applicable on ${config.warehouse}, which bills no bytes: accepted, it will not pause this backfill\n`);
        }
      }
      const client = await ctx.client();
      const request = {
        from,
        to,
        phases,
        concurrency,
        gatePolicy,
        bootstrapDays: config.bootstrapDays,
        dateDispatch: dateDispatchOf(config),
        ...(processors ? { processors } : {}),
        ...(Object.keys(gateThresholds).length > 0 ? { gateThresholds } : {}),
        ...(failureBudget !== undefined ? { failureBudget } : {}),
        ...(maxBytesBilledTotal !== undefined ? { maxBytesBilledTotal } : {}),
      };
      const outcome = await startBackfill(client, config.taskQueue, request);
      if (opts.json) line(ctx, JSON.stringify({ id: outcome.backfillId, attached: outcome.attached }));
      else line(ctx, outcome.backfillId);
      if (!opts.json) ctx.io.err(outcome.attached ? `attached to the running backfill ${outcome.backfillId}\n` : `started ${outcome.backfillId}\n`);
      if (opts.wait) {
        try {
          await outcome.handle.result();
        } catch (err) {
          throw new CliError(`backfill ${outcome.backfillId} failed: ${err instanceof Error ? err.message : String(err)}`);
        }
        const status = await getBackfillStatus(client, outcome.backfillId);
        if (opts.json) line(ctx, JSON.stringify(statusJson(status)));
        else line(ctx, formatStatus(status));
      }
    });

  program
    .command('id')
    .description('print the backfill id a start request would use (without starting anything)')
    .requiredOption('--from <date>', 'first game date')
    .requiredOption('--to <date>', 'last game date')
    .option('--phases <list>', 'phases', '3')
    .option('--processors <list>', 'processors')
    .action((opts: { from: string; to: string; phases: string; processors?: string }) => {
      const { from, to } = parseRange(opts.from, opts.to);
      const processors = parseList(opts.processors);
      line(ctx, backfillIdFor({ from, to, phases: parsePhases(opts.phases, KNOWN_PHASES), ...(processors ? { processors } : {}) }));
    });

  program
    .command('status <id>')
    .description('progress per processor (done, skipped, failed, in flight, rate, ETA), one ETA for the whole backfill, and gate reports')
    .option('--json', 'print JSON')
    .option('--watch', 'follow it live until it ends (redrawn in place on a terminal, plain lines otherwise; Ctrl-C stops watching)')
    .action(async (id: string, opts: { json?: boolean; watch?: boolean }) => {
      if (opts.watch && opts.json) throw new UsageError('--watch and --json do not go together: use --json alone and poll');
      if (opts.watch) {
        let stop = false;
        const onSigint = (): void => {
          stop = true;
        };
        process.once('SIGINT', onSigint);
        try {
          const client = await ctx.client();
          await withBackfill(ctx, id, (c) => c.workflow.getHandle(id).describe());
          const final = await watchBackfill(client, id, { write: ctx.io.out, tty: ctx.io.tty === true, detached: () => stop, ...(ctx.io.watchIntervalMs ? { intervalMs: ctx.io.watchIntervalMs, plainEveryMs: ctx.io.watchIntervalMs } : {}) });
          if (final && final.status !== 'COMPLETED') throw new CliError(`backfill ${id} ended ${final.status}`);
        } finally {
          process.removeListener('SIGINT', onSigint);
        }
        return;
      }
      const status = await withBackfill(ctx, id, (client) => getBackfillStatus(client, id));
      // The deployment's admitted warehouse load (adaptive), from the slots workflow's memo; a status without it is still a status.
      const load = status.status === 'RUNNING' ? await warehouseLoad(await ctx.client(), warehouseKey(ctx.config())).catch(() => undefined) : undefined;
      const shown = load ? { ...status, warehouseLoad: load } : status;
      line(ctx, opts.json ? JSON.stringify(statusJson(shown), null, 2) : formatStatus(shown));
    });

  program
    .command('list')
    .description('backfills, newest first, with progress and age')
    .option('--status <status>', 'only these: running, completed, failed, cancelled, terminated, timed_out (or a BackfillStatus such as gate_failed, paused, paused_failures, paused_cost)')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print JSON')
    .action(async (opts: { status?: string; limit: string; json?: boolean }) => {
      const limit = Number(opts.limit);
      if (!/^\d+$/.test(opts.limit) || limit < 1 || limit > 1000) throw new UsageError(`--limit must be an integer from 1 to 1000, got "${opts.limit}"`);
      const query = listQuery(opts.status);
      const client = await ctx.client();
      const rows: ListRow[] = [];
      for await (const wf of client.workflow.list({ query })) {
        const attrs = wf.typedSearchAttributes;
        const original = attrs.get(BACKFILL_ID);
        rows.push({
          id: wf.workflowId,
          followUpOf: original !== undefined && original !== wf.workflowId ? original : null,
          status: wf.status.name,
          stage: attrs.get(BACKFILL_STATUS) ?? null,
          progressPct: attrs.get(BACKFILL_PROGRESS) ?? null,
          etaMinutes: attrs.get(BACKFILL_ETA_MINUTES) ?? null,
          start: wf.startTime.toISOString(),
          age: ageOf(wf.startTime),
        });
        if (rows.length >= limit) break;
      }
      const grouped = withFollowUpsUnderOriginals(rows);
      if (opts.json) line(ctx, JSON.stringify(grouped));
      else if (rows.length === 0) line(ctx, opts.status ? `no backfills with status ${opts.status}` : 'no backfills');
      else {
        for (const r of grouped) {
          const pct = r.progressPct === null ? '' : `  ${String(r.progressPct).padStart(3)}%`;
          const eta = r.status === 'RUNNING' && r.etaMinutes !== null ? `  ETA ${r.etaMinutes} min` : '';
          // A follow-up's ID starts with its original's, so "↳" under it is link enough.
          const prefix = r.followUpOf === null ? '' : '  ↳ ';
          line(ctx, `${prefix}${r.id}  ${r.status}${r.stage && r.stage !== r.status.toLowerCase() ? ` (${r.stage})` : ''}${pct}${eta}  started ${r.age} ago`);
        }
      }
    });

  const signalCommand = (name: string, description: string, send: (client: Client, id: string) => Promise<void>, done: string): void => {
    program
      .command(`${name} <id>`)
      .description(description)
      .action(async (id: string) => {
        await withBackfill(ctx, id, async (client) => {
          const d = await client.workflow.getHandle(id).describe();
          if (d.status.name !== 'RUNNING') throw new CliError(`backfill ${id} is ${d.status.name}, not running`);
          await send(client, id);
        });
        line(ctx, `${done} ${id}`);
      });
  };
  signalCommand('pause', 'stop starting new dates; dates in flight finish', (c, id) => c.workflow.getHandle(id).signal(pauseSignal), 'paused');
  signalCommand('resume', 'resume a paused backfill', (c, id) => c.workflow.getHandle(id).signal(resumeSignal), 'resumed');
  /** Gate decisions mean something only while a gate has failed: say so instead of signalling into the void. */
  const atFailedGate = async (c: Client, id: string): Promise<void> => {
    const progress = await c.workflow.getHandle(id).query(backfillProgressQuery);
    if (progress.stage.kind !== 'gate_failed') {
      throw new CliError(`backfill ${id} is not waiting at a failed gate (stage: ${progress.stage.kind})`);
    }
  };
  signalCommand('approve-gate', 'accept a failed phase gate and go on to the next phase', async (c, id) => {
    await atFailedGate(c, id);
    await c.workflow.getHandle(id).signal(approveGateSignal);
  }, 'approved the gate of');

  /**
   * Retries at any time: at a failed gate the signal, once the backfill has ended a follow-up that
   * re-runs the dates its history records (src/client/follow-up.ts), otherwise one line saying why not.
   */
  const retryCommand = (kind: RetryKind, description: string, signalled: string): void => {
    const command = program.command(`${kind} <id>`).description(description);
    if (kind === 'retry-phase') command.option('--phase <n>', 'the phase to retry: required once the backfill has ended; at a gate, the gate\'s phase');
    command
      .option('--wait', 'wait until the backfill (at a gate) or the follow-up ends; exit 0 when it completed, 1 otherwise')
      .option('--json', 'print JSON')
      .action(async (id: string, opts: { phase?: string; wait?: boolean; json?: boolean }) => {
        const phase = opts.phase === undefined ? undefined : parsePhase(opts.phase);
        const outcome = await withBackfill(ctx, id, (client) =>
          retryBackfill(client, id, { kind, ...(phase !== undefined ? { phase } : {}) }).catch((err: unknown) => {
            if (err instanceof RetryRefused) throw err.badInput ? new UsageError(err.message) : new CliError(err.message);
            throw err;
          }),
        );
        if (outcome.action === 'signalled') {
          line(ctx, opts.json ? JSON.stringify({ action: 'signalled', id: outcome.id, phase: outcome.phase }) : `${signalled} ${outcome.id}`);
        } else {
          line(ctx, opts.json ? JSON.stringify({ action: 'started', id: outcome.id, followUpOf: outcome.of, followUp: outcome.spec }) : outcome.id);
          if (!opts.json) ctx.io.err(`started ${outcome.id}: ${outcome.summary}\n`);
        }
        if (!opts.wait) return;
        const client = await ctx.client();
        try {
          await client.workflow.getHandle(outcome.id).result();
        } catch (err) {
          throw new CliError(`${outcome.id} did not complete: ${err instanceof Error ? err.message : String(err)}`);
        }
        const status = await getBackfillStatus(client, outcome.id);
        line(ctx, opts.json ? JSON.stringify(statusJson(status)) : formatStatus(status));
        const rerun = status.result?.followUp?.rerun;
        if (!opts.json && rerun && Object.keys(rerun).length === 0) {
          ctx.io.err(`nothing was re-run: the tables pass ${outcome.id}'s gate as they stand\n`);
        }
      });
  };
  retryCommand(
    'retry-phase',
    'at a failed gate: re-run the phase\'s failed, missing and duplicated dates, then validate again; once the backfill has ended: a follow-up that does so for --phase',
    'retrying the phase of',
  );
  retryCommand(
    'retry-failed',
    'at a failed gate: re-run exactly the failed dates, then validate again; once the backfill has ended: a follow-up that does so',
    'retrying failed dates of',
  );
  signalCommand('cancel', 'cancel a backfill and its processors (written dates stay written)', (c, id) => c.workflow.getHandle(id).cancel().then(() => undefined), 'cancel requested for');

  program
    .command('set-concurrency <id> <n>')
    .description('change the window of dates in flight per processor')
    .action(async (id: string, n: string) => {
      const value = parseConcurrency(n, 1);
      const previous = await withBackfill(ctx, id, (client) =>
        client.workflow
          .getHandle(id)
          .executeUpdate(setConcurrencyUpdate, { args: [value] })
          .catch((err: unknown) => {
            // The workflow's validator explains the rejection in the cause.
            if (err instanceof WorkflowUpdateFailedError) throw new UsageError(err.cause?.message ?? err.message);
            throw err;
          }),
      );
      line(ctx, `concurrency of ${id}: ${previous} → ${value}`);
    });

  program
    .command('set-cost-budget <id> <size>')
    .description("change the bytes-billed budget of a backfill started with --max-bytes-billed-total (e.g. 3TiB); resume it if it paused for cost")
    .action(async (id: string, size: string) => {
      const value = parseByteBudgetFlag(size, 'size');
      if (value === undefined) throw new UsageError('size is required');
      const previous = await withBackfill(ctx, id, (client) =>
        client.workflow
          .getHandle(id)
          .executeUpdate(setCostBudgetUpdate, { args: [value] })
          .catch((err: unknown) => {
            if (err instanceof WorkflowUpdateFailedError) throw new UsageError(err.cause?.message ?? err.message);
            throw err;
          }),
      );
      line(ctx, `bytes-billed budget of ${id}: ${previous === null ? 'none' : bytes(previous)} → ${bytes(value)}`);
    });

  registerWarehouseCommands(program, ctx);
  registerReportCommand(program, ctx);
  registerDoctorCommand(program, ctx);
  return program;
}

/** Runs the CLI and returns the exit code: 0 ok, 1 failed, 2 bad input. Never throws. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const ctx = createContext(io);
  const program = createCli(ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return 0;
      io.err(`backfill: ${err.message.replace(/^error: /, '')}\n`);
      return 2;
    }
    if (err instanceof CliError) {
      io.err(`backfill: ${err.message}\n`);
      return err.exitCode;
    }
    io.err(`backfill: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n`);
    return 1;
  } finally {
    await ctx.close().catch(() => undefined);
  }
}

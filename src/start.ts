/**
 * `npm start`: the demo on embedded defaults. With no TEMPORAL_ADDRESS and nothing answering on
 * localhost:7233 it starts a local Temporal dev server persisted under .data/ (left running for
 * the Web UI), runs a worker in this process, seeds the demo data into the warehouse (DuckDB unless
 * WAREHOUSE says otherwise) when it is empty, starts (or re-attaches to) the demo backfill and
 * shows its progress until it finishes.
 * Ctrl-C detaches: running it again picks the same workflow up where it was.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { backfillIdFor, getBackfillStatus, startBackfill, type BackfillStatus } from './client/backfill-client';
import { formatStatus } from './cli/format';
import { ConfigError, dateDispatchOf, loadConfig, type Config } from './config';
import { isTemporalReachable, locateTemporalCli, startDevServer } from './devserver';
import { createLogger, installTemporalRuntime } from './logger';
import { withoutSecret } from './config/secret';
import { describeTemporalConnection, temporalConnectionOptions, temporalTlsEnabled } from './temporal';
import { DEMO_PRESETS, seedDemoData, type DemoPresetName } from './pipeline/demo';
import { rawSchedule } from './pipeline/raw';
import { KNOWN_PHASES, planPhases } from './pipeline/registry';
import { parsePhases, parseRange } from './cli/parse';
import { ensureWarehouseTables } from './pipeline/tables';
import { watchBackfill } from './cli/watch';
import { createExportSink } from './exports';
import { buildBackfillReport, writeReportHtml } from './report';
import { createBackfillWorker } from './worker';
import { createWarehouse, describeWarehouse } from './warehouse';

/** One line naming the configured warehouse (no secrets: describeWarehouse holds none). */
function warehouseLocation(config: Config): string {
  return Object.entries(describeWarehouse(config))
    .filter(([, v]) => typeof v === 'string' || typeof v === 'number')
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
}

const out = (s: string): void => {
  process.stdout.write(`${s}\n`);
};

async function ensureTemporal(config: Config, log: (s: string) => void): Promise<{ address: string; uiUrl: string }> {
  const address = config.temporalAddress;
  // A server behind TLS or an API key (a cluster, Temporal Cloud) is never one we would start, and a
  // plaintext probe cannot see it: connect as configured and let that report what is wrong.
  if (temporalTlsEnabled(config) || config.temporalApiKey !== undefined) {
    return { address, uiUrl: process.env.TEMPORAL_UI_URL ?? 'http://localhost:8233' };
  }
  if (await isTemporalReachable(address, 3_000)) {
    return { address, uiUrl: process.env.TEMPORAL_UI_URL ?? 'http://localhost:8233' };
  }
  if (config.temporalAddressExplicit) {
    throw new Error(`nothing answers at TEMPORAL_ADDRESS=${address}`);
  }
  const cliPath = await locateTemporalCli({ allowBuild: true, allowDownload: true, log });
  const dataDir = path.resolve(config.dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  log(`starting a local Temporal dev server (history persisted in ${path.join(dataDir, 'temporal.sqlite')})`);
  const server = await startDevServer({
    cliPath,
    port: 7233,
    uiPort: 8233,
    dbFilename: path.join(dataDir, 'temporal.sqlite'),
    logFile: path.join(dataDir, 'temporal-server.log'),
    detached: true,
    startTimeoutMs: 90_000,
    log,
  });
  fs.writeFileSync(path.join(dataDir, 'temporal-server.pid'), `${server.pid}\n`);
  log(`Temporal dev server running (pid ${server.pid}); it keeps running for the Web UI — stop it with: kill ${server.pid}`);
  return { address: server.address, uiUrl: server.uiUrl ?? 'http://localhost:8233' };
}

interface StartArgs {
  presetName: DemoPresetName;
  preset: (typeof DEMO_PRESETS)[DemoPresetName];
  phases: number[];
  from: string;
  to: string;
}

const USAGE = 'usage: npm start [-- --preset full|small|tiny] [--from YYYY-MM-DD --to YYYY-MM-DD] [--phases 3,4,5,6]';

/**
 * `npm start -- --preset small --from D --to D --phases 3,4`: the demo's range and phases. The
 * whole pipeline over the preset's whole range by default; DEMO_PRESET / DEMO_PHASES are still read.
 */
export function parseStartArgs(argv: string[], env: NodeJS.ProcessEnv): StartArgs {
  let parsed: ReturnType<typeof parseArgs<{ options: { preset: { type: 'string' }; from: { type: 'string' }; to: { type: 'string' }; phases: { type: 'string' } } }>>;
  try {
    parsed = parseArgs({ args: argv, options: { preset: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, phases: { type: 'string' } }, strict: true, allowPositionals: false });
  } catch (err) {
    throw new Error(`${(err instanceof Error ? err.message : String(err)).split('\n')[0] ?? ''} (${USAGE})`, { cause: err });
  }
  const o = parsed.values;
  const presetName = (o.preset ?? env.DEMO_PRESET ?? 'full') as DemoPresetName;
  const preset = DEMO_PRESETS[presetName];
  if (!preset) throw new Error(`${o.preset !== undefined ? '--preset' : 'DEMO_PRESET'} must be one of ${Object.keys(DEMO_PRESETS).join(', ')}`);
  const phasesText = o.phases ?? env.DEMO_PHASES ?? KNOWN_PHASES.join(',');
  let phases: number[];
  try {
    phases = parsePhases(phasesText, KNOWN_PHASES);
    planPhases(phases);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(o.phases !== undefined ? message : `DEMO_PHASES: ${message.replace(/^--phases: /, '')}`, { cause: err });
  }
  const { from, to } = parseRange(o.from ?? preset.from, o.to ?? preset.to);
  return { presetName, preset, phases, from, to };
}

async function main(): Promise<number> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`npm start: ${err.message}\n`);
    return 2;
  }
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
  installTemporalRuntime(logger);
  let args: StartArgs;
  try {
    args = parseStartArgs(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`npm start: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  const { presetName, preset, phases, from, to } = args;
  const say = (s: string): void => out(`» ${s}`);

  const temporal = await ensureTemporal(config, say);
  const warehouse = createWarehouse(config);
  const connectionOptions = temporalConnectionOptions({ ...config, temporalAddress: temporal.address });
  const connection = await NativeConnection.connect(connectionOptions).catch((err: unknown) => {
    const cause = withoutSecret(err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err), config.temporalApiKey);
    throw new Error(`cannot reach Temporal at ${temporal.address} over ${describeTemporalConnection(config)}: ${cause}`, { cause: err });
  });
  let detached = false;
  try {
    await ensureWarehouseTables(warehouse);
    const [games] = await warehouse.query(`SELECT count(*) AS n FROM ${warehouse.dialect.table(rawSchedule)}`);
    if (Number(games?.n ?? 0) === 0) {
      say(`warehouse ${warehouseLocation(config)} is empty: seeding the ${presetName} demo data (${preset.from} → ${preset.to})…`);
      const summary = await seedDemoData(warehouse, { preset: presetName });
      say(`seeded ${JSON.stringify(summary)}`);
    }

    const client = new Client({ connection: await Connection.connect(connectionOptions), namespace: config.temporalNamespace });
    const worker = await createBackfillWorker({ config: { ...config, temporalAddress: temporal.address }, logger, connection, client, warehouse });
    const workerRun = worker.run();

    const request = {
      from,
      to,
      phases,
      concurrency: config.defaultConcurrency,
      gatePolicy: 'wait' as const,
      bootstrapDays: config.bootstrapDays,
      dateDispatch: dateDispatchOf(config),
      ...(Object.keys(config.gateThresholds).length > 0 ? { gateThresholds: config.gateThresholds } : {}),
    };
    const id = backfillIdFor(request);
    const previous = await getBackfillStatus(client, id).catch(() => undefined);
    // The report is written by this process because it holds the warehouse (a DuckDB file admits
    // one writing process): `backfill report` from another terminal would find it locked.
    const writeReport = async (status: BackfillStatus): Promise<void> => {
      const file = path.resolve(config.dataDir, 'reports', `${id}.html`);
      try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        const report = await buildBackfillReport({
          warehouse,
          exportSink: createExportSink({ exportDir: config.exportDir, gcsApiEndpoint: config.gcsApiEndpoint }),
          status,
          request: { from, to, phases, bootstrapDays: config.bootstrapDays },
        });
        writeReportHtml(file, report);
        say(`report: ${file}`);
      } catch (err) {
        say(`could not write the report: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
      }
    };

    if (previous?.status === 'COMPLETED') {
      out(formatStatus(previous));
      say(`${id} already completed. Web UI: ${temporal.uiUrl}/namespaces/${config.temporalNamespace}/workflows/${encodeURIComponent(id)}`);
      await writeReport(previous);
      say(`re-run it with: npx backfill start --from ${from} --to ${to} --phases ${phases.join(',')}`);
      worker.shutdown();
      await workerRun;
      await client.connection.close();
      return 0;
    }
    const outcome = await startBackfill(client, config.taskQueue, request);
    say(`${outcome.attached ? 'resumed' : 'started'} ${id}`);
    say(`Web UI: ${temporal.uiUrl}/namespaces/${config.temporalNamespace}/workflows/${encodeURIComponent(id)}`);
    say('Ctrl-C detaches (the backfill waits durably; `npm start` again resumes it). In another terminal:');
    say(`  npx backfill status ${id}    npx backfill pause ${id}    npx backfill resume ${id}`);

    const onSigint = (): void => {
      detached = true;
    };
    process.once('SIGINT', onSigint);
    process.once('SIGTERM', onSigint);
    const final = await watchBackfill(client, id, {
      write: (text) => process.stdout.write(text),
      tty: process.stdout.isTTY === true,
      detached: () => detached,
    });
    const finalStatus = final?.status ?? '';
    if (final && finalStatus === 'COMPLETED') {
      say(`${id} completed`);
      await writeReport(final);
    }
    if (detached) say(`detached from ${id}; run \`npm start\` again to resume watching it`);
    worker.shutdown();
    await workerRun;
    await client.connection.close();
    return detached || finalStatus === 'COMPLETED' ? 0 : 1;
  } finally {
    await warehouse.close();
    await connection.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`npm start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);

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
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { backfillIdFor, getBackfillStatus, startBackfill } from './client/backfill-client';
import { formatStatus, processorLine } from './cli/format';
import { ConfigError, loadConfig, type Config } from './config';
import { isTemporalReachable, locateTemporalCli, startDevServer } from './devserver';
import { createLogger, installTemporalRuntime } from './logger';
import { DEMO_PRESETS, seedDemoData, type DemoPresetName } from './pipeline/demo';
import { rawSchedule } from './pipeline/raw';
import { planPhases } from './pipeline/registry';
import { ensureWarehouseTables } from './pipeline/tables';
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
  const presetName = (process.env.DEMO_PRESET ?? 'full') as DemoPresetName;
  const preset = DEMO_PRESETS[presetName];
  if (!preset) {
    process.stderr.write(`npm start: DEMO_PRESET must be one of ${Object.keys(DEMO_PRESETS).join(', ')}\n`);
    return 2;
  }
  const phases = (process.env.DEMO_PHASES ?? '3').split(',').map(Number);
  try {
    planPhases(phases);
  } catch (err) {
    process.stderr.write(`npm start: DEMO_PHASES: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  const say = (s: string): void => out(`» ${s}`);

  const temporal = await ensureTemporal(config, say);
  const warehouse = createWarehouse(config);
  const connection = await NativeConnection.connect({ address: temporal.address });
  let detached = false;
  try {
    await ensureWarehouseTables(warehouse);
    const [games] = await warehouse.query(`SELECT count(*) AS n FROM ${warehouse.dialect.table(rawSchedule)}`);
    if (Number(games?.n ?? 0) === 0) {
      say(`warehouse ${warehouseLocation(config)} is empty: seeding the ${presetName} demo data (${preset.from} → ${preset.to})…`);
      const summary = await seedDemoData(warehouse, { preset: presetName });
      say(`seeded ${JSON.stringify(summary)}`);
    }

    const client = new Client({ connection: await Connection.connect({ address: temporal.address }), namespace: config.temporalNamespace });
    const worker = await createBackfillWorker({ config: { ...config, temporalAddress: temporal.address }, logger, connection, client, warehouse });
    const workerRun = worker.run();

    const request = { from: preset.from, to: preset.to, phases, concurrency: config.defaultConcurrency, gatePolicy: 'wait' as const, bootstrapDays: config.bootstrapDays };
    const id = backfillIdFor(request);
    const previous = await getBackfillStatus(client, id).catch(() => undefined);
    if (previous?.status === 'COMPLETED') {
      out(formatStatus(previous));
      say(`${id} already completed. Web UI: ${temporal.uiUrl}/namespaces/${config.temporalNamespace}/workflows/${encodeURIComponent(id)}`);
      say(`re-run it with: npx backfill start --from ${preset.from} --to ${preset.to} --phases ${phases.join(',')}`);
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
    const tty = process.stdout.isTTY === true;
    let lastPrinted = 0;
    let drawnLines = 0;
    let finalStatus = '';
    while (!detached) {
      const status = await getBackfillStatus(client, id).catch(() => undefined);
      if (status) {
        if (status.status !== 'RUNNING') {
          finalStatus = status.status;
          if (tty && drawnLines > 0) process.stdout.write(`\x1b[${drawnLines}A\x1b[J`);
          out(formatStatus(status));
          break;
        }
        const lines = [formatStatus(status).split('\n')[0] ?? '', ...(status.progress?.processors.map(processorLine) ?? [])];
        if (tty) {
          if (drawnLines > 0) process.stdout.write(`\x1b[${drawnLines}A\x1b[J`);
          out(lines.join('\n'));
          drawnLines = lines.length;
        } else if (Date.now() - lastPrinted > 10_000) {
          out(lines.join('\n'));
          lastPrinted = Date.now();
        }
      }
      await new Promise((r) => setTimeout(r, 1_000));
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

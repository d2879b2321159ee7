/**
 * Benchmarks: Phase 3 throughput on the demo data, side by side in one run —
 *   1. the engine alone (every processor × date in a plain loop, no Temporal): the floor;
 *   2. the durable backfill with a window of 1 per processor (the handoff's "sequential mode");
 *   3. the durable backfill with the default window.
 * Prints figures and writes them to bench/results/. Nothing here passes or fails on time.
 *
 *   npm run bench                       # full range (918 dates), windows 1 and 4
 *   BENCH_PRESET=small BENCH_WINDOWS=1,2,4 npm run bench
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import pino from 'pino';
import { startBackfill } from '../src/client/backfill-client';
import { loadConfig } from '../src/config';
import { findFreePort, locateTemporalCli, startDevServer } from '../src/devserver';
import { installTemporalRuntime } from '../src/logger';
import { DEMO_PRESETS, seedDemoData, type DemoPresetName } from '../src/pipeline/demo';
import { listGameDates } from '../src/pipeline/dates';
import { runTableProcessor } from '../src/pipeline/engine';
import { phase3Processors } from '../src/pipeline/phase3';
import { DuckDbWarehouse } from '../src/warehouse';
import { ensureWarehouseTables } from '../src/pipeline/tables';
import { createBackfillWorker } from '../src/worker';

interface Figure {
  name: string;
  seconds: number;
  processorDates: number;
  processorDatesPerSecond: number;
  gameDatesPerSecond: number;
  peakRssMiB: number;
}

async function main(): Promise<void> {
  const presetName = (process.env.BENCH_PRESET ?? 'full') as DemoPresetName;
  const preset = DEMO_PRESETS[presetName];
  const windows = (process.env.BENCH_WINDOWS ?? '1,4').split(',').map(Number);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'props-backfill-bench-'));
  const logger = pino({ level: 'warn' });
  installTemporalRuntime(logger);
  let peakRss = 0;
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);
  const figures: Figure[] = [];
  const say = (s: string): void => {
    process.stdout.write(`${s}\n`);
  };

  const freshWarehouse = async (name: string): Promise<DuckDbWarehouse> => {
    const w = new DuckDbWarehouse({ path: path.join(dir, `${name}.duckdb`) });
    await ensureWarehouseTables(w);
    await seedDemoData(w, { preset: presetName });
    return w;
  };
  const record = (name: string, seconds: number, processorDates: number, gameDates: number): void => {
    const f: Figure = {
      name,
      seconds: Number(seconds.toFixed(2)),
      processorDates,
      processorDatesPerSecond: Number((processorDates / seconds).toFixed(2)),
      gameDatesPerSecond: Number((gameDates / seconds).toFixed(3)),
      peakRssMiB: Math.round(peakRss / 2 ** 20),
    };
    figures.push(f);
    say(`${name.padEnd(36)} ${f.seconds.toFixed(1).padStart(7)} s  ${f.processorDatesPerSecond.toFixed(1).padStart(6)} processor-dates/s  ${f.gameDatesPerSecond.toFixed(2).padStart(6)} game dates/s  peak RSS ${f.peakRssMiB} MiB`);
  };

  say(`Phase 3 on the ${presetName} preset (${preset.from} → ${preset.to}); machine: ${os.cpus().length} cores`);

  // 1. Engine alone.
  const engineWh = await freshWarehouse('engine');
  const gameDates = (await listGameDates(engineWh, preset.from, preset.to)).map((g) => g.date);
  let t0 = performance.now();
  for (const date of gameDates) for (const def of phase3Processors) await runTableProcessor(engineWh, def, date, { backfillId: 'bench' });
  record('engine loop (no Temporal, 1 at a time)', (performance.now() - t0) / 1000, gameDates.length * 5, gameDates.length);
  await engineWh.close();

  // 2–3. Durable backfill on a dev server of our own.
  const server = await startDevServer({
    cliPath: await locateTemporalCli({ allowBuild: true }),
    port: await findFreePort(),
    headless: true,
    dbFilename: path.join(dir, 'temporal.sqlite'),
    logFile: path.join(dir, 'temporal.log'),
  });
  const native = await NativeConnection.connect({ address: server.address });
  const clientConnection = await Connection.connect({ address: server.address });
  const client = new Client({ connection: clientConnection });
  try {
    for (const window of windows) {
      const wh = await freshWarehouse(`window-${window}`);
      const config = loadConfig({}, { temporalAddress: server.address, taskQueue: `bench-${window}`, slotsTaskQueue: `bench-slots-${window}`, duckdbPath: wh.path });
      const worker = await createBackfillWorker({ config, logger, connection: native, client, warehouse: wh });
      const running = worker.run();
      t0 = performance.now();
      const { handle } = await startBackfill(client, config.taskQueue, { from: preset.from, to: preset.to, phases: [3], concurrency: window, gatePolicy: 'wait' });
      const result = (await handle.result());
      const seconds = (performance.now() - t0) / 1000;
      const done = result.processors.reduce((n, p) => n + p.done, 0);
      record(`temporal backfill, window ${window} (cap ${config.warehouseMaxInFlight})`, seconds, done, gameDates.length);
      worker.shutdown();
      await running;
      await wh.close();
    }
  } finally {
    await clientConnection.close();
    await native.close();
    await server.stop();
    clearInterval(rssTimer);
  }

  const engine = figures[0];
  const ratios = figures.slice(1).map((f) => ({
    name: f.name,
    vsEngine: Number((f.processorDatesPerSecond / (engine?.processorDatesPerSecond ?? 1)).toFixed(3)),
    vsWindow1: Number((f.processorDatesPerSecond / (figures[1]?.processorDatesPerSecond ?? 1)).toFixed(3)),
  }));
  for (const r of ratios) say(`ratio ${r.name}: ${r.vsEngine}× the engine loop, ${r.vsWindow1}× window 1`);
  const out = { at: new Date().toISOString(), preset: presetName, gameDates: gameDates.length, cores: os.cpus().length, figures, ratios };
  const resultsDir = path.resolve(__dirname, '../../bench/results');
  fs.mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `phase3-${presetName}-${out.at.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  fs.writeFileSync(path.join(resultsDir, `phase3-${presetName}-latest.json`), `${JSON.stringify(out, null, 2)}\n`);
  say(`results: ${path.relative(process.cwd(), file)}`);
  fs.rmSync(dir, { recursive: true, force: true });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);

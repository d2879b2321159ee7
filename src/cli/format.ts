/** Human-readable rendering of status and gate reports (the JSON forms are the raw objects). */
import type { BackfillStatus } from '../client/backfill-client';
import type { BackfillPlan, ProcessorPlan } from '../pipeline/plan';
import { percentFinished } from '../shared/progress';
import { formatCoverage } from '../report/coverage';
import type { BackfillProgress, PhaseGateReport, ProcessorProgress } from '../shared/types';
import { formatFailureBudget } from '../shared/failure-budget';
import { formatWarehouseLoad } from '../client/warehouse-load';

export { formatCoverage } from '../report/coverage';

export function bar(fraction: number, width = 24): string {
  const f = Math.max(0, Math.min(1, fraction));
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}]`;
}

export function duration(seconds: number | null): string {
  if (seconds === null) return '—';
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)}m`;
  return `${Math.floor(seconds / 3600)}h${String(Math.round((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

export function processorLine(p: ProcessorProgress): string {
  const runnable = p.total - p.skipped;
  const finished = p.done + p.failed;
  const fraction = runnable === 0 ? 1 : finished / runnable;
  const rate = p.ratePerMinute === null ? '' : ` ${p.ratePerMinute.toFixed(1)} dates/min`;
  const eta = p.status === 'completed' ? '' : ` ETA ${duration(p.etaSeconds)}`;
  const billed = p.bytesBilled ? `  billed ${bytes(p.bytesBilled)}` : '';
  return (
    `  ${p.processor.padEnd(30)} ${bar(fraction)} ${String(Math.floor(fraction * 100)).padStart(3)}%  ` +
    `done ${p.done}/${runnable}  failed ${p.failed}  skipped ${p.skipped}  in flight ${p.inFlight.length}` +
    `${rate}${eta}${billed}  ${p.budgetTrip ? 'paused (failure budget)' : p.status}`
  );
}

export function formatGate(report: PhaseGateReport): string {
  const lines = [`Phase ${report.phase} gate ${report.from} → ${report.to}: ${report.ok ? 'PASSED' : 'FAILED'}`];
  for (const t of report.tables) {
    const coverage = t.expectedDates === 0 ? 100 : (t.actualDates / t.expectedDates) * 100;
    lines.push(
      `  ${t.ok ? 'ok  ' : 'FAIL'} ${t.table.padEnd(44)} dates ${t.actualDates}/${t.expectedDates} (${coverage.toFixed(1)}%)` +
        `  rows ${t.rows}  duplicates ${t.duplicateKeys}  failed ${t.failedDates.length}`,
    );
    // Why the table holds the dates it holds: every game date in one bucket, the buckets adding up.
    lines.push(formatCoverage(t, { indent: '         ', heading: 'coverage' }));
    for (const f of t.fieldCoverage) {
      lines.push(
        `         ${f.ok ? 'ok  ' : 'FAIL'} ${f.column} coverage ${f.coverage === null ? 'n/a' : `${(f.coverage * 100).toFixed(1)}%`} (min ${(f.min * 100).toFixed(0)}%)${f.note ? ` — ${f.note}` : ''}`,
      );
    }
  }
  for (const p of report.problems) lines.push(`  problem: ${p}`);
  return lines.join('\n');
}

export function formatStatus(s: BackfillStatus): string {
  const lines: string[] = [];
  const p = s.progress;
  const stage = p && !(p.stage.kind === 'completed' && s.status === 'COMPLETED') ? describeStage(p.stage) : '';
  lines.push(`${s.id}: ${s.status}${stage ? ` — ${stage}` : ''}${p?.paused ? ` (${pausedWord(p)})` : ''}`);
  if (p) {
    lines.push(`  range ${p.from} → ${p.to}, phases ${p.phases.join(',')}, window ${p.concurrency}, gate policy ${p.gatePolicy}, dates as ${p.dateDispatch === 'local' ? 'local activities' : 'regular activities'}, ETA ${duration(p.etaSeconds)}`);
    lines.push(...budgetLines(p));
    if (s.warehouseLoad) lines.push(`  ${formatWarehouseLoad(s.warehouseLoad)}`);
    const thresholds = Object.entries(p.gateThresholds ?? {});
    if (thresholds.length > 0) lines.push(`  gate thresholds: ${thresholds.map(([k, v]) => `${k} ≥ ${v}`).join(', ')} (the processors' own for the rest)`);
    for (const proc of p.processors) lines.push(processorLine(proc));
    // Why coverage is below the game-date count, on screen, numbers adding up: from the gate once
    // the phase has one (it counts what the tables hold), from the run's own progress before.
    const gated = new Set(p.gates.flatMap((g) => g.tables.map((t) => t.processor)));
    for (const proc of p.processors.filter((x) => !gated.has(x.processor))) {
      lines.push(formatCoverage(proc, { indent: '    ', heading: proc.processor }));
    }
    for (const g of p.gates) lines.push(formatGate(g));
  } else if (s.result) {
    for (const r of s.result.processors) {
      lines.push(`  ${r.processor.padEnd(30)} done ${r.done}  failed ${Object.keys(r.failed).length}  skipped ${r.skipped}  rows ${r.rowsWritten}`);
    }
  }
  if (s.note) lines.push(`  note: ${s.note}`);
  lines.push(...followUpLines(s));
  return lines.join('\n');
}

function pausedWord(p: BackfillProgress): string {
  return p.pauseReason?.kind === 'failures' ? 'PAUSED: failure budget' : p.pauseReason?.kind === 'cost' ? 'PAUSED: cost budget' : 'PAUSED';
}

/**
 * Why it paused itself, with what to do, and the budgets in force: the failure budget when not the
 * default, the bytes billed against the cost budget (figures: spent, budget, mean per date, what
 * the dates left should bill).
 */
export function budgetLines(p: BackfillProgress): string[] {
  const lines: string[] = [];
  const r = p.pauseReason;
  if (r?.kind === 'failures') {
    lines.push(`  PAUSED by the failure budget: ${r.trip.reason}`);
    lines.push(`    common error: ${r.trip.errorClass} — fix the cause, then \`backfill retry-failed ${p.backfillId}\` and \`backfill resume ${p.backfillId}\``);
  } else if (r?.kind === 'cost') {
    lines.push(`  PAUSED by the cost budget: ${r.reason}`);
    lines.push(`    raise it with \`backfill set-cost-budget ${p.backfillId} <size>\`, then \`backfill resume ${p.backfillId}\``);
  }
  if (p.failureBudget !== undefined) lines.push(`  failure budget: ${formatFailureBudget(p.failureBudget)}`);
  const c = p.cost;
  if (c) {
    const budget = c.budgetBytes === null ? 'no budget' : `of a ${bytes(c.budgetBytes)} budget (${((c.spentBytes / c.budgetBytes) * 100).toFixed(1)}%)`;
    const avg = c.avgBytesPerDate === null ? '' : `, ${bytes(c.avgBytesPerDate)}/date on average`;
    const left = c.remainingEstimateBytes === null ? '' : `, ~${bytes(c.remainingEstimateBytes)} for the ${c.remainingDates} dates left`;
    lines.push(`  bytes billed: ${bytes(c.spentBytes)} ${budget}${avg}${left}`);
  }
  return lines;
}

/** The links between a backfill and its follow-ups, both ways. */
function followUpLines(s: BackfillStatus): string[] {
  const lines: string[] = [];
  const spec = s.progress?.followUp ?? s.result?.followUp;
  if (s.followUpOf) {
    const what = spec ? (spec.kind === 'retry-phase' ? `retry-phase ${spec.phase}` : spec.kind) : 'a retry';
    lines.push(`  follow-up of ${s.followUpOf} (${what})`);
  }
  const rerun = s.result?.followUp?.rerun;
  if (rerun) {
    const n = Object.values(rerun).reduce((a, d) => a + d.length, 0);
    lines.push(`  re-ran ${n} date${n === 1 ? '' : 's'}${n > 0 ? `: ${Object.entries(rerun).map(([p, d]) => `${p} ${d.slice(0, 10).join(', ')}${d.length > 10 ? `, … +${d.length - 10}` : ''}`).join('; ')}` : ''}`);
  }
  if (s.followUps && s.followUps.length > 0) lines.push(`  follow-ups: ${s.followUps.map((f) => `${f.id} ${f.status}`).join(', ')}`);
  return lines;
}

function describeStage(stage: NonNullable<BackfillStatus['progress']>['stage']): string {
  switch (stage.kind) {
    case 'running':
      return stage.group === 0 ? `phase ${stage.phase}, re-running dates` : `phase ${stage.phase}, group ${stage.group}`;
    case 'validating':
      return `validating phase ${stage.phase}`;
    case 'gate_failed':
      return `phase ${stage.phase} gate failed: waiting for approve-gate, retry-phase, retry-failed or cancel`;
    case 'remediating':
      return `remediating phase ${stage.phase}`;
    default:
      return stage.kind;
  }
}

/** JSON status: stable field names for scripts. */
export function statusJson(s: BackfillStatus): unknown {
  const processors = s.progress
    ? s.progress.processors.map((p) => ({
        name: p.processor,
        phase: p.phase,
        status: p.status,
        total: p.total,
        done: p.done,
        skipped: p.skipped,
        failed: p.failed,
        inFlight: p.inFlight,
        ratePerMinute: p.ratePerMinute,
        etaSeconds: p.etaSeconds,
        rowsWritten: p.rowsWritten,
        failures: p.failures,
        skipReasons: p.skipReasons,
        bytesBilled: p.bytesBilled ?? 0,
        ...(p.budgetTrip ? { budgetTrip: p.budgetTrip } : {}),
      }))
    : (s.result?.processors.map((r) => ({
        name: r.processor,
        total: r.total,
        done: r.done,
        skipped: r.skipped,
        failed: Object.keys(r.failed).length,
        rowsWritten: r.rowsWritten,
        failures: Object.entries(r.failed).map(([date, error]) => ({ date, error })),
      })) ?? []);
  return {
    id: s.id,
    status: s.status,
    stage: s.progress?.stage ?? null,
    paused: s.progress?.paused ?? false,
    etaSeconds: s.progress?.etaSeconds ?? null,
    gateThresholds: s.progress?.gateThresholds ?? {},
    pauseReason: s.progress?.pauseReason ?? null,
    ...(s.progress?.failureBudget !== undefined ? { failureBudget: s.progress.failureBudget } : {}),
    cost: s.progress?.cost ?? null,
    dateDispatch: s.progress?.dateDispatch ?? 'activity',
    ...(s.warehouseLoad ? { warehouseLoad: s.warehouseLoad } : {}),
    processors,
    gates: s.progress?.gates ?? s.result?.gates ?? [],
    ...(s.note ? { note: s.note } : {}),
    ...(s.followUpOf ? { followUpOf: s.followUpOf, followUp: s.result?.followUp ?? s.progress?.followUp ?? null } : {}),
    ...(s.followUps ? { followUps: s.followUps } : {}),
  };
}

/** Bytes in binary units (BigQuery bills by TiB). */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? String(Math.round(v)) : v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

export function formatPlan(id: string, plan: BackfillPlan): string {
  const lines = [`Plan for ${id} (${plan.from} → ${plan.to}) — dry run: nothing started, no table written`];
  for (const phase of plan.phases) {
    lines.push(`phase ${phase.phase}`);
    for (const [gi, group] of phase.groups.entries()) {
      if (phase.groups.length > 1) lines.push(`  group ${gi + 1}${group.length > 1 ? ' (concurrently)' : ''}`);
      for (const p of group) {
        const range = p.firstDate ? ` ${p.firstDate} → ${p.lastDate}` : '';
        lines.push(
          `    ${p.processor.padEnd(30)} → ${p.target.padEnd(44)} run ${String(p.datesToRun).padStart(4)}  skip ${String(p.skipped).padStart(4)}` +
            `  expected coverage ${p.expectedCoverage.expected}/${p.expectedCoverage.of}${range}`,
        );
        for (const [reason, n] of Object.entries(p.skipReasons)) lines.push(`        skipped ${n}: ${reason}`);
        if (p.estimatedSeconds !== null && p.datesToRun > 0) lines.push(`        ${planEstimateLine(p)}`);
        if (p.bytes) {
          lines.push(
            `        scans ~${bytes(p.bytes.bytesPerDate)}/date × ${p.datesToRun} = ${bytes(p.bytes.totalBytes)} ($${p.bytes.costUsd.toFixed(2)}), ` +
              `priced on ${p.bytes.sampledDates.join(', ')}`,
          );
        }
      }
    }
  }
  lines.push(`total: ${plan.totals.dateTasks} processor-dates to run, ${plan.totals.skipped} skipped`);
  const b = plan.totals.bytes;
  if (b) lines.push(`estimated scan: ${bytes(b.totalBytes)}, $${b.costUsd.toFixed(2)} on demand at $${b.pricePerTib}/TiB`);
  const borrowers = plan.phases.flatMap((x) => x.groups.flat()).filter((p) => p.estimateRate?.borrowed === true);
  lines.push(
    plan.totals.estimatedSeconds === null
      ? 'estimated duration: unknown, no earlier runs of these processors to take rates from'
      : `estimated duration ${approxDuration(plan.totals.estimatedSeconds)} from earlier runs' rates; ` +
          `each group as long as its slowest processor, phases in sequence` +
          (borrowers.length > 0 ? `; ${borrowers.map((p) => p.processor).join(', ')} borrowed the mean rate` : ''),
  );
  for (const note of plan.notes) lines.push(`note: ${note}`);
  return lines.join('\n');
}

function planEstimateLine(p: ProcessorPlan): string {
  const time = approxDuration(p.estimatedSeconds ?? 0);
  const rate = p.estimateRate;
  if (!rate) return `takes ${time}`;
  if (rate.borrowed) return `takes ${time} at ${rate.datesPerHour.toFixed(1)} dates/h, borrowed: the mean of the others' rates`;
  const seen = p.observedRate;
  return (
    `takes ${time} at ${rate.datesPerHour.toFixed(1)} dates/h` +
    (seen ? `, as ${seen.backfillId} ran ${seen.dates} dates (${seen.firstProcessedAt} → ${seen.lastProcessedAt})` : '')
  );
}

/** A duration as a person says it, rounded: "~40 s", "~12 min", "~3 h 10 min". */
export function approxDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 90) return `~${s} s`;
  const m = Math.round(s / 60);
  if (m < 90) return `~${m} min`;
  return `~${Math.floor(m / 60)} h${m % 60 === 0 ? '' : ` ${m % 60} min`}`;
}

/**
 * The live view (`npm start`, `backfill status --watch`): one header with the whole backfill's
 * progress and ETA, then phase by phase its processors' bars, then the gates so far.
 */
export function formatLive(s: BackfillStatus): string {
  const p = s.progress;
  if (!p) return formatStatus(s);
  const stage = describeStage(p.stage);
  // Nothing planned yet is 0%, not "all of nothing".
  const pct = p.processors.length === 0 && s.status === 'RUNNING' ? 0 : percentFinished(p.processors);
  const eta = s.status === 'RUNNING' ? `  ETA ${duration(p.etaSeconds)}` : '';
  const lines = [
    `${s.id}: ${s.status}${p.paused ? ` (${pausedWord(p)})` : ''} — ${stage}  ${bar(pct / 100)} ${pct}%${eta}`,
    `  ${p.from} → ${p.to}, phases ${p.phases.join(',')}, window ${p.concurrency}, gate policy ${p.gatePolicy}, dates as ${p.dateDispatch === 'local' ? 'local activities' : 'regular activities'}`,
    ...budgetLines(p),
  ];
  const phases = [...new Set(p.processors.map((x) => x.phase))].sort((a, b) => a - b);
  for (const phase of phases) {
    const gate = [...p.gates].reverse().find((g) => g.phase === phase);
    lines.push(`Phase ${phase}${gate ? `  gate ${gate.ok ? 'PASSED' : 'FAILED'}` : ''}`);
    for (const proc of p.processors.filter((x) => x.phase === phase)) lines.push(processorLine(proc));
  }
  const inFlight = p.processors.flatMap((x) => x.inFlight.map((d) => `${x.processor} ${d}`));
  if (inFlight.length > 0) lines.push(`  in flight: ${inFlight.slice(0, 8).join(', ')}${inFlight.length > 8 ? `, … +${inFlight.length - 8}` : ''}`);
  for (const g of p.gates.filter((x) => !x.ok)) for (const problem of g.problems.slice(0, 5)) lines.push(`  gate ${g.phase}: ${problem}`);
  return lines.join('\n');
}

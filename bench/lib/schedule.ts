/**
 * Schedule arithmetic for the benchmarks: pure functions over the warehouse calls a run made (each
 * an interval with the labels the activities attach: processor, date, phase), so the orchestrated
 * run and the plain loop are measured the same way, at the warehouse.
 *
 * - `timeline`: per processor and per phase, seconds and dates per hour, and per group the span,
 *   the work done and the time the cap stood partly idle.
 * - `scheduleBounds`: the lower bound of a makespan — max(total work ÷ cap, critical path through
 *   the dependency groups and gates) — and the tighter bound of any schedule that keeps the group
 *   barriers and the per-processor window, so a shortfall can be split into "barriers" and "the rest".
 *
 * No clock, no I/O: unit-tested in test/unit/bench-schedule.test.ts.
 */

/** One warehouse call as the bench warehouse saw it. Times are epoch milliseconds. */
export interface CallInterval {
  op: string;
  startMs: number;
  endMs: number;
  processor?: string;
  date?: string;
  /** Set on a gate's calls (validatePhase labels its jobs with the phase). */
  phase?: string;
}

export type CallKind = 'date' | 'plan' | 'gate' | 'other';

/** What a call was for, from its labels: a date's work, a plan, a gate, or something unlabelled. */
export function callKind(c: Pick<CallInterval, 'processor' | 'date' | 'phase'>): CallKind {
  if (c.phase !== undefined) return 'gate';
  if (c.processor !== undefined && c.date !== undefined) return 'date';
  if (c.processor !== undefined) return 'plan';
  return 'other';
}

/** The request's phases and groups, as describePipeline returns them. */
export type PipelineShape = ReadonlyArray<{ phase: number; groups: ReadonlyArray<readonly string[]> }>;

export interface ProcessorFigures {
  processor: string;
  phase: number;
  group: number;
  dates: number;
  /** First date call's start to the last one's end. */
  seconds: number;
  datesPerHour: number;
  /** Sum of the processor's date-call durations (warehouse busy time). */
  busySeconds: number;
  /** busySeconds ÷ dates. */
  meanSecondsPerDate: number;
}

export interface GroupFigures {
  phase: number;
  group: number;
  processors: string[];
  startMs: number;
  endMs: number;
  seconds: number;
  busySeconds: number;
  /**
   * Seconds of the group's span during which fewer calls than the cap were in flight, weighted by
   * the share of the cap left idle (∫ (cap − inFlight) ÷ cap dt): the window tail and any
   * under-filling. Computed over every call in flight, not only this group's.
   */
  idleCapSeconds: number;
  /** The gap from the previous group's (or gate's, or plan's) last call to this group's first. */
  gapBeforeSeconds: number;
}

export interface PhaseFigures {
  phase: number;
  /** First date call of the phase to the end of its gate. */
  seconds: number;
  dateTasks: number;
  /** Distinct dates any processor of the phase ran. */
  dates: number;
  dateTasksPerHour: number;
  datesPerHour: number;
  gateSeconds: number;
  /** From the phase's last date call to its gate's first call (the last group settling, the gate being scheduled). */
  gapBeforeGateSeconds: number;
}

export interface Timeline {
  /** First call to last call of the whole run. */
  spanSeconds: number;
  planSeconds: number;
  processors: ProcessorFigures[];
  groups: GroupFigures[];
  phases: PhaseFigures[];
  /** Busy seconds by kind of call. */
  busySeconds: Record<CallKind, number>;
}

const round = (x: number, places = 2): number => Number(x.toFixed(places));

/** ∫ over [from, to] of max(0, cap − inFlight) ÷ cap, in seconds, given every call interval. */
export function idleCapSeconds(calls: readonly Pick<CallInterval, 'startMs' | 'endMs'>[], cap: number, fromMs: number, toMs: number): number {
  if (toMs <= fromMs || cap <= 0) return 0;
  const edges: Array<[number, number]> = [];
  for (const c of calls) {
    const s = Math.max(c.startMs, fromMs);
    const e = Math.min(c.endMs, toMs);
    if (e <= s) continue;
    edges.push([s, +1], [e, -1]);
  }
  // Ends before starts at the same instant, so a handover is not counted as two in flight.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let idle = 0;
  let inFlight = 0;
  let t = fromMs;
  for (const [at, delta] of edges) {
    idle += (Math.max(0, cap - inFlight) / cap) * (at - t);
    inFlight += delta;
    t = at;
  }
  idle += (Math.max(0, cap - inFlight) / cap) * (toMs - t);
  return idle / 1000;
}

/** Per processor, group and phase figures of a run, from its warehouse calls. */
export function timeline(calls: readonly CallInterval[], shape: PipelineShape, cap: number): Timeline {
  const busySeconds: Record<CallKind, number> = { date: 0, plan: 0, gate: 0, other: 0 };
  for (const c of calls) busySeconds[callKind(c)] += (c.endMs - c.startMs) / 1000;
  const dateCalls = calls.filter((c) => callKind(c) === 'date');
  const planCalls = calls.filter((c) => callKind(c) === 'plan');
  const spanOf = (cs: readonly CallInterval[]): { startMs: number; endMs: number } | undefined =>
    cs.length === 0 ? undefined : { startMs: Math.min(...cs.map((c) => c.startMs)), endMs: Math.max(...cs.map((c) => c.endMs)) };

  const processors: ProcessorFigures[] = [];
  const groups: GroupFigures[] = [];
  const phases: PhaseFigures[] = [];
  const planSpan = spanOf(planCalls);
  let previousEndMs = planSpan?.endMs;
  for (const { phase, groups: phaseGroups } of shape) {
    const phaseCalls: CallInterval[] = [];
    phaseGroups.forEach((members, gi) => {
      const groupCalls = dateCalls.filter((c) => c.processor !== undefined && members.includes(c.processor));
      phaseCalls.push(...groupCalls);
      for (const processor of members) {
        const own = groupCalls.filter((c) => c.processor === processor);
        const span = spanOf(own);
        const dates = new Set(own.map((c) => c.date)).size;
        const seconds = span ? (span.endMs - span.startMs) / 1000 : 0;
        const busy = own.reduce((s, c) => s + (c.endMs - c.startMs) / 1000, 0);
        processors.push({
          processor,
          phase,
          group: gi + 1,
          dates,
          seconds: round(seconds),
          datesPerHour: seconds > 0 ? round((dates / seconds) * 3600, 0) : 0,
          busySeconds: round(busy),
          meanSecondsPerDate: dates > 0 ? round(busy / dates, 4) : 0,
        });
      }
      const span = spanOf(groupCalls);
      if (!span) return;
      groups.push({
        phase,
        group: gi + 1,
        processors: [...members],
        startMs: span.startMs,
        endMs: span.endMs,
        seconds: round((span.endMs - span.startMs) / 1000),
        busySeconds: round(groupCalls.reduce((s, c) => s + (c.endMs - c.startMs) / 1000, 0)),
        idleCapSeconds: round(idleCapSeconds(calls, cap, span.startMs, span.endMs)),
        gapBeforeSeconds: previousEndMs === undefined ? 0 : round(Math.max(0, span.startMs - previousEndMs) / 1000),
      });
      previousEndMs = span.endMs;
    });
    const gateCalls = calls.filter((c) => c.phase === String(phase));
    const gateSpan = spanOf(gateCalls);
    const workSpan = spanOf(phaseCalls);
    const gapBeforeGate = gateSpan && workSpan ? Math.max(0, gateSpan.startMs - workSpan.endMs) / 1000 : 0;
    if (gateSpan) previousEndMs = gateSpan.endMs;
    if (!workSpan) continue;
    const endMs = Math.max(workSpan.endMs, gateSpan?.endMs ?? 0);
    const seconds = (endMs - workSpan.startMs) / 1000;
    const dateTasks = new Set(phaseCalls.map((c) => `${c.processor ?? ''}@${c.date ?? ''}`)).size;
    const dates = new Set(phaseCalls.map((c) => c.date)).size;
    phases.push({
      phase,
      seconds: round(seconds),
      dateTasks,
      dates,
      dateTasksPerHour: seconds > 0 ? round((dateTasks / seconds) * 3600, 0) : 0,
      datesPerHour: seconds > 0 ? round((dates / seconds) * 3600, 0) : 0,
      gateSeconds: gateSpan ? round((gateSpan.endMs - gateSpan.startMs) / 1000) : 0,
      gapBeforeGateSeconds: round(gapBeforeGate),
    });
  }
  const all = spanOf([...calls]);
  for (const k of Object.keys(busySeconds) as CallKind[]) busySeconds[k] = round(busySeconds[k]);
  return {
    spanSeconds: all ? round((all.endMs - all.startMs) / 1000) : 0,
    planSeconds: planSpan ? round((planSpan.endMs - planSpan.startMs) / 1000) : 0,
    processors,
    groups,
    phases,
    busySeconds,
  };
}

/** One processor's share of the work: its dates and the seconds one date keeps the warehouse busy. */
export interface ProcessorWork {
  processor: string;
  dates: number;
  secondsPerDate: number;
}

export interface BoundsInput {
  /** Phases in order, each its groups in order, each group's processors with their work. */
  phases: ReadonlyArray<{ phase: number; groups: ReadonlyArray<readonly ProcessorWork[]>; gateSeconds?: number }>;
  /** Warehouse operations in flight at most. */
  cap: number;
  /** Dates in flight per processor at most (its window). */
  window: number;
  /** Serial work before the first group (planning), seconds. */
  planSeconds?: number;
}

export interface Bounds {
  totalWorkSeconds: number;
  /** Total work ÷ cap. */
  workBoundSeconds: number;
  /**
   * With unlimited capacity: the plan, then for every group its longest single date, then each gate
   * — groups and gates in sequence, the dates of a group all at once.
   */
  criticalPathSeconds: number;
  /** max(work bound, critical path): no schedule under the cap can beat it. */
  lowerBoundSeconds: number;
  /**
   * The best any schedule can do that keeps the group barriers and the window: per group
   * max(group work ÷ cap, each processor's ⌈dates ÷ min(window, cap)⌉ × its date), summed, plus
   * plan and gates.
   */
  barrierBoundSeconds: number;
}

export function scheduleBounds(input: BoundsInput): Bounds {
  const { cap } = input;
  if (!(cap >= 1) || !(input.window >= 1)) throw new RangeError('cap and window must be at least 1');
  const perProcessor = Math.min(input.window, cap);
  const plan = input.planSeconds ?? 0;
  let work = plan;
  let path = plan;
  let barrier = plan;
  for (const phase of input.phases) {
    const gate = phase.gateSeconds ?? 0;
    work += gate;
    path += gate;
    barrier += gate;
    for (const group of phase.groups) {
      const groupWork = group.reduce((s, p) => s + p.dates * p.secondsPerDate, 0);
      work += groupWork;
      path += Math.max(0, ...group.filter((p) => p.dates > 0).map((p) => p.secondsPerDate));
      barrier += Math.max(groupWork / cap, ...group.map((p) => Math.ceil(p.dates / perProcessor) * p.secondsPerDate));
    }
  }
  const workBound = work / cap;
  return {
    totalWorkSeconds: round(work),
    workBoundSeconds: round(workBound),
    criticalPathSeconds: round(path),
    lowerBoundSeconds: round(Math.max(workBound, path)),
    barrierBoundSeconds: round(Math.max(barrier, workBound)),
  };
}

/** bound ÷ makespan, 0 for a makespan of 0 (nothing ran). */
export function efficiency(boundSeconds: number, makespanSeconds: number): number {
  return makespanSeconds > 0 ? round(boundSeconds / makespanSeconds, 3) : 0;
}

/** The work a run did, by phase and group, from its timeline (measured seconds per date). */
export function workFromTimeline(t: Timeline, shape: PipelineShape): BoundsInput['phases'] {
  const byName = new Map(t.processors.map((p) => [p.processor, p]));
  const gateOf = new Map(t.phases.map((p) => [p.phase, p.gateSeconds]));
  return shape.map(({ phase, groups }) => ({
    phase,
    gateSeconds: gateOf.get(phase) ?? 0,
    groups: groups.map((members) =>
      members.map((processor) => {
        const p = byName.get(processor);
        return { processor, dates: p?.dates ?? 0, secondsPerDate: p?.meanSecondsPerDate ?? 0 };
      }),
    ),
  }));
}

/** Orchestrated against direct: the ratio of their seconds and the extra milliseconds per date task. */
export function overhead(orchestratedSeconds: number, directSeconds: number, dateTasks: number): { overheadRatio: number; orchestrationMsPerTask: number } {
  return {
    overheadRatio: directSeconds > 0 ? round(orchestratedSeconds / directSeconds, 3) : 0,
    orchestrationMsPerTask: dateTasks > 0 ? round(((orchestratedSeconds - directSeconds) * 1000) / dateTasks, 2) : 0,
  };
}

/**
 * The round whose ratio is the median (the lower middle one of an even count): the bench runs the
 * loop and Temporal in rounds, the order rotated, and reports this round's figures.
 */
export function medianRound<T extends { ratio: number }>(rounds: readonly T[]): T {
  const sorted = [...rounds].sort((a, b) => a.ratio - b.ratio);
  const m = sorted[Math.floor((sorted.length - 1) / 2)];
  if (!m) throw new Error('no round ran');
  return m;
}

/**
 * Where a run's time went, from its warehouse calls: the span of its groups split into the
 * warehouse's date work shared by the cap (Σ date-call seconds ÷ cap) and the cap left idle
 * (idleCapSeconds), plus the gaps before groups, the gates and planning. Compared between the
 * plain loop and the orchestrated run it says whether the extra time is calls running slower
 * (CPU taken from the warehouse) or slots waiting for the next date (dispatch).
 */
export interface TimeBreakdown {
  spanSeconds: number;
  groupsSeconds: number;
  dateWorkPerCapSeconds: number;
  /** Mean warehouse seconds of one date task (all its calls). */
  dateTaskMs: number;
  idleCapInGroupsSeconds: number;
  gapsBeforeGroupsSeconds: number;
  gatesSeconds: number;
  planSeconds: number;
}

export function timeBreakdown(t: Timeline, cap: number): TimeBreakdown {
  const sum = <T>(xs: readonly T[], f: (x: T) => number): number => xs.reduce((s, x) => s + f(x), 0);
  const dateTasks = sum(t.processors, (p) => p.dates);
  const dateBusy = sum(t.processors, (p) => p.busySeconds);
  return {
    spanSeconds: t.spanSeconds,
    groupsSeconds: round(sum(t.groups, (g) => g.seconds)),
    dateWorkPerCapSeconds: round(dateBusy / cap),
    dateTaskMs: dateTasks > 0 ? round((dateBusy / dateTasks) * 1000) : 0,
    idleCapInGroupsSeconds: round(sum(t.groups, (g) => g.idleCapSeconds)),
    gapsBeforeGroupsSeconds: round(sum(t.groups, (g) => g.gapBeforeSeconds)),
    gatesSeconds: round(sum(t.phases, (p) => p.gateSeconds + p.gapBeforeGateSeconds)),
    planSeconds: t.planSeconds,
  };
}

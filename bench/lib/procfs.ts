/**
 * CPU seconds and peak memory of a process, read from Linux's /proc: the bench profiles the worker
 * process and the Temporal dev server separately. Parsing is pure (unit-tested); reading returns
 * null off Linux or when the process is gone, so a bench still reports everything else.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/** utime + stime, in clock ticks, from the text of /proc/<pid>/stat. */
export function parseProcStatCpuTicks(stat: string): number {
  // The command name (field 2) is in parentheses and may hold spaces or parentheses: split after the last ")".
  const close = stat.lastIndexOf(')');
  if (close < 0) throw new Error('not a /proc/<pid>/stat line');
  const fields = stat.slice(close + 2).trim().split(/\s+/);
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('no utime/stime in /proc/<pid>/stat');
  return utime + stime;
}

/** A field of /proc/<pid>/status in KiB (VmHWM: peak resident set; VmRSS: current), or null. */
export function parseStatusKiB(status: string, field: 'VmHWM' | 'VmRSS'): number | null {
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
  return m?.[1] === undefined ? null : Number(m[1]);
}

let ticksPerSecond: number | undefined;

/** The kernel's USER_HZ (almost always 100). */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** CPU seconds (user + system, all threads) a process has used so far; null when unreadable. */
export function processCpuSeconds(pid: number): number | null {
  try {
    return parseProcStatCpuTicks(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')) / clockTicksPerSecond();
  } catch {
    return null;
  }
}

/** Peak resident set of a process so far, MiB; null when unreadable. */
export function processPeakRssMiB(pid: number): number | null {
  try {
    const kib = parseStatusKiB(fs.readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmHWM');
    return kib === null ? null : Math.round(kib / 1024);
  } catch {
    return null;
  }
}

/** CPU seconds of each live thread of a process (tid → name and seconds), from /proc/<pid>/task; empty when unreadable. */
export function threadCpuSeconds(pid: number): Map<number, { name: string; seconds: number }> {
  const out = new Map<number, { name: string; seconds: number }>();
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      out.set(Number(tid), { name: Number(tid) === pid ? 'main' : name, seconds: parseProcStatCpuTicks(stat) / clockTicksPerSecond() });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

export interface ThreadCpu {
  /** The thread's name ("main" for the main thread; Node's other threads are all "node"). */
  thread: string;
  cpuSeconds: number;
}

/**
 * What each thread used between two readings, the busiest first; threads under `minSeconds` are
 * left out, and threads that ended in between are not seen (their CPU is in the process total).
 */
export function threadCpuBetween(
  before: Map<number, { name: string; seconds: number }>,
  after: Map<number, { name: string; seconds: number }>,
  minSeconds = 0.5,
): ThreadCpu[] {
  const rows: ThreadCpu[] = [];
  for (const [tid, { name, seconds }] of after) {
    const used = seconds - (before.get(tid)?.seconds ?? 0);
    if (used >= minSeconds) rows.push({ thread: name, cpuSeconds: Number(used.toFixed(1)) });
  }
  return rows.sort((a, b) => b.cpuSeconds - a.cpuSeconds);
}

/** "main 30.0, node 31.4, …" */
export function formatThreadCpu(rows: readonly ThreadCpu[]): string {
  return rows.map((r) => `${r.thread} ${r.cpuSeconds.toFixed(1)}`).join(', ');
}

/** Busy CPU ticks of the whole machine from the text of /proc/stat (user, nice, system, irq, softirq, steal). */
export function parseProcStatBusyTicks(stat: string): number {
  const line = stat.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) throw new Error('no "cpu" line in /proc/stat');
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  const fields = [user, nice, system, irq, softirq, steal];
  if (fields.some((f) => f === undefined || !Number.isFinite(f))) throw new Error('short "cpu" line in /proc/stat');
  return fields.reduce((a: number, b) => a + (b as number), 0);
}

/** CPU seconds the whole machine has been busy (every process, every core); null when unreadable. */
export function machineBusyCpuSeconds(): number | null {
  try {
    return parseProcStatBusyTicks(fs.readFileSync('/proc/stat', 'utf8')) / clockTicksPerSecond();
  } catch {
    return null;
  }
}

/**
 * CPU seconds used so far by each of the kernel's own threads (kthreadd, pid 2, and its children),
 * by pid: disk write-back, journalling, memory management — much of it on behalf of the run being
 * measured (DuckDB writing its file), so the bench keeps it apart from other processes' CPU. Empty
 * off Linux.
 */
export function kernelThreadsCpu(): Map<string, number> {
  const seconds = new Map<string, number>();
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return seconds;
  }
  const hz = clockTicksPerSecond();
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (pid === '2' || ppid === 2) seconds.set(pid, parseProcStatCpuTicks(stat) / hz);
    } catch {
      // Gone since the listing.
    }
  }
  return seconds;
}

/** The machine's busy CPU and its kernel threads' CPU by pid at one moment (seconds since boot). */
export interface MachineCpuReading {
  busy: number | null;
  kernel: ReadonlyMap<string, number>;
}

export function readMachineCpu(): MachineCpuReading {
  return { busy: machineBusyCpuSeconds(), kernel: kernelThreadsCpu() };
}

/**
 * What the kernel's threads used between two readings, thread by thread: a thread that started in
 * between counts from zero (as does a pid reused by a new thread), and one that ended in between is
 * left out — its CPU since the first reading cannot be known (it falls into the other CPU, the
 * cautious side). A sum of totals instead went negative when a long-lived kernel thread ended.
 */
export function kernelCpuBetween(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): number {
  let sum = 0;
  for (const [pid, now] of after) {
    const then = before.get(pid) ?? 0;
    sum += now >= then ? now - then : now;
  }
  return sum;
}

/**
 * Between two readings: the kernel threads' CPU, and what the rest of the machine used — busy CPU
 * less the kernel threads and `measuredSeconds` (the processes measured, read from /proc like
 * /proc/stat: getrusage put 4.6–6.3 s of the full loop outside its own process). Tick rounding can
 * take a quiet machine a little below zero: clamped. Null when a reading is missing.
 */
export function otherCpuBetween(
  before: MachineCpuReading,
  after: MachineCpuReading,
  measuredSeconds: number | null,
): { otherCpuSeconds: number | null; kernelCpuSeconds: number } {
  const kernelCpuSeconds = kernelCpuBetween(before.kernel, after.kernel);
  const otherCpuSeconds =
    before.busy === null || after.busy === null || measuredSeconds === null
      ? null
      : Math.max(0, after.busy - before.busy - measuredSeconds - kernelCpuSeconds);
  return { otherCpuSeconds, kernelCpuSeconds };
}

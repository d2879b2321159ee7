/** Option parsers that turn bad input into one UsageError line before anything is started. */
import { isIsoDate } from '../pipeline/dates';
import { MAX_PROCESSOR_CONCURRENCY, type GatePolicy } from '../shared/types';
import { UsageError } from './errors';
import { parseFailureBudget, type FailureBudget } from '../shared/failure-budget';
import { parseByteSize } from '../shared/cost-budget';

export function parseDate(value: string, flag: string): string {
  if (!isIsoDate(value)) throw new UsageError(`${flag} must be a date written YYYY-MM-DD, got "${value}"`);
  return value;
}

export function parseRange(from: string | undefined, to: string | undefined): { from: string; to: string } {
  if (from === undefined) throw new UsageError('--from is required (YYYY-MM-DD)');
  if (to === undefined) throw new UsageError('--to is required (YYYY-MM-DD)');
  const f = parseDate(from, '--from');
  const t = parseDate(to, '--to');
  if (f > t) throw new UsageError(`--from ${f} is after --to ${t}`);
  return { from: f, to: t };
}

export function parseConcurrency(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > MAX_PROCESSOR_CONCURRENCY) {
    throw new UsageError(`--concurrency must be an integer from 1 to ${MAX_PROCESSOR_CONCURRENCY}, got "${value}"`);
  }
  return n;
}

export function parsePhases(value: string | undefined, known: readonly number[]): number[] {
  if (value === undefined) return [3];
  const parts = value.split(',').map((s) => s.trim()).filter(Boolean);
  const phases = parts.map((p) => {
    if (!/^\d+$/.test(p) || !known.includes(Number(p))) {
      throw new UsageError(`--phases: unknown phase "${p}"; known phases: ${known.join(', ')}`);
    }
    return Number(p);
  });
  if (phases.length === 0) throw new UsageError('--phases is empty');
  const sorted = [...new Set(phases)].sort((a, b) => a - b);
  return sorted;
}

export function parseList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new UsageError('--processors is empty');
  return [...new Set(items)];
}

export function parseGatePolicy(value: string | undefined): GatePolicy {
  if (value === undefined) return 'wait';
  if (value !== 'wait' && value !== 'remediate') throw new UsageError(`--gate-policy must be wait or remediate, got "${value}"`);
  return value;
}

/** `--failure-budget off | F/W | F/W,R` (see src/shared/failure-budget.ts); undefined: the default. */
export function parseFailureBudgetFlag(value: string | undefined): FailureBudget | null | undefined {
  if (value === undefined) return undefined;
  try {
    return parseFailureBudget(value);
  } catch (err) {
    throw new UsageError(`--failure-budget: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** `--max-bytes-billed-total 2TiB` (binary or decimal units, or bytes); undefined: no budget. */
export function parseByteBudgetFlag(value: string | undefined, flag = '--max-bytes-billed-total'): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseByteSize(value);
  } catch (err) {
    throw new UsageError(`${flag}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

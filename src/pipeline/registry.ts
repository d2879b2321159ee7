/**
 * The phase/group graph: every processor the backfill knows, in dependency order.
 */
import { phase3Processors } from './phase3';
import { phase4Processors } from './phase4';
import { phase5Processors } from './phase5';
import { phase6Processors } from './phase6';
import type { PhaseNumber, ProcessorDef, TableProcessorDef } from './types';

export const ALL_PROCESSORS: readonly ProcessorDef[] = [
  ...phase3Processors,
  ...phase4Processors,
  ...phase5Processors,
  ...phase6Processors,
];

export const KNOWN_PHASES: readonly PhaseNumber[] = [...new Set(ALL_PROCESSORS.map((p) => p.phase))].sort();

export function getProcessor(name: string): ProcessorDef | undefined {
  return ALL_PROCESSORS.find((p) => p.name === name);
}

export function tableProcessors(): TableProcessorDef[] {
  return ALL_PROCESSORS.filter((p): p is TableProcessorDef => p.kind === 'table');
}

/** Every field-coverage rule a gate judges, as "table.column" → its default minimum. */
export function gateThresholdDefaults(processors?: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const def of tableProcessors()) {
    if (processors && !processors.includes(def.name)) continue;
    for (const rule of def.fieldCoverage ?? []) out[`${def.target.table}.${rule.column}`] = rule.min;
  }
  return out;
}

/**
 * Threshold overrides checked against the rules that exist: a mistyped "table.column" would
 * otherwise be silently ignored and the gate would judge by the default. Throws one line.
 */
export function checkGateThresholds(thresholds: Readonly<Record<string, number>>): void {
  const known = gateThresholdDefaults();
  const unknown = Object.keys(thresholds).filter((k) => !(k in known));
  if (unknown.length > 0) {
    throw new Error(`unknown gate threshold ${unknown.map((k) => `"${k}"`).join(', ')}; known: ${Object.keys(known).sort().join(', ')}`);
  }
  for (const [k, v] of Object.entries(thresholds)) {
    if (!(v >= 0 && v <= 1)) throw new Error(`gate threshold ${k}=${v} is not between 0 and 1`);
  }
}

export interface PhasePlan {
  phase: number;
  /** Groups in order; the processors of one group run concurrently. */
  groups: string[][];
}

/**
 * The phases and groups a request runs. Throws with one line when a phase or processor is unknown
 * or a processor is outside the requested phases.
 */
export function planPhases(phases: readonly number[], processors?: readonly string[]): PhasePlan[] {
  for (const phase of phases) {
    if (!ALL_PROCESSORS.some((p) => p.phase === phase)) {
      throw new Error(`unknown phase ${phase}; known phases: ${KNOWN_PHASES.join(', ')}`);
    }
  }
  if (processors) {
    for (const name of processors) {
      const def = getProcessor(name);
      if (!def) throw new Error(`unknown processor "${name}"; known: ${ALL_PROCESSORS.map((p) => p.name).join(', ')}`);
      if (!phases.includes(def.phase)) throw new Error(`processor "${name}" is in phase ${def.phase}, not in the requested phases ${phases.join(',')}`);
    }
  }
  const wanted = (p: ProcessorDef): boolean => !processors || processors.includes(p.name);
  return [...phases]
    .sort((a, b) => a - b)
    .map((phase) => {
      const inPhase = ALL_PROCESSORS.filter((p) => p.phase === phase && wanted(p));
      const groupNumbers = [...new Set(inPhase.map((p) => p.group))].sort((a, b) => a - b);
      return { phase, groups: groupNumbers.map((g) => inPhase.filter((p) => p.group === g).map((p) => p.name)) };
    })
    .filter((p) => p.groups.length > 0);
}

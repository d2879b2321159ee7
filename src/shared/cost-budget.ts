/**
 * The cost budget: the bytes billed by a backfill's dates must not pass a configured total. Pure
 * functions shared by the workflows, the CLI and the tests (no Temporal API, no clock).
 *
 * Processors run concurrently as child workflows, so the parent hands out the budget as
 * *allowances*: each running child may bill up to its cumulative allowance and launches a date only
 * when `spent + (in flight + 1) × estimate ≤ allowance`, the estimate being the largest bill one of
 * its dates has had so far (its first date, whose bill is unknown, runs alone). When that does not
 * hold it asks the parent for more; the parent grants from what no one holds —
 * `budget − bills of finished runs − allowances of running children` — or, when that cannot cover
 * the child's next date, pauses the whole backfill (`paused_cost`).
 *
 * So the sum of allowances never passes the budget, and every date started fits its child's
 * allowance at the estimate: the total billed can pass the budget only by what dates in flight bill
 * beyond their estimate (the largest per-date bill their processor had seen, or for a processor's
 * first date, beyond the allowance it started with). A child's requests cost the parent two
 * signals per grant, and grants come in chunks (a fiftieth of the budget at least), so the
 * parent's history stays small however many dates there are.
 */

/** The bytes the next date needs to fit: its estimate, or 1 byte while none is known. */
function nextDateNeed(estimate: number | undefined): number {
  return estimate !== undefined && estimate > 0 ? estimate : 1;
}

export interface ChildCostState {
  spentBytes: number;
  allowanceBytes: number;
  /** The largest bill one date has had (undefined until one finished). */
  maxDateBytes: number | undefined;
  inFlight: number;
}

/** Whether the child may launch one more date now. */
export function mayLaunchDate(c: ChildCostState): boolean {
  // The first date's bill is unknown: it runs alone, so the estimate is known before a second starts.
  if (c.maxDateBytes === undefined && c.inFlight > 0) return false;
  const est = nextDateNeed(c.maxDateBytes);
  return c.spentBytes + (c.inFlight + 1) * est <= c.allowanceBytes;
}

/** Bytes the child lacks to launch one more date (0 when it may). */
export function shortfall(c: ChildCostState): number {
  const est = nextDateNeed(c.maxDateBytes);
  return Math.max(0, c.spentBytes + (c.inFlight + 1) * est - c.allowanceBytes);
}

/** The smallest grant, so a backfill costs the parent at most ~50 grants per child run. */
export function grantChunk(budgetBytes: number, estimatePerDate: number, window: number): number {
  return Math.max(Math.ceil(budgetBytes / 50), nextDateNeed(estimatePerDate) * Math.max(1, window) * 2);
}

/**
 * The parent's answer to a child that lacks `need` bytes: the child's new cumulative allowance, or
 * null when what no one holds cannot cover it (the backfill pauses).
 */
export function grant(args: {
  budgetBytes: number;
  /** Bills of finished runs plus the allowances of running children (this one's included). */
  committedBytes: number;
  allowanceBytes: number;
  need: number;
  chunk: number;
}): number | null {
  const available = args.budgetBytes - args.committedBytes;
  if (args.need <= 0) return args.allowanceBytes;
  if (available < args.need) return null;
  return args.allowanceBytes + Math.min(available, Math.max(args.need, args.chunk));
}

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  pb: 1e15,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
  pib: 2 ** 50,
};

/**
 * A byte count as people write it: `2TiB`, `500 GiB`, `1.5TB`, `1048576`. Binary units (KiB…PiB)
 * are powers of 1024 — BigQuery bills by TiB — decimal ones (KB…PB) powers of 1000. Throws with one
 * line on anything else, zero or a negative size.
 */
export function parseByteSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = (m?.[2] ?? '').toLowerCase();
  const factor = unit === '' ? 1 : UNITS[unit];
  if (!m || factor === undefined) throw new Error(`expected a size such as 2TiB, 500GiB, 1.5TB or a number of bytes, got "${text}"`);
  const n = Math.round(Number(m[1]) * factor);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`expected a size above 0 bytes, got "${text}"`);
  return n;
}

/** Checks a budget carried in a request or update: a positive whole number of bytes, or null. */
export function validateCostBudget(b: unknown): asserts b is number | null {
  if (b === null) return;
  if (typeof b !== 'number' || !Number.isSafeInteger(b) || b <= 0) throw new Error(`the bytes-billed budget must be a whole number of bytes above 0, or null, got ${JSON.stringify(b)}`);
}

/** Bytes in binary units (BigQuery bills by TiB). */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? String(Math.round(v)) : v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

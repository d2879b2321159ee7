/**
 * How the deployment-wide warehouse cap is shared between worker processes (sandbox-safe: pure).
 *
 * Each worker process leases a share of the cap from the warehouse-slots workflow and hands its
 * slots out to its own activities locally, so a date costs no Temporal round trip. While the
 * processes together want no more than the cap, each may hold up to the whole cap; once they want
 * more, each gets a max-min fair share of it (nobody more than it wants, the rest split evenly).
 * When the cap does not divide evenly, the odd slots go first to processes that would otherwise get
 * none: a holder keeps its slot for its turn (SHARE_TURN_MS from when it got it), then the
 * longest-unserved process is next — so with fewer slots than processes the slots rotate and
 * nobody starves; the remaining odd slots go to the earliest leases.
 */

/** How long a process that got a slot from the odd ones may keep it while others have none. */
export const SHARE_TURN_MS = 2_000;

export interface ShareClaim {
  /** Slots the process could use now: in use plus waiting locally. */
  want: number;
  /** Workflow time of its latest grant (0 if never): who has waited longest for one. */
  lastGrantAtMs: number;
  /** Since when it has held slots without a break; absent while it holds none. */
  heldSinceMs?: number | undefined;
}

/** The most each claimant may hold, in the claims' order. */
export function fairShares(capacity: number, claims: readonly ShareClaim[], nowMs = 0, turnMs = SHARE_TURN_MS): number[] {
  const wanted = claims.reduce((n, c) => n + Math.max(0, c.want), 0);
  if (wanted <= capacity) return claims.map(() => capacity);
  const shares = claims.map(() => 0);
  // Water-filling: the smallest wants are met in full, the rest split what remains evenly.
  const byWant = claims.map((c, i) => ({ want: Math.max(0, c.want), i })).sort((a, b) => a.want - b.want || a.i - b.i);
  let remaining = capacity;
  for (const [k, { want, i }] of byWant.entries()) {
    const even = Math.floor(remaining / (byWant.length - k));
    if (want <= even) {
      shares[i] = want;
      remaining -= want;
      continue;
    }
    // Everyone from here wants more than an even split: each gets it, the odd slots come below.
    for (const rest of byWant.slice(k)) shares[rest.i] = even;
    remaining -= even * (byWant.length - k);
    break;
  }
  // Odd slots: to those with none first — holders in their turn, then the longest unserved, then
  // holders whose turn is over — and then in lease order.
  const rank = (c: ShareClaim, i: number): [number, number] => {
    if ((shares[i] ?? 0) > 0) return [3, 0];
    if (c.heldSinceMs === undefined) return [1, c.lastGrantAtMs];
    return nowMs - c.heldSinceMs < turnMs ? [0, c.heldSinceMs] : [2, c.heldSinceMs];
  };
  const order = claims
    .map((c, i) => ({ i, r: rank(c, i) }))
    .filter(({ i }) => (shares[i] ?? 0) < (claims[i]?.want ?? 0))
    .sort((a, b) => a.r[0] - b.r[0] || a.r[1] - b.r[1] || a.i - b.i);
  for (const { i } of order) {
    if (remaining <= 0) break;
    shares[i] = (shares[i] ?? 0) + 1;
    remaining -= 1;
  }
  return shares;
}

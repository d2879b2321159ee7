/**
 * Fair shares of the warehouse cap between worker processes (src/shared/slot-shares.ts).
 */
import { SHARE_TURN_MS, fairShares, type ShareClaim } from '../../src/shared/slot-shares';

const claim = (want: number, lastGrantAtMs = 0): ShareClaim => ({ want, lastGrantAtMs });
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

describe('fairShares', () => {
  test('uncontended: everyone may grow up to the whole cap', () => {
    expect(fairShares(8, [claim(3), claim(5)])).toEqual([8, 8]);
    expect(fairShares(4, [claim(0)])).toEqual([4]);
  });

  test('contended: max-min fair, never above a want, never above the cap in total', () => {
    expect(fairShares(8, [claim(2), claim(10), claim(10)])).toEqual([2, 3, 3]);
    expect(fairShares(4, [claim(4), claim(4)])).toEqual([2, 2]);
    const shares = fairShares(10, [claim(1), claim(7), claim(20), claim(3)]);
    expect(shares).toEqual([1, 3, 3, 3]);
    expect(sum(shares)).toBe(10);
  });

  test('odd slots go to the earliest leases when everyone has some', () => {
    expect(fairShares(4, [claim(4), claim(4), claim(4)])).toEqual([2, 1, 1]);
  });

  test('fewer slots than processes: a holder keeps its slot for its turn, then the longest unserved is next', () => {
    const holder = (heldSinceMs: number): ShareClaim => ({ want: 3, lastGrantAtMs: heldSinceMs, heldSinceMs });
    // Process 0 got the slot at 1000: in its turn it keeps it, whoever waits.
    expect(fairShares(1, [holder(1_000), claim(3, 0)], 1_000 + SHARE_TURN_MS - 1)).toEqual([1, 0]);
    // Its turn over, the slot goes to process 1, which has waited longest.
    expect(fairShares(1, [holder(1_000), claim(3, 0)], 1_000 + SHARE_TURN_MS)).toEqual([0, 1]);
    // Among those waiting, the one served longest ago comes first.
    expect(fairShares(2, [claim(1, 50), claim(1, 10), claim(1, 0)], 100)).toEqual([0, 1, 1]);
  });

  test('property: the shares fill the cap exactly when contended, and nobody gets more than it wants', () => {
    for (let cap = 1; cap <= 9; cap++) {
      for (const wants of [[1, 1, 1], [9, 0, 2], [5, 5, 5, 5], [2, 7]]) {
        const shares = fairShares(cap, wants.map((w, i) => claim(w, i)));
        if (sum(wants) > cap) {
          expect(sum(shares)).toBe(cap);
          shares.forEach((s, i) => expect(s).toBeLessThanOrEqual(wants[i] ?? 0));
        }
      }
    }
  });
});

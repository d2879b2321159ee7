import { grant, grantChunk, mayLaunchDate, parseByteSize, shortfall } from '../../src/shared/cost-budget';
import { BACKFILL_STATUS_VALUES } from '../../src/shared/search-attributes';

const MIB = 2 ** 20;

describe('cost budget arithmetic', () => {
  test('a date launches only when its estimate fits the allowance with the dates in flight', () => {
    expect(mayLaunchDate({ spentBytes: 4 * MIB, allowanceBytes: 10 * MIB, maxDateBytes: 2 * MIB, inFlight: 2 })).toBe(true); // 4 + 3×2 = 10
    // Negative control: one more in flight would pass it.
    expect(mayLaunchDate({ spentBytes: 4 * MIB, allowanceBytes: 10 * MIB, maxDateBytes: 2 * MIB, inFlight: 3 })).toBe(false);
    expect(shortfall({ spentBytes: 4 * MIB, allowanceBytes: 10 * MIB, maxDateBytes: 2 * MIB, inFlight: 3 })).toBe(2 * MIB);
    // The first date (bill unknown) runs alone, and needs some allowance.
    expect(mayLaunchDate({ spentBytes: 0, allowanceBytes: 1, maxDateBytes: undefined, inFlight: 0 })).toBe(true);
    expect(mayLaunchDate({ spentBytes: 0, allowanceBytes: 10 * MIB, maxDateBytes: undefined, inFlight: 1 })).toBe(false);
    expect(mayLaunchDate({ spentBytes: 0, allowanceBytes: 0, maxDateBytes: undefined, inFlight: 0 })).toBe(false);
  });

  test('the parent grants from what no one holds, in chunks, and refuses (pause) when that cannot cover the need', () => {
    const chunk = grantChunk(100 * MIB, 2 * MIB, 2);
    expect(chunk).toBe(8 * MIB);
    expect(grant({ budgetBytes: 100 * MIB, committedBytes: 10 * MIB, allowanceBytes: 10 * MIB, need: 1 * MIB, chunk })).toBe(18 * MIB);
    // Never past the budget: the last grant is what is left.
    expect(grant({ budgetBytes: 100 * MIB, committedBytes: 97 * MIB, allowanceBytes: 10 * MIB, need: 2 * MIB, chunk })).toBe(13 * MIB);
    // Negative control: less left than one date needs → null, the backfill pauses.
    expect(grant({ budgetBytes: 100 * MIB, committedBytes: 99 * MIB, allowanceBytes: 10 * MIB, need: 2 * MIB, chunk })).toBeNull();
  });

  test.each([
    ['2TiB', 2 * 2 ** 40],
    ['500 GiB', 500 * 2 ** 30],
    ['1.5TB', 1.5e12],
    ['10MiB', 10 * MIB],
    ['1048576', MIB],
  ])('parses %s', (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes);
  });

  test.each(['', 'lots', '2 TiBs', '0GiB', '-1TiB', '1e3', '2XB'])('refuses %j with one line', (text) => {
    expect(() => parseByteSize(text)).toThrow(/^expected a size/);
  });

  test('the self-pause statuses are BackfillStatus values', () => {
    expect(BACKFILL_STATUS_VALUES).toEqual(expect.arrayContaining(['paused', 'paused_failures', 'paused_cost']));
  });
});

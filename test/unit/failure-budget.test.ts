import {
  checkFailureBudget,
  DEFAULT_FAILURE_BUDGET,
  errorClassOf,
  parseFailureBudget,
  recordOutcome,
  type DateOutcome,
} from '../../src/shared/failure-budget';

const examples = {
  MissingInputError: { date: '2024-11-05', error: 'MissingInputError: no box scores for 2024-11-05' },
  SchemaError: { date: '2024-11-06', error: 'SchemaError: column minutes_played is STRING' },
  TransientWarehouseError: { date: '2024-11-07', error: 'TransientWarehouseError: backend error' },
};

/** Outcomes in finish order, run through recordOutcome as the workflow does. */
function outcomes(...list: DateOutcome[]): DateOutcome[] {
  return list.reduce<DateOutcome[]>((acc, o) => recordOutcome(acc, o, DEFAULT_FAILURE_BUDGET), []);
}

describe('failure budget (default: 5 of the last 20, or 3 in a row with the same error class)', () => {
  test('3 in a row with the same error class trips, naming the class and an example', () => {
    const trip = checkFailureBudget('tdza', outcomes(null, null, 'MissingInputError', 'MissingInputError', 'MissingInputError'), DEFAULT_FAILURE_BUDGET, examples);
    expect(trip).toMatchObject({ kind: 'in_a_row', failed: 3, of: 3, errorClass: 'MissingInputError', example: examples.MissingInputError });
    expect(trip?.reason).toContain('3 dates in a row failed with MissingInputError');
    expect(trip?.reason).toContain('no box scores');
  });

  test('negative control: 2 in a row is below budget', () => {
    expect(checkFailureBudget('tdza', outcomes(null, 'MissingInputError', 'MissingInputError'), DEFAULT_FAILURE_BUDGET, examples)).toBeNull();
  });

  test('negative control: 3 in a row with different error classes does not trip "in a row"', () => {
    expect(checkFailureBudget('tdza', outcomes('MissingInputError', 'SchemaError', 'MissingInputError'), DEFAULT_FAILURE_BUDGET, examples)).toBeNull();
    // …nor does a run broken by a success.
    expect(checkFailureBudget('tdza', outcomes('SchemaError', 'SchemaError', null, 'SchemaError'), DEFAULT_FAILURE_BUDGET, examples)).toBeNull();
  });

  test('5 of the last 20 finished dates trips, whatever the classes, naming the most frequent one', () => {
    const list = outcomes('SchemaError', null, 'MissingInputError', null, 'SchemaError', null, 'TransientWarehouseError', null, 'SchemaError');
    expect(checkFailureBudget('pcf', list, DEFAULT_FAILURE_BUDGET, examples)).toMatchObject({ kind: 'window', failed: 5, of: 9, errorClass: 'SchemaError' });
  });

  test('negative control: 4 of the last 20 is below budget, and failures older than the window no longer count', () => {
    expect(checkFailureBudget('pcf', outcomes('SchemaError', null, 'MissingInputError', null, 'SchemaError', null, 'TransientWarehouseError'), DEFAULT_FAILURE_BUDGET, examples)).toBeNull();
    const old = outcomes('SchemaError', null, 'MissingInputError', null, 'SchemaError', ...Array<DateOutcome>(16).fill(null), 'TransientWarehouseError', null, 'SchemaError');
    // The first two failures slid out of the window: 3 failures in the last 20.
    expect(old).toHaveLength(20);
    expect(checkFailureBudget('pcf', old, DEFAULT_FAILURE_BUDGET, examples)).toBeNull();
  });

  test('off (null) never trips; a 0 turns one trip off', () => {
    const bad = outcomes(...Array<DateOutcome>(20).fill('SchemaError'));
    expect(checkFailureBudget('p', bad, null, examples)).toBeNull();
    expect(checkFailureBudget('p', outcomes('SchemaError', 'SchemaError', 'SchemaError'), { maxFailed: 5, window: 20, consecutive: 0 }, examples)).toBeNull();
    expect(checkFailureBudget('p', outcomes('SchemaError', 'SchemaError', 'SchemaError'), { maxFailed: 0, window: 20, consecutive: 3 }, examples)).toMatchObject({ kind: 'in_a_row' });
  });

  test('the error class is the failure type written before the message', () => {
    expect(errorClassOf('MissingInputError: no rows')).toBe('MissingInputError');
    expect(errorClassOf('something broke: badly')).toBe('Error');
  });

  test.each([
    ['off', null],
    ['5/20', { maxFailed: 5, window: 20, consecutive: 3 }],
    ['5/20,3', { maxFailed: 5, window: 20, consecutive: 3 }],
    ['0/10,2', { maxFailed: 0, window: 10, consecutive: 2 }],
    ['2/4,0', { maxFailed: 2, window: 4, consecutive: 0 }],
  ])('parses %s', (text, expected) => {
    expect(parseFailureBudget(text)).toEqual(expected);
  });

  test.each(['', '5', '5/0', '21/20', 'five/20', '5/20,x', '0/20,0', '5/2000', '-1/20'])('refuses %j with one line', (text) => {
    expect(() => parseFailureBudget(text)).toThrow(/./);
    try {
      parseFailureBudget(text);
    } catch (err) {
      expect(String((err as Error).message)).not.toContain('\n');
    }
  });
});

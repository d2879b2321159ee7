/** Configuration: defaults < environment < overrides, bad values named in one line. */
import { ConfigError, loadConfig, warehouseKey } from '../../src/config';

test('defaults are the embedded ones', () => {
  const c = loadConfig({});
  expect(c).toMatchObject({
    temporalAddress: 'localhost:7233',
    temporalAddressExplicit: false,
    temporalNamespace: 'default',
    taskQueue: 'props-backfill',
    warehouse: 'duckdb',
    duckdbPath: '.data/warehouse.duckdb',
    warehouseMaxInFlight: 4,
    bootstrapDays: 14,
    gateThresholds: {},
  });
  expect(warehouseKey(c)).toMatch(/^duckdb:\/.*\.data\/warehouse\.duckdb$/);
});

test('the environment overrides defaults, and a set TEMPORAL_ADDRESS counts as explicit', () => {
  const c = loadConfig({
    TEMPORAL_ADDRESS: 'temporal:7233',
    BACKFILL_TASK_QUEUE: 'q',
    WAREHOUSE_MAX_IN_FLIGHT: '2',
    GATE_THRESHOLDS: 'player_game_summary.usage_rate=0.9, player_game_summary.minutes_played=1',
  });
  expect(c.temporalAddress).toBe('temporal:7233');
  expect(c.temporalAddressExplicit).toBe(true);
  expect(c.taskQueue).toBe('q');
  expect(c.warehouseMaxInFlight).toBe(2);
  expect(c.gateThresholds).toEqual({ 'player_game_summary.usage_rate': 0.9, 'player_game_summary.minutes_played': 1 });
});

test.each([
  [{ WAREHOUSE_MAX_IN_FLIGHT: '0' }, /^invalid setting WAREHOUSE_MAX_IN_FLIGHT: /],
  [{ WAREHOUSE: 'oracle' }, /^invalid setting WAREHOUSE: /],
  [{ BOOTSTRAP_DAYS: 'two weeks' }, /^invalid setting BOOTSTRAP_DAYS: /],
  [{ GATE_THRESHOLDS: 'usage_rate=85' }, /^invalid setting GATE_THRESHOLDS: "usage_rate=85" is not table.column=min/],
])('%j is rejected with one line naming the setting', (env, message) => {
  expect(() => loadConfig(env)).toThrow(ConfigError);
  expect(() => loadConfig(env)).toThrow(message);
});

/**
 * Secrets never reach a log line: a config holding each kind of secret — a Temporal API key, a TLS
 * private key, OAuth and bearer tokens, a GOOGLE_APPLICATION_CREDENTIALS key file's contents — is
 * logged (as fields, in messages, in errors, in child bindings, through the Temporal bridge) into a
 * captured stream, and none of them appears while the non-secret fields do. The negative control
 * logs the same things with a plain pino logger and finds every secret: the test can fail.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import pino, { type DestinationStream } from 'pino';
import { loadConfig } from '../../src/config';
import { createLogger, PinoTemporalLogger, scrubSecrets, secretEnvValues } from '../../src/logger';

// Temporal Cloud API keys are JWTs.
const API_KEY = 'eyJhbGciOiJFUzI1NiIsImtpZCI6InRlc3QifQ.eyJhY2NvdW50X2lkIjoiYWNjdCJ9.c2lnbmF0dXJlLW9mLXRoZS1rZXk';
const TOKEN = 'ya29.a0AfB_byC3kTq9secretOAuthToken';
const BEARER = 'opaqueBearerToken-77e1c0ffee';
const PEM_BODY = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7secretkeymaterial';
const TLS_KEY = `-----BEGIN PRIVATE KEY-----\n${PEM_BODY}\n-----END PRIVATE KEY-----\n`;
const SA_KEY_ID = '5d1c9a7e3b2f4a6c8e0d1f2a3b4c5d6e7f8a9b0c';
const SA_PEM_BODY = 'MIIEowIBAAKCAQEAserviceaccountkeymaterialXYZ';
const CLIENT_SECRET = 'GOCSPX-clientsecretvalue123';
const PASSWORD = 'hunter2-but-longer';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'props-backfill-logger-'));
const keyFile = path.join(tmp, 'service-account.json');
fs.writeFileSync(
  keyFile,
  JSON.stringify(
    {
      type: 'service_account',
      project_id: 'nba-props-platform',
      private_key_id: SA_KEY_ID,
      private_key: `-----BEGIN RSA PRIVATE KEY-----\n${SA_PEM_BODY}\n-----END RSA PRIVATE KEY-----\n`,
      client_email: 'backfill@nba-props-platform.iam.gserviceaccount.com',
    },
    null,
    2,
  ),
);

const SECRETS = [API_KEY, TOKEN, BEARER, PEM_BODY, SA_KEY_ID, SA_PEM_BODY, CLIENT_SECRET, PASSWORD];
const NON_SECRETS = ['temporal.example.com:7233', 'nba-props-platform', keyFile, 'props-backfill-warehouse-slots', 'bf-1', 'player_game_summary'];

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function capture(): { stream: DestinationStream; text: () => string } {
  let out = '';
  return { stream: { write: (s: string) => void (out += s) }, text: () => out };
}

/** Everything a careless call site might log: the config, the environment, key material, errors. */
function logEverything(logger: pino.Logger): void {
  const config = loadConfig({
    TEMPORAL_ADDRESS: 'temporal.example.com:7233',
    TEMPORAL_API_KEY: API_KEY,
    WAREHOUSE: 'bigquery',
    BIGQUERY_PROJECT: 'nba-props-platform',
    GOOGLE_APPLICATION_CREDENTIALS: keyFile,
  });
  const keyFileText = fs.readFileSync(keyFile, 'utf8');
  logger.info(
    {
      config,
      env: { TEMPORAL_API_KEY: API_KEY, GOOGLE_APPLICATION_CREDENTIALS: keyFile },
      tls: { clientKey: TLS_KEY },
      credentialsText: keyFileText,
      credentials: JSON.parse(keyFileText) as unknown,
      serviceAccount: JSON.parse(keyFileText) as unknown,
      oauth: { access_token: TOKEN, client_secret: CLIENT_SECRET },
      request: { headers: { Authorization: `Bearer ${BEARER}` } },
      db: { password: PASSWORD },
    },
    'starting worker',
  );
  logger.warn(`connecting with api key ${API_KEY} and Authorization: Bearer ${BEARER}`);
  const err = Object.assign(new Error(`token refresh failed: access_token=${TOKEN}; key file said ${keyFileText}`), {
    config: { apiKey: API_KEY },
  });
  logger.error({ err }, 'BigQuery auth failed');
  logger.error(err);
  logger.child({ backfill: 'bf-1', temporalApiKey: API_KEY, note: TLS_KEY }).info({ processor: 'player_game_summary' }, 'child');
  new PinoTemporalLogger(logger).warn('core said', { header: `Bearer ${BEARER}`, password: PASSWORD });
  logger.info({ taskQueue: config.slotsTaskQueue }, 'slots queue');
}

test('no secret of any kind reaches the JSON log; the non-secret fields do', () => {
  const { stream, text } = capture();
  logEverything(createLogger({ level: 'info', pretty: false, destination: stream, secrets: [] }));
  const logged = text();
  expect(logged.split('\n').filter(Boolean).length).toBe(7);
  for (const secret of SECRETS) expect(logged).not.toContain(secret);
  for (const plain of NON_SECRETS) expect(logged).toContain(plain);
  expect(logged).toContain('[redacted');
  // Errors keep their type and the shape of their message.
  expect(logged).toContain('"type":"Error"');
  expect(logged).toContain('token refresh failed: access_token=[redacted]');
});

test('negative control: the same calls through a plain pino logger leak every secret', () => {
  const { stream, text } = capture();
  logEverything(pino({ level: 'info' }, stream));
  const logged = text();
  for (const secret of SECRETS) expect(logged).toContain(secret);
});

test('values of secret environment variables are blanked wherever they appear, whatever their shape', () => {
  const plainKey = 'abc123plainlookingkey';
  const known = secretEnvValues({ TEMPORAL_API_KEY: plainKey, TEMPORAL_ADDRESS: 'localhost:7233', SHORT_TOKEN: 'x' });
  expect(known).toEqual([plainKey]);
  const { stream, text } = capture();
  createLogger({ pretty: false, destination: stream, secrets: known }).info({ note: `the key is ${plainKey}` }, `key ${plainKey}`);
  expect(text()).not.toContain(plainKey);
  // Control: without the known value the same shapeless string gets through.
  const control = capture();
  createLogger({ pretty: false, destination: control.stream, secrets: [] }).info({ note: `the key is ${plainKey}` });
  expect(control.text()).toContain(plainKey);
});

test('scrubSecrets copies, never mutates, and keeps what JSON would print', () => {
  const input = { apiKey: API_KEY, nested: { url: new URL('https://example.com/x'), when: new Date(0) } };
  const out = scrubSecrets(input) as { apiKey: string; nested: { url: string; when: Date } };
  expect(out.apiKey).toBe('[redacted]');
  expect(input.apiKey).toBe(API_KEY);
  expect(out.nested.url).toBe('https://example.com/x');
  expect(out.nested.when).toEqual(new Date(0));
});

test("Temporal's failures (read-only `name` on their prototype) are logged, scrubbed, at every level", () => {
  // The SDK logs a failed activity attempt with its ApplicationFailure; copying one must not throw.
  const failure = ApplicationFailure.retryable(`token ${TOKEN} expired`, 'TransientWarehouseError');
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', pretty: false, secrets: [TOKEN], destination: { write: (s: string) => void lines.push(s) } });
  expect(() => logger.warn({ err: failure }, 'date attempt failed')).not.toThrow();
  expect(() => logger.error(failure)).not.toThrow();
  const text = lines.join('');
  expect(text).toContain('token [redacted] expired');
  expect(text).toContain('date attempt failed');
  expect(text).not.toContain(TOKEN);
  // Negative control: plain assignment, as before the fix, throws on this error class.
  const copy = Object.create(Object.getPrototypeOf(failure) as object) as { name: string };
  expect(() => {
    'use strict';
    copy.name = failure.name;
  }).toThrow(TypeError);
});

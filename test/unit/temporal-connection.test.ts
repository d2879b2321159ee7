/**
 * Temporal connection settings: TLS files, server name, API key. Bad values stop the CLI (and so
 * `backfill worker`) with one line naming the variable and exit 2 before anything starts; the one
 * options builder carries the material to both client and worker connections; the API key never
 * shows in JSON, logs or messages; and a TLS client against the plaintext dev server is one clear
 * line with exit 1, not a stack trace.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import { runCli } from '../../src/cli';
import { ConfigError, loadConfig } from '../../src/config';
import { Secret } from '../../src/config/secret';
import { describeTemporalConnection, temporalConnectionOptions } from '../../src/temporal';
import { tempDir } from '../helpers/harness';
import { testServerAddress } from '../helpers/temporal-env';

const dir = tempDir('tls');
const API_KEY = 'test-api-key-5f0c2d1e9a7b';

/** A throwaway self-signed certificate and its key, made by openssl (Debian has it; so does CI). */
function makeCertificate(): { cert: string; key: string } {
  const cert = path.join(dir, 'client.pem');
  const key = path.join(dir, 'client.key');
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=props-backfill-test',
    ], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`these tests need openssl to make a throwaway certificate: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return { cert, key };
}
const { cert, key } = makeCertificate();
const notPem = path.join(dir, 'not-pem.txt');
fs.writeFileSync(notPem, 'private_key=super-secret-contents-do-not-print');

async function cli(argv: string[], env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (s) => (out += s), err: (s) => (err += s), env });
  return { code, out, err };
}

describe('configuration', () => {
  test('defaults: plaintext, no key', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ temporalTlsCert: '', temporalTlsKey: '', temporalTlsCa: '', temporalTlsServerName: '' });
    expect([c.temporalTls, c.temporalApiKey]).toEqual([undefined, undefined]);
    expect(temporalConnectionOptions(c)).toEqual({ address: 'localhost:7233', tls: false });
  });

  test('TLS files, server name and API key are read from the environment', () => {
    const c = loadConfig({
      TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
      TEMPORAL_TLS_CERT: cert,
      TEMPORAL_TLS_KEY: key,
      TEMPORAL_TLS_CA: cert,
      TEMPORAL_TLS_SERVER_NAME: 'frontend.internal',
      TEMPORAL_API_KEY: API_KEY,
    });
    expect(c).toMatchObject({ temporalTlsCert: cert, temporalTlsKey: key, temporalTlsCa: cert, temporalTlsServerName: 'frontend.internal' });
    expect(c.temporalApiKey?.reveal()).toBe(API_KEY);
  });

  test('the API key never shows when the config is serialised, inspected or printed', () => {
    const c = loadConfig({ TEMPORAL_API_KEY: API_KEY });
    expect(JSON.stringify(c)).not.toContain(API_KEY);
    expect(inspect(c, { depth: 10 })).not.toContain(API_KEY);
    expect(`${String(c.temporalApiKey)}`).toBe('[redacted]');
    expect(JSON.stringify({ ...c })).toContain('"temporalApiKey":"[redacted]"');
    expect(describeTemporalConnection(c)).toBe('TLS, system CAs, API key');
  });

  const secretOutput = new RegExp([API_KEY, 'super-secret-contents', 'BEGIN', 'PRIVATE'].join('|'));

  test.each([
    [{ TEMPORAL_TLS_CERT: cert }, /^invalid setting TEMPORAL_TLS_KEY: required when TEMPORAL_TLS_CERT is set$/],
    [{ TEMPORAL_TLS_KEY: key }, /^invalid setting TEMPORAL_TLS_CERT: required when TEMPORAL_TLS_KEY is set$/],
    [{ TEMPORAL_TLS_CERT: '/no/such/cert.pem', TEMPORAL_TLS_KEY: key }, /^invalid setting TEMPORAL_TLS_CERT: cannot read \/no\/such\/cert\.pem \(ENOENT\)$/],
    [{ TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: '/no/such/key.pem' }, /^invalid setting TEMPORAL_TLS_KEY: cannot read \/no\/such\/key\.pem \(ENOENT\)$/],
    [{ TEMPORAL_TLS_CA: dir }, /^invalid setting TEMPORAL_TLS_CA: cannot read .* \(EISDIR\)$/],
    [{ TEMPORAL_TLS_CA: notPem }, /^invalid setting TEMPORAL_TLS_CA: .*not-pem\.txt is not a PEM certificate$/],
    [{ TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: notPem }, /^invalid setting TEMPORAL_TLS_KEY: .*not-pem\.txt is not a PEM private key$/],
    [{ TEMPORAL_TLS_CERT: key, TEMPORAL_TLS_KEY: key }, /^invalid setting TEMPORAL_TLS_CERT: .*client\.key is not a PEM certificate$/],
    [{ TEMPORAL_TLS: 'yes please' }, /^invalid setting TEMPORAL_TLS: must be true or false$/],
    [{ TEMPORAL_TLS: 'false', TEMPORAL_TLS_CA: cert }, /^invalid setting TEMPORAL_TLS: is false, but TEMPORAL_TLS_CA is set/],
    [{ TEMPORAL_TLS_SERVER_NAME: 'not a host' }, /^invalid setting TEMPORAL_TLS_SERVER_NAME: not a host name$/],
    [{ TEMPORAL_API_KEY: `${API_KEY}\nsecond-line` }, /^invalid setting TEMPORAL_API_KEY: must be a single token without spaces or line breaks$/],
  ])('%j → one line naming the variable, no secret or file contents', (env, message) => {
    let thrown: unknown;
    try {
      loadConfig(env);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const text = (thrown as Error).message;
    expect(text).toMatch(message);
    expect(text.split('\n')).toHaveLength(1);
    expect(text).not.toMatch(secretOutput);
  });
});

describe('connection options, one builder for client and worker', () => {
  test('carry the client certificate pair, the CA, the server name and the API key', () => {
    const options = temporalConnectionOptions(
      loadConfig({ TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: key, TEMPORAL_TLS_CA: cert, TEMPORAL_TLS_SERVER_NAME: 'frontend.internal', TEMPORAL_API_KEY: API_KEY }),
    );
    expect(options.address).toBe('localhost:7233');
    expect(options.apiKey).toBe(API_KEY);
    expect(options.tls).toEqual({
      clientCertPair: { crt: fs.readFileSync(cert), key: fs.readFileSync(key) },
      serverRootCACertificate: fs.readFileSync(cert),
      serverNameOverride: 'frontend.internal',
    });
  });

  test.each([
    ['TEMPORAL_TLS=true: the system CAs', { TEMPORAL_TLS: 'true' }, {}, 'TLS, system CAs'],
    ['an API key alone turns TLS on', { TEMPORAL_API_KEY: API_KEY }, {}, 'TLS, system CAs, API key'],
    ['an API key with TEMPORAL_TLS=false stays plaintext', { TEMPORAL_API_KEY: API_KEY, TEMPORAL_TLS: 'false' }, false, 'plaintext, API key'],
    ['a private CA', { TEMPORAL_TLS_CA: cert }, { serverRootCACertificate: fs.readFileSync(cert) }, 'TLS, private CA'],
    ['mTLS', { TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: key }, { clientCertPair: { crt: fs.readFileSync(cert), key: fs.readFileSync(key) } }, 'mTLS, system CAs'],
  ])('%s', (_name, env, tls, described) => {
    const config = loadConfig(env);
    expect(temporalConnectionOptions(config).tls).toEqual(tls);
    expect(describeTemporalConnection(config)).toBe(described);
  });

  test('a TLS file removed after start-up is named, never read out', () => {
    const gone = path.join(dir, 'gone.pem');
    fs.copyFileSync(cert, gone);
    const config = loadConfig({ TEMPORAL_TLS_CA: gone });
    fs.rmSync(gone);
    expect(() => temporalConnectionOptions(config)).toThrow(/^cannot read TEMPORAL_TLS_CA file .*gone\.pem \(ENOENT\)$/);
  });
});

describe('the CLI', () => {
  test.each([
    [['status', 'x'], { TEMPORAL_TLS_CERT: cert }, 'backfill: invalid setting TEMPORAL_TLS_KEY: required when TEMPORAL_TLS_CERT is set'],
    [['status', 'x'], { TEMPORAL_TLS_CA: '/no/such/ca.pem' }, 'backfill: invalid setting TEMPORAL_TLS_CA: cannot read /no/such/ca.pem (ENOENT)'],
    [['status', 'x'], { TEMPORAL_TLS: 'on' }, 'backfill: invalid setting TEMPORAL_TLS: must be true or false'],
    [['worker'], { TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: notPem }, `backfill: invalid setting TEMPORAL_TLS_KEY: ${notPem} is not a PEM private key`],
    [['start', '--from', '2024-11-01', '--to', '2024-11-02'], { TEMPORAL_API_KEY: 'two words' }, 'backfill: invalid setting TEMPORAL_API_KEY: must be a single token without spaces or line breaks'],
  ])('%j with %j → exit 2, one line naming the setting, nothing started', async (argv, env, line) => {
    const r = await cli(argv, { TEMPORAL_ADDRESS: '127.0.0.1:1', ...env });
    expect(r).toEqual({ code: 2, out: '', err: `${line}\n` });
  });

  test.each([
    ['TLS with the system CAs', { TEMPORAL_TLS: 'true' }, /over TLS, system CAs/],
    ['mTLS with a client certificate', { TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: key, TEMPORAL_TLS_CA: cert }, /over mTLS, private CA/],
    ['an API key', { TEMPORAL_API_KEY: API_KEY }, /over TLS, system CAs, API key/],
  ])('%s against the plaintext dev server → exit 1, one clear line, no stack, no secret', async (_name, env, how) => {
    const r = await cli(['status', 'backfill-x'], { TEMPORAL_ADDRESS: testServerAddress(), ...env });
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(new RegExp(`^backfill: cannot reach Temporal at ${testServerAddress().replace(/\./g, '\\.')} `));
    expect(r.err).toMatch(how);
    expect(r.err).toMatch(/a local dev server speaks plaintext/);
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(r.err).not.toContain(API_KEY);
  });

  test('the same CLI without TLS reaches the dev server (the failures above are the TLS settings)', async () => {
    const r = await cli(['status', 'backfill-no-such-id'], { TEMPORAL_ADDRESS: testServerAddress() });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no backfill with id "backfill-no-such-id"/);
  });
});

test('Secret keeps its value only for reveal()', () => {
  const s = new Secret('abc123');
  expect(s.reveal()).toBe('abc123');
  expect([String(s), JSON.stringify({ s }), inspect({ s })]).toEqual(['[redacted]', '{"s":"[redacted]"}', "{ s: [redacted] }"]);
});

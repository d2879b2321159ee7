/**
 * How to reach the Temporal frontend beyond its address: TLS (system CAs, a private CA, a client
 * certificate for mTLS, a server name override) and an API key for Temporal Cloud. The settings
 * hold file *paths*; the files are read when connecting (src/temporal.ts), and here only to check
 * that they are usable, so a bad path fails at start-up with one line naming the variable — never
 * with the file's contents, which may be a private key.
 */
import fs from 'node:fs';
import { z } from 'zod';
import { Secret } from './secret';

/** "true"/"false" from the environment, or a boolean from code; unset means "decide from the rest". */
const optionalBoolean = z
  .union([z.boolean(), z.string()])
  .optional()
  .transform((value, ctx) => {
    if (value === undefined || typeof value === 'boolean') return value;
    const normalised = value.trim().toLowerCase();
    if (normalised === 'true') return true;
    if (normalised === 'false') return false;
    ctx.addIssue({ code: 'custom', message: 'must be true or false' });
    return z.NEVER;
  });

/** A path; its file is checked (readable, the right kind of PEM) by checkTemporalConnection. */
const filePath = z.string().default('');

export const TEMPORAL_CONNECTION_SETTINGS = {
  /** TLS on or off; unset: on exactly when a certificate, CA, server name or API key is configured. */
  temporalTls: optionalBoolean,
  /** Client certificate (PEM) for mTLS; needs temporalTlsKey. */
  temporalTlsCert: filePath,
  /** Private key (PEM) of the client certificate. */
  temporalTlsKey: filePath,
  /** CA certificate (PEM) that signed the server's certificate; empty: the system's CAs. */
  temporalTlsCa: filePath,
  /** The name to verify the server's certificate against, when it differs from the address's host. */
  temporalTlsServerName: z
    .string()
    .default('')
    .refine((v) => v === '' || /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/.test(v), 'not a host name'),
  /** Temporal Cloud API key, sent as a bearer token. Kept in a Secret: never logged or serialised. */
  temporalApiKey: z
    .union([z.instanceof(Secret), z.string()])
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value instanceof Secret) return value;
      // The message never quotes the value.
      if (!/^\S+$/.test(value)) {
        ctx.addIssue({ code: 'custom', message: 'must be a single token without spaces or line breaks' });
        return z.NEVER;
      }
      return new Secret(value);
    }),
};

export const TEMPORAL_CONNECTION_ENV: Readonly<Record<string, keyof typeof TEMPORAL_CONNECTION_SETTINGS>> = {
  TEMPORAL_TLS: 'temporalTls',
  TEMPORAL_TLS_CERT: 'temporalTlsCert',
  TEMPORAL_TLS_KEY: 'temporalTlsKey',
  TEMPORAL_TLS_CA: 'temporalTlsCa',
  TEMPORAL_TLS_SERVER_NAME: 'temporalTlsServerName',
  TEMPORAL_API_KEY: 'temporalApiKey',
};

/** Everything needed to open a connection to the Temporal frontend. */
export type TemporalConnectionSettings = { temporalAddress: string } & z.output<
  z.ZodObject<typeof TEMPORAL_CONNECTION_SETTINGS>
>;

/** Whether connections use TLS: as configured, else whenever TLS material or an API key is given. */
export function temporalTlsEnabled(s: TemporalConnectionSettings): boolean {
  if (s.temporalTls !== undefined) return s.temporalTls;
  return s.temporalTlsCert !== '' || s.temporalTlsCa !== '' || s.temporalTlsServerName !== '' || s.temporalApiKey !== undefined;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----/;
const PEM_PRIVATE_KEY = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/;

/** The file's text, or a problem naming the path and the error code (never the contents). */
function readSettingFile(file: string): { text: string } | { problem: string } {
  try {
    return { text: fs.readFileSync(file, 'utf8') };
  } catch (err) {
    return { problem: `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})` };
  }
}

/**
 * The first problem with the connection settings as [environment variable, message], or undefined.
 * Cross-field rules first (a certificate needs its key), then each file.
 */
export function checkTemporalConnection(s: TemporalConnectionSettings): readonly [string, string] | undefined {
  if (s.temporalTlsCert !== '' && s.temporalTlsKey === '') return ['TEMPORAL_TLS_KEY', 'required when TEMPORAL_TLS_CERT is set'];
  if (s.temporalTlsKey !== '' && s.temporalTlsCert === '') return ['TEMPORAL_TLS_CERT', 'required when TEMPORAL_TLS_KEY is set'];
  if (s.temporalTls === false) {
    const tlsOnly = (
      [
        ['TEMPORAL_TLS_CERT', s.temporalTlsCert],
        ['TEMPORAL_TLS_CA', s.temporalTlsCa],
        ['TEMPORAL_TLS_SERVER_NAME', s.temporalTlsServerName],
      ] as const
    ).find(([, value]) => value !== '');
    if (tlsOnly) return ['TEMPORAL_TLS', `is false, but ${tlsOnly[0]} is set (it only applies with TLS)`];
  }
  const files = [
    ['TEMPORAL_TLS_CERT', s.temporalTlsCert, PEM_CERTIFICATE, 'a PEM certificate'],
    ['TEMPORAL_TLS_KEY', s.temporalTlsKey, PEM_PRIVATE_KEY, 'a PEM private key'],
    ['TEMPORAL_TLS_CA', s.temporalTlsCa, PEM_CERTIFICATE, 'a PEM certificate'],
  ] as const;
  for (const [name, file, pem, kind] of files) {
    if (file === '') continue;
    const read = readSettingFile(file);
    if ('problem' in read) return [name, read.problem];
    if (!pem.test(read.text)) return [name, `${file} is not ${kind}`];
  }
  return undefined;
}

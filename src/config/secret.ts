/**
 * A secret setting (an API key). The value is reachable only through `reveal()`, which the code
 * that hands it to a client library calls; JSON (pino, workflow inputs, `--json` output), string
 * conversion and `util.inspect` (console, error messages) all print `[redacted]`, so a config
 * object can be logged or spread without leaking it.
 */
import { inspect } from 'node:util';

const REDACTED = '[redacted]';

export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

/** `text` with every occurrence of the secret's value replaced, for messages built from library errors. */
export function withoutSecret(text: string, secret: Secret | undefined): string {
  const value = secret?.reveal();
  return value ? text.split(value).join(REDACTED) : text;
}

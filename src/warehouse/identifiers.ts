/**
 * Identifiers reach SQL text only from our own definitions (table specs, processor definitions)
 * and the validated dataset mapping, never from a user's value. These checks are the last fence:
 * a name that is not a plain identifier throws before any SQL is built with it.
 */

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** Returns `name` when it is a plain SQL identifier (letters, digits, underscore), else throws. */
export function identifier(name: string, what = 'identifier'): string {
  if (!IDENTIFIER.test(name)) throw new TypeError(`invalid ${what} ${JSON.stringify(name)}: only letters, digits and _ are allowed`);
  return name;
}

export function isIdentifier(name: string): boolean {
  return IDENTIFIER.test(name);
}

/**
 * .env.example lists every environment variable the project reads — the config schema's (with the
 * schema's own defaults), those the code reads directly, and those the compose files interpolate —
 * each under a line saying what it means, and nothing else. One function finds the problems; edited
 * copies of the file prove it finds each kind (the negative controls).
 */
import fs from 'node:fs';
import path from 'node:path';
import { configEnvironment, loadConfig } from '../../src/config';

const repoRoot = path.resolve(__dirname, '..', '..');
const exampleText = fs.readFileSync(path.join(repoRoot, '.env.example'), 'utf8');

/** A setting line: the commented-out assignment `# NAME=default`. */
const SETTING_LINE = /^#\s?([A-Z][A-Z0-9_]*)=(.*)$/;

/** Variables of the operating system or the shell, and the tests' own plumbing: not settings. */
const NOT_SETTINGS = new Set(['PATH', 'HOME', 'BASH_SOURCE', 'TEMPORAL_TEST_SERVER_PID']);

function filesUnder(dir: string, pattern: RegExp): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'histories' && entry.name !== 'fixtures') out.push(...filesUnder(full, pattern));
    } else if (pattern.test(entry.name)) {
      out.push(full);
    }
  }
  return out;
}

/** Variables the code reads outside the config: process.env.X, env.X, env[X_ENV] constants, ${X in shell. */
function variablesReadByCode(): Set<string> {
  const found = new Set<string>();
  const sources = [
    ...['src', 'bin', 'bench', 'test'].flatMap((d) => filesUnder(path.join(repoRoot, d), /\.(ts|js)$/)),
    ...filesUnder(path.join(repoRoot, 'tools'), /\.sh$/),
  ];
  const codePatterns = [
    /process\.env\.([A-Z][A-Z0-9_]*)/g,
    /\benv\.([A-Z][A-Z0-9_]*)/g,
    /process\.env\[['"]([A-Z][A-Z0-9_]*)['"]\]/g,
    /\b[A-Z][A-Z0-9_]*_ENV\s*=\s*'([A-Z][A-Z0-9_]*)'/g,
  ];
  const shellPatterns = [/\$\{([A-Z][A-Z0-9_]*)/g];
  for (const file of sources.filter((f) => f !== __filename)) {
    const text = fs.readFileSync(file, 'utf8');
    for (const re of file.endsWith('.sh') ? shellPatterns : codePatterns) {
      for (const m of text.matchAll(re)) if (m[1] && !NOT_SETTINGS.has(m[1])) found.add(m[1]);
    }
  }
  return found;
}

/** Variables the compose files interpolate: `${NAME…}`. */
function variablesOfComposeFiles(): Set<string> {
  const found = new Set<string>();
  for (const file of fs.readdirSync(repoRoot).filter((f) => /^docker-compose.*\.ya?ml$/.test(f))) {
    for (const m of fs.readFileSync(path.join(repoRoot, file), 'utf8').matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)) if (m[1]) found.add(m[1]);
  }
  return found;
}

/** The config's default of each of its variables, written the way .env.example writes it. */
function configDefaults(): Map<string, string> {
  const defaults = loadConfig({}) as unknown as Record<string, unknown>;
  const text = (v: unknown): string => {
    if (v === undefined) return '';
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
    // Maps parsed from "a=b,c=d" settings default to empty.
    return typeof v === 'object' && v !== null && Object.keys(v).length === 0 ? '' : JSON.stringify(v);
  };
  return new Map(Object.entries(configEnvironment()).map(([name, key]) => [name, text(defaults[key])]));
}

interface Sources {
  config: Map<string, string>;
  code: Set<string>;
  compose: Set<string>;
}

function envExampleProblems(text: string, sources: Sources): string[] {
  const problems: string[] = [];
  const lines = text.split('\n');
  const listed = new Map<string, string>();
  lines.forEach((line, i) => {
    const m = SETTING_LINE.exec(line);
    if (!m?.[1]) return;
    const name = m[1];
    if (listed.has(name)) problems.push(`${name} is listed twice`);
    listed.set(name, m[2] ?? '');
    // Its meaning: the nearest line above that is neither another setting of the group nor a rule.
    let j = i - 1;
    while (j >= 0 && SETTING_LINE.test(lines[j] ?? '')) j -= 1;
    const above = lines[j] ?? '';
    if (!/^# \S/.test(above) || /^# -{3,}/.test(above)) problems.push(`${name} has no line above it saying what it means`);
  });
  for (const [name, fallback] of sources.config) {
    if (!listed.has(name)) problems.push(`${name} is a setting of the config but is not listed`);
    else if (listed.get(name) !== fallback) problems.push(`${name}: .env.example says "${listed.get(name)}", the config's default is "${fallback}"`);
  }
  for (const name of sources.code) if (!sources.config.has(name) && !listed.has(name)) problems.push(`${name} is read by the code but is not listed`);
  for (const name of sources.compose) if (!listed.has(name)) problems.push(`${name} is used by a compose file but is not listed`);
  for (const name of listed.keys()) {
    if (!sources.config.has(name) && !sources.code.has(name) && !sources.compose.has(name)) problems.push(`${name} is listed but nothing reads it`);
  }
  return problems;
}

const sources: Sources = { config: configDefaults(), code: variablesReadByCode(), compose: variablesOfComposeFiles() };

test('the scanners see the variables they are meant to see', () => {
  expect([...sources.config.keys()]).toEqual(expect.arrayContaining(['TEMPORAL_ADDRESS', 'TEMPORAL_API_KEY', 'DUCKDB_PATH', 'BIGQUERY_PROJECT']));
  expect([...sources.code]).toEqual(expect.arrayContaining(['LOG_FORMAT', 'TEMPORAL_CLI_PATH', 'DEMO_PRESET', 'BENCH_PRESET', 'FAKE_GCS_SERVER_PATH', 'XDG_CACHE_HOME']));
  expect([...sources.compose]).toEqual(expect.arrayContaining(['TEMPORAL_DB_PASSWORD', 'BIGQUERY_KEY_FILE']));
});

test('.env.example lists every variable with its default and meaning, and nothing else', () => {
  expect(envExampleProblems(exampleText, sources)).toEqual([]);
});

describe('an edited copy is rejected (negative controls)', () => {
  const drop = (name: string) => (t: string) => t.replace(new RegExp(`^# ${name}=.*\\n`, 'm'), '');
  test.each([
    ['a config setting missing', drop('TEMPORAL_API_KEY'), 'TEMPORAL_API_KEY is a setting of the config but is not listed'],
    ['a wrong default', (t: string) => t.replace('# BOOTSTRAP_DAYS=14', '# BOOTSTRAP_DAYS=7'), 'BOOTSTRAP_DAYS: .env.example says "7", the config\'s default is "14"'],
    ['a variable the code reads missing', drop('LOG_FORMAT'), 'LOG_FORMAT is read by the code but is not listed'],
    ['a compose variable missing', drop('BIGQUERY_KEY_FILE'), 'BIGQUERY_KEY_FILE is used by a compose file but is not listed'],
    ['a variable nothing reads', (t: string) => `${t}# Meaning of nothing.\n# NOBODY_READS_THIS=1\n`, 'NOBODY_READS_THIS is listed but nothing reads it'],
    ['a duplicate', (t: string) => `${t}# Again.\n# WAREHOUSE=duckdb\n`, 'WAREHOUSE is listed twice'],
    ['a setting without its meaning', (t: string) => t.replace(/^# Temporal frontend, host:port\..*\n/m, ''), 'TEMPORAL_ADDRESS has no line above it saying what it means'],
  ])('%s', (_name, edit, problem) => {
    const edited = edit(exampleText);
    expect(edited).not.toBe(exampleText);
    expect(envExampleProblems(edited, sources)).toContain(problem);
  });
});

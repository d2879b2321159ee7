/**
 * docker-compose.yml (and the BigQuery overlay) as Compose itself reads them: `docker-compose config`
 * must accept them, and the normalised result must be the stack the design names — every image
 * pinned, the schema set up by a one-shot before the server, our search attributes registered, a
 * non-root worker that starts last, credentials only as mounted files, a `metrics` profile — checked
 * by one function that a deliberately broken copy must fail (the negative control).
 * Needs Debian's `docker-compose` (its python3-yaml dependency turns YAML into JSON); .ci/run
 * installs it. No containers are started, no image is pulled or built.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, cpSync, mkdtempSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configEnvironment } from '../../src/config';
import { WORKER_NODE_OPTIONS } from '../../src/node-options';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';

const repoRoot = path.resolve(__dirname, '..', '..');

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string };
  environment?: Record<string, string | null>;
  volumes?: (string | { source?: string; target: string; type?: string; read_only?: boolean })[];
  depends_on?: Record<string, { condition: string }>;
  ports?: unknown[];
  expose?: string[];
  profiles?: string[];
  entrypoint?: string[] | string;
  user?: string;
  healthcheck?: unknown;
  secrets?: (string | { source: string; target?: string })[];
}
interface ComposeConfig {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  secrets?: Record<string, { file?: string; environment?: string }>;
}
interface PrometheusConfig {
  scrape_configs?: { job_name: string; dns_sd_configs?: { names: string[]; port?: number }[]; static_configs?: { targets: string[] }[] }[];
}

/** Path of the `docker-compose` executable, or a clear failure when it is missing. */
function requireDockerCompose(): string {
  const which = spawnSync('sh', ['-c', 'command -v docker-compose'], { encoding: 'utf8' });
  const found = which.stdout.trim();
  const probe = found === '' ? undefined : spawnSync(found, ['version'], { encoding: 'utf8' });
  if (probe === undefined || probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      '`docker-compose` is not available, so docker-compose.yml cannot be validated. ' +
        'Install it with `apt-get update && apt-get install -y docker-compose` (.ci/run does this in CI).',
    );
  }
  return found;
}

/** The Python that runs Debian's docker-compose (its `#!` line) has PyYAML; another python3 on PATH may not. */
function composePython(dockerCompose: string): string {
  const head = Buffer.alloc(200);
  const fd = openSync(dockerCompose, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const firstLine = head.toString('utf8').split('\n')[0] ?? '';
  const shebang = /^#!\s*(\S*python\S*)/.exec(firstLine);
  return shebang?.[1] ?? 'python3';
}

/** YAML text → value, through docker-compose's own PyYAML (no YAML parser among our dependencies). */
function parseYaml<T>(text: string): T {
  const json = execFileSync(
    composePython(requireDockerCompose()),
    ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'],
    { input: text, encoding: 'utf8' },
  );
  return JSON.parse(json) as T;
}

/** An empty env file: a developer's own .env must not change what the tests see. */
const noEnvFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'props-backfill-env-')), 'empty.env');
writeFileSync(noEnvFile, '');

/** `docker-compose -f <files…> config` in `dir`, parsed. Variables come from `env` only (no .env file is read). */
function composeConfig(dir: string, files: string[], env: Record<string, string> = {}): ComposeConfig {
  const args = [...files.flatMap((f) => ['-f', f]), '--project-directory', dir, '--env-file', noEnvFile, 'config'];
  const result = spawnSync(requireDockerCompose(), args, {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), ...env },
  });
  if (result.status !== 0) throw new Error(`docker-compose rejected ${files.join(' + ')}:\n${result.stderr}`);
  return parseYaml<ComposeConfig>(result.stdout);
}

// ------------------------------------------------------------------------------------ the checks

/** Images whose upstream versions have two parts (PostgreSQL 16.15): a major.minor tag is exact for them. */
const TWO_PART_VERSIONS = new Set(['postgres']);

/** Undefined when `image` names one exact release: a digest, or a full version tag (never latest, 16 or 1.32). */
function imagePinProblem(image: string): string | undefined {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return undefined;
  const at = image.lastIndexOf(':');
  const [name, tag] = at > image.lastIndexOf('/') ? [image.slice(0, at), image.slice(at + 1)] : [image, undefined];
  if (tag === undefined) return `${image} has no tag (means latest)`;
  if (/^v?\d+\.\d+\.\d+(?:-[A-Za-z0-9.]+)*$/.test(tag)) return undefined;
  const repo = name.split('/').pop() ?? name;
  if (TWO_PART_VERSIONS.has(repo) && /^\d+\.\d+(?:-[a-z0-9]+)?$/.test(tag)) return undefined;
  return `${image} is not pinned to an exact version`;
}

function envOf(svc: ComposeService | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(svc?.environment ?? {}).map(([k, v]) => [k, v ?? '']));
}

function volumeSources(svc: ComposeService): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  for (const v of svc.volumes ?? []) {
    if (typeof v === 'string') {
      const [source, target] = v.split(':');
      if (target !== undefined) out.set(target, source);
    } else {
      out.set(v.target, v.source);
    }
  }
  return out;
}

function entrypointText(svc: ComposeService): string {
  return Array.isArray(svc.entrypoint) ? svc.entrypoint.join(' ') : (svc.entrypoint ?? '');
}

/** A script a one-shot service runs from a mounted folder, read from the host side of the mount. */
function mountedScript(svc: ComposeService): string | undefined {
  const script = /\/bin\/sh (\/\S+\.sh)/.exec(entrypointText(svc))?.[1];
  if (script === undefined) return undefined;
  for (const [target, source] of volumeSources(svc)) {
    if (source !== undefined && script.startsWith(`${target}/`)) {
      try {
        return readFileSync(path.join(source, script.slice(target.length + 1)), 'utf8');
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

const waitsFor = (svc: ComposeService | undefined, other: string, condition: string): boolean =>
  svc?.depends_on?.[other]?.condition === condition;

/** Names that only ever hold secrets; in a compose file they may name a mounted file, never hold the value. */
const SECRET_NAME = /(API_KEY|TOKEN|SECRET|PASSWORD|PRIVATE_KEY|CREDENTIALS)/;
/** The local stack's own database password, which the Temporal server can only take from its environment. */
const DATABASE_PASSWORDS = new Set(['POSTGRES_PASSWORD', 'POSTGRES_PWD', 'SQL_PASSWORD']);

/** Every way the stack can be wrong, as sentences; empty when it is right. */
function composeProblems(config: ComposeConfig, projectDir: string): string[] {
  const problems: string[] = [];
  const services = config.services;
  const server = services.temporal;
  const schema = services['temporal-schema'];
  const namespace = services['temporal-namespace'];
  const worker = services.worker;

  for (const [name, svc] of Object.entries(services)) {
    if (svc.image === undefined) {
      if (svc.build === undefined) problems.push(`${name} has neither image nor build`);
      continue;
    }
    const pin = imagePinProblem(svc.image);
    if (pin) problems.push(`${name}: ${pin}`);
    if (svc.image.includes('temporalio/auto-setup')) problems.push(`${name} uses the deprecated temporalio/auto-setup image`);
  }

  // PostgreSQL, then the schema (temporal-sql-tool in the admin tools), then the server.
  if (!services.postgresql?.image?.startsWith('postgres:')) problems.push('no postgresql service on the postgres image');
  if (!server?.image?.startsWith('temporalio/server:')) problems.push('the temporal service does not run temporalio/server');
  if (envOf(server).DB !== 'postgres12' || envOf(server).POSTGRES_SEEDS !== 'postgresql') problems.push('the server is not configured for the postgresql service');
  if (!schema?.image?.startsWith('temporalio/admin-tools:')) problems.push('no temporal-schema one-shot on temporalio/admin-tools');
  if (!waitsFor(schema, 'postgresql', 'service_healthy')) problems.push('temporal-schema does not wait for a healthy postgresql');
  if (!waitsFor(server, 'temporal-schema', 'service_completed_successfully')) problems.push('the server does not wait for temporal-schema to complete');
  const setupSchema = schema ? (mountedScript(schema) ?? '') : '';
  for (const needed of ['temporal-sql-tool', ' create', 'setup-schema', 'update-schema', 'temporal_visibility', '/visibility/versioned', '/temporal/versioned']) {
    if (!setupSchema.includes(needed)) problems.push(`temporal-schema's script lacks "${needed.trim()}"`);
  }
  // The admin tools carry the schema the server of the same release expects.
  const version = (svc: ComposeService | undefined): string | undefined => svc?.image?.split(':')[1];
  if (version(server) !== version(schema)) problems.push(`server ${version(server)} and admin tools ${version(schema)} differ`);
  if (server?.healthcheck === undefined) problems.push('the server has no healthcheck for the services after it to wait on');

  // Namespace and search attributes, after the server is healthy.
  if (!waitsFor(namespace, 'temporal', 'service_healthy')) problems.push('temporal-namespace does not wait for a healthy server');
  const listed = envOf(namespace).SEARCH_ATTRIBUTES ?? '';
  const registered = Object.fromEntries(listed.trim().split(/\s+/).filter(Boolean).map((pair) => pair.split('=')));
  if (JSON.stringify(Object.entries(registered).sort()) !== JSON.stringify(Object.entries(CUSTOM_SEARCH_ATTRIBUTES).sort())) {
    problems.push(`registered search attributes ${JSON.stringify(registered)} differ from src/shared/search-attributes.ts`);
  }
  const setupNamespace = namespace ? (mountedScript(namespace) ?? '') : '';
  for (const needed of ['operator namespace create', 'operator search-attribute create', '$SEARCH_ATTRIBUTES']) {
    if (!setupNamespace.includes(needed)) problems.push(`temporal-namespace's script lacks "${needed}"`);
  }

  if (envOf(services['temporal-ui']).TEMPORAL_ADDRESS !== 'temporal:7233') problems.push('the Web UI does not point at the server');

  // The worker: built here, started last, non-root, configured only through our own settings.
  if (worker === undefined) {
    problems.push('no worker service');
  } else {
    if (path.resolve(worker.build?.context ?? '') !== path.resolve(projectDir)) problems.push('the worker is not built from this repository');
    for (const oneShot of ['temporal-schema', 'temporal-namespace']) {
      if (!waitsFor(worker, oneShot, 'service_completed_successfully')) problems.push(`the worker does not wait for ${oneShot} to complete`);
    }
    if (worker.user !== undefined && /^(root|0)(:|$)/.test(worker.user)) problems.push('the worker runs as root');
    const known = new Set(Object.keys(configEnvironment()));
    for (const name of Object.keys(envOf(worker))) if (!known.has(name)) problems.push(`the worker sets ${name}, which no setting reads`);
    if (envOf(worker).TEMPORAL_ADDRESS !== 'temporal:7233') problems.push('the worker does not point at the server');
    if ((worker.ports ?? []).length > 0) problems.push('the worker publishes ports, so it cannot be scaled to several replicas');
  }

  // Secrets: a secret-named variable may only name a file under /run/secrets; key files are Compose secrets.
  for (const [name, svc] of Object.entries(services)) {
    for (const [key, value] of Object.entries(envOf(svc))) {
      if (!SECRET_NAME.test(key) || DATABASE_PASSWORDS.has(key) || value === '') continue;
      if (!value.startsWith('/run/secrets/')) problems.push(`${name} puts ${key} in its environment instead of mounting a file`);
    }
    const credentials = envOf(svc).GOOGLE_APPLICATION_CREDENTIALS;
    if (credentials) {
      const secretName = credentials.slice('/run/secrets/'.length);
      const attached = (svc.secrets ?? []).some((s) => (typeof s === 'string' ? s : (s.target ?? s.source)) === secretName);
      if (!attached || config.secrets?.[secretName]?.file === undefined) problems.push(`${name}'s ${credentials} is not a mounted secret file`);
    }
  }

  // The metrics profile: Prometheus, scraping the worker where it serves metrics.
  const metrics = Object.entries(services).filter(([, svc]) => svc.profiles?.includes('metrics'));
  const prometheus = metrics.find(([, svc]) => svc.image?.startsWith('prom/prometheus:'))?.[1];
  if (prometheus === undefined) {
    problems.push('no Prometheus in a `metrics` profile');
  } else {
    const configFile = volumeSources(prometheus).get('/etc/prometheus/prometheus.yml');
    const scrape = configFile ? parseYaml<PrometheusConfig>(readFileSync(configFile, 'utf8')) : {};
    const port = Number((envOf(worker).METRICS_ADDRESS ?? '').split(':').pop());
    const scrapesWorker = (scrape.scrape_configs ?? []).some(
      (job) =>
        (job.dns_sd_configs ?? []).some((sd) => sd.names.includes('worker') && sd.port === port) ||
        (job.static_configs ?? []).some((sc) => sc.targets.includes(`worker:${port}`)),
    );
    if (!Number.isInteger(port) || port <= 0) problems.push('the worker has no METRICS_ADDRESS to scrape');
    else if (!scrapesWorker) problems.push(`Prometheus does not scrape the worker on port ${port}`);
    if (!worker?.expose?.includes(String(port))) problems.push(`the worker does not expose its metrics port ${port}`);
  }
  // The stack itself starts with a plain `up`: no profile may hide part of it.
  for (const name of ['postgresql', 'temporal-schema', 'temporal', 'temporal-namespace', 'temporal-ui', 'worker']) {
    if (services[name]?.profiles !== undefined) problems.push(`${name} starts only with profile ${services[name]?.profiles?.join(',')}`);
  }
  return problems;
}

/** The Dockerfile: multi-stage, pinned, dev dependencies only in the build stage, bundle prebuilt, non-root. */
function dockerfileProblems(text: string): string[] {
  const problems: string[] = [];
  const stages = text.split(/^(?=FROM\s)/m).filter((s) => s.startsWith('FROM'));
  if (stages.length < 2) problems.push('not a multi-stage build');
  for (const stage of stages) {
    const image = /^FROM\s+(\S+)/.exec(stage)?.[1] ?? '';
    const pin = imagePinProblem(image);
    if (pin) problems.push(`FROM ${pin}`);
  }
  const build = stages.slice(0, -1).join('\n');
  const runtime = stages[stages.length - 1] ?? '';
  if (!/npm run build/.test(build)) problems.push('the build stage does not compile');
  if (!/node dist\/src\/workflow-bundle\.js/.test(build)) problems.push('the build stage does not prebuild the workflow bundle');
  const installs = [...runtime.matchAll(/npm (?:ci|install)\b[^\n]*/g)].map((m) => m[0]);
  if (installs.length === 0 || installs.some((cmd) => !cmd.includes('--omit=dev'))) problems.push('the runtime stage installs dev dependencies');
  if (/COPY --from=\S+ \S*node_modules/.test(runtime)) problems.push('the runtime stage copies node_modules from the build stage');
  if (!/COPY --from=\S+ \/app\/dist\/src/.test(runtime)) problems.push('the runtime stage does not copy the compiled code (and bundle)');
  const users = [...runtime.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
  if (users.length === 0 || /^(root|0)(:|$)/.test(users[users.length - 1] ?? '')) problems.push('the image runs as root');
  if (!/^CMD \["node", ?"dist\/src\/worker\.js"\]/m.test(runtime)) problems.push('the image does not run the compiled worker');
  if (!runtime.includes(`ENV NODE_OPTIONS="${WORKER_NODE_OPTIONS}"`)) problems.push(`the runtime stage does not set NODE_OPTIONS to WORKER_NODE_OPTIONS (${WORKER_NODE_OPTIONS})`);
  return problems;
}

// --------------------------------------------------------------------------------------- the tests

describe('docker-compose.yml', () => {
  let config: ComposeConfig;
  beforeAll(() => {
    config = composeConfig(repoRoot, ['docker-compose.yml']);
  });

  it('is the stack the design names, with no problem found', () => {
    expect(Object.keys(config.services).sort()).toEqual(
      ['postgresql', 'prometheus', 'temporal', 'temporal-cli', 'temporal-namespace', 'temporal-schema', 'temporal-ui', 'worker'].sort(),
    );
    expect(composeProblems(config, repoRoot)).toEqual([]);
  });

  it('registers exactly the search attributes the code defines', () => {
    const listed = envOf(config.services['temporal-namespace']).SEARCH_ATTRIBUTES ?? '';
    expect(Object.fromEntries(listed.trim().split(/\s+/).map((pair) => pair.split('=')))).toEqual(CUSTOM_SEARCH_ATTRIBUTES);
  });

  it('gives DuckDB a volume and runs the one-shot scripts from a read-only mount', () => {
    const worker = config.services.worker as ComposeService;
    expect(envOf(worker)).toMatchObject({ WAREHOUSE: 'duckdb', DUCKDB_PATH: '/data/warehouse.duckdb' });
    expect(Object.keys(config.volumes ?? {})).toContain(volumeSources(worker).get('/data'));
    for (const oneShot of ['temporal-schema', 'temporal-namespace']) {
      const mounts = (config.services[oneShot]?.volumes ?? []).filter((v): v is string => typeof v === 'string');
      expect(mounts).toEqual([`${path.join(repoRoot, 'deploy', 'temporal')}:/deploy:ro`]);
    }
  });

  it('has one-shot scripts a POSIX shell accepts', () => {
    for (const script of ['setup-schema.sh', 'setup-namespace.sh']) {
      const check = spawnSync('sh', ['-n', path.join(repoRoot, 'deploy', 'temporal', script)], { encoding: 'utf8' });
      expect({ script, status: check.status, stderr: check.stderr }).toEqual({ script, status: 0, stderr: '' });
    }
  });
});

describe('docker-compose.bigquery.yml', () => {
  const env = { BIGQUERY_PROJECT: 'my-project', BIGQUERY_KEY_FILE: '/srv/keys/backfill-sa.json' };

  it('switches the worker to BigQuery with the key as a mounted secret file, and passes every check', () => {
    const config = composeConfig(repoRoot, ['docker-compose.yml', 'docker-compose.bigquery.yml'], env);
    expect(composeProblems(config, repoRoot)).toEqual([]);
    const worker = config.services.worker as ComposeService;
    expect(envOf(worker)).toMatchObject({ WAREHOUSE: 'bigquery', BIGQUERY_PROJECT: 'my-project', GOOGLE_APPLICATION_CREDENTIALS: '/run/secrets/bigquery-key' });
    expect(config.secrets?.['bigquery-key']).toEqual({ file: env.BIGQUERY_KEY_FILE });
    expect(JSON.stringify(worker.environment)).not.toContain(env.BIGQUERY_KEY_FILE);
  });

  it('refuses to start without the project or the key file, naming the variable', () => {
    for (const missing of ['BIGQUERY_PROJECT', 'BIGQUERY_KEY_FILE'] as const) {
      const rest = Object.fromEntries(Object.entries(env).filter(([k]) => k !== missing));
      expect(() => composeConfig(repoRoot, ['docker-compose.yml', 'docker-compose.bigquery.yml'], rest)).toThrow(new RegExp(`set ${missing}`));
    }
  });
});

describe('the checks reject a deliberately broken stack (negative control)', () => {
  const original = readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8');

  /** A copy of the repository's compose file and deploy/ in a temp folder, with `edit` applied. */
  function brokenCopy(edit: (text: string) => string): { config: ComposeConfig; dir: string } {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'props-backfill-compose-'));
    cpSync(path.join(repoRoot, 'deploy'), path.join(dir, 'deploy'), { recursive: true });
    const text = edit(original);
    expect(text).not.toBe(original);
    writeFileSync(path.join(dir, 'docker-compose.yml'), text);
    return { config: composeConfig(dir, ['docker-compose.yml']), dir };
  }

  const swap = (from: string | RegExp, to: string) => (text: string) => text.replace(from, to);
  const METRICS_LINE = '      METRICS_ADDRESS: 0.0.0.0:9464\n';

  test.each([
    ['a floating server tag', swap(/temporalio\/server:[\d.]+/, 'temporalio/server:latest'), /temporal: temporalio\/server:latest is not pinned/],
    ['a major-only postgres tag', swap(/postgres:[\d.]+/, 'postgres:16'), /postgresql: postgres:16 is not pinned/],
    ['an untagged image', swap(/temporalio\/ui:[\d.]+/, 'temporalio/ui'), /temporal-ui: temporalio\/ui has no tag/],
    ['the deprecated auto-setup image', swap('temporalio/server:', 'temporalio/auto-setup:'), /deprecated temporalio\/auto-setup/],
    [
      'a server that does not wait for the schema',
      swap(
        '      temporal-schema:\n        condition: service_completed_successfully\n    environment:\n      <<: *temporal-database\n      BIND_ON_IP',
        '    environment:\n      <<: *temporal-database\n      BIND_ON_IP',
      ),
      /the server does not wait for temporal-schema/,
    ],
    [
      'a worker that does not wait for the namespace',
      swap(
        '      temporal-namespace:\n        condition: service_completed_successfully\n    environment:\n      TEMPORAL_ADDRESS: temporal:7233\n      TEMPORAL_NAMESPACE: default\n      WAREHOUSE: duckdb',
        '    environment:\n      TEMPORAL_ADDRESS: temporal:7233\n      TEMPORAL_NAMESPACE: default\n      WAREHOUSE: duckdb',
      ),
      /the worker does not wait for temporal-namespace/,
    ],
    ['a worker running as root', swap('  worker:\n', '  worker:\n    user: root\n'), /the worker runs as root/],
    ['an API key in the environment', swap(METRICS_LINE, `${METRICS_LINE}      TEMPORAL_API_KEY: not-a-real-key\n`), /worker puts TEMPORAL_API_KEY in its environment/],
    ['credentials as a plain path', swap(METRICS_LINE, `${METRICS_LINE}      GOOGLE_APPLICATION_CREDENTIALS: /data/key.json\n`), /worker puts GOOGLE_APPLICATION_CREDENTIALS in its environment/],
    ['a missing search attribute', swap('\n        BackfillStatus=Keyword', ''), /registered search attributes .* differ/],
    ['Prometheus outside the metrics profile', swap('    profiles: [metrics]\n', ''), /no Prometheus in a `metrics` profile/],
    ['a published worker port', swap('    expose:\n      - "9464"\n', '    expose:\n      - "9464"\n    ports:\n      - "9464:9464"\n'), /cannot be scaled/],
    ['a variable no setting reads', swap(METRICS_LINE, `${METRICS_LINE}      WAREHOUSE_MAX_INFLIGHT: "8"\n`), /the worker sets WAREHOUSE_MAX_INFLIGHT, which no setting reads/],
  ])('%s', (_name, edit, expected) => {
    const { config, dir } = brokenCopy(edit);
    const problems = composeProblems(config, dir);
    expect(problems.some((p) => expected.test(p))).toBe(true);
  });

  it('image pins: exact releases pass, floating tags fail', () => {
    for (const ok of ['temporalio/server:1.32.1', 'postgres:16.15', 'postgres:16.15-bookworm', 'prom/prometheus:v3.14.0', 'node:24.21.0-bookworm-slim', `busybox@sha256:${'a'.repeat(64)}`]) {
      expect([ok, imagePinProblem(ok)]).toEqual([ok, undefined]);
    }
    for (const bad of ['temporalio/server:1.32', 'postgres:16', 'postgres:latest', 'node:24-bookworm', 'prom/prometheus', 'localhost:5000/worker', 'temporalio/ui:2']) {
      expect([bad, imagePinProblem(bad)]).toEqual([bad, expect.any(String)]);
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');

  it('builds in one stage and runs, non-root and without dev dependencies, in another', () => {
    expect(dockerfileProblems(dockerfile)).toEqual([]);
  });

  it('keeps secrets and local state out of the build context', () => {
    const ignored = readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8').split('\n');
    for (const pattern of ['.env', 'deploy/secrets', '*.pem', '*.key', 'node_modules', '.data']) expect(ignored).toContain(pattern);
  });

  test.each([
    ['a single stage', (t: string) => t.replace(/^FROM node:\S+ AS build\n[\s\S]*?(?=^FROM )/m, ''), /not a multi-stage build/],
    ['a floating base image', (t: string) => t.replace(/FROM node:[\d.]+-bookworm-slim/, 'FROM node:24-bookworm-slim'), /FROM node:24-bookworm-slim is not pinned/],
    ['dev dependencies at run time', (t: string) => t.replace(/npm ci --omit=dev/, 'npm ci'), /installs dev dependencies/],
    ['root at run time', (t: string) => t.replace(/^USER node$/m, 'USER root'), /runs as root/],
    ['no prebuilt bundle', (t: string) => t.replace(/ && node dist\/src\/workflow-bundle\.js/, ''), /does not prebuild the workflow bundle/],
    ['other heap limits than the worker\'s', (t: string) => t.replace(/--max-old-space-size=\d+/, '--max-old-space-size=4096'), /does not set NODE_OPTIONS to WORKER_NODE_OPTIONS/],
  ])('rejects %s (negative control)', (_name, edit, expected) => {
    const broken = edit(dockerfile);
    expect(broken).not.toBe(dockerfile);
    expect(dockerfileProblems(broken).some((p) => expected.test(p))).toBe(true);
  });
});

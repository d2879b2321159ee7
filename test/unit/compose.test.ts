/**
 * docker-compose.yml as Compose itself reads it: `docker-compose config` must accept it, and the
 * normalised result must hold the services the design names, wired the way the worker expects.
 * Needs Debian's `docker-compose` (its python3-yaml dependency turns the normalised YAML into JSON);
 * .ci/run installs it. No containers are started.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import path from 'node:path';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';

const repoRoot = path.resolve(__dirname, '..', '..');

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string };
  environment?: Record<string, string | null>;
  volumes?: string[] | { source?: string; target: string; type?: string }[];
  depends_on?: Record<string, { condition: string }>;
  ports?: unknown[];
}
interface ComposeConfig {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
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

function composeConfig(): ComposeConfig {
  const dockerCompose = requireDockerCompose();
  const result = spawnSync(dockerCompose, ['-f', 'docker-compose.yml', 'config'], { cwd: repoRoot, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`docker-compose rejected docker-compose.yml:\n${result.stderr}`);
  }
  // No YAML parser among our dependencies; Debian's docker-compose brings python3 with PyYAML.
  const json = execFileSync(
    composePython(dockerCompose),
    ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'],
    { input: result.stdout, encoding: 'utf8' },
  );
  return JSON.parse(json) as ComposeConfig;
}

function service(config: ComposeConfig, name: string): ComposeService {
  const found = config.services[name];
  if (found === undefined) throw new Error(`docker-compose.yml has no "${name}" service`);
  return found;
}

function volumeTargets(svc: ComposeService): Map<string, string | undefined> {
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

describe('docker-compose.yml', () => {
  let config: ComposeConfig;
  beforeAll(() => {
    config = composeConfig();
  });

  it('has the Temporal stack and the worker', () => {
    expect(Object.keys(config.services).sort()).toEqual(
      ['postgresql', 'temporal', 'temporal-admin-tools', 'temporal-search-attributes', 'temporal-ui', 'worker'].sort(),
    );
  });

  it('runs Temporal on PostgreSQL', () => {
    const temporal = service(config, 'temporal');
    expect(temporal.image).toMatch(/^temporalio\/auto-setup:/);
    expect(temporal.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
    expect(temporal.depends_on?.postgresql?.condition).toBe('service_healthy');
    expect(service(config, 'postgresql').image).toMatch(/^postgres:/);
  });

  it('points the Web UI and the admin tools at the server', () => {
    expect(service(config, 'temporal-ui').image).toMatch(/^temporalio\/ui:/);
    expect(service(config, 'temporal-ui').environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(service(config, 'temporal-admin-tools').image).toMatch(/^temporalio\/admin-tools:/);
    expect(service(config, 'temporal-admin-tools').environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
  });

  it('registers exactly the search attributes the code defines', () => {
    const listed = service(config, 'temporal-search-attributes').environment?.SEARCH_ATTRIBUTES ?? '';
    const registered = Object.fromEntries(listed.trim().split(/\s+/).map((pair) => pair.split('=')));
    expect(registered).toEqual(CUSTOM_SEARCH_ATTRIBUTES);
  });

  it('builds the worker from this repository and gives DuckDB a volume', () => {
    const worker = service(config, 'worker');
    expect(worker.build?.context).toBe(repoRoot);
    expect(worker.environment).toMatchObject({
      TEMPORAL_ADDRESS: 'temporal:7233',
      WAREHOUSE: 'duckdb',
      DUCKDB_PATH: '/data/warehouse.duckdb',
    });
    const dataVolume = volumeTargets(worker).get('/data');
    expect(dataVolume).toBeDefined();
    expect(Object.keys(config.volumes ?? {})).toContain(dataVolume);
    // The worker starts only once the search attributes it upserts exist.
    expect(worker.depends_on?.['temporal-search-attributes']?.condition).toBe('service_completed_successfully');
  });

  it('has a Dockerfile whose image runs the compiled worker', () => {
    const dockerfile = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20/m);
    expect(dockerfile).toMatch(/npm ci/);
    expect(dockerfile).toMatch(/npm run build/);
    expect(dockerfile).toMatch(/^CMD \["node", ?"dist\/src\/worker\.js"\]/m);
  });
});

import { join } from 'node:path';
import { currentDockerContext } from './docker-context.js';
import type { HostFs } from './host-fs.js';
import type { EndpointSource, Provider, TlsMaterial } from './types.js';

/** What a strategy reads about the host; all of it injected so tests never touch the real host. */
export interface StrategyContext {
  /** The --host flag. */
  hostFlag: string | undefined;
  env: Record<string, string | undefined>;
  uid: number;
  home: string;
  fs: HostFs;
  /** From KUR_PROVIDER: strategies that only make sense for the other provider stand aside. */
  provider: Provider | undefined;
}

/** One place an engine may listen. */
export interface Candidate {
  source: EndpointSource;
  /** Names the place in messages: `DOCKER_HOST`, `docker context "colima" (config.json)`, a socket path. */
  description: string;
  address: string;
  /** The user named this endpoint: it is used or it fails, never skipped for another. */
  named: boolean;
  tls?: TlsMaterial;
  /** A named place that cannot be used as it stands (a context with no endpoint); the reason. */
  broken?: string;
}

/** A strategy either offers candidates or says why it has none (logged at debug). */
export type StrategyOutcome = { candidates: Candidate[] } | { skipped: string };

export interface Strategy {
  name: string;
  find(ctx: StrategyContext): Promise<StrategyOutcome>;
}

const none = (skipped: string): StrategyOutcome => ({ skipped });

function envValue(ctx: StrategyContext, name: string): string | undefined {
  const value = ctx.env[name];
  return value !== undefined && value.trim() !== '' ? value.trim() : undefined;
}

const hostFlag: Strategy = {
  name: '--host',
  find: (ctx) =>
    Promise.resolve(
      ctx.hostFlag !== undefined && ctx.hostFlag !== ''
        ? { candidates: [{ source: '--host', description: '--host', address: ctx.hostFlag, named: true }] }
        : none('not given'),
    ),
};

function envStrategy(
  name: 'KUR_HOST' | 'DOCKER_HOST' | 'CONTAINER_HOST',
  otherProvider?: Provider,
  tls?: (ctx: StrategyContext) => Promise<TlsMaterial | undefined>,
): Strategy {
  return {
    name,
    async find(ctx) {
      const address = envValue(ctx, name);
      if (address === undefined) return none('not set');
      // CONTAINER_HOST is Podman's variable: with KUR_PROVIDER=docker it is not meant for kur.
      if (otherProvider !== undefined && ctx.provider === otherProvider) {
        return none(`set, but KUR_PROVIDER=${ctx.provider}`);
      }
      const material = tls === undefined ? undefined : await tls(ctx);
      return { candidates: [{ source: name, description: name, address, named: true, tls: material }] };
    },
  };
}

/** DOCKER_TLS_VERIFY turns on TLS with the certificates in DOCKER_CERT_PATH (default ~/.docker). */
async function dockerEnvTls(ctx: StrategyContext): Promise<TlsMaterial | undefined> {
  if (envValue(ctx, 'DOCKER_TLS_VERIFY') === undefined) return undefined;
  const dir = envValue(ctx, 'DOCKER_CERT_PATH') ?? join(ctx.home, '.docker');
  const [ca, cert, key] = await Promise.all(
    ['ca.pem', 'cert.pem', 'key.pem'].map((file) => ctx.fs.readFile(join(dir, file))),
  );
  return { ca, cert, key };
}

const dockerContext: Strategy = {
  name: 'docker context',
  async find(ctx) {
    // A docker context configures the docker CLI; with KUR_PROVIDER=podman it is not meant for kur.
    if (ctx.provider === 'podman') return none('ignored: KUR_PROVIDER=podman');
    let context;
    try {
      context = await currentDockerContext(ctx.env, ctx.home, ctx.fs);
    } catch (error) {
      // A broken context the user selected is theirs to fix, not a reason to pick another engine.
      const broken = (error as Error).message;
      return {
        candidates: [
          { source: 'docker-context', description: 'docker context', address: '', named: true, broken },
        ],
      };
    }
    if (context === undefined) return none('none selected (default context)');
    const description = `docker context "${context.name}" (${context.selectedBy})`;
    if (context.host === undefined) {
      const broken = 'the context has no docker endpoint';
      return { candidates: [{ source: 'docker-context', description, address: '', named: true, broken }] };
    }
    return {
      candidates: [
        { source: 'docker-context', description, address: context.host, named: true, tls: context.tls },
      ],
    };
  },
};

function socketStrategy(
  name: string,
  source: EndpointSource,
  paths: (ctx: StrategyContext) => (string | undefined)[],
): Strategy {
  return {
    name,
    find(ctx) {
      const seen = new Set<string>();
      const candidates: Candidate[] = [];
      for (const path of paths(ctx)) {
        if (path === undefined || seen.has(path)) continue;
        seen.add(path);
        candidates.push({ source, description: path, address: `unix://${path}`, named: false });
      }
      return Promise.resolve({ candidates });
    },
  };
}

const runtimeDir = (ctx: StrategyContext): string | undefined => envValue(ctx, 'XDG_RUNTIME_DIR');

/** The strategies, in the order kur tries them. */
export const strategies: readonly Strategy[] = [
  hostFlag,
  envStrategy('KUR_HOST'),
  envStrategy('DOCKER_HOST', undefined, dockerEnvTls),
  envStrategy('CONTAINER_HOST', 'docker'),
  dockerContext,
  socketStrategy('rootful Docker socket', 'rootful-docker-socket', () => ['/var/run/docker.sock']),
  socketStrategy('rootless Docker sockets', 'rootless-docker-socket', (ctx) => {
    const xdg = runtimeDir(ctx);
    return [
      xdg === undefined ? undefined : join(xdg, 'docker.sock'),
      `/run/user/${ctx.uid}/docker.sock`,
      join(ctx.home, '.docker', 'run', 'docker.sock'),
      join(ctx.home, '.docker', 'desktop', 'docker.sock'),
    ];
  }),
  socketStrategy('Podman sockets', 'podman-socket', (ctx) => {
    const xdg = runtimeDir(ctx);
    return [
      xdg === undefined ? undefined : join(xdg, 'podman', 'podman.sock'),
      `/run/user/${ctx.uid}/podman/podman.sock`,
      '/run/podman/podman.sock',
    ];
  }),
];

import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { resolveEndpoint, type ResolveOptions } from './endpoint.js';
import type { HostFs } from './host-fs.js';
import type { Connection, ProbeResult, Provider } from './types.js';
import type { Logger } from '../util/logger.js';
import { kurFailure } from '../../e2e/support/assert.js';

/** A described host: files, sockets, and which addresses answer as which engine. */
interface FakeHost {
  files?: Record<string, string>;
  sockets?: string[];
  /** address (unix:///path or tcp://host:port) -> provider, or an error message. */
  engines?: Record<string, Provider | { error: string }>;
}

function fakeFs(host: FakeHost): HostFs {
  return {
    readFile: (path) =>
      Promise.resolve(host.files?.[path] === undefined ? undefined : Buffer.from(host.files[path])),
    kind: (path) =>
      Promise.resolve(
        host.sockets?.includes(path) ? 'socket' : host.files?.[path] !== undefined ? 'other' : undefined,
      ),
  };
}

function addressOf(connection: Connection): string {
  return connection.kind === 'unix'
    ? `unix://${connection.socketPath}`
    : `tcp://${connection.host}:${connection.port}`;
}

function setup(host: FakeHost, options: Partial<ResolveOptions> = {}) {
  const probed: string[] = [];
  const debug: string[] = [];
  const logger: Logger = {
    level: 'debug',
    debug: (m) => debug.push(m),
    info: () => undefined,
    warn: () => undefined,
  };
  const probe = (connection: Connection): Promise<ProbeResult> => {
    const address = addressOf(connection);
    probed.push(address);
    const engine = host.engines?.[address];
    if (engine === undefined) return Promise.reject(new Error('connection refused: nothing listens there'));
    if (typeof engine === 'object') return Promise.reject(new Error(engine.error));
    return Promise.resolve({
      provider: engine,
      version: engine === 'docker' ? '20.10.24' : '4.3.1',
      apiVersion: '1.41',
      versionPayload: {},
    });
  };
  const resolve = () =>
    resolveEndpoint({ env: {}, uid: 1000, home: '/home/u', fs: fakeFs(host), probe, logger, ...options });
  return { resolve, probed, debug };
}

const rootful = '/var/run/docker.sock';
const rootless = '/run/user/1000/docker.sock';
const podman = '/run/user/1000/podman/podman.sock';

describe('endpoint resolution', () => {
  it('tries the sockets in order and takes the first that answers', async () => {
    const { resolve, probed } = setup({
      sockets: [rootful, rootless, podman],
      engines: { [`unix://${rootless}`]: 'docker', [`unix://${podman}`]: 'podman' },
    });
    const endpoint = await resolve();
    expect(endpoint).to.include({
      source: 'rootless-docker-socket',
      address: `unix://${rootless}`,
      provider: 'docker',
    });
    expect(probed).to.deep.equal([`unix://${rootful}`, `unix://${rootless}`]);
  });

  it('walks the whole documented order, skipping missing sockets without probing them', async () => {
    const { resolve, probed, debug } = setup(
      { sockets: ['/run/podman/podman.sock'], engines: { 'unix:///run/podman/podman.sock': 'podman' } },
      {
        env: { XDG_RUNTIME_DIR: '/xdg' },
      },
    );
    const endpoint = await resolve();
    expect(endpoint.source).to.equal('podman-socket');
    expect(probed).to.deep.equal(['unix:///run/podman/podman.sock']);
    const places = debug.map((line) => line.replace(/^engine endpoint: /, '').replace(/: .*$/, ''));
    expect(places).to.deep.equal([
      '--host',
      'KUR_HOST',
      'DOCKER_HOST',
      'CONTAINER_HOST',
      'docker context',
      '/var/run/docker.sock',
      '/xdg/docker.sock',
      '/run/user/1000/docker.sock',
      '/home/u/.docker/run/docker.sock',
      '/home/u/.docker/desktop/docker.sock',
      '/xdg/podman/podman.sock',
      '/run/user/1000/podman/podman.sock',
      '/run/podman/podman.sock',
    ]);
  });

  it('lists a socket once when XDG_RUNTIME_DIR is /run/user/<uid>', async () => {
    const { resolve } = setup({}, { env: { XDG_RUNTIME_DIR: '/run/user/1000' } });
    const error = await kurFailure(resolve());
    expect(
      error.detail!.split('\n').filter((l) => l.startsWith('/run/user/1000/docker.sock:')),
    ).to.have.length(1);
  });

  it('prefers --host, then KUR_HOST, DOCKER_HOST, CONTAINER_HOST', async () => {
    const engines = {
      'unix:///flag.sock': 'docker',
      'unix:///kur.sock': 'docker',
      'unix:///docker.sock': 'docker',
      'unix:///container.sock': 'podman',
    } as const;
    const env = {
      KUR_HOST: 'unix:///kur.sock',
      DOCKER_HOST: 'unix:///docker.sock',
      CONTAINER_HOST: 'unix:///container.sock',
    };
    expect((await setup({ engines }, { host: 'unix:///flag.sock', env }).resolve()).source).to.equal(
      '--host',
    );
    expect((await setup({ engines }, { env }).resolve()).source).to.equal('KUR_HOST');
    const { KUR_HOST: _k, ...noKur } = env;
    expect((await setup({ engines }, { env: noKur }).resolve()).source).to.equal('DOCKER_HOST');
    expect(
      (await setup({ engines }, { env: { CONTAINER_HOST: env.CONTAINER_HOST } }).resolve()).source,
    ).to.equal('CONTAINER_HOST');
  });

  it('never falls through from a named endpoint that does not answer', async () => {
    const { resolve, probed } = setup(
      { sockets: [rootful], engines: { [`unix://${rootful}`]: 'docker' } },
      { env: { DOCKER_HOST: 'tcp://10.0.0.9:2375' } },
    );
    const error = await kurFailure(resolve());
    expect(error.kind).to.equal('engine');
    expect(error.message).to.contain('DOCKER_HOST (tcp://10.0.0.9:2375)');
    expect(error.detail).to.contain('connection refused');
    expect(error.hint).to.contain('does not fall back');
    expect(probed).to.deep.equal(['tcp://10.0.0.9:2375']);
  });

  it('names the --host value when it cannot be used', async () => {
    const error = await kurFailure(setup({}, { host: 'ssh://me@box' }).resolve());
    expect(error.message).to.contain('--host (ssh://me@box)');
    expect(error.detail).to.contain('ssh:// endpoints are not supported');
    expect(error.hint).to.contain('-L /tmp/engine.sock');
  });

  describe('docker contexts', () => {
    const contextFiles = (name: string, host: string): Record<string, string> => {
      const id = createHash('sha256').update(name).digest('hex');
      return {
        [`/home/u/.docker/contexts/meta/${id}/meta.json`]: JSON.stringify({
          Name: name,
          Endpoints: { docker: { Host: host, SkipTLSVerify: false } },
        }),
      };
    };

    it('uses the context named in config.json', async () => {
      const { resolve } = setup({
        files: {
          '/home/u/.docker/config.json': JSON.stringify({ currentContext: 'rootless' }),
          ...contextFiles('rootless', `unix://${rootless}`),
        },
        sockets: [rootful, rootless],
        engines: { [`unix://${rootful}`]: 'docker', [`unix://${rootless}`]: 'docker' },
      });
      const endpoint = await resolve();
      expect(endpoint).to.include({ source: 'docker-context', address: `unix://${rootless}` });
      expect(endpoint.sourceDescription).to.equal('docker context "rootless" (config.json)');
    });

    it('lets DOCKER_CONTEXT override config.json and reads DOCKER_CONFIG', async () => {
      const id = createHash('sha256').update('other').digest('hex');
      const { resolve } = setup(
        {
          files: {
            '/cfg/config.json': JSON.stringify({ currentContext: 'rootless' }),
            [`/cfg/contexts/meta/${id}/meta.json`]: JSON.stringify({
              Endpoints: { docker: { Host: 'unix:///other.sock' } },
            }),
          },
          engines: { 'unix:///other.sock': 'docker' },
        },
        { env: { DOCKER_CONFIG: '/cfg', DOCKER_CONTEXT: 'other' } },
      );
      expect((await resolve()).address).to.equal('unix:///other.sock');
    });

    it('treats the default context as not naming anything', async () => {
      const { resolve } = setup({
        files: { '/home/u/.docker/config.json': JSON.stringify({ currentContext: 'default' }) },
        sockets: [rootful],
        engines: { [`unix://${rootful}`]: 'docker' },
      });
      expect((await resolve()).source).to.equal('rootful-docker-socket');
    });

    it('fails on a selected context that does not exist, without trying sockets', async () => {
      const { resolve, probed } = setup(
        { sockets: [rootful], engines: { [`unix://${rootful}`]: 'docker' } },
        { env: { DOCKER_CONTEXT: 'gone' } },
      );
      const error = await kurFailure(resolve());
      expect(error.message).to.contain('docker context');
      expect(error.detail).to.contain('docker context "gone" (from DOCKER_CONTEXT) does not exist');
      expect(probed).to.deep.equal([]);
    });

    it('is ignored with KUR_PROVIDER=podman', async () => {
      const { resolve } = setup(
        {
          files: { '/home/u/.docker/config.json': JSON.stringify({ currentContext: 'gone' }) },
          sockets: [podman],
          engines: { [`unix://${podman}`]: 'podman' },
        },
        { env: { KUR_PROVIDER: 'podman' } },
      );
      expect((await resolve()).source).to.equal('podman-socket');
    });
  });

  describe('KUR_PROVIDER', () => {
    it('passes over sockets of the other provider', async () => {
      const { resolve, debug } = setup(
        {
          sockets: [rootful, podman],
          engines: { [`unix://${rootful}`]: 'docker', [`unix://${podman}`]: 'podman' },
        },
        { env: { KUR_PROVIDER: 'podman' } },
      );
      expect((await resolve()).provider).to.equal('podman');
      expect(debug.join('\n')).to.contain(
        '/var/run/docker.sock: Docker 20.10.24, passed over: KUR_PROVIDER=podman',
      );
    });

    it('rejects a named endpoint of the other provider instead of looking elsewhere', async () => {
      const { resolve } = setup(
        { sockets: [podman], engines: { 'unix:///d.sock': 'docker', [`unix://${podman}`]: 'podman' } },
        { env: { KUR_PROVIDER: 'podman', DOCKER_HOST: 'unix:///d.sock' } },
      );
      const error = await kurFailure(resolve());
      expect(error.message).to.equal(
        'DOCKER_HOST (unix:///d.sock) is Docker 20.10.24, but KUR_PROVIDER=podman',
      );
    });

    it('ignores CONTAINER_HOST with KUR_PROVIDER=docker', async () => {
      const { resolve } = setup(
        { sockets: [rootful], engines: { [`unix://${rootful}`]: 'docker' } },
        { env: { KUR_PROVIDER: 'docker', CONTAINER_HOST: 'unix:///nowhere.sock' } },
      );
      expect((await resolve()).source).to.equal('rootful-docker-socket');
    });

    it('refuses values other than docker and podman', async () => {
      const error = await kurFailure(setup({}, { env: { KUR_PROVIDER: 'containerd' } }).resolve());
      expect(error.kind).to.equal('usage');
    });
  });

  it('lists every place tried, what each said, and how to start an engine', async () => {
    const { resolve } = setup({
      sockets: [rootful, podman],
      files: { '/home/u/.docker/run/docker.sock': 'not a socket' },
      engines: { [`unix://${rootful}`]: { error: 'permission denied (this user may not use that socket)' } },
    });
    const error = await kurFailure(resolve());
    expect(error.kind).to.equal('engine');
    expect(error.exitCode).to.equal(4);
    expect(error.message).to.contain('no container engine answered');
    const detail = error.detail!.split('\n');
    expect(detail).to.include('/var/run/docker.sock: permission denied (this user may not use that socket)');
    expect(detail).to.include('/run/user/1000/docker.sock: no socket there');
    expect(detail).to.include('/home/u/.docker/run/docker.sock: exists but is not a socket');
    expect(detail).to.include('/run/user/1000/podman/podman.sock: connection refused: nothing listens there');
    expect(detail).to.include('DOCKER_HOST: not set');
    expect(detail).to.have.length(11);
    expect(error.hint).to.contain('systemctl --user start podman.socket');
  });

  it('reads TLS material for DOCKER_HOST from DOCKER_CERT_PATH when DOCKER_TLS_VERIFY is set', async () => {
    let seen: Connection | undefined;
    await resolveEndpoint({
      env: { DOCKER_HOST: 'tcp://box:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/certs' },
      uid: 1000,
      home: '/home/u',
      fs: fakeFs({ files: { '/certs/ca.pem': 'CA', '/certs/cert.pem': 'CERT', '/certs/key.pem': 'KEY' } }),
      probe: (connection) => {
        seen = connection;
        return Promise.resolve({
          provider: 'docker',
          version: '27.0',
          apiVersion: '1.46',
          versionPayload: {},
        });
      },
      logger: { level: 'quiet', debug: () => undefined, info: () => undefined, warn: () => undefined },
    });
    expect(seen?.kind).to.equal('tcp');
    if (seen?.kind !== 'tcp') return;
    expect(seen.port).to.equal(2376);
    expect(seen.tls?.ca?.toString()).to.equal('CA');
    expect(seen.tls?.key?.toString()).to.equal('KEY');
  });
});

import { expect } from 'chai';
import dgram from 'node:dgram';
import net from 'node:net';
import type { HostState } from './host-state.js';
import { checkHostPorts, tryBind } from './ports.js';
import type { PreflightEngine } from './result.js';
import { loadFixture, stateOf } from './testdata/fixture.js';

const fixture = loadFixture('ubuntu2404-cgroupv2-delegated.json');
const state: HostState = stateOf(fixture, 'rootless-docker');
const engine: PreflightEngine = {
  provider: 'docker',
  rootless: true,
  cgroupVersion: 2,
  cgroupDriver: 'systemd',
  limits: { memory: true, pids: true, cpu: true },
  kernel: state.kernelRelease,
};

function listenTcp(): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve(server));
  });
}

function bindUdp(): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind({ address: '127.0.0.1', port: 0 }, () => resolve(socket));
  });
}

const portOf = (address: net.AddressInfo | string | null): number => (address as net.AddressInfo).port;

describe('host ports check (real binds on 127.0.0.1)', () => {
  it('finds a TCP port this test holds, and says how to see the holder', async () => {
    const server = await listenTcp();
    const port = portOf(server.address());
    try {
      const result = await checkHostPorts(state, engine, [{ address: '127.0.0.1', port, protocol: 'tcp' }]);
      expect(result.status).to.equal('fail');
      expect(result.looked).to.equal(`bind 127.0.0.1:${port}/tcp in use`);
      expect(result.fix).to.contain(`ss -tlnp 'sport = :${port}'`);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    // Released: the same port is free again.
    expect(await tryBind({ address: '127.0.0.1', port, protocol: 'tcp' })).to.equal('free');
  });

  it('finds a UDP port this test holds', async () => {
    const socket = await bindUdp();
    const port = portOf(socket.address());
    try {
      expect(await tryBind({ address: '127.0.0.1', port, protocol: 'udp' })).to.equal('in-use');
    } finally {
      socket.close();
    }
  });

  it('reports free ports ok, and ignores port 0 (the engine picks one)', async () => {
    const server = await listenTcp();
    const port = portOf(server.address());
    await new Promise((resolve) => server.close(resolve));
    const result = await checkHostPorts(state, engine, [
      { address: '127.0.0.1', port, protocol: 'tcp' },
      { address: '127.0.0.1', port: 0, protocol: 'tcp' },
    ]);
    expect(result.status).to.equal('ok');
    expect(result.message).to.equal('1 of 1 port(s) free');
  });

  it('fails an address this host does not have', async () => {
    // 192.0.2.0/24 is TEST-NET-1: never assigned to a host.
    const result = await checkHostPorts(state, engine, [
      { address: '192.0.2.1', port: 8080, protocol: 'tcp' },
    ]);
    expect(result.status).to.equal('fail');
    expect(result.looked).to.contain('address not on this host');
  });

  it('does not count ports it had no permission to bind, and skips remote engines', async () => {
    const denied = await checkHostPorts(state, engine, [{ address: '0.0.0.0', port: 80, protocol: 'tcp' }], {
      bind: () => Promise.resolve('no-permission'),
    });
    expect(denied.status).to.equal('skip');
    const remote = await checkHostPorts(
      { ...state, engine: { local: false, address: 'tcp://h:2376' } },
      engine,
      [{ address: '0.0.0.0', port: 80, protocol: 'tcp' }],
    );
    expect(remote.status).to.equal('skip');
    expect(remote.message).to.equal('not checked: remote engine (tcp://h:2376)');
  });
});

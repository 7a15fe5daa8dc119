import { expect } from 'chai';
import type { AddressError } from './address.js';
import { formatConnection, parseAddress } from './address.js';

describe('engine addresses', () => {
  it('reads unix sockets, with or without the scheme', () => {
    expect(parseAddress('unix:///run/user/1000/podman/podman.sock')).to.deep.equal({
      kind: 'unix',
      socketPath: '/run/user/1000/podman/podman.sock',
    });
    expect(parseAddress('/var/run/docker.sock')).to.deep.equal({
      kind: 'unix',
      socketPath: '/var/run/docker.sock',
    });
  });

  it('reads tcp with default ports for plain and TLS', () => {
    expect(parseAddress('tcp://box:1234')).to.deep.equal({
      kind: 'tcp',
      host: 'box',
      port: 1234,
      tls: undefined,
    });
    expect(parseAddress('tcp://box')).to.include({ port: 2375 });
    expect(parseAddress('tcp://box', { ca: Buffer.from('x') })).to.include({ port: 2376 });
    expect(parseAddress('https://box')).to.deep.include({ kind: 'tcp', port: 2376, tls: {} });
    expect(parseAddress('tcp://[::1]:2375')).to.include({ host: '::1', port: 2375 });
  });

  it('refuses what it cannot use, with a way around', () => {
    const attempt = (address: string): AddressError => {
      try {
        parseAddress(address);
      } catch (error) {
        return error as AddressError;
      }
      throw new Error(`${address} was accepted`);
    };
    expect(attempt('ssh://me@box').hint).to.contain('ssh -nNT -L');
    expect(attempt('npipe:////./pipe/docker_engine').message).to.contain('Windows-only');
    expect(attempt('unix://relative.sock').message).to.contain('no absolute socket path');
    expect(attempt('docker.sock').message).to.contain('not an engine address');
    expect(attempt('fd://').message).to.contain('unsupported scheme fd://');
  });

  it('formats connections back into addresses', () => {
    expect(formatConnection(parseAddress('unix:///a.sock'))).to.equal('unix:///a.sock');
    expect(formatConnection(parseAddress('tcp://[::1]:2375'))).to.equal('tcp://[::1]:2375');
  });
});

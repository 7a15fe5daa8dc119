import dgram from 'node:dgram';
import net, { isIPv6 } from 'node:net';
import type { HostState } from './host-state.js';
import { check, hostScope, type CheckResult, type HostPortRequest, type PreflightEngine } from './result.js';

export type BindOutcome = 'free' | 'in-use' | 'not-local-address' | 'no-permission' | 'not-tested' | 'error';

/** The error codes a bind fails with, as outcomes. */
function outcomeOf(error: NodeJS.ErrnoException): BindOutcome {
  switch (error.code) {
    case 'EADDRINUSE':
      return 'in-use';
    case 'EADDRNOTAVAIL':
      return 'not-local-address';
    case 'EACCES':
    case 'EPERM':
      return 'no-permission';
    default:
      return 'error';
  }
}

function listenAddress(port: HostPortRequest): string {
  return port.address === '' ? '0.0.0.0' : port.address;
}

function bindTcp(address: string, port: number): Promise<BindOutcome> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(outcomeOf(error)));
    server.listen({ host: address, port, exclusive: true }, () => server.close(() => resolve('free')));
  });
}

function bindUdp(address: string, port: number): Promise<BindOutcome> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket(isIPv6(address) ? 'udp6' : 'udp4');
    socket.once('error', (error: NodeJS.ErrnoException) => {
      socket.close();
      resolve(outcomeOf(error));
    });
    socket.bind({ address, port, exclusive: true }, () => socket.close(() => resolve('free')));
  });
}

/** Binds the address and port once and lets go: whether the engine could publish it now. */
export function tryBind(port: HostPortRequest): Promise<BindOutcome> {
  const address = listenAddress(port);
  if (port.protocol === 'tcp') return bindTcp(address, port.port);
  if (port.protocol === 'udp') return bindUdp(address, port.port);
  return Promise.resolve('not-tested'); // Node cannot open SCTP sockets.
}

const outcomeText: Record<BindOutcome, string> = {
  free: 'free',
  'in-use': 'in use',
  'not-local-address': 'address not on this host',
  'no-permission': 'not tested (binding it needs privileges kur lacks)',
  'not-tested': 'not tested (sctp)',
  error: 'bind failed',
};

export interface PortCheckOptions {
  /** Injected in tests; defaults to a real bind. */
  bind?: (port: HostPortRequest) => Promise<BindOutcome>;
}

/**
 * Tries to bind every requested host port on this host, one after the other (two requests on
 * one port must not collide with each other). Says which ports are taken, not by whom.
 */
export async function checkHostPorts(
  state: HostState,
  engine: PreflightEngine,
  ports: HostPortRequest[],
  options: PortCheckOptions = {},
): Promise<CheckResult> {
  const id = 'host-ports';
  const title = 'requested host ports free';
  const scope = hostScope(state, engine);
  if (scope.local === undefined) return check(id, title, 'skip', scope.notLocalReason, scope.notLocalReason);
  const wanted = ports.filter((p) => p.port > 0);
  if (wanted.length === 0) return check(id, title, 'ok', 'no fixed host ports requested', 'nothing to bind');
  const bind = options.bind ?? tryBind;
  const outcomes: [HostPortRequest, BindOutcome][] = [];
  for (const port of wanted) outcomes.push([port, await bind(port)]);
  const name = (p: HostPortRequest): string => `${listenAddress(p)}:${p.port}/${p.protocol}`;
  const looked = `bind ${outcomes.map(([p, o]) => `${name(p)} ${outcomeText[o]}`).join(', ')}`;
  const bad = outcomes.filter(([, o]) => o === 'in-use' || o === 'not-local-address' || o === 'error');
  if (bad.length > 0) {
    return check(
      id,
      title,
      'fail',
      looked,
      `cannot publish ${bad.map(([p, o]) => `${name(p)} (${outcomeText[o]})`).join(', ')}`,
      [
        ...bad
          .filter(([, o]) => o === 'in-use')
          .map(
            ([p]) =>
              `sudo ss -${p.protocol === 'udp' ? 'u' : 't'}lnp 'sport = :${p.port}'   # shows what holds it; stop it or pick another hostPort`,
          ),
        ...(bad.some(([, o]) => o !== 'in-use')
          ? ['# use a listenAddress this host has (ip -brief address), or 0.0.0.0']
          : []),
      ].join('\n'),
    );
  }
  const tested = outcomes.filter(([, o]) => o === 'free');
  if (tested.length === 0) return check(id, title, 'skip', looked, 'not checked: no port could be tested');
  return check(id, title, 'ok', looked, `${tested.length} of ${outcomes.length} port(s) free`);
}

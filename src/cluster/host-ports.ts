import { createServer } from 'node:net';
import type { Engine } from '../engine/types.js';
import { choosePort } from './addresses.js';
import { listClaims } from './claim.js';

/**
 * Host ports kur publishes explicitly (API servers, Service load balancers): an engine restart
 * keeps an explicit port, where a dynamic one would move. Choosing one must happen under the
 * engine lock, with `takenHostPorts` read inside it, so two kur processes never pick the same.
 */

/** A port the kernel reports free on `address` right now (0 when it cannot bind there at all). */
export function freeHostPort(address: string, port = 0): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(0));
    server.listen(port, address, () => {
      const bound = server.address();
      const chosen = typeof bound === 'object' && bound !== null ? bound.port : 0;
      server.close(() => resolve(chosen));
    });
  });
}

/**
 * Host ports held on the engine, whether or not their container runs: every container's published
 * ports (a stopped one gets its port back when it starts) and every cluster's API server port
 * (recorded in its claim before its nodes exist).
 */
export async function takenHostPorts(engine: Engine): Promise<Set<number>> {
  const [claims, containers] = await Promise.all([listClaims(engine), engine.containers.list({ all: true })]);
  const taken = new Set(claims.map((c) => c.claim.apiPort));
  const infos = await Promise.all(
    containers.map((c) => engine.containers.inspect(c.id).catch(() => undefined)),
  );
  for (const info of infos) {
    for (const p of [...(info?.portBindings ?? []), ...(info?.ports ?? [])]) {
      if (p.hostPort > 0) taken.add(p.hostPort);
    }
  }
  return taken;
}

/**
 * A host port on `address` nobody holds: the kernel's suggestion on a local engine, a random high
 * port on a remote one (its host cannot be asked).
 */
export async function chooseHostPort(
  address: string,
  taken: ReadonlySet<number>,
  local: boolean,
): Promise<number> {
  const candidates: number[] = [];
  for (let i = 0; i < 5; i += 1) {
    candidates.push(local ? await freeHostPort(address) : 40_000 + Math.floor(Math.random() * 20_000));
  }
  return choosePort(candidates, taken);
}

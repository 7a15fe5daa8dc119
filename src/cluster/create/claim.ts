import type { EngineInfo } from '../../engine/detect.js';
import { labels } from '../../engine/labels.js';
import type { Engine } from '../../engine/types.js';
import { planCluster, type ClusterPlan } from '../../kube/plan.js';
import { KurError } from '../../util/errors.js';
import { chooseAddresses, type NetworkPlan } from '../addresses.js';
import { alreadyExists, createClaim, listClaims, type ClusterClaim } from '../claim.js';
import { clusterDnsIp } from '../dns-probe.js';
import { withEngineLock } from '../engine-lock.js';
import { chooseHostPort, takenHostPorts } from '../host-ports.js';
import { ensureClusterNetwork, readHostRoutes, removeClusterNetworkIfUnused } from '../network.js';
import { clusterNetworkName } from '../node-spec.js';
import type { CreateRun } from './context.js';
import type { Phase } from '../../ui/phases.js';

type ClaimInput = { info: EngineInfo; plan: ClusterPlan };
type ClaimOutput = { claim: ClusterClaim; network: NetworkPlan; plan: ClusterPlan };

/**
 * Claims the cluster name, a static address for every node and the API server's host port, under
 * the engine-wide lock: of two creates of one name exactly one gets here, and two creates of
 * different names never pick the same address or port. The loser of a name race has created
 * nothing when it fails.
 */
export const claimPhase: Phase<CreateRun, ClaimInput, ClaimOutput> = {
  id: 'claim',
  title: 'Claim the name and addresses',
  run: ({ info, plan }, run) =>
    withEngineLock(run.engine, { image: run.image, logger: run.logger, signal: run.signal }, async () => {
      await assertNameFree(run.engine, run.config.name);
      const local = run.engine.endpoint.connection.kind === 'unix';
      const network = await ensureClusterNetwork(run.engine, {
        mtu: info.bridgeMtu,
        logger: run.logger,
        // A rootful engine's bridge lives in the host's own network namespace.
        ...(local && !info.rootless ? { hostRoutes: readHostRoutes } : {}),
      });
      if (network.created) run.rollback.add('the kur network', () => removeNetworkLocked(run));
      const claims = (await listClaims(run.engine)).map((c) => c.claim);
      const attached = Object.values((await run.engine.networks.inspect(clusterNetworkName)).containers).map(
        (c) => c.ipv4Address.split('/')[0] ?? '',
      );
      const names = [
        ...plan.nodes.map((n) => n.name),
        ...(plan.loadBalancer ? [plan.loadBalancer.name] : []),
      ];
      const ips = chooseAddresses(
        network.plan,
        new Set([...claims.flatMap((c) => Object.values(c.addresses)), ...attached]),
        names.length,
      );
      const apiPort = await chooseApiPort(run, await takenHostPorts(run.engine), local);
      const claim: ClusterClaim = {
        cluster: run.config.name,
        runId: run.runId,
        addresses: Object.fromEntries(names.map((n, i) => [n, ips[i]!])),
        apiPort,
        clusterDns: clusterDnsIp(run.config.networking.serviceSubnet),
      };
      const id = await createClaim(run.engine, claim, run.image);
      run.rollback.add(`the claim of ${claim.cluster}`, () =>
        run.engine.containers.remove(id, { force: true, volumes: true }),
      );
      const networking = { ...run.config.networking, apiServerPort: apiPort };
      return { claim, network: network.plan, plan: planCluster({ ...run.config, networking }, plan.facts) };
    }),
};

/** Any container of the cluster (a claim, or nodes of a kur that made no claims) means it exists. */
async function assertNameFree(engine: Engine, name: string): Promise<void> {
  const existing = await engine.containers.list({ labels: { [labels.cluster]: name } });
  if (existing.length > 0) throw alreadyExists(name);
}

async function removeNetworkLocked(run: CreateRun): Promise<void> {
  await withEngineLock(run.engine, { image: run.image, logger: run.logger }, () =>
    removeClusterNetworkIfUnused(run.engine, run.logger),
  );
}

/**
 * The API server's host port: the one the config asks for, or one the kernel reports free on
 * the listen address (local engines; a remote engine's host cannot be asked, so a random high
 * port), never one another cluster or container holds.
 */
async function chooseApiPort(run: CreateRun, taken: ReadonlySet<number>, local: boolean): Promise<number> {
  const { apiServerPort, apiServerAddress } = run.config.networking;
  if (apiServerPort !== 0) {
    if (taken.has(apiServerPort)) {
      throw new KurError('conflict', `another cluster or container holds host port ${apiServerPort}`, {
        hint: 'Choose another networking.apiServerPort, or leave it out to get a free one.',
      });
    }
    return apiServerPort;
  }
  return chooseHostPort(apiServerAddress, taken, local);
}

import type { ConfigProblem } from './problems.js';
import type { ClusterConfigInput } from './types.js';

/**
 * Reads a decoded kind `v1alpha4` Cluster as kur input. The field names are the same (the
 * schema already refused the fields kur does not support); what differs is handled here:
 * kind's `-1` port ("let the engine pick") is kur's 0, and kind publishes extra ports on
 * 0.0.0.0 by default where kur uses 127.0.0.1, which deserves a warning; kind makes one
 * control-plane node of an empty `nodes` list, and so does kur for kind's files, with a warning.
 */
export function fromKind(input: ClusterConfigInput): {
  input: ClusterConfigInput;
  warnings: ConfigProblem[];
} {
  const warnings: ConfigProblem[] = [];
  const networking = input.networking === undefined ? undefined : { ...input.networking };
  if (networking?.apiServerPort === -1) networking.apiServerPort = 0;
  if (input.nodes?.length === 0) {
    warnings.push({
      path: ['nodes'],
      problem: 'is empty; as kind does, kur creates one control-plane node',
      hint: 'Remove nodes, or list the nodes you want.',
    });
  }
  const nodes =
    input.nodes?.length === 0
      ? undefined
      : input.nodes?.map((node, i) => {
          if (node.extraPortMappings === undefined) return node;
          return {
            ...node,
            extraPortMappings: node.extraPortMappings.map((port, j) => {
              if (port.listenAddress === undefined) {
                warnings.push({
                  path: ['nodes', i, 'extraPortMappings', j],
                  problem:
                    'kind would listen on 0.0.0.0; kur listens on 127.0.0.1 unless listenAddress says otherwise',
                  hint: 'Add listenAddress: 0.0.0.0 to reach this port from other machines.',
                });
              }
              return port.hostPort === -1 ? { ...port, hostPort: 0 } : port;
            }),
          };
        });
  const out: ClusterConfigInput = { ...input };
  delete out.nodes;
  if (networking !== undefined) out.networking = networking;
  if (nodes !== undefined) out.nodes = nodes;
  return { input: out, warnings };
}

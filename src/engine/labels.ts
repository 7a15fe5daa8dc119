/**
 * The labels that mark everything kur creates on an engine. Cluster state lives in them, not in
 * local files, so listing and cleanup work from any machine that reaches the engine.
 */
export const labelPrefix = 'dev.kur.';

export const labels = {
  /** Name of the cluster an object belongs to. */
  cluster: 'dev.kur.cluster',
  /** control-plane, worker, load-balancer (the HA API server's), service-load-balancer. */
  role: 'dev.kur.role',
  /** Node name inside the cluster. */
  node: 'dev.kur.node',
  /** The create run that made an object: rollback removes only its own run's objects. */
  run: 'dev.kur.run',
  /** A node's static IPv4 address on the kur network, chosen at create and kept for life. */
  ipv4: 'dev.kur.ipv4',
  /** On a cluster's claim: `node=ip,...`, every address the cluster holds, running or stopped. */
  addresses: 'dev.kur.addresses',
  /** On a cluster's claim: the API server's host port, kept for the cluster's life. */
  apiPort: 'dev.kur.api-port',
  /** On a cluster's claim: the cluster DNS service address. */
  clusterDns: 'dev.kur.cluster-dns',
  /** On the kur network: the layout version (static addresses need a subnet kur configured). */
  networkVersion: 'dev.kur.network-version',
  /** On a Service's load balancer: the Service as `namespace/name`. */
  service: 'dev.kur.service',
  /** On a Service's load balancer: the Service's uid (a re-created Service is another one). */
  serviceUid: 'dev.kur.service-uid',
  /** On a Service's load balancer: `port/TCP=hostPort,...`, the host port of each Service port. */
  hostPorts: 'dev.kur.host-ports',
  /** On a Service's load balancer: `port/TCP=nodePort,...`, where the nodes serve each port. */
  nodePorts: 'dev.kur.node-ports',
  /** On a Service's load balancer: the node addresses it forwards to, comma-separated. */
  backends: 'dev.kur.backends',
  /** On a local registry (`kur create registry`): its name (also its container's). */
  registry: 'dev.kur.registry',
  /** On a local registry: the host port it is published on (127.0.0.1), which names it to nodes. */
  registryPort: 'dev.kur.registry-port',
  /** On a cluster's nodes: the local registries they pull through, comma-separated. */
  registries: 'dev.kur.registries',
  /** Objects kur creates for itself (probe images and containers), not for a cluster. */
  managed: 'dev.kur.managed',
  /** Set on everything a test creates, so a test run can prove it left nothing behind. */
  test: 'dev.kur.test',
} as const;

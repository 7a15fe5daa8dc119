import type { Command } from 'commander';
import { serveLoadBalancers } from '../api/load-balancers.js';
import { abortOnSignals } from '../api/signals.js';
import { defaultClusterName } from '../config/names.js';
import { contextFrom, engineOptions } from './context.js';

const loadBalancersHelp = `
Runs in the foreground until Ctrl-C (SIGINT) or SIGTERM, like \`minikube tunnel\`. For each
Service of type LoadBalancer (without a loadBalancerClass) it runs one container on the engine:
the node image running kur-lb, which forwards each TCP port of the Service to its nodePort on
every node. The ports are published on 127.0.0.1 (the only address the host reaches on rootless
engines): the Service's own port when it is at least 1024 and free, otherwise a free port. The
Service gets status.loadBalancer.ingress [{ip: 127.0.0.1, ipMode: Proxy}] and the annotation
kur.dev/load-balancer-ports ("80/TCP=32080,8443/TCP=8443": Service port = host port);
\`kur get services\` lists the same.

The containers outlive this command and the engine's restarts, with the same host ports; they
stop and start with the cluster and go with \`kur delete cluster\`. Changes (new, changed or
deleted Services) wait until this command runs again; the load balancer of a Service deleted
meanwhile is removed then. Only TCP: UDP and SCTP ports are skipped with a warning.`;

export function registerServe(serve: Command): void {
  serve
    .command('load-balancers')
    .description('give Services of type LoadBalancer an address on the host (runs in the foreground)')
    .option('-n, --name <name>', 'cluster name', defaultClusterName)
    .addHelpText('after', loadBalancersHelp)
    .action(async (flags: { name: string }, command: Command) => {
      const ctx = contextFrom(command);
      const notice = (signal: NodeJS.Signals): void =>
        ctx.logger.info(`${signal} received: stopping (the load balancers keep running)`);
      await abortOnSignals({ notice, exitOnSecond: true }, (signal) =>
        serveLoadBalancers({ ...engineOptions(ctx), name: flags.name, signal }),
      );
    });
}

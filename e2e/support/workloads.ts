import type { Kubectl } from './kubectl.js';

/**
 * Pods and services for the cluster suite, all from the busybox test image loaded with
 * `kur load docker-image` (`imagePullPolicy: Never`: nothing can be pulled). busybox brings
 * httpd, nc, nslookup and wget: enough for servers and clients.
 */
export interface PodOptions {
  command: string[];
  /** Pin to a node (bypasses the scheduler, so placement is certain). */
  node?: string;
  labels?: Record<string, string>;
  restartPolicy?: 'Always' | 'Never';
  image?: string;
  imagePullPolicy?: 'Never' | 'IfNotPresent' | 'Always';
}

export function pod(name: string, image: string, options: PodOptions): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: name, ...options.labels } },
    spec: {
      ...(options.node !== undefined ? { nodeName: options.node } : {}),
      restartPolicy: options.restartPolicy ?? 'Always',
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'main',
          image: options.image ?? image,
          imagePullPolicy: options.imagePullPolicy ?? 'Never',
          command: options.command,
          env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
        },
      ],
    },
  };
}

export const httpPort = 8080;

/** An HTTP server answering with the pod's name (busybox httpd), logging requests to stdout. */
export function httpServer(name: string, image: string, options: Omit<PodOptions, 'command'> = {}): object {
  return pod(name, image, {
    ...options,
    command: [
      'sh',
      '-c',
      `mkdir -p /www && echo "$POD_NAME" > /www/index.html && echo "serving $POD_NAME" && exec httpd -f -vv -p ${httpPort} -h /www`,
    ],
  });
}

/** A pod that idles, to run clients in with `kubectl exec`. */
export function idlePod(name: string, image: string, options: Omit<PodOptions, 'command'> = {}): object {
  return pod(name, image, { ...options, command: ['sleep', '3600'] });
}

export function service(
  name: string,
  selector: Record<string, string>,
  options: { type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer'; nodePort?: number } = {},
): object {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: {
      type: options.type ?? 'ClusterIP',
      selector,
      ports: [
        {
          port: httpPort,
          targetPort: httpPort,
          protocol: 'TCP',
          ...(options.nodePort !== undefined ? { nodePort: options.nodePort } : {}),
        },
      ],
    },
  };
}

export interface PodStatus {
  metadata: { name: string };
  spec: { nodeName?: string };
  status: {
    phase: string;
    podIP?: string;
    hostIP?: string;
    containerStatuses?: { imageID: string; image: string; ready: boolean; state?: Record<string, unknown> }[];
  };
}

export function getPod(kubectl: Kubectl, name: string): Promise<PodStatus> {
  return kubectl.json<PodStatus>(['get', 'pod', name]);
}

/**
 * `kubectl wait` for pods to be Ready (or for a phase); on timeout the error carries
 * `kubectl describe` of the pods, which says why (image, scheduling, sandbox).
 */
export async function waitForPods(
  kubectl: Kubectl,
  names: string[],
  options: { phase?: 'Succeeded' | 'Failed'; timeoutSeconds?: number } = {},
): Promise<void> {
  const condition =
    options.phase !== undefined ? `--for=jsonpath={.status.phase}=${options.phase}` : '--for=condition=Ready';
  const timeout = options.timeoutSeconds ?? 180;
  const result = await kubectl.run(
    ['wait', condition, `--timeout=${timeout}s`, ...names.map((n) => `pod/${n}`)],
    { timeoutMs: (timeout + 30) * 1000 },
  );
  if (result.code === 0) return;
  const describe = await kubectl.run(['describe', ...names.map((n) => `pod/${n}`)]);
  const events = await kubectl.run(['get', 'events', '--sort-by=.lastTimestamp']);
  throw new Error(
    `pods ${names.join(', ')} not ${options.phase ?? 'Ready'} in ${timeout} s: ${result.stderr}\n` +
      `${describe.stdout}${describe.stderr}\n${events.stdout}`,
  );
}

/** Runs a shell command in a pod's container through `kubectl exec`. */
export function execIn(kubectl: Kubectl, podName: string, script: string, timeoutMs = 60_000) {
  return kubectl.run(['exec', podName, '--', 'sh', '-c', script], { timeoutMs });
}

/** Fetches http://<address>/ from inside a pod; `timeout` bounds it (busybox wget -T crashes in the static build). */
export async function httpGet(kubectl: Kubectl, client: string, address: string): Promise<string> {
  const result = await execIn(kubectl, client, `timeout 10 wget -q -O - http://${address}/`);
  if (result.code !== 0) {
    throw new Error(
      `wget http://${address}/ from pod ${client} failed (exit ${result.code}): ${result.stderr}`,
    );
  }
  return result.stdout.trim();
}

/** The addresses busybox nslookup printed for the name (its "Name:" block), empty when none. */
export function nslookupAddresses(output: string): string[] {
  const afterName = output
    .split(/^Name:/m)
    .slice(1)
    .join('\n');
  return [...afterName.matchAll(/^Address(?: \d+)?:\s*([0-9a-f.:]+)\s*$/gm)].map((m) => m[1]!);
}

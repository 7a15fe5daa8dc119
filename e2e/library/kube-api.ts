import { request } from 'node:https';
import { parse } from 'yaml';

/**
 * A tiny Kubernetes API client for the library and action tests: it takes the current context of a
 * kubeconfig text, and nothing else (no kubectl), so a test proves the kubeconfig kur handed out
 * really reaches the API server with its credentials.
 */
interface Kubeconfig {
  'current-context'?: string;
  contexts?: { name: string; context: { cluster: string; user: string } }[];
  clusters?: { name: string; cluster: { server: string; 'certificate-authority-data'?: string } }[];
  users?: { name: string; user: { 'client-certificate-data'?: string; 'client-key-data'?: string } }[];
}

function decode(data: string | undefined, what: string): Buffer {
  if (data === undefined) throw new Error(`kubeconfig has no ${what}`);
  return Buffer.from(data, 'base64');
}

/** GET a path on the API server of the kubeconfig's current context; the parsed JSON answer. */
export function kubeGet(kubeconfig: string, path: string, timeoutMs = 10_000): Promise<unknown> {
  const config = parse(kubeconfig) as Kubeconfig;
  const current = config['current-context'];
  const context = config.contexts?.find((c) => c.name === current)?.context;
  const cluster = config.clusters?.find((c) => c.name === context?.cluster)?.cluster;
  const user = config.users?.find((u) => u.name === context?.user)?.user;
  if (context === undefined || cluster === undefined || user === undefined) {
    throw new Error(`kubeconfig: current context "${current}" is incomplete`);
  }
  const url = new URL(path, cluster.server);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        ca: decode(cluster['certificate-authority-data'], 'certificate-authority-data'),
        cert: decode(user['client-certificate-data'], 'client-certificate-data'),
        key: decode(user['client-key-data'], 'client-key-data'),
        timeout: timeoutMs,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`GET ${url.href}: ${res.statusCode} ${body}`));
          else resolve(JSON.parse(body));
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url.href}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

interface NodeList {
  items: { metadata: { name: string }; status: { conditions?: { type: string; status: string }[] } }[];
}

/** Names of the nodes whose Ready condition is True, sorted. */
export async function readyNodes(kubeconfig: string): Promise<string[]> {
  const list = (await kubeGet(kubeconfig, '/api/v1/nodes')) as NodeList;
  return list.items
    .filter((n) => n.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
    .map((n) => n.metadata.name)
    .sort();
}

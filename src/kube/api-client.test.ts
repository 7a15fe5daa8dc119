import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { KubeApiError, KubeClient, type WatchEvent } from './api-client.js';

const testdata = new URL('./testdata/api-client/', import.meta.url);
const read = (name: string): Buffer => readFileSync(new URL(name, testdata));

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

/** An HTTPS server that demands a client certificate signed by the test CA, as an API server does. */
async function apiServer(handler: Handler): Promise<{ server: Server; client: KubeClient }> {
  const server = createServer(
    {
      key: read('server.key'),
      cert: read('server.crt'),
      ca: read('ca.crt'),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => handler(req, body, res));
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const b64 = (name: string): string => read(name).toString('base64');
  const client = new KubeClient({
    server: `https://127.0.0.1:${port}`,
    certificateAuthorityData: b64('ca.crt'),
    clientCertificateData: b64('client.crt'),
    clientKeyData: b64('client.key'),
  });
  return { server, client };
}

describe('Kubernetes API client', () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.closeAllConnections();
    server?.close();
  });

  it('GETs JSON with the client certificate, and merge-patches with the right content type', async () => {
    const seen: string[] = [];
    let client: KubeClient;
    ({ server, client } = await apiServer((req, body, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers['content-type'] ?? '-'} ${body}`);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ kind: 'Service', ok: true }));
    }));
    expect(await client.get('/api/v1/services')).to.deep.equal({ kind: 'Service', ok: true });
    await client.mergePatch('/api/v1/namespaces/a/services/b/status', { status: { loadBalancer: null } });
    expect(seen).to.deep.equal([
      'GET /api/v1/services - ',
      'PATCH /api/v1/namespaces/a/services/b/status application/merge-patch+json {"status":{"loadBalancer":null}}',
    ]);
  });

  it('rejects an answer other than 2xx with its status', async () => {
    let client: KubeClient;
    ({ server, client } = await apiServer((_req, _body, res) => {
      res.statusCode = 404;
      res.end('{"kind":"Status","code":404}');
    }));
    const error = await client.get('/api/v1/namespaces/a/services/gone').catch((e: unknown) => e);
    expect(error).to.be.instanceOf(KubeApiError);
    expect((error as KubeApiError).status).to.equal(404);
  });

  it('streams watch events split across chunks, and ends when the server ends the stream', async () => {
    let client: KubeClient;
    ({ server, client } = await apiServer((_req, _body, res) => {
      res.write('{"type":"ADDED","object":{"n":1}}\n{"type":"MOD');
      setTimeout(() => {
        res.write('IFIED","object":{"n":2}}\n\n{"type":"BOOKMARK","object":{"n":3}}\n');
        res.end();
      }, 20);
    }));
    const events: WatchEvent<{ n: number }>[] = [];
    await client.watch<{ n: number }>('/api/v1/services?watch=1', (e) => events.push(e));
    expect(events.map((e) => `${e.type}:${e.object.n}`)).to.deep.equal([
      'ADDED:1',
      'MODIFIED:2',
      'BOOKMARK:3',
    ]);
  });

  it('rejects a watch the server refuses (410 Gone) and one whose handler throws', async () => {
    let client: KubeClient;
    let gone = true;
    ({ server, client } = await apiServer((_req, _body, res) => {
      if (gone) {
        res.statusCode = 410;
        res.end('{"kind":"Status","code":410}');
      } else {
        res.write('{"type":"ERROR","object":{"code":410}}\n');
      }
    }));
    const refused = await client.watch('/w', () => undefined).catch((e: unknown) => e);
    expect((refused as KubeApiError).status).to.equal(410);
    gone = false;
    const thrown = await client
      .watch('/w', () => {
        throw new Error('too old');
      })
      .catch((e: unknown) => e);
    expect((thrown as Error).message).to.equal('too old');
  });

  it('stops a watch when the signal aborts', async () => {
    let client: KubeClient;
    ({ server, client } = await apiServer((_req, _body, res) => res.write('{"type":"ADDED","object":{}}\n')));
    const controller = new AbortController();
    const watching = client
      .watch('/w', () => controller.abort(), { signal: controller.signal })
      .catch((e: unknown) => e);
    expect(((await watching) as Error).name).to.equal('AbortError');
  });
});

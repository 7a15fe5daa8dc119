import { createServer } from 'node:net';

/** A TCP port free on 127.0.0.1 right now (the engine binds it moments later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port assigned'));
      });
    });
  });
}

/** GET http://127.0.0.1:<port>/ from the host; the body, trimmed. */
export async function hostHttpGet(port: number, timeoutMs = 5000): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`GET 127.0.0.1:${port} answered ${response.status}`);
  return (await response.text()).trim();
}

import { expect } from 'chai';
import { createServer } from 'node:net';
import { apiAnswers, clusterState } from './state.js';

describe('cluster state', () => {
  const facts = { complete: true, containerStates: ['running', 'running'], apiAnswers: true };

  it('running: every container runs and the API answers', () => {
    expect(clusterState(facts)).to.equal('running');
    expect(clusterState({ ...facts, apiAnswers: undefined })).to.equal('running');
  });

  it('incomplete whatever runs, when create never finished', () => {
    expect(clusterState({ ...facts, complete: false })).to.equal('incomplete');
  });

  it('stopped when nothing runs; degraded when some node or the API is down', () => {
    expect(clusterState({ ...facts, containerStates: ['exited', 'exited'], apiAnswers: undefined })).to.equal(
      'stopped',
    );
    expect(clusterState({ ...facts, containerStates: ['running', 'exited'] })).to.equal('degraded');
    expect(clusterState({ ...facts, apiAnswers: false })).to.equal('degraded');
    expect(clusterState({ ...facts, containerStates: [] })).to.equal('degraded');
  });

  it('an accepting port with nothing behind it does not count as an answering API server', async () => {
    // Like an engine's port proxy whose backend is gone: accepts, then closes.
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const started = Date.now();
    expect(await apiAnswers(`https://127.0.0.1:${port}`, 500)).to.equal(false);
    expect(Date.now() - started).to.be.below(1000);
    server.close();
  });
});

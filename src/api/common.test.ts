import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import type { ProgressEvent } from '../ui/progress.js';
import { isKurError } from '../util/errors.js';
import { progressListener, throwIfCancelled } from './common.js';
import { buildNodeImage, loadImage, type LoadImageOptions } from './images.js';

describe('library call plumbing', () => {
  it('feeds progress events to the callback and the emitter, in order', () => {
    const called: ProgressEvent[] = [];
    const emitted: ProgressEvent[] = [];
    const emitter = new EventEmitter();
    emitter.on('progress', (event: ProgressEvent) => emitted.push(event));
    const listener = progressListener({ onProgress: (e) => called.push(e), progress: emitter });
    const events: ProgressEvent[] = [
      { type: 'start', path: ['Start nodes'], ids: ['nodes'] },
      {
        type: 'status',
        path: ['Start nodes', 'a-control-plane'],
        ids: ['nodes', 'a-control-plane'],
        text: 'booting systemd',
      },
      { type: 'done', path: ['Start nodes'], ids: ['nodes'], durationMs: 3 },
    ];
    for (const event of events) listener?.(event);
    expect(called).to.deep.equal(events);
    expect(emitted).to.deep.equal(events);
    expect(progressListener({})).to.equal(undefined);
  });

  it('turns an already aborted signal into a cancelled KurError carrying the reason', () => {
    const controller = new AbortController();
    expect(() => throwIfCancelled(controller.signal, 'x')).to.not.throw();
    controller.abort(new Error('test is over'));
    let error: unknown;
    try {
      throwIfCancelled(controller.signal, 'creating cluster a');
    } catch (e) {
      error = e;
    }
    expect(isKurError(error, 'cancelled')).to.equal(true);
    expect((error as Error).message).to.equal('creating cluster a was cancelled before it started');
    expect((error as { detail?: string }).detail).to.equal('test is over');
  });

  // A host nobody listens on: reaching the engine would fail with an engine error, not usage.
  const nowhere = 'unix:///nonexistent/kur-api-test.sock';

  it('rejects loadImage with both or neither of images and archive before reaching the engine', async () => {
    for (const options of [
      { cluster: 'a', host: nowhere, images: ['x'], archive: 'y.tar' },
      { cluster: 'a', host: nowhere },
    ]) {
      let error: unknown;
      await loadImage(options as unknown as LoadImageOptions).catch((e: unknown) => (error = e));
      expect(isKurError(error, 'usage'), String(error)).to.equal(true);
    }
  });

  it('rejects buildNodeImage with load: false and no archive', async () => {
    let error: unknown;
    await buildNodeImage({ load: false, host: nowhere }).catch((e: unknown) => (error = e));
    expect(isKurError(error, 'usage'), String(error)).to.equal(true);
  });

  it('names the endpoint it could not reach', async () => {
    let error: unknown;
    await loadImage({ cluster: 'a', host: nowhere, images: ['x'] }).catch((e: unknown) => (error = e));
    expect(isKurError(error, 'engine'), String(error)).to.equal(true);
    expect(String(error)).to.include('/nonexistent/kur-api-test.sock');
  });
});

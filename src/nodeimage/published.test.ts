import { expect } from 'chai';
import { isRegistryReference, loadPublishedDigests, publishedSource } from './published.js';

describe('published node images', () => {
  const digest = `sha256:${'e'.repeat(64)}`;

  it('pulls the default image by its pinned digest from the configured registry', () => {
    expect(
      publishedSource('kur.local/node:v1.37.2-abc', 'reg.example:5000/kur/', { 'v1.37.2-abc': digest }),
    ).to.deep.equal({
      reference: `reg.example:5000/kur/node@${digest}`,
    });
  });

  it('says why there is no registry source', () => {
    expect(publishedSource('kur.local/node:v1', undefined, { v1: digest })).to.deep.equal({
      reason: 'KUR_NODE_IMAGE_REGISTRY is not set',
    });
    expect(publishedSource('kur.local/node:v2', 'reg.example', { v1: digest }))
      .to.have.property('reason')
      .that.include('not published');
  });

  it('tells registry references from local names', () => {
    expect(isRegistryReference('127.0.0.1:5000/kur/node:v1')).to.equal(true);
    expect(isRegistryReference('localhost/app:dev')).to.equal(true);
    expect(isRegistryReference(`ghcr.io/kur/node@${digest}`)).to.equal(true);
    expect(isRegistryReference('kur.local/node:v1')).to.equal(false);
    expect(isRegistryReference('node:v1')).to.equal(false);
    expect(isRegistryReference('library/node:v1')).to.equal(false);
  });

  it('reads the repository pin file, whose digests are sha256 digests', () => {
    for (const value of Object.values(loadPublishedDigests()))
      expect(value).to.match(/^sha256:[0-9a-f]{64}$/);
  });
});

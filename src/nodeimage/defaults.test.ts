import { expect } from 'chai';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultNodeImage, recipeDigest } from './defaults.js';

describe('default node image name', () => {
  function recipe(files: Record<string, string>): string {
    const dir = mkdtempSync(join(tmpdir(), 'kur-recipe-'));
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
    return dir;
  }

  it('changes with any recipe file, not with docs or Go tests', () => {
    const base = { 'components.json': '{}', 'node/usr/local/bin/kur-entrypoint': '#!/bin/bash\n' };
    const a = recipeDigest(recipe(base));
    expect(a).to.match(/^[0-9a-f]{12}$/);
    expect(recipeDigest(recipe({ ...base, 'node/README.md': 'notes', 'go/lb/lb_test.go': 'x' }))).to.equal(a);
    expect(recipeDigest(recipe({ ...base, 'go/config-fields/main.go': 'package main' }))).to.equal(a);
    expect(recipeDigest(recipe({ ...base, 'published.json': '{"node":{}}' }))).to.equal(a);
    expect(
      recipeDigest(recipe({ ...base, 'registry.json': '{}', 'go/registry/go.mod': 'module x' })),
    ).to.equal(a);
    expect(
      recipeDigest(recipe({ ...base, 'node/usr/local/bin/kur-entrypoint': '#!/bin/sh\n' })),
    ).to.not.equal(a);
    expect(recipeDigest(recipe({ ...base, 'go/lb/main.go': 'package main' }))).to.not.equal(a);
  });

  it('names the pinned Kubernetes version and the recipe digest', () => {
    expect(defaultNodeImage()).to.match(/^kur\.local\/node:v\d+\.\d+\.\d+-[0-9a-f]{12}$/);
  });
});

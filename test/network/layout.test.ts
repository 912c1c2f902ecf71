import { describe, expect, it } from 'vitest';
import { importGraph } from '../support/import-graph.js';

const NETWORK = new URL('../../src/network/', import.meta.url).pathname;
/** The folders of src/network: each side, and what both sides use. */
const SIDES = ['manager', 'peers'] as const;
const SHARED = ['protocol', 'shared'] as const;

/** Imports from a folder of src/network into the folders `forbidden`, as `from → to`. */
function importsAcross(from: string, forbidden: readonly string[]): string[] {
  const crossings: string[] = [];
  for (const [file, targets] of importGraph(NETWORK)) {
    if (!file.startsWith(`${from}/`)) continue;
    for (const target of targets) {
      if (forbidden.some((folder) => target.startsWith(`${folder}/`))) crossings.push(`${file} → ${target}`);
    }
  }
  return crossings;
}

describe('src/network layout: each side its folder, the shared protocol its own', () => {
  it('peers/ never imports manager/', () => {
    expect(importsAcross('peers', ['manager'])).toEqual([]);
  });

  it('manager/ never imports peers/', () => {
    expect(importsAcross('manager', ['peers'])).toEqual([]);
  });

  it('protocol/ and shared/ import neither side', () => {
    for (const folder of SHARED) expect(importsAcross(folder, SIDES)).toEqual([]);
  });

  it('has no file outside the folders but the public entry', () => {
    const top = [...importGraph(NETWORK).keys()].filter((file) => !file.includes('/'));
    expect(top).toEqual(['index.ts']);
    const folders = new Set(
      [...importGraph(NETWORK).keys()].filter((f) => f.includes('/')).map((f) => f.split('/')[0]),
    );
    expect([...folders].sort()).toEqual([...SIDES, ...SHARED].sort());
  });
});

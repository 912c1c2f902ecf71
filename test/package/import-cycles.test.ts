import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importCycles, importGraph, relativeSpecifiers } from '../support/import-graph.js';

const SRC = new URL('../../src/', import.meta.url).pathname;

describe('import graph of src/', () => {
  it('has no import cycle anywhere (type-only imports included)', () => {
    const cycles = importCycles(importGraph(SRC)).map((cycle) => cycle.join(' → '));
    expect(cycles).toEqual([]);
  });

  it('reads the imports of every file (a parser that finds nothing would pass the test above)', () => {
    const graph = importGraph(SRC);
    expect(graph.get('network/index.ts')).toContain('network/manager/manager.ts');
    expect(graph.get('network/peers/client.ts')).toContain('network/peers/link.ts');
    expect([...graph.values()].flat().length).toBeGreaterThan(200);
  });

  it('reads multi-line, type-only, re-export and side-effect statements, and skips TSDoc examples', () => {
    const text = [
      "import {\n  a,\n  type B,\n} from './one.js';",
      "import type { C } from '../two.js';",
      "export * from './three.js';",
      "export { d as e } from './four.js';",
      "import './five.js';",
      " * import { connect } from './not-a-statement.js';",
      "import { f } from 'node:fs';",
      "const g = await import('./lazy.js');",
    ].join('\n');
    expect(relativeSpecifiers(text)).toEqual([
      './one.js',
      '../two.js',
      './three.js',
      './four.js',
      './five.js',
    ]);
  });

  it('finds a cycle, including one closed by a type-only import', () => {
    const dir = mkdtempSync(join(tmpdir(), 'farcall-cycles-'));
    try {
      mkdirSync(join(dir, 'sub'));
      writeFileSync(join(dir, 'a.ts'), "import { b } from './sub/b.js';\nexport const a = b;\n");
      writeFileSync(join(dir, 'sub', 'b.ts'), "import type { C } from '../c.js';\nexport const b = 1;\n");
      writeFileSync(join(dir, 'c.ts'), "export { a as C } from './a.js';\n");
      writeFileSync(join(dir, 'd.ts'), "import { a } from './a.js';\nexport const d = a;\n");
      expect(importCycles(importGraph(dir))).toEqual([['a.ts', 'sub/b.ts', 'c.ts', 'a.ts']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

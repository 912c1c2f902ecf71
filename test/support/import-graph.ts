import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The static import graph of a folder of TypeScript files: file (relative to the folder, `/`-separated)
 * → the files it imports or re-exports from. Only relative specifiers count (packages and `node:` cannot
 * close a cycle through our files). `import type` counts too: a type-only cycle still ties two files
 * together. A dynamic `import()` does not: it is how a file loads another lazily, at run time.
 *
 * The parser reads statements that start a line, as biome formats them; an import inside a TSDoc
 * example (` * import …`) does not start a line and is skipped.
 */
export function importGraph(root: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of typeScriptFiles(root)) {
    const text = readFileSync(file, 'utf8');
    const targets: string[] = [];
    for (const specifier of relativeSpecifiers(text)) {
      const target = resolve(dirname(file), specifier.replace(/\.js$/, '.ts'));
      if (!existsSync(target)) {
        throw new Error(`${relative(root, file)} imports ${specifier}, which is not a file under ${root}`);
      }
      targets.push(toKey(root, target));
    }
    graph.set(toKey(root, file), targets);
  }
  return graph;
}

/** The relative specifiers of a file's static `import`/`export … from` statements. */
export function relativeSpecifiers(text: string): string[] {
  const statement = /^(?:import|export)\s+(?:[\w\s{},*$]*?\s*from\s*)?(['"])(\.{1,2}\/[^'"]+)\1/gm;
  return [...text.matchAll(statement)].map((match) => match[2] as string);
}

/** Every import cycle in a graph, each as the files in order with the first repeated at the end. */
export function importCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    path.push(file);
    for (const next of graph.get(file) ?? []) {
      const seen = state.get(next);
      if (seen === 'open') cycles.push([...path.slice(path.indexOf(next)), next]);
      else if (seen === undefined) visit(next);
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return cycles;
}

function typeScriptFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return typeScriptFiles(path);
      return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
    });
}

function toKey(root: string, file: string): string {
  return relative(root, file).split('\\').join('/');
}

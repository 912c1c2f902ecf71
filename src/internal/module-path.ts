import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Resolves the path of a built JavaScript module beside the calling module, for code that must run in
 * another process (a spawned RPC server, the 32-bit server).
 *
 * From `dist/` this is simply the sibling `.js` file. When farcall runs from its TypeScript sources (under
 * vitest), the sibling is a `.ts` file that Node cannot run, so the same path under `dist/` is returned —
 * `npm test` builds `dist/` before it runs the tests.
 *
 * @param importMetaUrl - the caller's `import.meta.url`
 * @param relative - the sibling module, as a `.js` path relative to the caller, e.g. `'./spawner-main.js'`
 * @example
 * ```ts
 * const entry = resolveBuiltModule(import.meta.url, './spawner-main.js');
 * spawn(process.execPath, [entry]);
 * ```
 */
export function resolveBuiltModule(importMetaUrl: string, relative: string): string {
  const path = fileURLToPath(new URL(relative, importMetaUrl));
  if (existsSync(path)) return path;
  const marker = `${pathSeparator()}src${pathSeparator()}`;
  const at = path.lastIndexOf(marker);
  if (at >= 0) {
    const built = `${path.slice(0, at)}${pathSeparator()}dist${pathSeparator()}${path.slice(at + marker.length)}`;
    if (existsSync(built)) return built;
    throw new Error(
      `${built} does not exist: run 'npm run build' first (farcall is running from its sources)`,
    );
  }
  return path;
}

function pathSeparator(): string {
  return process.platform === 'win32' ? '\\' : '/';
}

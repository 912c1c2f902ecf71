import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import * as errors from '../../src/errors.js';
import { ERROR_CODES, FarcallError, isErrorCode } from '../../src/errors.js';

const root = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sources(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

describe('the errors table', () => {
  it('docs/errors.md is what scripts/generate-errors-doc.mjs writes from src/errors.ts', async () => {
    await expect(
      run(process.execPath, [join(root, 'scripts', 'generate-errors-doc.mjs'), '--check'], { cwd: root }),
    ).resolves.toBeDefined();
  });

  it('lists every error class and every code', () => {
    const doc = readFileSync(join(root, 'docs', 'errors.md'), 'utf8');
    for (const [name, value] of Object.entries(errors)) {
      if (typeof value === 'function' && value.prototype instanceof Error)
        expect(doc).toContain(`| \`${name}\` |`);
    }
    for (const code of Object.keys(ERROR_CODES)) expect(doc).toContain(`| \`${code}\` |`);
  });

  it('maps every code to an exported class, and every exported class has a code', () => {
    const exported = errors as unknown as Record<string, unknown>;
    for (const className of Object.values(ERROR_CODES)) {
      const cls = exported[className];
      expect(typeof cls, className).toBe('function');
      expect((cls as { prototype: unknown }).prototype instanceof FarcallError || cls === FarcallError).toBe(
        true,
      );
    }
    const named = new Set<string>(Object.values(ERROR_CODES));
    for (const [name, value] of Object.entries(errors)) {
      if (typeof value === 'function' && (value === FarcallError || value.prototype instanceof FarcallError))
        expect(named.has(name), `${name} has no entry in ERROR_CODES`).toBe(true);
    }
  });

  it('knows every ERR_FARCALL_* code the sources use', () => {
    for (const file of sources(join(root, 'src'))) {
      const text = readFileSync(file, 'utf8');
      for (const [, code] of text.matchAll(/'(ERR_FARCALL_[A-Z0-9_]*[A-Z0-9])'/g))
        expect(isErrorCode(code), `${code} (in ${file}) is not in ERROR_CODES`).toBe(true);
    }
  });

  it('gives each error the code of its class', () => {
    expect(new errors.ConnectError('x').code).toBe('ERR_FARCALL_CONNECT');
    expect(ERROR_CODES[new errors.SQLiteUnavailableError('x').code]).toBe('SQLiteUnavailableError');
    expect(ERROR_CODES[new errors.Server32Error({ name: 'E', message: 'm' }).code]).toBe('Server32Error');
    expect(isErrorCode('ERR_FARCALL_NO_SUCH_CODE')).toBe(false);
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

describe('README', () => {
  it('opens with the install command, then the first example, then the contributor commands', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const install = readme.indexOf('npm install farcall');
    const firstBlock = readme.indexOf('```js\n');
    const contributor = readme.indexOf('npm install && npm start');
    expect(install).toBeGreaterThan(0);
    expect(firstBlock).toBeGreaterThan(install);
    expect(contributor).toBeGreaterThan(firstBlock);
    expect(readme.indexOf('npm install && npm test')).toBeGreaterThan(contributor);
  });

  it("shows examples/first-call.mjs exactly as it ships (the file's first line is its run comment)", () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const start = readme.indexOf('```js\n') + '```js\n'.length;
    const shown = readme.slice(start, readme.indexOf('```', start));
    const example = readFileSync(join(root, 'examples', 'first-call.mjs'), 'utf8');
    expect(shown).toBe(example.slice(example.indexOf('\n') + 1));
  });
});

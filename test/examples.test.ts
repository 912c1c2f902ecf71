import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
// Every example whose header says how to run it (`node examples/<name>.mjs`); the others are modules the
// runnable ones load (a Server32 module, a worker).
const examples = readdirSync(join(root, 'examples')).filter(
  (name) =>
    name.endsWith('.mjs') &&
    readFileSync(join(root, 'examples', name), 'utf8').includes(`node examples/${name}`),
);

/** What each example must print (a line each, in order, anywhere in its output). */
const expected: Record<string, RegExp[]> = {
  'loadlib-client.mjs': [
    /add\(1, 2\) = 3/,
    /circumference\(0\.5, 65536\) = 3\.14159/,
    /the server printed: bye: ExampleServer is shutting down/,
    /distance_4_points\(unit square\) = 4/,
  ],
  'network-quickstart.mjs': [/notification:/, /celsius: 21\.5/, /fahrenheit: 70\.7/, /settled/],
  'rpc-spawner.mjs': [
    /\[sensor\] sensor ready/,
    /the sensor lives in pid \d+/,
    /sample/,
    /streamed 3 samples/,
    /\[sensor\] sensor closed/,
  ],
  'rpc-scanner.mjs': [/scanning at 10 Hz/, /running/, /sample 0\.42/, /all good/, /scanning at 20 Hz/],
};

describe('examples', () => {
  it.each(examples)('%s runs to completion and prints what its comments promise', async (name) => {
    const { stdout } = await run(process.execPath, [join(root, 'examples', name)], {
      cwd: root,
      timeout: 30_000,
    });
    let rest = stdout;
    for (const line of expected[name] ?? [/\S/]) {
      const match = line.exec(rest);
      expect(match, `${name} should print ${line}`).not.toBeNull();
      rest = rest.slice((match?.index ?? 0) + (match?.[0].length ?? 0));
    }
  });
});

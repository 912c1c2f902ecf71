import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
// Every example whose header says how to run it (`node examples/<name>.mjs`, `node examples/rpc/<name>.mjs`);
// the others are modules the runnable ones load (a Server32 module, a worker).
const examples = ['', 'rpc/'].flatMap((dir) =>
  readdirSync(join(root, 'examples', dir))
    .map((file) => `${dir}${file}`)
    .filter(
      (name) =>
        name.endsWith('.mjs') &&
        readFileSync(join(root, 'examples', name), 'utf8').includes(`node examples/${name}`),
    ),
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
  'rpc/errors.mjs': [
    /^true channel 7 is not connected E_SCAN 7$/m,
    /^true CalibrationError .*no calibration file$/m,
  ],
  'rpc/inspect.mjs': [
    /^\[ObjectProxy 'scanner' of tcp:\/\/127\.0\.0\.1:\d+\]$/m,
    /^\[ObjectProxy Report #\d+ of tcp:\/\/127\.0\.0\.1:\d+\]$/m,
    /^\[ObjectProxy Report #\d+ of tcp:\/\/\S+ \.summary\]$/m,
  ],
  'rpc/construct.mjs': [/^norm 5$/m, /^channel 2$/m],
  'rpc/hooks.mjs': [
    /^connected: tcp:\/\/127\.0\.0\.1:\d+$/m,
    /^disconnected: tcp:\/\/127\.0\.0\.1:\d+ - .*closed the connection/m,
    /^the client got 3$/m,
  ],
  'rpc/iterate.mjs': [
    /^sample 20$/m,
    /^sample 20\.1$/m,
    /^sample 20\.2$/m,
    /^the generator stopped on the server$/m,
    /^loop done$/m,
  ],
  'rpc/dispose.mjs': [/^read data$/m, /^the session closed on the server$/m, /^disposed$/m],
  'rpc/server-handle.mjs': [
    /^names scanner, calc$/m,
    /^ping ms \d+\.\d{3}$/m,
    /^clock difference ms -?\d+$/m,
    /^started$/m,
    /^disconnected: .*the server closed/m,
  ],
  'rpc/expose.mjs': [/^bytes 0\.\.100$/m, /^size 1024$/m, /^truncate refused: true$/m, /^size after 1024$/m],
  'rpc/child-logs.mjs': [
    /^info daq\(\d+\) daq\.loader: loading calibration \{ file: 'cal\.json' \}$/m,
    /^info daq\(\d+\) daq: ready/m,
    /^debug daq\(\d+\) daq\.scan: sample \{ i: 0, value: 20 \}$/m,
    /^warn daq\(\d+\) daq\.scan: many samples \{ count: 3 \}$/m,
  ],
};

describe('examples', () => {
  it.each(examples)('%s runs to completion and prints what its comments promise', async (name) => {
    // Strict: an unhandled rejection anywhere (farcall's or the example's) fails the example.
    const { stdout } = await run(
      process.execPath,
      ['--unhandled-rejections=strict', join(root, 'examples', name)],
      {
        cwd: root,
        timeout: 30_000,
      },
    );
    let rest = stdout;
    for (const line of expected[name] ?? [/\S/]) {
      const match = line.exec(rest);
      expect(match, `${name} should print ${line}`).not.toBeNull();
      rest = rest.slice((match?.index ?? 0) + (match?.[0].length ?? 0));
    }
  });
});

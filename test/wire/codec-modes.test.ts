// The codec's value tests run twice in `npm test`: in this process with msgpackr's native accelerator
// (msgpackr-extract, the default install — proved active below), and in a child vitest with
// MSGPACKR_NATIVE_ACCELERATION_DISABLED=true, where msgpackr reads every string in JavaScript.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { isNativeAccelerationEnabled } from 'msgpackr';
import { expect, test } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const valueTests = ['test/wire/codec-integrity.test.ts', 'test/wire/codec-roundtrip.test.ts'];

test('the native accelerator is active in the main run (msgpackr-extract loaded and used)', () => {
  expect(process.env.MSGPACKR_NATIVE_ACCELERATION_DISABLED).not.toBe('true');
  expect(isNativeAccelerationEnabled).toBe(true);
  // The native module itself loads and extracts strings.
  const extract = createRequire(import.meta.url)('msgpackr-extract') as {
    extractStrings(start: number, end: number, source: ArrayBuffer): unknown;
  };
  const bytes = new Uint8Array([0xa2, 0x68, 0x69]); // fixstr "hi"
  expect(extract.extractStrings(0, bytes.length, bytes.buffer)).toBe('hi');
});

test('the value tests pass with MSGPACKR_NATIVE_ACCELERATION_DISABLED=true', () => {
  const vitest = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));
  const run = spawnSync(process.execPath, [vitest, 'run', '--reporter=dot', ...valueTests], {
    cwd: root,
    env: { ...process.env, MSGPACKR_NATIVE_ACCELERATION_DISABLED: 'true', NO_COLOR: '1' },
    encoding: 'utf8',
    timeout: 240_000,
  });
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips terminal colours
  const output = `${run.stdout}\n${run.stderr}`.replace(/\u001b\[[0-9;]*m/g, '');
  expect(run.status, output).toBe(0);
  // The child really ran the JavaScript path (its own check of the mode) and every file.
  expect(output).toMatch(/Test Files\s+2 passed/);
}, 300_000);

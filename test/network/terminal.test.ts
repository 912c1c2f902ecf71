import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  jsonDecodeErrorMessage,
  parseTerminalLine,
  scanArguments,
  scanKeywords,
} from '../../src/network/protocol/terminal.js';

const execFileAsync = promisify(execFile);
const TERMINAL_MODULE = new URL('../../dist/network/protocol/terminal.js', import.meta.url).href;

function requestOf(line: string) {
  const input = parseTerminalLine(line);
  if (input?.kind !== 'request') throw new Error(`not a request: ${line}`);
  return input.message;
}

describe('parseTerminalLine', () => {
  it('reads the request typed in capture C, with args, kwargs and Python literals', () => {
    expect(requestOf('Echo echo 1 2.5 "a b" x=3 flag=true none=null')).toEqual({
      service: 'Echo',
      attribute: 'echo',
      args: [1, 2.5, 'a b'],
      kwargs: { x: 3, flag: true, none: null },
      uid: '',
      error: false,
    });
  });

  it('keeps the member order the Python Manager forwards', () => {
    expect(Object.keys(requestOf('Echo echo 1'))).toEqual([
      'service',
      'attribute',
      'args',
      'kwargs',
      'uid',
      'error',
    ]);
  });

  it('reads keyword-only and argument-less requests', () => {
    expect(requestOf('Echo echo x=2')).toMatchObject({ args: [], kwargs: { x: 2 } });
    expect(requestOf('Echo echo')).toMatchObject({ args: [], kwargs: {} });
  });

  it('takes positional arguments up to the first key=value, even when the key text appears earlier', () => {
    expect(requestOf('Echo echo max x=1')).toMatchObject({ args: ['max'], kwargs: { x: 1 } });
  });

  it('accepts a quoted service name and single quotes', () => {
    expect(requestOf(`"My Service" read 'a b' [1,2] None TRUE`)).toMatchObject({
      service: 'My Service',
      attribute: 'read',
      args: ['a b', [1, 2], null, true],
    });
  });

  it('reads identity, link, client and disconnect commands', () => {
    expect(requestOf('identity')).toMatchObject({ service: 'Manager', attribute: 'identity' });
    expect(requestOf('link Echo')).toMatchObject({ service: 'Manager', attribute: 'link', args: ['Echo'] });
    expect(parseTerminalLine('client Raw Terminal')).toEqual({
      kind: 'identity',
      identity: { type: 'client', name: 'Raw Terminal', language: 'unknown', os: 'unknown' },
    });
    expect(parseTerminalLine('client')).toMatchObject({ identity: { name: 'Client' } });
    for (const word of ['disconnect', 'EXIT', '__disconnect__'])
      expect(parseTerminalLine(word)).toEqual({ kind: 'disconnect' });
  });

  it('gives up on a line without a service and an attribute', () => {
    expect(parseTerminalLine('garbage')).toBeUndefined();
    expect(parseTerminalLine('   ')).toBeUndefined();
  });

  it('leaves words that are not literals as strings', () => {
    expect(requestOf('Dev set 0x10 nan mode=fast')).toMatchObject({
      args: [16, 'nan'],
      kwargs: { mode: 'fast' },
    });
  });
});

describe('jsonDecodeErrorMessage', () => {
  it('matches the Python text for a plain word', () => {
    expect(jsonDecodeErrorMessage('garbage', new SyntaxError('x'))).toBe(
      'JSONDecodeError: Expecting value: line 1 column 1 (char 0)',
    );
  });
});

// The regular expressions the scanner replaced: the reference for what it must find (on short lines,
// where their quadratic backtracking costs nothing).
const OLD_ARG = /\s*((?:[^"\s]+)|"(?:[^"]*)")/g;
const OLD_KWARG = /(\w+)\s*=\s*((?:[^"\s]+)|"(?:[^"]*)")/g;

describe('the terminal scanner', () => {
  it('finds the same keywords and arguments as the regular expressions it replaced', () => {
    const alphabet = fc.constantFrom('a', 'b', '_', '1', ' ', '  ', '=', '"', '.', '[', ']', ',', '\t', 'é');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 40 }), (chars) => {
        const text = chars.join('');
        const expectedKeywords = [...text.matchAll(OLD_KWARG)].map((m) => ({
          start: m.index,
          key: m[1],
          value: m[2],
        }));
        expect(scanKeywords(text)).toEqual(expectedKeywords);
        const end = expectedKeywords.length > 0 ? expectedKeywords[0].start : text.length;
        expect(scanArguments(text, end)).toEqual([...text.slice(0, end).matchAll(OLD_ARG)].map((m) => m[1]));
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps a key named __proto__ as a member, not as the prototype', () => {
    const message = requestOf('Echo echo __proto__=1');
    expect(Object.getPrototypeOf(message.kwargs)).toBe(Object.prototype);
    expect(Object.hasOwn(message.kwargs, '__proto__')).toBe(true);
  });

  // Run in a child process (the built module), so that a parser that is not linear fails this test at
  // its deadline instead of blocking the test runner for hours. One line of 16n characters is compared
  // loosely with 16 lines of n: linear work costs about the same, the old quadratic one 16 times more.
  it('reads adversarial lines of a MiB in time linear in their length', async () => {
    const script = `
      const { parseTerminalLine } = await import(${JSON.stringify(TERMINAL_MODULE)});
      const shapes = {
        word: (n) => 'Svc attr ' + 'a'.repeat(n),
        spaces: (n) => 'Svc attr a' + ' '.repeat(n) + '"',
        keys: (n) => 'Svc attr ' + 'a '.repeat(n / 2),
        equals: (n) => 'Svc attr ' + 'a ='.repeat(n / 3),
        quotes: (n) => 'Svc attr ' + 'a="'.repeat(1) + 'b'.repeat(n),
      };
      const best = (f) => { let t = Infinity; for (let i = 0; i < 5; i++) { const s = process.hrtime.bigint(); f(); t = Math.min(t, Number(process.hrtime.bigint() - s)); } return t; };
      const out = {};
      for (const [name, make] of Object.entries(shapes)) {
        const large = make(1024 * 1024);
        const smalls = Array.from({ length: 16 }, () => make(64 * 1024));
        const one = () => parseTerminalLine(large);
        const sixteen = () => { for (const small of smalls) parseTerminalLine(small); };
        one(); sixteen();
        out[name] = best(one) / best(sixteen);
      }
      process.stdout.write(JSON.stringify(out));
    `;
    const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', script], {
      timeout: 60_000,
    });
    const ratios = JSON.parse(stdout) as Record<string, number>;
    for (const [shape, ratio] of Object.entries(ratios)) {
      expect(
        ratio,
        `${shape}: one line of 1 MiB cost ${ratio.toFixed(1)} times 16 lines of 64 KiB`,
      ).toBeLessThan(5);
    }
  }, 90_000);
});

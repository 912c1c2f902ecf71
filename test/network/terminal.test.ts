import { describe, expect, it } from 'vitest';
import { jsonDecodeErrorMessage, parseTerminalLine } from '../../src/network/terminal.js';

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

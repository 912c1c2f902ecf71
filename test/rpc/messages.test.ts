import { describe, expect, test } from 'vitest';
import { Action, MessageKind, peekMessageHead } from '../../src/rpc/messages.js';
import { Codec } from '../../src/wire/codec.js';

const codec = new Codec();
const hex = (bytes: Uint8Array) =>
  Buffer.from(bytes)
    .toString('hex')
    .replace(/(..)(?!$)/g, '$1 ');

describe('message bytes (the examples of docs/protocol.md)', () => {
  test('root.add(1, 2) with id 7 is 13 bytes', () => {
    expect(hex(codec.encode([MessageKind.REQUEST, 7, Action.CALL, 0, ['add'], [1, 2]]))).toBe(
      '96 02 07 00 00 91 a3 61 64 64 92 01 02',
    );
  });

  test('a request that wants no reply has a nil id', () => {
    expect(hex(codec.encode([MessageKind.REQUEST, null, Action.CALL, 'log', ['write'], ['hi']]))).toBe(
      '96 02 c0 00 a3 6c 6f 67 91 a5 77 72 69 74 65 91 a2 68 69',
    );
  });

  test('a reply, a release and a close', () => {
    expect(hex(codec.encode([MessageKind.REPLY, 7, 3]))).toBe('93 03 07 03');
    expect(hex(codec.encode([MessageKind.RELEASE, 3, 2]))).toBe('93 05 03 02');
    expect(hex(codec.encode([MessageKind.CLOSE, 'bye']))).toBe('92 07 a3 62 79 65');
  });
});

describe('peekMessageHead', () => {
  test('reads the kind and id of a request whose body does not decode', () => {
    const body = Buffer.from([0x96, 0x02, 0xcd, 0x01, 0x2c, 0xc1]);
    expect(peekMessageHead(body)).toEqual({ kind: MessageKind.REQUEST, id: 300 });
  });

  test('reads a 32-bit id', () => {
    const body = Buffer.from([0x93, 0x03, 0xce, 0xff, 0xff, 0xff, 0xfe]);
    expect(peekMessageHead(body)).toEqual({ kind: MessageKind.REPLY, id: 0xfffffffe });
  });

  test('gives up on anything that is not [kind, id, …', () => {
    expect(peekMessageHead(Buffer.from([0x01]))).toBeUndefined();
    expect(peekMessageHead(Buffer.from([0x92, 0x05, 0x01]))).toBeUndefined();
    expect(peekMessageHead(Buffer.from([0x96, 0x02, 0xc0]))).toBeUndefined();
    expect(peekMessageHead(Buffer.alloc(0))).toBeUndefined();
  });
});

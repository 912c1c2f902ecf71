import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringifyJson } from '../../src/network/protocol/json.js';
import {
  classifyMessage,
  errorMessage,
  handshakeRequest,
  parseIdentity,
  pythonRepr,
  replyMessage,
} from '../../src/network/protocol/messages.js';

describe('builders write the member order of the captures', () => {
  it('handshake requests, replies and errors', () => {
    expect(stringifyJson(handshakeRequest('identity', [], 'Manager[vm:18753]'))).toBe(
      '{"args": [], "attribute": "identity", "error": false, "kwargs": {}, "requester": "Manager[vm:18753]", "uid": ""}',
    );
    expect(stringifyJson(replyMessage({ result: 18755, requester: 'Admin[vm:33148]', uid: '' }))).toBe(
      '{"error": false, "requester": "Admin[vm:33148]", "result": 18755, "uid": ""}',
    );
    expect(
      stringifyJson(
        errorMessage({
          message: 'ValueError: Wrong login password',
          requester: 'Manager[vm:18755]',
          uid: '',
        }),
      ),
    ).toBe(
      '{"error": true, "message": "ValueError: Wrong login password", "requester": "Manager[vm:18755]", "result": null, "traceback": [], "uid": ""}',
    );
  });
});

describe('classifyMessage', () => {
  it('sorts replies, notifications, leaves and requests as the Python Manager does', () => {
    expect(classifyMessage({ result: 1, requester: 'a', uid: 'x', error: false }).kind).toBe('reply');
    expect(
      classifyMessage({ error: true, message: 'E: x', result: null, requester: 'a', uid: 'x' }).kind,
    ).toBe('reply');
    expect(classifyMessage({ error: false, result: [[], {}], service: 'S', uid: 'notification' }).kind).toBe(
      'notification',
    );
    expect(classifyMessage({ service: 'Notifier[vm:42640]', attribute: '__disconnect__' }).kind).toBe(
      'disconnect',
    );
    expect(classifyMessage({ service: 'Echo', attribute: 'echo', args: [], kwargs: {}, uid: 'u' }).kind).toBe(
      'request',
    );
  });

  it('reports what is wrong, with the uid when there is one', () => {
    expect(classifyMessage({ attribute: 'x', uid: 'u1' })).toEqual({
      kind: 'invalid',
      reason: "KeyError: 'service'",
      uid: 'u1',
    });
    expect(classifyMessage({ service: 'S', uid: 'u2' })).toMatchObject({
      reason: "KeyError: 'attribute'",
      uid: 'u2',
    });
    expect(classifyMessage([1])).toMatchObject({ kind: 'invalid', uid: undefined });
    expect(classifyMessage({ service: 'S', attribute: 'a', kwargs: [] })).toMatchObject({ kind: 'invalid' });
    expect(classifyMessage({ service: 'S', attribute: 'a', uid: 5 })).toMatchObject({ kind: 'invalid' });
  });
});

describe('parseIdentity', () => {
  it('accepts clients and services, filling max_clients', () => {
    expect(parseIdentity({ type: 'Client', name: 'A' })).toEqual({
      ok: true,
      identity: { type: 'client', name: 'A', language: undefined, os: undefined },
    });
    const service = parseIdentity({ type: 'service', name: 'S', attributes: { ping: '()' } });
    expect(service).toMatchObject({ ok: true, identity: { type: 'service', max_clients: -1 } });
  });

  it('refuses bad identities with the Python texts', () => {
    expect(parseIdentity({ type: 'robot', name: 'R' })).toEqual({
      ok: false,
      message: `TypeError: Unknown connection type 'robot'. Must be "client" or "service"`,
    });
    expect(parseIdentity({ type: 'client' })).toEqual({ ok: false, message: "KeyError: 'name'" });
    expect(parseIdentity('client Bob')).toMatchObject({ ok: false });
    expect(parseIdentity({ type: 'service', name: 'S', attributes: {}, max_clients: 'two' })).toMatchObject({
      ok: false,
    });
  });
});

describe('pythonRepr', () => {
  it('quotes like Python', () => {
    expect(pythonRepr('Echo')).toBe("'Echo'");
    expect(pythonRepr("the 'Nope' service")).toBe(`"the 'Nope' service"`);
    expect(pythonRepr(['Q[vm:1]', 'R[vm:2]'])).toBe("['Q[vm:1]', 'R[vm:2]']");
    expect(pythonRepr({ a: true, b: null, c: Number.NaN })).toBe("{'a': True, 'b': None, 'c': nan}");
  });

  // The fast path (a string with nothing to escape is only quoted) gives what the escaping loop gives.
  // A trailing newline sends any string through the loop without changing its choice of quote; the loop
  // writes it as `\n` just before the closing quote.
  it('quotes every string as the escaping loop does', () => {
    const loop = (value: string): string => {
      const escaped = pythonRepr(`${value}\n`);
      return escaped.slice(0, -3) + escaped.slice(-1);
    };
    const tricky = fc.constantFrom("'", '"', '\\', '\n', '\r', '\t', 'a', '\u0000', '\ud800', 'é', '😀');
    const text = fc.oneof(
      fc.string({ unit: 'grapheme' }),
      fc.string({ unit: 'binary' }),
      fc.array(tricky).map((parts) => parts.join('')),
    );
    fc.assert(
      fc.property(text, (value) => {
        expect(pythonRepr(value)).toBe(loop(value));
      }),
      { numRuns: 3000 },
    );
  });
});

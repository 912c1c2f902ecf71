import { afterEach, describe, expect, test } from 'vitest';
import { AccessDeniedError, RemoteError } from '../../src/errors.js';
import { Connection } from '../../src/rpc/connection.js';
import {
  MAX_ERROR_FIELD_BYTES,
  MAX_ERROR_FIELDS,
  registerError,
  unregisterError,
} from '../../src/rpc/error-registry.js';
import { MessageKind } from '../../src/rpc/messages.js';
import { onCleanup, RawPeer, serverAndClient, socketPair } from './helpers.js';

class Instrument {
  measure(): number {
    throw new RangeError('the signal is out of range');
  }
  async calibrate(): Promise<void> {
    await Promise.resolve();
    const error = new Error('no reference') as Error & { code: string };
    error.code = 'E_NOREF';
    throw error;
  }
  throwString(): never {
    throw 'just a string';
  }
  _internal(): void {}
  returnError(): Error {
    return new TypeError('as a value');
  }
}

async function instrument(policy = {}) {
  const { client } = await serverAndClient({ instrument: new Instrument() }, { policy });
  return client.get<Instrument>('instrument');
}

describe('remote errors', () => {
  test('a remote throw rejects with RemoteError carrying the remote name and message', async () => {
    const error = (await (await instrument()).measure().catch((e: unknown) => e)) as RemoteError;
    expect(error).toBeInstanceOf(RemoteError);
    expect(error.remoteName).toBe('RangeError');
    expect(error.message).toBe('RangeError: the signal is out of range');
  });

  test('the remote stack shows where the error was thrown on the server', async () => {
    const error = (await (await instrument()).measure().catch((e: unknown) => e)) as RemoteError;
    expect(error.remoteStack).toContain('Instrument.measure');
  });

  test('the local stack shows where the call was made here', async () => {
    const proxy = await instrument();
    async function callSiteOfTheTest(): Promise<unknown> {
      return await proxy.measure();
    }
    const error = (await callSiteOfTheTest().catch((e: unknown) => e)) as RemoteError;
    expect(error.stack).toContain('callSiteOfTheTest');
  });

  test('the remote error code travels as remoteCode, also from async methods', async () => {
    const error = (await (await instrument()).calibrate().catch((e: unknown) => e)) as RemoteError;
    expect(error.remoteCode).toBe('E_NOREF');
    expect(error.remoteName).toBe('Error');
  });

  test('the policy can withhold the remote stack', async () => {
    const proxy = await instrument({ includeRemoteStack: false });
    const error = (await proxy.measure().catch((e: unknown) => e)) as RemoteError;
    expect(error).toBeInstanceOf(RemoteError);
    expect(error.remoteStack).toBeUndefined();
  });

  test('a thrown non-Error value becomes a RemoteError that shows it', async () => {
    const error = (await (await instrument()).throwString().catch((e: unknown) => e)) as RemoteError;
    expect(error).toBeInstanceOf(RemoteError);
    expect(error.message).toContain('just a string');
  });

  test('a denied member rejects with AccessDeniedError naming it', async () => {
    const proxy = (await instrument()) as unknown as { _internal(): Promise<void> };
    const error = (await proxy._internal().catch((e: unknown) => e)) as AccessDeniedError;
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect(error.member).toBe('_internal');
    expect(error.message).toContain("'_internal'");
  });

  test('a member that does not exist rejects with a RemoteError naming it', async () => {
    const proxy = (await instrument()) as unknown as { mesure(): Promise<number> };
    const error = (await proxy.mesure().catch((e: unknown) => e)) as RemoteError;
    expect(error.remoteName).toBe('TypeError');
    expect(error.message).toContain("has no member 'mesure'");
  });

  test('an Error returned as a value arrives as a RemoteError value, not a rejection', async () => {
    const value = await (await instrument()).returnError();
    expect(value).toBeInstanceOf(RemoteError);
    expect((value as RemoteError).remoteName).toBe('TypeError');
  });

  test('a value that cannot be encoded rejects the call locally with a TypeError', async () => {
    const proxy = (await instrument()) as unknown as { measure(x: unknown): Promise<number> };
    await expect(proxy.measure(Symbol('nope'))).rejects.toThrow();
  });
});

class ScanError extends Error {
  code = 'E_SCAN';
  channel = 3;
  limits = { low: 0, high: 10 };
  callback = () => 1;
}

class Scanner {
  start(rate: number): never {
    throw new ScanError(`rate ${rate} is too high`);
  }
  huge(): never {
    const error = new ScanError('lots of fields') as ScanError & Record<string, unknown>;
    for (let i = 0; i < 100; i++) error[`f${i}`] = 'x'.repeat(1000);
    throw error;
  }
}

describe('remote error classes', () => {
  afterEach(() => {
    unregisterError('ScanError');
  });

  test('a thrown subclass arrives with its class name and own fields as a RemoteError', async () => {
    const { client } = await serverAndClient({ scanner: new Scanner() });
    const error = (await client
      .get<Scanner>('scanner')
      .start(99)
      .catch((e: unknown) => e)) as RemoteError;
    expect(error).toBeInstanceOf(RemoteError);
    expect(error.remoteName).toBe('ScanError');
    expect(error.remoteCode).toBe('E_SCAN');
    expect(error.remoteFields).toEqual({ code: 'E_SCAN', channel: 3, limits: { low: 0, high: 10 } });
  });

  test('registerError rebuilds the class: instanceof works and the fields are set', async () => {
    registerError(ScanError);
    const { client } = await serverAndClient({ scanner: new Scanner() });
    const error = (await client
      .get<Scanner>('scanner')
      .start(99)
      .catch((e: unknown) => e)) as ScanError & { remoteStack?: string };
    expect(error).toBeInstanceOf(ScanError);
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe('rate 99 is too high');
    expect(error.code).toBe('E_SCAN');
    expect(error.channel).toBe(3);
    expect(error.remoteStack).toContain('Scanner.start');
  });

  test('the fields sent are bounded in count and size', async () => {
    const { client } = await serverAndClient({ scanner: new Scanner() });
    const error = (await client
      .get<Scanner>('scanner')
      .huge()
      .catch((e: unknown) => e)) as RemoteError;
    const names = Object.keys(error.remoteFields);
    expect(names.length).toBeLessThanOrEqual(MAX_ERROR_FIELDS);
    expect(JSON.stringify(error.remoteFields).length).toBeLessThan(MAX_ERROR_FIELD_BYTES + 2000);
    expect(error.remoteFields.code).toBe('E_SCAN');
  });

  test('a peer only picks among registered classes, and its fields never reach a prototype', async () => {
    registerError(ScanError);
    const [ours, theirs] = await socketPair();
    const connection = new Connection(ours, { peerName: 'raw peer' });
    onCleanup(() => connection.close());
    const peer = new RawPeer(theirs);
    const asked = (name: string, fields: unknown) => {
      const call = connection.call('start', []).catch((e: unknown) => e);
      void peer.next(MessageKind.REQUEST).then((request) => {
        peer.send([MessageKind.ERROR, request[1], name, 'boom', null, null, null, fields]);
      });
      return call;
    };
    const polluting = { toString: 2, start: 'not a method', ok: 1 };
    const built = (await asked('ScanError', polluting)) as ScanError;
    expect(built).toBeInstanceOf(ScanError);
    expect(typeof built.toString).toBe('function');
    expect((built as unknown as { ok: number }).ok).toBe(1);
    expect(built.constructor).toBe(ScanError);
    const other = (await asked('Function', { a: 1 })) as RemoteError;
    expect(other).toBeInstanceOf(RemoteError);
    expect(other.remoteName).toBe('Function');
    expect(other.remoteFields).toEqual({ a: 1 });
    const many = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, i]));
    const bounded = (await asked('Whatever', many)) as RemoteError;
    expect(Object.keys(bounded.remoteFields).length).toBe(MAX_ERROR_FIELDS);
  });
});

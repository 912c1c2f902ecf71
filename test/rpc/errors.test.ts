import { describe, expect, test } from 'vitest';
import { AccessDeniedError, RemoteError } from '../../src/errors.js';
import { serverAndClient } from './helpers.js';

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

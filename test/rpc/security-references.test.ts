// Issue 7 §1: a reference is a capability of the connection it was given to. Over real sockets, a hostile
// peer (a RawPeer speaking the protocol by hand) tries to reach and pin objects lent to another client.
import * as net from 'node:net';
import { describe, expect, test } from 'vitest';
import { Action, MessageKind } from '../../src/rpc/messages.js';
import { proxyParts, release } from '../../src/rpc/proxy.js';
import { ImportedTarget } from '../../src/rpc/references.js';
import { RemoteReference } from '../../src/wire/codec.js';
import { connectClient, onCleanup, rawPeer, serverAndClient, until } from './helpers.js';

class Vault {
  readonly #secret: string;
  constructor(secret: string) {
    this.#secret = secret;
  }
  open(): string {
    return this.#secret;
  }
}

const bank = {
  vault: (secret: string) => new Vault(secret),
  /** Opens a vault handed in as an argument (the server's own object, when a peer sends it back). */
  peek: (vault: unknown) => (vault instanceof Vault ? vault.open() : 'not a vault'),
};

/** The owner's id of the object behind `proxy`. */
function idOf(proxy: unknown): number {
  const target = proxyParts(proxy as object)?.target;
  if (!(target instanceof ImportedTarget)) throw new Error('not an imported proxy');
  return target.id;
}

async function victimWithVault() {
  const { server, client } = await serverAndClient({ bank });
  const vault = await client.get<typeof bank>('bank').vault('s3cret');
  expect(await vault.open()).toBe('s3cret');
  return { server, client, vault, id: idOf(vault) };
}

describe('forged reference ids', () => {
  test('ids are not counted up: two objects lent in a row get unrelated, large ids', async () => {
    const { client } = await serverAndClient({ bank });
    const a = idOf(await client.get<typeof bank>('bank').vault('a'));
    const b = idOf(await client.get<typeof bank>('bank').vault('b'));
    expect(Math.abs(a - b)).toBeGreaterThan(1000);
    expect(Number.isSafeInteger(a) && Number.isSafeInteger(b)).toBe(true);
  });

  test('another client cannot call an object lent to someone else, by its exact id or by counting', async () => {
    const { server, vault, id } = await victimWithVault();
    const { peer } = await rawPeer(server);
    const targets = [id, ...Array.from({ length: 64 }, (_, i) => i + 1)];
    for (const [n, target] of targets.entries())
      peer.send([MessageKind.REQUEST, n + 1, Action.CALL, target, ['open'], []]);
    for (let n = 1; n <= targets.length; n++) {
      const answer = await peer.next(MessageKind.ERROR, (m) => m[1] === n).catch(() => undefined);
      expect(answer, `request ${n} (target ${targets[n - 1]}) got no ERROR`).toBeDefined();
      expect(String(answer?.[3])).toMatch(/is not lent to this peer/);
    }
    expect(peer.received.filter((m) => m[0] === MessageKind.REPLY)).toEqual([]);
    // The victim is still served.
    expect(await vault.open()).toBe('s3cret');
  });

  test("another client cannot pass someone else's id as an argument to make it the server's object", async () => {
    const { server, id } = await victimWithVault();
    const { peer, serverOwnerId } = await rawPeer(server);
    for (const [n, objectId] of [id, 1, 2, 3].entries()) {
      const forged = new RemoteReference(serverOwnerId, objectId, null, false, 'Vault');
      peer.send([MessageKind.REQUEST, n + 1, Action.CALL, 'bank', ['peek'], [forged]]);
    }
    for (let n = 1; n <= 4; n++) {
      const answer = await peer.next(MessageKind.ERROR, (m) => m[1] === n);
      expect(String(answer[3])).toMatch(/not lent to it/);
    }
    expect(peer.received.filter((m) => m[0] === MessageKind.REPLY)).toEqual([]);
  });

  test('the connection an object was lent to can send it back and use it', async () => {
    const { client, vault } = await victimWithVault();
    expect(await client.get<typeof bank>('bank').peek(vault)).toBe('s3cret');
  });

  test("a second connection of the same process does not inherit the first one's ids", async () => {
    const { server, id } = await victimWithVault();
    const other = await connectClient(server.address as string);
    await expect(other.connection.request(Action.CALL, id, ['open'], [], {})).rejects.toThrow(
      /is not lent to this peer/,
    );
  });
});

describe('RETAIN', () => {
  test("RETAIN of an id the peer does not hold is refused: it cannot pin another client's object", async () => {
    const { server, vault, id } = await victimWithVault();
    const { peer, served } = await rawPeer(server);
    peer.send([MessageKind.RETAIN, id, 1000]);
    peer.send([MessageKind.REQUEST, 1, Action.PING, 0, [], ['after']]);
    await peer.next(MessageKind.REPLY);
    expect(served.stats.malformedMessages).toBe(1);
    release(vault);
    await until(() => server.lentObjects === 0);
    expect(server.lentObjects).toBe(0);
  });

  test('references a peer forwarded (RETAIN) and nobody claimed are given back when that peer goes', async () => {
    const { server, client, id } = await victimWithVault();
    // The victim's own connection forwards its vault (as a forwarding process would), then disconnects.
    client.connection.sendRetain(id, 3);
    await client.ping();
    expect(server.lentObjects).toBe(1);
    await client.close();
    await until(() => server.lentObjects === 0);
    expect(server.lentObjects).toBe(0);
  });

  test('RELEASE of more than a peer holds frees nothing that another peer holds', async () => {
    const { server, vault, id } = await victimWithVault();
    const { peer } = await rawPeer(server);
    peer.send([MessageKind.RELEASE, id, 1]);
    peer.send([MessageKind.REQUEST, 1, Action.PING, 0, [], ['after']]);
    await peer.next(MessageKind.REPLY);
    expect(server.lentObjects).toBe(1);
    expect(await vault.open()).toBe('s3cret');
  });
});

describe('references that carry an address', () => {
  /** 20 listeners that count the connections made to them, and references naming them. */
  async function decoys(): Promise<{ references: RemoteReference[]; connections: () => number }> {
    let connections = 0;
    const references: RemoteReference[] = [];
    for (let i = 0; i < 20; i++) {
      const listener = net.createServer((socket) => {
        connections++;
        socket.destroy();
      });
      await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
      onCleanup(() => new Promise<void>((resolve) => listener.close(() => resolve())));
      const { port } = listener.address() as net.AddressInfo;
      references.push(new RemoteReference(`decoy-${i}`, 7, `tcp://127.0.0.1:${port}`, false, 'Decoy'));
    }
    return { references, connections: () => connections };
  }

  const sink = { ignore: (..._args: unknown[]) => 'ignored' };

  test('by default such a reference is refused, and the server connects nowhere', async () => {
    const { server } = await serverAndClient({ sink });
    const { references, connections } = await decoys();
    const { peer } = await rawPeer(server);
    peer.send([MessageKind.REQUEST, 1, Action.CALL, 'sink', ['ignore'], references]);
    const answer = await peer.next(MessageKind.ERROR);
    expect(answer[4]).toBe('ERR_FARCALL_UNREACHABLE_OWNER');
    expect(String(answer[3])).toContain('allowOwnerConnections');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(connections()).toBe(0);
  });

  test('with an allow-list, decoding still connects nowhere: only using the proxy would', async () => {
    const { server } = await serverAndClient({ sink }, { allowOwnerConnections: ['*'] });
    const { references, connections } = await decoys();
    const { peer } = await rawPeer(server);
    peer.send([MessageKind.REQUEST, 1, Action.CALL, 'sink', ['ignore'], references]);
    expect(await peer.next(MessageKind.REPLY)).toEqual([MessageKind.REPLY, 1, 'ignored']);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(connections()).toBe(0);
  });

  test("a process that does not allow the owner gets third-party proxies as the forwarder's own objects", async () => {
    // A lends a sensor to B; B hands it to C (here: another server in this process, with no allow-list).
    const owner = await serverAndClient({ lab: { sensor: () => new Vault('from A') } });
    const consumer = await serverAndClient({ relay: { open: (v: { open(): Promise<string> }) => v.open() } });
    const borrowed = await owner.client.get<{ sensor(): Vault }>('lab').sensor();
    expect(await consumer.client.get<{ open(v: unknown): string }>('relay').open(borrowed)).toBe('from A');
    expect(owner.server.connections.size).toBe(1);
  });
});

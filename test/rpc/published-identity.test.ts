// A proxy of a published name, sent back to the server that publishes it, arrives as the server's object.
import { describe, expect, test } from 'vitest';
import { Connection } from '../../src/rpc/connection.js';
import { onCleanup, serverAndClient, socketPair } from './helpers.js';

class Table {
  rows = [1, 2, 3];
  count(): number {
    return this.rows.length;
  }
}

describe('published names sent back to their owner', () => {
  test("client.get('t') passed to the server is the server's own object", async () => {
    const table = new Table();
    const seen: unknown[] = [];
    const registry = {
      isTable: (value: unknown) => {
        seen.push(value);
        return value === table;
      },
      countOf: (value: Table) => value.count(),
    };
    const { client } = await serverAndClient({ t: table, registry });
    const remote = client.get<typeof registry>('registry');
    expect(await remote.isTable(client.get('t'))).toBe(true);
    // the owner calls it directly, not through a proxy of a proxy
    expect(await remote.countOf(client.get<Table>('t') as unknown as Table)).toBe(3);
    expect(seen[0]).toBe(table);
  });

  test('a published primitive sent back arrives as its value', async () => {
    const { client } = await serverAndClient({ rate: 44.1, echo: { same: (v: unknown) => v === 44.1 } });
    expect(await client.get<{ same(v: unknown): boolean }>('echo').same(client.get('rate'))).toBe(true);
  });

  test("the peer's root proxy sent back arrives as the root object", async () => {
    const [a, b] = await socketPair();
    const root = { isRoot: (value: unknown) => value === root };
    const served = new Connection(b, { root, side: 'server' });
    const caller = new Connection<typeof root>(a);
    onCleanup(async () => {
      await caller.close();
      await served.close();
    });
    await caller.ready;
    expect(await caller.root.isRoot(caller.root)).toBe(true);
  });

  test('a name that is no longer published fails the call with a clear error', async () => {
    const { server, client } = await serverAndClient({ t: new Table(), registry: { take: () => 1 } });
    const proxy = client.get('t');
    server.delete('t');
    await expect(client.get<{ take(v: unknown): number }>('registry').take(proxy)).rejects.toThrow(
      /published name 't'/,
    );
  });
});

// util.inspect (console.log) of a proxy says what it stands for: Node inspects a Proxy's target without traps.
import { inspect } from 'node:util';
import { describe, expect, test } from 'vitest';
import type { Remote } from '../../src/rpc/proxy.js';
import { serverAndClient } from './helpers.js';

class Report {
  summary(): string {
    return 'all good';
  }
}
class Scanner {
  makeReport(): Report {
    return new Report();
  }
}

describe('util.inspect of a proxy', () => {
  test('an object lent by the server shows its remote type, id and the server', async () => {
    const { server, client } = await serverAndClient({ scanner: new Scanner() });
    const report = (await client.get<Scanner>('scanner').makeReport()) as Remote<Report>;
    const shown = inspect(report);
    expect(shown).toMatch(/^\[ObjectProxy Report #\d+ of /);
    expect(shown).toContain(String(server.address));
    expect(shown).not.toContain('[Function');
  });

  test('a deferred path shows the path', async () => {
    const { client } = await serverAndClient({ scanner: new Scanner() });
    const report = (await client.get<Scanner>('scanner').makeReport()) as Remote<Report>;
    expect(inspect(report.summary)).toMatch(/^\[ObjectProxy Report #\d+ of .* \.summary\]$/);
    expect(inspect({ nested: client.get('scanner') })).toContain("[ObjectProxy 'scanner' of tcp://");
  });

  test('inspecting sends nothing to the server', async () => {
    const { server, client } = await serverAndClient({ scanner: new Scanner() });
    const proxy = client.get('scanner');
    inspect(proxy, { showHidden: true, depth: 5 });
    String(proxy);
    const served = [...server.connections][0];
    expect(served.stats.requestsServed).toBe(0);
  });
});

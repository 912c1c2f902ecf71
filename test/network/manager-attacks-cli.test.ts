// Attacks on a Manager running in its own process (`farcall start`), so that an attack that blocks
// its event loop fails the test at a deadline instead of blocking the test runner.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningManager, startCliManager } from './cli-process.js';
import { connectClient, RawPeer, request, settle } from './raw-peer.js';

let home: string;
let manager: RunningManager | undefined;

async function start(args: string[] = []): Promise<RunningManager> {
  home = mkdtempSync(join(tmpdir(), 'farcall-attack-'));
  manager = await startCliManager(['--port', '0', '--disable-tls', '--log-level', 'error', ...args], {
    FARCALL_HOME: home,
  });
  return manager;
}

afterEach(async () => {
  await manager?.stop('SIGKILL');
  manager = undefined;
  rmSync(home, { recursive: true, force: true });
});

describe('one text line never freezes the Manager', () => {
  it('answers a 1 MiB word line in linear time while a bystander is served', async () => {
    const m = await start();
    const bystander = await connectClient(m.port, 'Bystander');
    await settle(bystander);
    const attacker = await connectClient(m.port, 'Attacker');
    await settle(attacker);
    // The shapes that made the old grammar backtrack: one long word, and words without a value.
    attacker.send(`Svc attr ${'a'.repeat(1024 * 1024)}`);
    attacker.send(`Svc attr ${'a ='.repeat(300_000)}`);
    // The old parser needed about 0.4 h for the first line; the bystander would wait as long.
    for (let i = 0; i < 3; i++) {
      bystander.sendJson(request('Manager', 'identity', [], {}, `b${i}`));
      expect((await bystander.nextJson(15_000)).uid).toBe(`b${i}`);
    }
    for (let i = 0; i < 2; i++) {
      const answer = await attacker.nextJson(15_000);
      expect(answer.error).toBe(true);
      expect(answer.message).toMatch(/KeyError: .*'Svc' Service is not connected/);
    }
    bystander.close();
    attacker.close();
  }, 60_000);

  it('refuses a long line before the identity, and one the peer leaves unfinished when it disconnects', async () => {
    const m = await start();
    const bystander = await connectClient(m.port, 'Bystander');
    await settle(bystander);
    const early = await RawPeer.connect({ port: m.port });
    expect((await early.nextJson()).attribute).toBe('identity');
    early.send(`client ${'a'.repeat(2 * 1024 * 1024)}`);
    const refusal = await early.nextJson(15_000);
    expect(refusal.message).toMatch(
      /^OverflowError: a message of \d+ bytes is over the Manager's limit of \d+ bytes for a line during the handshake/,
    );
    await early.waitClosed(15_000);

    // Without a newline, ended: the line is still bounded by the handshake limit.
    const unfinished = await RawPeer.connect({ port: m.port });
    expect((await unfinished.nextJson()).attribute).toBe('identity');
    unfinished.socket.end(`Svc attr ${'a ='.repeat(700_000)}`);
    await unfinished.waitClosed(15_000);
    bystander.sendJson(request('Manager', 'identity', [], {}, 'after'));
    expect((await bystander.nextJson(15_000)).uid).toBe('after');
    bystander.close();
  }, 60_000);
});

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, connect as tlsConnect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { connect } from '../../src/network/peers/client.js';
import {
  certificateFingerprint,
  generateCertificate,
  loadOrCreateManagerCredentials,
} from '../../src/network/shared/certificates.js';
import { managerFixture } from './manager-fixture.js';
import { connectClient, connectService, RawPeer, request } from './raw-peer.js';

describe('TLS', () => {
  it('is on by default with a self-signed certificate created in FARCALL_HOME, and routes over real TLS', async () => {
    await using f = await managerFixture({ disableTls: false });
    expect(f.manager.tlsEnabled).toBe(true);
    const cert = readFileSync(f.manager.certFile as string, 'utf8');
    expect(f.manager.certFile?.startsWith(f.home)).toBe(true);
    const service = await connectService(f.manager.port, 'Echo', {}, -1, { ca: cert });
    const client = await connectClient(f.manager.port, 'A', { ca: cert });
    client.sendJson(request('Manager', 'link', ['Echo'], {}, 'l'));
    expect((await client.nextJson()).error).toBe(false);
    client.send(
      '{"args": [NaN], "attribute": "echo", "error": false, "kwargs": {}, "service": "Echo", "uid": "t1"}',
    );
    const forwarded = await service.nextJson();
    expect(forwarded.args).toEqual([Number.NaN]);
    service.sendJson({ error: false, requester: forwarded.requester, result: 'over tls', uid: 't1' });
    expect(await client.nextJson()).toMatchObject({ result: 'over tls', uid: 't1' });
  });

  it('serves the same certificate on the next start, so pinned clients keep trusting it', async () => {
    await using f = await managerFixture({ disableTls: false });
    const first = readFileSync(f.manager.certFile as string, 'utf8');
    await f.manager.close();
    await using g = await managerFixture({ disableTls: false, home: f.home });
    const served = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect(
        { port: g.manager.port, host: '127.0.0.1', ca: first, servername: 'localhost' },
        () => {
          resolve(socket.getPeerX509Certificate()?.fingerprint256 ?? '');
          socket.destroy();
        },
      );
      socket.on('error', reject);
    });
    expect(served).toBe(certificateFingerprint(first));
  });

  it('uses an encrypted key with keyFilePassword, and says so when the password is wrong', async () => {
    await using f = await managerFixture({ disableTls: false, keyFilePassword: 'key pw' });
    expect(f.manager.tlsEnabled).toBe(true);
    await f.manager.close();
    await expect(
      managerFixture({ disableTls: false, keyFilePassword: 'wrong', home: f.home }),
    ).rejects.toThrow(/key password is wrong/);
    const creds = loadOrCreateManagerCredentials({ home: f.home, keyFilePassword: 'key pw' });
    expect(creds.key).toContain('ENCRYPTED');
  });

  it("leaves a silent plain peer waiting, as msl-network's Manager does (its Client then says 'You have TLS disabled')", async () => {
    await using f = await managerFixture({ disableTls: false });
    const peer = await RawPeer.connect({ port: f.manager.port });
    // Before: the Manager wrote a JSON error after 1 s, which msl-network's Client raises as ValueError.
    expect(await peer.silentFor(1500)).toBe(true);
    peer.close();
  });

  it("tells a silent plain peer, in plain text, that it must use TLS once farcall's Client probes with TLS", async () => {
    await using f = await managerFixture({ disableTls: false });
    const peer = await RawPeer.connect({ port: f.manager.port });
    await new Promise((resolve) => setTimeout(resolve, 400));
    // farcall's Client, hearing nothing, tries TLS on a second connection from the same address.
    const probe = tlsConnect({ host: '127.0.0.1', port: f.manager.port, rejectUnauthorized: false });
    probe.on('error', () => {});
    const reply = await peer.nextJson();
    probe.destroy();
    expect(reply).toMatchObject({ error: true, uid: '' });
    expect(reply.message).toMatch(/^ConnectionError: this Network Manager uses TLS/);
    await peer.waitClosed();
  });
});

describe('closing', () => {
  it('does not wait for a peer stuck in its TLS handshake', async () => {
    await using f = await managerFixture({ disableTls: false });
    const { connect: netConnect } = await import('node:net');
    const stuck = netConnect({ port: f.manager.port, host: '127.0.0.1' });
    // A TLS record header that promises more bytes than will ever come.
    stuck.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
    stuck.on('error', () => {});
    await new Promise((resolve) => setTimeout(resolve, 100));
    const start = Date.now();
    await f.manager.close();
    expect(Date.now() - start).toBeLessThan(3000);
    stuck.destroy();
  });

  it('offers only forward-secret cipher suites: a client offering only static-RSA AES128-SHA is refused', async () => {
    await using f = await managerFixture({ disableTls: false });
    const cert = readFileSync(f.manager.certFile as string, 'utf8');
    const attempt = (options: { ciphers: string; maxVersion?: 'TLSv1.2' }) =>
      new Promise<string>((resolve) => {
        const socket = tlsConnect({
          port: f.manager.port,
          host: '127.0.0.1',
          ca: cert,
          servername: 'localhost',
          ...options,
        });
        socket.once('secureConnect', () => {
          resolve(`connected with ${socket.getCipher().name}`);
          socket.destroy();
        });
        socket.once('error', (error) => resolve(`refused: ${error.message}`));
      });
    expect(await attempt({ ciphers: 'AES128-SHA', maxVersion: 'TLSv1.2' })).toMatch(/^refused/);
    expect(await attempt({ ciphers: 'AES256-GCM-SHA384:AES128-GCM-SHA256', maxVersion: 'TLSv1.2' })).toMatch(
      /^refused/,
    );
    expect(await attempt({ ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', maxVersion: 'TLSv1.2' })).toBe(
      'connected with ECDHE-RSA-AES128-GCM-SHA256',
    );
    expect(await attempt({ ciphers: 'DEFAULT' })).toMatch(/^connected with TLS_/);
  });

  it('a farcall client offers only forward-secret suites: a static-RSA-only server never gets a secure connection', async () => {
    const home = mkdtempSync(join(tmpdir(), 'farcall-rsa-'));
    try {
      const { certFile, keyFile } = generateCertificate({ home });
      let secured = 0;
      const server = createTlsServer(
        {
          cert: readFileSync(certFile),
          key: readFileSync(keyFile),
          ciphers: 'AES128-SHA',
          maxVersion: 'TLSv1.2',
        },
        (socket) => {
          secured++;
          socket.destroy();
        },
      );
      server.on('tlsClientError', () => {});
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as AddressInfo).port;
      await expect(connect({ host: '127.0.0.1', port, certFile, home, timeout: 5000 })).rejects.toThrow();
      expect(secured).toBe(0);
      await new Promise((resolve) => server.close(resolve));
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

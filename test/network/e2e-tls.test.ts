// TLS: certificate pinning (cache, prompt, autoSave, certFile), changed certificates, hostname checks,
// and the errors for a TLS client meeting a plain Manager and the other way round.
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectError, ConnectionClosedError, TLSError } from '../../src/errors.js';
import { connect } from '../../src/network/peers/client.js';
import {
  certificateFingerprint,
  loadOrCreateManagerCredentials,
} from '../../src/network/shared/certificates.js';
import { type Stage, stage } from './e2e-setup.js';

const stages: Stage[] = [];
afterEach(async () => {
  for (const s of stages.splice(0)) await s.close();
});
async function tracked(options: Parameters<typeof stage>[0]): Promise<Stage> {
  const s = await stage(options);
  stages.push(s);
  return s;
}

describe('certificate pinning', () => {
  it('saves the Manager certificate on first contact with autoSave, then verifies it', async () => {
    const s = await tracked({ tls: true });
    const client = await s.connect();
    expect(client.tlsEnabled).toBe(true);
    const cached = join(s.home, 'certs', '127.0.0.1.crt');
    expect(existsSync(cached)).toBe(true);
    const managerPem = readFileSync(s.manager.certFile as string, 'utf8');
    expect(certificateFingerprint(readFileSync(cached, 'utf8'))).toBe(certificateFingerprint(managerPem));
    const again = await s.connect({ autoSave: false });
    expect(again.isConnected()).toBe(true);
  });

  it('without autoSave and without a terminal, refuses an unknown certificate and says how to trust it', async () => {
    const s = await tracked({ tls: true });
    const fingerprint = certificateFingerprint(readFileSync(s.manager.certFile as string, 'utf8'));
    const error = await s.connect({ autoSave: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TLSError);
    expect((error as Error).message).toContain(fingerprint);
    expect((error as Error).message).toContain('autoSave: true');
  });

  it('shows the fingerprint to the prompt and saves only when trusted', async () => {
    const s = await tracked({ tls: true });
    const questions: string[] = [];
    const refused = await s
      .connect({
        autoSave: false,
        certificatePrompt: async (q) => {
          questions.push(q);
          return false;
        },
      })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TLSError);
    expect(existsSync(join(s.home, 'certs', '127.0.0.1.crt'))).toBe(false);
    const fingerprint = certificateFingerprint(readFileSync(s.manager.certFile as string, 'utf8'));
    expect(questions[0]).toContain(fingerprint);
    const client = await s.connect({ autoSave: false, certificatePrompt: async () => true });
    expect(client.isConnected()).toBe(true);
    expect(existsSync(join(s.home, 'certs', '127.0.0.1.crt'))).toBe(true);
  });

  it('refuses a changed certificate, naming both fingerprints and the file to delete', async () => {
    const first = await tracked({ tls: true });
    await first.connect(); // pins the first Manager's certificate for 127.0.0.1
    const second = await tracked({ tls: true }); // another home: another self-signed certificate
    const error = await connect({ ...second.reach, home: first.home }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TLSError);
    const text = (error as Error).message;
    expect(text).toContain('has changed');
    expect(text).toContain(certificateFingerprint(readFileSync(first.manager.certFile as string, 'utf8')));
    expect(text).toContain(certificateFingerprint(readFileSync(second.manager.certFile as string, 'utf8')));
    expect(text).toContain(join(first.home, 'certs', '127.0.0.1.crt'));
  });

  it('trusts the certFile it is given instead of the cache', async () => {
    const s = await tracked({ tls: true });
    const client = await s.connect({ autoSave: false, certFile: s.manager.certFile });
    expect(client.isConnected()).toBe(true);
    expect(existsSync(join(s.home, 'certs', '127.0.0.1.crt'))).toBe(false);
  });

  it('checks the hostname unless assertHostname is false', async () => {
    const s = await tracked({ tls: true, host: '127.0.0.2' });
    const error = await s.connect({ host: '127.0.0.2' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TLSError);
    expect((error as Error).message).toContain('assertHostname: false');
    const client = await s.connect({ host: '127.0.0.2', assertHostname: false });
    expect(client.isConnected()).toBe(true);
  });
});

describe('TLS / plain mismatch', () => {
  it('a TLS client meeting a plain Manager is told to use disableTls', async () => {
    const s = await tracked({ tls: false });
    const error = await s.connect({ disableTls: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TLSError);
    expect((error as Error).message).toMatch(/does not speak TLS.*disableTls: true/s);
  });

  it('a plain client meeting a TLS Manager is told the Manager uses TLS, well before its timeout', async () => {
    const s = await tracked({ tls: true });
    const started = Date.now();
    const error = await s.connect({ disableTls: true, timeout: 8000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TLSError);
    expect((error as Error).message).toMatch(/uses TLS.*without disableTls/s);
    expect(Date.now() - started).toBeLessThan(4000);
  });
});

describe('TLS / plain mismatch with a silent TLS server (as the Python Manager is)', () => {
  it('a plain client finds out by trying TLS on a second connection', async () => {
    const s = await tracked({ tls: true }); // only for its key and certificate files
    const credentials = loadOrCreateManagerCredentials({ home: s.home });
    const server = createTlsServer({ cert: credentials.cert, key: credentials.key }, () => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const started = Date.now();
      const error = await connect({ host: '127.0.0.1', port, disableTls: true, timeout: 8000 }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TLSError);
      expect((error as Error).message).toMatch(/uses TLS.*without disableTls/s);
      expect(Date.now() - started).toBeLessThan(4000);
    } finally {
      server.close();
    }
  });
});

describe('no Manager', () => {
  it('says to make sure a Manager is running on this computer', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const error = await connect({ host: '127.0.0.1', port, disableTls: true }).catch((e: unknown) => e);
    // The same class as rpc's connect to nothing (issue 12 §2).
    expect(error).toBeInstanceOf(ConnectError);
    expect(error).not.toBeInstanceOf(ConnectionClosedError);
    expect((error as Error).message).toContain('Make sure a Manager is running on this computer');
  });
});

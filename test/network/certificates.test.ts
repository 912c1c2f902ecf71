import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, connect as tlsConnect } from 'node:tls';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManagerStartError, TLSError } from '../../src/errors.js';
import {
  certificateFingerprint,
  dumpCertificate,
  generateCertificate,
  generateKey,
  loadOrCreateManagerCredentials,
  loadPrivateKey,
  localHostname,
} from '../../src/network/shared/certificates.js';

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'farcall-certs-'));
});
afterEach(() => {
  rmSync(home, { recursive: true, force: true });
});

describe('keys', () => {
  it('writes a private key readable by its owner only, in FARCALL_HOME/keys', () => {
    const path = generateKey({ home });
    expect(path).toBe(join(home, 'keys', `${localHostname()}.key`));
    expect(statSync(path).mode & 0o077).toBe(0);
    expect(loadPrivateKey(path).asymmetricKeyType).toBe('rsa');
  });

  it('encrypts a key with a password and says so when the password is missing or wrong', () => {
    const path = generateKey({ home, password: 'key pw' });
    expect(readFileSync(path, 'utf8')).toContain('ENCRYPTED');
    expect(loadPrivateKey(path, 'key pw').asymmetricKeyType).toBe('rsa');
    expect(() => loadPrivateKey(path)).toThrow(/encrypted: give its password/);
    expect(() => loadPrivateKey(path, 'nope')).toThrow(TLSError);
  });
});

describe('self-signed certificates', () => {
  it('names the host, localhost and the loopback addresses', () => {
    const { certFile } = generateCertificate({ home });
    const cert = new X509Certificate(readFileSync(certFile));
    expect(cert.subjectAltName).toContain(`DNS:${localHostname()}`);
    expect(cert.subjectAltName).toContain('DNS:localhost');
    expect(cert.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
  });

  it('serves real TLS that a client pinning the certificate accepts', async () => {
    const creds = loadOrCreateManagerCredentials({ home, keyFilePassword: 'pw' });
    const server = createTlsServer(
      { cert: creds.cert, key: creds.key, passphrase: creds.passphrase },
      (socket) => socket.end('hello\n'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const text = await new Promise<string>((resolve, reject) => {
        const socket = tlsConnect(
          { host: '127.0.0.1', port, ca: creds.cert, servername: 'localhost' },
          () => {
            let data = '';
            socket.on('data', (chunk) => (data += chunk));
            socket.on('end', () => resolve(data));
          },
        );
        socket.on('error', reject);
      });
      expect(text).toBe('hello\n');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('creates the credentials on first use and loads the same ones afterwards', () => {
    const first = loadOrCreateManagerCredentials({ home });
    const second = loadOrCreateManagerCredentials({ home });
    expect(second.cert).toBe(first.cert);
    expect(first.certFile).toBe(join(home, 'certs', `${localHostname()}.crt`));
  });

  it('refuses a missing certFile or a wrong key password with the fix in the message', () => {
    expect(() => loadOrCreateManagerCredentials({ home, certFile: join(home, 'nope.crt') })).toThrow(
      ManagerStartError,
    );
    loadOrCreateManagerCredentials({ home, keyFilePassword: 'right' });
    expect(() => loadOrCreateManagerCredentials({ home, keyFilePassword: 'wrong' })).toThrow(
      /key password is wrong/,
    );
  });
});

describe('certificate dump', () => {
  it('shows subject, names and fingerprints that match the certificate', () => {
    const { certFile } = generateCertificate({ home });
    const pem = readFileSync(certFile, 'utf8');
    const text = dumpCertificate(pem);
    const cert = new X509Certificate(pem);
    expect(text).toContain(`Fingerprint (SHA-256): ${cert.fingerprint256}`);
    expect(text).toContain(`Fingerprint (SHA-1): ${cert.fingerprint}`);
    expect(certificateFingerprint(pem)).toBe(cert.fingerprint256);
    expect(text).toContain(`CN=${localHostname()}`);
    expect(text).toContain('Self-signed: yes');
    expect(text).toContain('RSA 2048 bit');
  });

  it('refuses data that is not a certificate', () => {
    expect(() => dumpCertificate('not a certificate')).toThrow(TLSError);
  });
});

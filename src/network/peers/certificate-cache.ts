/**
 * The client side of TLS trust: msl-network pins the Manager's (usually self-signed) certificate instead
 * of trusting a certificate authority. The first time a Client meets a Manager it shows the
 * certificate's fingerprint and asks before saving it to `FARCALL_HOME/certs/<host>.crt` (or saves it
 * straight away with `autoSave`); afterwards every connection must present that same certificate (or one
 * issued by it).
 * @module
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { checkServerIdentity, type PeerCertificate, type TLSSocket } from 'node:tls';
import { TLSError } from '../../errors.js';
import { certificateFingerprint } from '../shared/certificates.js';

/** Asks the person at the terminal whether to trust a certificate; resolves `true` to save it. */
export type CertificatePrompt = (question: string) => Promise<boolean>;

/** The path of the cached certificate of the Manager at `host`: `<certsDir>/<host>.crt`. */
export function certificateCacheFile(certsDir: string, host: string): string {
  // A host name or IP address; ':' (IPv6) and other characters some file systems refuse become '_'.
  return join(certsDir, `${host.replace(/[^A-Za-z0-9._-]/g, '_')}.crt`);
}

/** DER bytes to PEM text. */
export function derToPem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** The trust the client brings to a TLS connection. */
export interface PinnedCertificate {
  /** Where the trusted certificate comes from (the `certFile` option or the cache file). */
  file: string;
  /** The PEM text of that file (one or more certificates). */
  pem: string;
  /** Whether the user named the file (`certFile`), rather than the cache. */
  explicit: boolean;
}

/**
 * Loads the certificate to trust for `host`: the `certFile` the user named, or the cached one, or
 * `undefined` when this Manager has not been met before.
 */
export function loadPinnedCertificate(
  certsDir: string,
  host: string,
  certFile?: string,
): PinnedCertificate | undefined {
  if (certFile !== undefined) {
    if (!existsSync(certFile)) {
      throw new TLSError(`The certificate file '${certFile}' does not exist. Check the certFile option.`);
    }
    return { file: certFile, pem: readFileSync(certFile, 'utf8'), explicit: true };
  }
  const file = certificateCacheFile(certsDir, host);
  if (!existsSync(file)) return undefined;
  return { file, pem: readFileSync(file, 'utf8'), explicit: false };
}

/** What the Manager presented, as seen on a connected TLS socket. */
export interface PresentedCertificate {
  der: Buffer;
  pem: string;
  fingerprint: string;
  peer: PeerCertificate;
}

/** Reads the certificate the peer presented on `socket`. */
export function presentedCertificate(socket: TLSSocket): PresentedCertificate {
  const peer = socket.getPeerCertificate(true);
  if (!peer?.raw) throw new TLSError('The Manager did not present a TLS certificate.');
  return { der: peer.raw, pem: derToPem(peer.raw), fingerprint: certificateFingerprint(peer.raw), peer };
}

/**
 * Checks the certificate a Manager presented against the pinned one, then (unless `assertHostname` is
 * false) that it was issued for `host`. Throws a {@link TLSError} that says what to do.
 */
export function verifyPresentedCertificate(
  socket: TLSSocket,
  presented: PresentedCertificate,
  pinned: PinnedCertificate,
  address: { host: string; port: number },
  assertHostname: boolean,
): void {
  // Exact match is the pin; `socket.authorized` also accepts a certificate issued by the pinned one
  // (the connection was made with `ca: pinned.pem`), so a lab's own CA file works as certFile.
  const pinnedDers = splitPem(pinned.pem).map((pem) => new X509Certificate(pem).raw);
  const exact = pinnedDers.some((der) => der.equals(presented.der));
  if (!exact && !socket.authorized) {
    const expected = pinnedDers.length > 0 ? certificateFingerprint(pinnedDers[0]) : '(none)';
    const where = `${address.host}:${address.port}`;
    if (pinned.explicit) {
      throw new TLSError(
        `The certificate of the Manager at ${where} does not match the certFile '${pinned.file}'.\n` +
          `  certFile fingerprint:  ${expected}\n  Manager's fingerprint: ${presented.fingerprint}\n` +
          'Use the certificate the Manager is running with (farcall certdump prints it).',
      );
    }
    throw new TLSError(
      `The certificate of the Manager at ${where} has changed since it was saved.\n` +
        `  saved fingerprint:     ${expected}\n  Manager's fingerprint: ${presented.fingerprint}\n` +
        `Perhaps the Manager now uses a new certificate. If you trust the connection to ${where}, delete\n` +
        `  ${pinned.file}\nand connect again to save the new certificate.`,
    );
  }
  if (assertHostname) {
    const mismatch = checkServerIdentity(address.host, presented.peer);
    if (mismatch) {
      throw new TLSError(
        `${mismatch.message}\nTo disable hostname checking set assertHostname: false — make sure you trust ` +
          `the connection to ${address.host}:${address.port} if you decide to do this.`,
        { cause: mismatch },
      );
    }
  }
}

/** Saves a newly trusted certificate to the cache (creating `certs/`). */
export function saveCertificate(file: string, pem: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, pem, { mode: 0o644 });
}

/** The question asked before a certificate is saved for the first time. */
export function trustQuestion(
  address: { host: string; port: number },
  presented: PresentedCertificate,
  file: string,
) {
  const subject = presented.peer.subject
    ? Object.entries(presented.peer.subject).map(([k, v]) => `${k}=${v}`)
    : [];
  return (
    `The Manager at ${address.host}:${address.port} presented a certificate that is not trusted yet.\n` +
    (subject.length ? `  subject:     ${subject.join(', ')}\n` : '') +
    `  valid until: ${presented.peer.valid_to}\n` +
    `  SHA-256 fingerprint: ${presented.fingerprint}\n` +
    `Do you trust this certificate and want to save it to ${file}? [y/N] `
  );
}

/**
 * Asks on the terminal (stdin/stderr). Returns `undefined` when there is no terminal to ask on, so the
 * caller can say how to trust the certificate without a prompt.
 */
export function terminalPrompt(): CertificatePrompt | undefined {
  if (!process.stdin.isTTY) return undefined;
  return async (question) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const answer = await rl.question(question);
      return /^y(es)?$/i.test(answer.trim());
    } finally {
      rl.close();
    }
  };
}

function splitPem(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

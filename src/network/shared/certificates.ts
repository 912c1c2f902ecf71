/**
 * Private keys and self-signed certificates for the Manager's TLS, and a readable dump of a certificate.
 *
 * Keys are RSA 2048 made by Node's native crypto (fast), optionally encrypted with a password
 * (PKCS#8, AES-256-CBC); certificates are built and signed with node-forge. A Manager's certificate
 * names every way a client may reach this computer: its host name, `localhost`, `127.0.0.1`, `::1` and
 * each local IP address, so the client's hostname check passes whichever one it used.
 *
 * @example
 * ```ts
 * const { certFile, keyFile } = loadOrCreateManagerCredentials({ home: '/tmp/farcall-home' });
 * console.log(dumpCertificate(readFileSync(certFile, 'utf8')));
 * ```
 * @module
 */
import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  X509Certificate,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces, hostname as osHostname } from 'node:os';
import { dirname } from 'node:path';
import forge from 'node-forge';
import { ManagerStartError, TLSError } from '../../errors.js';
import { certificatePath, keyPath } from './home.js';

/**
 * The TLS cipher suites the Manager and its clients offer: only forward-secret ones (ECDHE key
 * exchange, or TLS 1.3), authenticated encryption only. Static-RSA suites such as `AES128-SHA` are not
 * offered: whoever records the traffic and later gets the Manager's key could otherwise read it all.
 * Python's `ssl` module offers these too, so msl-network peers connect as before.
 */
export const TLS_CIPHERS = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_GCM_SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
].join(':');

/** This computer's host name, without a domain (the name msl-network uses). */
export function localHostname(): string {
  return osHostname().split('.')[0];
}

/** The IP addresses of this computer's network interfaces (IPv4 and IPv6, loopback included). */
export function localIpAddresses(): string[] {
  const addresses = new Set<string>(['127.0.0.1', '::1']);
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) {
      // Link-local IPv6 addresses need a scope id and cannot appear in a certificate usefully.
      if (info.family === 'IPv6' && info.address.toLowerCase().startsWith('fe80')) continue;
      addresses.add(info.address);
    }
  }
  return [...addresses];
}

/** Options of {@link generateKey}. */
export interface GenerateKeyOptions {
  /** Where to write the PEM file. Default: `keys/<hostname>.key` in FARCALL_HOME. */
  path?: string;
  /** Encrypt the key with this password. */
  password?: string;
  /** RSA modulus size in bits. Default: 2048. */
  bits?: number;
  /** FARCALL_HOME override for the default path. */
  home?: string;
}

/**
 * Creates an RSA private key and writes it as PEM (readable by the owner only). Returns the path.
 *
 * @example
 * ```ts
 * const keyFile = generateKey({ password: 'key pw' });
 * ```
 */
export function generateKey(options: GenerateKeyOptions = {}): string {
  const path = options.path ?? keyPath(localHostname(), options.home, { create: true });
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: options.bits ?? 2048 });
  writePrivate(path, exportKey(privateKey, options.password));
  return path;
}

function exportKey(key: KeyObject, password: string | undefined): string {
  if (password === undefined || password === '')
    return key.export({ type: 'pkcs8', format: 'pem' }).toString();
  return key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: password }).toString();
}

/**
 * Reads a PEM private key, decrypting it with `password` if it is encrypted. Throws a {@link TLSError}
 * that says what to do when the password is missing or wrong.
 */
export function loadPrivateKey(path: string, password?: string): KeyObject {
  const pem = readFileSync(path, 'utf8');
  try {
    return createPrivateKey({ key: pem, format: 'pem', passphrase: password ?? '' });
  } catch (error) {
    const encrypted = pem.includes('ENCRYPTED');
    const hint = encrypted
      ? password === undefined
        ? 'The key is encrypted: give its password (keyFilePassword / --key-file-password).'
        : 'The key password is wrong.'
      : 'The file is not a PEM private key.';
    throw new TLSError(`Cannot load the private key ${path}: ${hint}`, { cause: error });
  }
}

/** Options of {@link generateCertificate}. */
export interface GenerateCertificateOptions {
  /** The private key file to sign with. Default: `keys/<hostname>.key`, created if it does not exist. */
  keyFile?: string;
  /** The password of an encrypted `keyFile`. */
  keyFilePassword?: string;
  /** Where to write the PEM certificate. Default: `certs/<hostname>.crt` in FARCALL_HOME. */
  path?: string;
  /** The subject's common name. Default: this computer's host name. */
  commonName?: string;
  /** Extra DNS names or IP addresses to list in the subject alternative names. */
  altNames?: string[];
  /** Validity in days. Default: 3650. */
  days?: number;
  /** FARCALL_HOME override for the default paths. */
  home?: string;
}

/**
 * Creates a self-signed certificate (SHA-256, RSA) whose subject alternative names are this
 * computer's host name, `localhost` and its IP addresses. Returns the certificate and key paths.
 *
 * @example
 * ```ts
 * const { certFile, keyFile } = generateCertificate({ home: '/srv/farcall' });
 * ```
 */
export function generateCertificate(options: GenerateCertificateOptions = {}): {
  certFile: string;
  keyFile: string;
} {
  const host = localHostname();
  const keyFile = options.keyFile ?? keyPath(host, options.home, { create: true });
  if (!existsSync(keyFile)) generateKey({ path: keyFile, password: options.keyFilePassword });
  const key = loadPrivateKey(keyFile, options.keyFilePassword);
  const pem = buildSelfSignedCertificate(key, options);
  const certFile = options.path ?? certificatePath(host, options.home, { create: true });
  mkdirSync(dirname(certFile), { recursive: true });
  writeFileSync(certFile, pem);
  return { certFile, keyFile };
}

function buildSelfSignedCertificate(key: KeyObject, options: GenerateCertificateOptions): string {
  if (key.asymmetricKeyType !== 'rsa') {
    throw new TLSError(
      `farcall signs certificates with RSA keys only, and this key is ${key.asymmetricKeyType?.toUpperCase()}: ` +
        "give its certificate too (--cert-file), or make an RSA key with 'farcall keygen'",
    );
  }
  const privateKey = forge.pki.privateKeyFromPem(key.export({ type: 'pkcs1', format: 'pem' }).toString());
  const publicKey = forge.pki.setRsaPublicKey(privateKey.n, privateKey.e);
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // A positive serial number of 16 random bytes (the top bit cleared keeps it positive in DER).
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  cert.serialNumber = serial.toString('hex');
  const now = new Date();
  cert.validity.notBefore = new Date(now.getTime() - 60_000);
  cert.validity.notAfter = new Date(now.getTime() + (options.days ?? 3650) * 86_400_000);
  const commonName = options.commonName ?? localHostname();
  const attributes = [
    { name: 'commonName', value: commonName },
    { name: 'organizationName', value: 'farcall Network Manager' },
  ];
  cert.setSubject(attributes);
  cert.setIssuer(attributes);
  const names = new Set<string>([
    commonName,
    localHostname(),
    'localhost',
    ...localIpAddresses(),
    ...(options.altNames ?? []),
  ]);
  const altNames = [...names].map((name) =>
    isIpAddress(name) ? { type: 7, ip: name } : { type: 2, value: name },
  );
  cert.setExtensions([
    { name: 'basicConstraints', cA: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectAltName', altNames },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(privateKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

function isIpAddress(name: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(name) || name.includes(':');
}

function writePrivate(path: string, pem: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, pem, { mode: 0o600 });
}

/** Options of {@link loadOrCreateManagerCredentials}. */
export interface ManagerCredentialsOptions {
  /**
   * The certificate file. Default: `certs/<host>.crt` in FARCALL_HOME, created if missing. Given
   * without `keyFile`, the private key is read from this same file (a PEM with both blocks).
   */
  certFile?: string;
  /**
   * The private key file. Default: `keys/<host>.key` in FARCALL_HOME, created if missing. Given
   * without `certFile`, the default certificate is (re)created from this key, so that they match.
   */
  keyFile?: string;
  /** The password of an encrypted key. */
  keyFilePassword?: string;
  /**
   * The host the Manager is started for (`--host`): names the default files (`certs/<host>.crt`,
   * `keys/<host>.key`, as msl-network does) and the certificate's subject. Default: this computer's
   * host name.
   */
  host?: string;
  /** FARCALL_HOME override. */
  home?: string;
}

/** The PEM texts and paths a TLS server needs. */
export interface ManagerCredentials {
  certFile: string;
  /** The key file (the certificate file itself when the key is inside it). */
  keyFile: string;
  cert: string;
  key: string;
  passphrase: string | undefined;
  /** What was created on the way, for the log (e.g. `'created the private key /…/keys/vm.key'`). */
  created: string[];
}

/**
 * The Manager's key and certificate, chosen as msl-network's `start` does:
 * - neither given: `keys/<host>.key` and `certs/<host>.crt` in FARCALL_HOME, each created if missing;
 * - only `keyFile`: the default certificate is (re)created from that key, so the two match;
 * - only `certFile`: the key is read from inside the certificate file;
 * - both: used as they are.
 *
 * A given file must exist (a typo must not silently produce a new certificate). Throws
 * {@link ManagerStartError} with the fix when something cannot be loaded.
 */
export function loadOrCreateManagerCredentials(options: ManagerCredentialsOptions = {}): ManagerCredentials {
  const host = options.host ?? localHostname();
  if (options.certFile !== undefined && !existsSync(options.certFile)) {
    throw new ManagerStartError(
      `The certificate file ${options.certFile} does not exist. Give an existing PEM certificate, or leave ` +
        'certFile unset to use (and create on first run) the self-signed one in FARCALL_HOME.',
    );
  }
  if (options.keyFile !== undefined && !existsSync(options.keyFile)) {
    throw new ManagerStartError(
      `The key file ${options.keyFile} does not exist. Create one with 'farcall keygen', or leave keyFile unset.`,
    );
  }
  const created: string[] = [];
  // The certificate's subject: the host it is made for (a client checks the name it connected to).
  const commonName = options.host;
  try {
    if (options.certFile !== undefined && options.keyFile === undefined) {
      const pem = readFileSync(options.certFile, 'utf8');
      if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
        throw new ManagerStartError(
          `The certificate file ${options.certFile} holds no private key, and no key file was given: give ` +
            'the key with --key-file (keyFile), or a PEM file that holds both the certificate and its key.',
        );
      }
      return finish(options.certFile, options.certFile, options.keyFilePassword, created);
    }
    const keyFile = options.keyFile ?? keyPath(host, options.home, { create: true });
    if (!existsSync(keyFile)) {
      generateKey({ path: keyFile, password: options.keyFilePassword });
      created.push(`created the private key ${keyFile}`);
    }
    let certFile = options.certFile;
    if (certFile === undefined) {
      certFile = certificatePath(host, options.home, { create: true });
      // A key given alone gets a certificate made from it (a certificate left from another key would not match).
      if (options.keyFile !== undefined || !existsSync(certFile)) {
        generateCertificate({
          keyFile,
          keyFilePassword: options.keyFilePassword,
          path: certFile,
          home: options.home,
          commonName,
        });
        created.push(`created the self-signed certificate ${certFile}`);
      }
    }
    return finish(certFile, keyFile, options.keyFilePassword, created);
  } catch (error) {
    if (error instanceof ManagerStartError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new ManagerStartError(`Cannot load the Manager's TLS credentials: ${reason}`, { cause: error });
  }
}

// Loads once so that a wrong password or a bad file fails now, with a clear message.
function finish(
  certFile: string,
  keyFile: string,
  passphrase: string | undefined,
  created: string[],
): ManagerCredentials {
  loadPrivateKey(keyFile, passphrase);
  const cert = readFileSync(certFile, 'utf8');
  new X509Certificate(cert);
  return { certFile, keyFile, cert, key: readFileSync(keyFile, 'utf8'), passphrase, created };
}

/**
 * The fingerprint of a certificate as colon-separated upper-case hex, e.g. `'AB:01:…'`.
 *
 * @param pem - the certificate (PEM text or DER bytes)
 * @param algorithm - `'sha256'` (default) or `'sha1'`
 */
export function certificateFingerprint(
  pem: string | Buffer,
  algorithm: 'sha256' | 'sha1' = 'sha256',
): string {
  const der = new X509Certificate(pem).raw;
  return createHash(algorithm)
    .update(der)
    .digest('hex')
    .toUpperCase()
    .replace(/(..)(?!$)/g, '$1:');
}

/**
 * A human-readable description of a certificate, in the spirit of `openssl x509 -text`: subject,
 * issuer, validity, alternative names, key, and the SHA-256 and SHA-1 fingerprints a user compares
 * when a client asks whether to trust the certificate. For `farcall certdump`.
 *
 * @example
 * ```ts
 * console.log(dumpCertificate(readFileSync('certs/vm.crt', 'utf8')));
 * ```
 */
export function dumpCertificate(pem: string | Buffer): string {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (error) {
    throw new TLSError('The data is not a PEM or DER certificate', { cause: error });
  }
  const key = cert.publicKey;
  const details = key.asymmetricKeyDetails;
  const keyText =
    key.asymmetricKeyType === 'rsa'
      ? `RSA ${details?.modulusLength ?? '?'} bit, exponent ${details?.publicExponent ?? '?'}`
      : `${key.asymmetricKeyType?.toUpperCase() ?? 'unknown'}${details?.namedCurve ? ` (${details.namedCurve})` : ''}`;
  const lines = [
    'Certificate:',
    `  Serial Number: ${cert.serialNumber}`,
    `  Issuer: ${oneLine(cert.issuer)}`,
    '  Validity:',
    `    Not Before: ${cert.validFrom}`,
    `    Not After : ${cert.validTo}`,
    `  Subject: ${oneLine(cert.subject)}`,
    `  Public Key: ${keyText}`,
    `  Subject Alternative Names: ${cert.subjectAltName ?? '(none)'}`,
    `  Self-signed: ${cert.checkIssued(cert) && cert.verify(key) ? 'yes' : 'no'}`,
    `  Fingerprint (SHA-256): ${certificateFingerprint(pem, 'sha256')}`,
    `  Fingerprint (SHA-1): ${certificateFingerprint(pem, 'sha1')}`,
    '',
    cert.toString().trim(),
  ];
  return lines.join('\n');
}

function oneLine(distinguishedName: string): string {
  return distinguishedName.split('\n').filter(Boolean).join(', ');
}

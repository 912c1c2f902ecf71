/**
 * `farcall keygen`, `farcall certgen`, `farcall certdump`: the Manager's TLS key and certificate.
 * @module
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  certificateFingerprint,
  dumpCertificate,
  generateCertificate,
  generateKey,
  localHostname,
} from '../network/shared/certificates.js';
import { keyPath } from '../network/shared/home.js';
import { parsePositiveInteger } from './options.js';

/** Adds `keygen`, `certgen` and `certdump`. */
export function addCertificateCommands(program: Command): void {
  program
    .command('keygen')
    .description('generate a private key for the Manager (default: FARCALL_HOME/keys/<hostname>.key)')
    .argument('[path]', 'where to write the key')
    .option('--password <password>', 'encrypt the key with this password')
    .option('--size <bits>', 'RSA key size in bits', parsePositiveInteger, 2048)
    .option(
      '--force',
      'overwrite an existing key (its certificate then no longer matches: run certgen again)',
    )
    .action((path: string | undefined, flags: { password?: string; size: number; force?: boolean }) => {
      // The Manager's certificate was made from the existing key: replacing the key silently would leave a
      // certificate that no longer matches it.
      const target = path ?? keyPath(localHostname(), undefined, { create: true });
      if (existsSync(target) && !flags.force)
        throw new Error(
          `The key ${target} already exists; to replace it, run farcall keygen --force ` +
            '(then farcall certgen, since its certificate will no longer match)',
        );
      const written = generateKey({ path: target, password: flags.password, bits: flags.size });
      process.stdout.write(`Created the private key ${written}\n`);
    });

  program
    .command('certgen')
    .description(
      'generate a self-signed certificate for the Manager (default: FARCALL_HOME/certs/<hostname>.crt)',
    )
    .argument('[path]', 'where to write the certificate')
    .option('--key-file <path>', 'the private key to sign with (created if it does not exist)')
    .option('--key-file-password <password>', 'the password of an encrypted key file')
    .option('--name <name>', "the certificate's common name (default: this computer's hostname)")
    .option('--days <days>', 'days the certificate is valid', parsePositiveInteger, 3650)
    .option('--alt-name <name...>', 'extra DNS names or IP addresses the certificate is valid for')
    .option('--show', 'print the certificate after creating it')
    .action(
      (
        path: string | undefined,
        flags: {
          keyFile?: string;
          keyFilePassword?: string;
          name?: string;
          days: number;
          altName?: string[];
          show?: boolean;
        },
      ) => {
        const { certFile, keyFile } = generateCertificate({
          path,
          keyFile: flags.keyFile,
          keyFilePassword: flags.keyFilePassword,
          commonName: flags.name,
          days: flags.days,
          altNames: flags.altName,
        });
        const pem = readFileSync(certFile, 'utf8');
        process.stdout.write(`Created the self-signed certificate ${certFile} (key ${keyFile})\n`);
        process.stdout.write(`SHA-256 fingerprint: ${certificateFingerprint(pem)}\n`);
        if (flags.show) process.stdout.write(`${dumpCertificate(pem)}\n`);
      },
    );

  program
    .command('certdump')
    .description('print the details of a certificate (PEM or DER)')
    .argument('<file>', 'the certificate file')
    .option('--out <path>', 'write the details to this file instead of printing them')
    .action((file: string, flags: { out?: string }) => {
      if (!existsSync(file)) throw new Error(`The certificate file ${file} does not exist`);
      const text = `${dumpCertificate(readFileSync(file))}\n`;
      if (flags.out !== undefined) {
        writeFileSync(flags.out, text);
        process.stdout.write(`Wrote the details of ${file} to ${flags.out}\n`);
      } else process.stdout.write(text);
    });
}

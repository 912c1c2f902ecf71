/**
 * What a farcall device (Client or Service) tells the Manager about itself in its identity: the
 * language and the operating system, worded as msl-network words them. Its own module because both a
 * Client and a Service send it, and a Service must not import the Client to get it.
 * @module
 */
import { arch, platform, release } from 'node:os';

/** The identity a farcall device sends: language and operating system. */
export function deviceLanguage(): string {
  return `Node.js ${process.versions.node}`;
}

/** The operating system as msl-network reports it: `Linux 6.1.0 x86_64`. */
export function deviceOs(): string {
  const system = { linux: 'Linux', darwin: 'Darwin', win32: 'Windows' }[platform() as string] ?? platform();
  const machine = { x64: 'x86_64', arm64: 'aarch64', ia32: 'i686' }[arch() as string] ?? arch();
  return `${system} ${release()} ${machine}`;
}

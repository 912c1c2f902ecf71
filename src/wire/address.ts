import { AddressError } from '../errors.js';

/**
 * Where a farcall server listens or a client connects.
 *
 * - `tcp://host:port` and `tls://host:port` — port 0 asks for any free port (the server reports the real one);
 *   an IPv6 host is written in brackets: `tcp://[::1]:9000`.
 * - `unix:///path/to/socket` — a Unix domain socket; on Windows a named pipe (`\\.\pipe\<path>`).
 * - `pipe://name` — a Windows named pipe `\\.\pipe\name`; on other systems a Unix socket in the temp directory.
 */
export type Address = { kind: 'tcp' | 'tls'; host: string; port: number } | { kind: 'unix'; path: string };

/** The loopback host farcall listens on unless an address says otherwise. */
export const LOOPBACK_HOST = '127.0.0.1';

const WINDOWS_PIPE_PREFIX = '\\\\.\\pipe\\';

/**
 * Parses an address string.
 *
 * @throws {@link AddressError} with a message that shows the accepted forms.
 * @example
 * ```ts
 * parseAddress('tcp://127.0.0.1:0');   // { kind: 'tcp', host: '127.0.0.1', port: 0 }
 * parseAddress('unix:///tmp/a.sock');  // { kind: 'unix', path: '/tmp/a.sock' }
 * ```
 */
export function parseAddress(text: string): Address {
  if (typeof text !== 'string') throw new AddressError(`An address must be a string, not ${typeof text}`);
  const match = /^([a-z]+):\/\/(.*)$/i.exec(text.trim());
  if (!match) throw malformed(text);
  const scheme = match[1].toLowerCase();
  const rest = match[2];
  switch (scheme) {
    case 'tcp':
    case 'tls':
      return { kind: scheme, ...parseHostPort(text, rest) };
    case 'unix':
      if (rest.length === 0) throw malformed(text);
      return { kind: 'unix', path: process.platform === 'win32' ? toWindowsPipe(rest) : rest };
    case 'pipe':
      if (rest.length === 0) throw malformed(text);
      return { kind: 'unix', path: process.platform === 'win32' ? toWindowsPipe(rest) : rest };
    default:
      throw new AddressError(
        `Unknown transport '${scheme}' in address '${text}': use tcp://host:port, tls://host:port, unix:///path or pipe://name`,
      );
  }
}

/**
 * Formats an address as the string {@link parseAddress} reads.
 * @example
 * ```ts
 * formatAddress({ kind: 'tcp', host: '::1', port: 9000 }); // 'tcp://[::1]:9000'
 * ```
 */
export function formatAddress(address: Address): string {
  if (address.kind === 'unix') return `unix://${address.path}`;
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `${address.kind}://${host}:${address.port}`;
}

/** Accepts an address as a string or as an {@link Address} and returns the parsed form. */
export function toAddress(address: string | Address): Address {
  return typeof address === 'string' ? parseAddress(address) : address;
}

function parseHostPort(text: string, rest: string): { host: string; port: number } {
  let host: string;
  let portText: string;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0 || rest[close + 1] !== ':') throw malformed(text);
    host = rest.slice(1, close);
    portText = rest.slice(close + 2);
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon < 0) throw malformed(text);
    host = rest.slice(0, colon);
    portText = rest.slice(colon + 1);
  }
  if (host.length === 0) host = LOOPBACK_HOST;
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new AddressError(
      `Invalid port '${portText}' in address '${text}': use a number from 0 to 65535 (0 = any free port)`,
    );
  }
  return { host, port: Number(portText) };
}

function toWindowsPipe(path: string): string {
  if (path.startsWith(WINDOWS_PIPE_PREFIX)) return path;
  return WINDOWS_PIPE_PREFIX + path.replace(/^[/\\]+/, '').replace(/[/\\]/g, '-');
}

function malformed(text: string): AddressError {
  return new AddressError(
    `Cannot parse address '${text}': use tcp://host:port, tls://host:port, unix:///path/to/socket or pipe://name`,
  );
}

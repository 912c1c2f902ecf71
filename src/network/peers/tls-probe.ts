/**
 * Tells "the Manager uses TLS" apart from "the Manager is slow" when a plain-TCP device hears nothing.
 * Its own module so that the handshake (which asks) and the socket (which the handshake runs on) do
 * not import each other.
 * @module
 */
import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { TLS_CIPHERS } from '../shared/certificates.js';

/**
 * Checks whether a TLS handshake succeeds at `host:port` — used when a plain-TCP client hears nothing,
 * to tell "the Manager uses TLS" apart from "the Manager is slow".
 */
export function probeTls(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host,
      port,
      rejectUnauthorized: false,
      servername: isIP(host) ? undefined : host,
      ciphers: TLS_CIPHERS,
      minVersion: 'TLSv1.2',
    });
    const timer = setTimeout(() => finish(false), timeoutMs);
    const finish = (answer: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    socket.once('secureConnect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

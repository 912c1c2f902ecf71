/**
 * The optional `authKey` challenge-response of an rpc connection (HMAC-SHA256, both directions).
 *
 * Each side sends a random nonce in its HELLO; each answers the peer's nonce with
 * `HMAC(key, "farcall-auth-v1 " + side + peerNonce + ownNonce)` in an AUTH message, where `side` is the
 * answering side's role ('client' or 'server'). A side checks the peer's answer with the role opposite to
 * its own, so an attacker cannot reflect a server's answers back at it (the server only ever produces
 * 'server' answers and only accepts 'client' ones).
 * @module
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Which end of a connection this is, for the direction label of the authentication MACs. */
export type ConnectionSide = 'client' | 'server';

/** Bytes of each nonce. */
export const NONCE_BYTES = 32;

/** A fresh random nonce. */
export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

/** The key as bytes; a string key is UTF-8. */
export function keyBytes(key: string | Uint8Array): Buffer {
  return typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key);
}

/** The answer `side` gives to the challenge `challengerNonce`, bound to its own `responderNonce`. */
export function authMac(
  key: Buffer,
  side: ConnectionSide,
  challengerNonce: Uint8Array,
  responderNonce: Uint8Array,
): Buffer {
  return createHmac('sha256', key)
    .update(`farcall-auth-v1 ${side}`)
    .update(challengerNonce)
    .update(responderNonce)
    .digest();
}

/** True if `mac` is the answer the peer on the side opposite to `ourSide` must give; constant time. */
export function verifyMac(
  key: Buffer,
  ourSide: ConnectionSide,
  ourNonce: Uint8Array,
  peerNonce: Uint8Array,
  mac: unknown,
): boolean {
  if (!(mac instanceof Uint8Array)) return false;
  const expected = authMac(key, ourSide === 'server' ? 'client' : 'server', ourNonce, peerNonce);
  return mac.byteLength === expected.byteLength && timingSafeEqual(mac, expected);
}

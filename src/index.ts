/**
 * farcall — call code you cannot load yourself.
 *
 * - `farcall/rpc`: objects in another process, as if they were here.
 * - `farcall/loadlib`: a 32-bit library from 64-bit Node.js (`Client64` / `Server32`).
 * - `farcall/network`: a Network Manager for Services and Clients, wire-compatible with msl-network.
 * - `farcall/wire`: the transport layer they share (addresses, frames, the MessagePack codec).
 *
 * The root export holds the error classes shared by every part.
 * @module farcall
 */
export * from './errors.js';

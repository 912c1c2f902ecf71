// Reads the verbatim msl-network captures in /work/shared/protocols (or $FARCALL_CAPTURES) and replays
// the Python peers' side of them against a Manager over real sockets.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { parseJson, stringifyJson } from '../../src/network/protocol/json.js';
import { RawPeer } from './raw-peer.js';

export const CAPTURES_DIR = process.env.FARCALL_CAPTURES ?? '/work/shared/protocols';

/** One line of a capture: who, which direction, and the bytes (undefined for <EOF>). */
export interface CaptureEntry {
  connection: string;
  direction: 'mgr->peer' | 'peer->mgr';
  /** The line without its \r\n, or undefined for EOF. */
  text: string | undefined;
  /** Run before the entry is played (e.g. stop the Manager where the capture's Manager stopped). */
  before?: () => unknown;
}

/** Decodes a Python bytes literal body (between the quotes of b'...'). */
export function decodePythonBytes(body: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'latin1'));
      continue;
    }
    const n = body[++i];
    const simple: Record<string, number> = { n: 10, r: 13, t: 9, '\\': 92, "'": 39, '"': 34, '0': 0 };
    if (n === 'x') {
      bytes.push(Number.parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (n in simple) bytes.push(simple[n]);
    else bytes.push(92, n.charCodeAt(0));
  }
  return Buffer.from(bytes);
}

/** Parses a capture file into entries. */
export function parseCapture(name: string): CaptureEntry[] {
  const text = readFileSync(join(CAPTURES_DIR, name), 'utf8');
  const entries: CaptureEntry[] = [];
  for (const line of text.split('\n')) {
    const match = /^\[(c\d+) (mgr->peer|peer->mgr)\] (?:<EOF>|b'(.*)'|b"(.*)")$/.exec(line);
    if (match === null) {
      if (line.trim() !== '') throw new Error(`unreadable capture line: ${line}`);
      continue;
    }
    const body = match[3] ?? match[4];
    const bytes = body === undefined ? undefined : decodePythonBytes(body).toString('utf8');
    entries.push({
      connection: match[1],
      direction: match[2] as CaptureEntry['direction'],
      text: bytes === undefined ? undefined : bytes.replace(/\r\n$/, ''),
    });
  }
  return entries;
}

/**
 * Makes a line comparable across runs: host names, ports, peer addresses, language/os (Python vs
 * Node) and tracebacks (Python's own) are replaced by placeholders; the rest must match.
 */
export function normalize(text: string): string {
  let value: unknown;
  try {
    value = parseJson(text);
  } catch {
    return text;
  }
  const walk = (v: unknown, key?: string): unknown => {
    if (typeof v === 'string') {
      if (key === 'language' || key === 'os' || key === 'address' || key === 'hostname') return '*';
      return v.replace(/Manager\[[^\]]*\]/g, 'Manager[*]').replace(/\[[^[\]]*:\d+\]/g, '[*]');
    }
    if (typeof v === 'number' && key === 'port') return 0;
    if (Array.isArray(v)) return key === 'traceback' ? [] : v.map((x) => walk(x));
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[walk(k) as string] = walk(x, k);
      return out;
    }
    return v;
  };
  return stringifyJson(walk(value));
}

/** A change to the expected script where farcall fixes a defect of the Python Manager. */
export interface CaptureFix {
  /** Why (shown when the fix does not apply). */
  reason: string;
  /** Index of the entry in the parsed capture. */
  at: number;
  /** The entry's text must contain this (guards against a wrong index). */
  contains: string;
  /** Entries replacing it (empty: remove it). */
  replace: CaptureEntry[];
}

export function applyFixes(entries: CaptureEntry[], fixes: CaptureFix[]): CaptureEntry[] {
  const out = [...entries];
  for (const fix of [...fixes].sort((a, b) => b.at - a.at)) {
    const entry = out[fix.at];
    if (entry === undefined || !(entry.text ?? '<EOF>').includes(fix.contains)) {
      throw new Error(`fix '${fix.reason}' does not apply at ${fix.at}: ${entry?.text}`);
    }
    out.splice(fix.at, 1, ...fix.replace);
  }
  return out;
}

/** Options of a replay. */
export interface ReplayOptions {
  port: number;
  ca?: string;
  /** How long to wait for each expected line. */
  timeoutMs?: number;
}

/**
 * Plays the peer side of `entries` against the Manager and checks every line the Manager sends,
 * in order, per connection. Returns the number of Manager lines compared.
 */
export async function replay(entries: CaptureEntry[], options: ReplayOptions): Promise<number> {
  const peers = new Map<string, RawPeer>();
  // Captured network names (`Name[vm:40170]`) → the names our Manager gave the replaying peers.
  const names = new Map<string, string>();
  let compared = 0;
  try {
    for (const [index, entry] of entries.entries()) {
      let peer = peers.get(entry.connection);
      if (peer === undefined) {
        peer = await RawPeer.connect({ port: options.port, ca: options.ca });
        peers.set(entry.connection, peer);
      }
      const where = `entry ${index} [${entry.connection} ${entry.direction}]`;
      if (entry.before !== undefined) await entry.before();
      if (entry.direction === 'peer->mgr') {
        if (entry.text === undefined) peer.socket.end();
        else peer.send(renameAll(entry.text, names));
        continue;
      }
      if (entry.text === undefined) {
        await peer.waitClosed(options.timeoutMs ?? 3000).catch((error: Error) => {
          throw new Error(`${where}: ${error.message}`);
        });
        continue;
      }
      const actual = await peer.next(options.timeoutMs ?? 3000).catch((error: Error) => {
        throw new Error(`${where}: expected ${entry.text}\n${error.message}`);
      });
      expect(normalize(actual), where).toBe(normalize(entry.text));
      learnNames(entry.text, actual, names);
      compared++;
    }
  } finally {
    for (const peer of peers.values()) peer.close();
  }
  return compared;
}

/** The index of the n-th (0-based) entry whose text contains `needle`. */
export function indexOf(entries: CaptureEntry[], needle: string, nth = 0): number {
  let seen = 0;
  for (const [i, entry] of entries.entries()) {
    if ((entry.text ?? '<EOF>').includes(needle) && seen++ === nth) return i;
  }
  throw new Error(`'${needle}' (#${nth}) not in the capture`);
}

const NETWORK_NAME = /^[^[\]]*\[[^[\]]*:\d+\]$/;

// Walks the expected and the actual message side by side and records captured → actual network names.
function learnNames(expected: string, actual: string, names: Map<string, string>): void {
  const walk = (e: unknown, a: unknown): void => {
    if (typeof e === 'string' && typeof a === 'string') {
      if (NETWORK_NAME.test(e) && !e.startsWith('Manager[')) names.set(e, a);
    } else if (Array.isArray(e) && Array.isArray(a)) {
      for (const [i, x] of e.entries()) walk(x, a[i]);
    } else if (e !== null && a !== null && typeof e === 'object' && typeof a === 'object') {
      const ek = Object.keys(e);
      const ak = Object.keys(a);
      ek.forEach((k, i) => {
        walk(k, ak[i]);
        walk((e as Record<string, unknown>)[k], (a as Record<string, unknown>)[ak[i]]);
      });
    }
  };
  try {
    walk(parseJson(expected), parseJson(actual));
  } catch {
    // not JSON: nothing to learn
  }
}

function renameAll(text: string, names: Map<string, string>): string {
  let out = text;
  for (const [captured, actual] of names) out = out.split(captured).join(actual);
  return out;
}

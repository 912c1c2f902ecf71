// A scripted Manager for client-side tests: a raw socket server that plays the Manager's lines of a
// verbatim msl-network capture and checks that our Client or Service sends the lines the Python peer
// sent (modulo uids, host names, ports, language and os).
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { parseJson, stringifyJson } from '../../src/network/protocol/json.js';

export interface CaptureStep {
  conn: string;
  direction: 'mgr->peer' | 'peer->mgr';
  /** The line without its \r\n, or undefined for <EOF>. */
  line: string | undefined;
}

const CAPTURE_DIR = '/work/shared/protocols';

/** Decodes a Python bytes literal body (the text between b' and '). */
function decodePythonBytes(body: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const n = body[++i];
    if (n === 'x') {
      bytes.push(Number.parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (n === 'r') bytes.push(13);
    else if (n === 'n') bytes.push(10);
    else if (n === 't') bytes.push(9);
    else bytes.push(n.charCodeAt(0)); // \\ \' \"
  }
  return Buffer.from(bytes).toString('utf8');
}

/** The steps of capture `name` ('A', 'B', 'C', 'E'), optionally only those of one connection. */
export function readCapture(name: string, conn?: string): CaptureStep[] {
  const text = readFileSync(`${CAPTURE_DIR}/msl-network-cap${name}.txt`, 'utf8');
  const steps: CaptureStep[] = [];
  for (const raw of text.split('\n')) {
    const m = raw.match(/^\[(c\d+) (mgr->peer|peer->mgr)\] (.*)$/);
    if (!m) continue;
    const [, c, direction, rest] = m;
    if (conn !== undefined && c !== conn) continue;
    let line: string | undefined;
    if (rest !== '<EOF>') {
      const quote = rest[1];
      const body = rest.slice(2, rest.lastIndexOf(quote));
      line = decodePythonBytes(body).replace(/\r\n$/, '');
    }
    steps.push({ conn: c, direction: direction as CaptureStep['direction'], line });
  }
  return steps;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** Replaces what legitimately differs between runs: uids, host:port in names, language and os. */
export function normalise(line: string): string {
  let value: unknown;
  try {
    value = parseJson(line);
  } catch {
    return line;
  }
  const walk = (v: unknown, key?: string): unknown => {
    if (typeof v === 'string') {
      if (key === 'language' || key === 'os') return '<text>';
      // A request's uid is the sender's choice: Python's are UUIDs, farcall's a prefix and a counter.
      if (key === 'uid' && v !== '' && v !== 'notification') return '<uid>';
      return v.replace(UUID, '<uid>').replace(/\[[^[\]]*:\d+\]/g, '[<host>:<port>]');
    }
    if (Array.isArray(v)) return v.map((x) => walk(x));
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x, k);
      return out;
    }
    return v;
  };
  return stringifyJson(walk(value));
}

export interface Mismatch {
  step: number;
  expected: string;
  actual: string;
}

/**
 * A one-connection scripted Manager: `play(steps)` sends every `mgr->peer` line (with captured uids
 * replaced by the ones our peer used) and reads and compares every `peer->mgr` line.
 */
export class ScriptedManager {
  readonly server: Server;
  port = 0;
  readonly mismatches: Mismatch[] = [];
  readonly received: string[] = [];
  #socket: Socket | undefined;
  #lines: string[] = [];
  #waiters: ((line: string | undefined) => void)[] = [];
  #ended = false;
  #uids = new Map<string, string>();
  #connected: Promise<Socket>;
  done: Promise<void> = Promise.resolve();

  /** `compare(expected, actual)` decides equality of two normalised lines (default: exact). */
  constructor(
    private readonly steps: CaptureStep[],
    private readonly compare: (expected: string, actual: string, step: number) => boolean = (a, b) => a === b,
  ) {
    let resolveConnected!: (s: Socket) => void;
    this.#connected = new Promise((r) => {
      resolveConnected = r;
    });
    this.server = createServer((socket) => {
      this.#socket = socket;
      let buffer = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        buffer += chunk;
        for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
          const line = buffer.slice(0, nl).replace(/\r$/, '');
          buffer = buffer.slice(nl + 1);
          this.received.push(line);
          const waiter = this.#waiters.shift();
          if (waiter) waiter(line);
          else this.#lines.push(line);
        }
      });
      socket.on('end', () => {
        this.#ended = true;
        for (const w of this.#waiters.splice(0)) w(undefined);
      });
      socket.on('error', () => {});
      resolveConnected(socket);
      this.done = this.#play();
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    return this.port;
  }

  get socket(): Promise<Socket> {
    return this.#connected;
  }

  nextLine(timeoutMs = 3000): Promise<string | undefined> {
    const line = this.#lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.#ended) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve('<timeout>'), timeoutMs);
      this.#waiters.push((l) => {
        clearTimeout(timer);
        resolve(l);
      });
    });
  }

  async #play(): Promise<void> {
    const socket = await this.#connected;
    for (let i = 0; i < this.steps.length; i++) {
      const step = this.steps[i];
      if (step.direction === 'mgr->peer') {
        if (step.line === undefined) {
          socket.end();
          continue;
        }
        let line = step.line;
        for (const [captured, actual] of this.#uids) line = line.replaceAll(captured, actual);
        socket.write(`${line}\r\n`);
        continue;
      }
      if (step.line === undefined) continue; // the peer's EOF: not checked
      const actual = await this.nextLine();
      if (actual === undefined || actual === '<timeout>') {
        this.mismatches.push({ step: i, expected: step.line, actual: String(actual) });
        return;
      }
      this.#learnUid(step.line, actual);
      const expected = normalise(step.line);
      const got = normalise(actual);
      if (!this.compare(expected, got, i)) this.mismatches.push({ step: i, expected, actual: got });
    }
  }

  #learnUid(captured: string, actual: string): void {
    const a = captured.match(/"uid": "([^"]+)"/);
    const b = actual.match(/"uid": "([^"]+)"/);
    if (a && b && a[1] !== b[1]) this.#uids.set(a[1], b[1]);
  }

  async close(): Promise<void> {
    this.#socket?.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

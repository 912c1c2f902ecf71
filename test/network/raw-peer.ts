// A raw line-speaking socket for Manager tests: plays a Python peer byte by byte, no farcall client code.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { parseJson, stringifyJson } from '../../src/network/protocol/json.js';
import { LineDecoder } from '../../src/wire/lines.js';

export interface RawPeerOptions {
  port: number;
  host?: string;
  /** PEM certificate to trust (TLS on). */
  ca?: string;
  maxLineBytes?: number;
  /** The local address and port to connect from (e.g. 127.0.0.2). */
  localAddress?: string;
  localPort?: number;
}

export class RawPeer {
  readonly socket: Socket;
  readonly lines: string[] = [];
  #waiters: Array<(line: string) => void> = [];
  #closed = false;
  readonly closedPromise: Promise<void>;

  private constructor(socket: Socket, maxLineBytes?: number) {
    this.socket = socket;
    socket.setNoDelay(true);
    const decoder = new LineDecoder({
      maxLineBytes,
      onLine: (line) => {
        const text = line.toString('utf8');
        const waiter = this.#waiters.shift();
        if (waiter) waiter(text);
        else this.lines.push(text);
      },
    });
    socket.on('data', (chunk: Buffer) => decoder.push(chunk));
    socket.on('error', () => {});
    this.closedPromise = new Promise((resolve) =>
      socket.on('close', () => {
        this.#closed = true;
        resolve();
      }),
    );
  }

  static connect(options: RawPeerOptions): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const host = options.host ?? '127.0.0.1';
      const socket =
        options.ca === undefined
          ? netConnect({
              port: options.port,
              host,
              localAddress: options.localAddress,
              localPort: options.localPort,
            })
          : tlsConnect({ port: options.port, host, ca: options.ca, servername: 'localhost' });
      const peer = new RawPeer(socket, options.maxLineBytes);
      socket.once(options.ca === undefined ? 'connect' : 'secureConnect', () => resolve(peer));
      socket.once('error', reject);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Writes a line (text + \r\n). */
  send(text: string | Buffer): void {
    this.socket.write(typeof text === 'string' ? `${text}\r\n` : text);
  }

  sendJson(value: unknown): void {
    this.send(stringifyJson(value));
  }

  /** The next line the Manager sends, or an error after `timeoutMs`. */
  next(timeoutMs = 3000): Promise<string> {
    const queued = this.lines.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`no line from the Manager within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (line: string) => {
        clearTimeout(timer);
        resolve(line);
      };
      this.#waiters.push(waiter);
    });
  }

  async nextJson(timeoutMs = 3000): Promise<Record<string, unknown>> {
    return parseJson(await this.next(timeoutMs)) as Record<string, unknown>;
  }

  /** Resolves when the Manager closed the connection; rejects after `timeoutMs`. */
  waitClosed(timeoutMs = 3000): Promise<void> {
    return Promise.race([
      this.closedPromise,
      new Promise<void>((_, reject) =>
        setTimeout(
          () => reject(new Error(`the Manager did not close within ${timeoutMs} ms`)),
          timeoutMs,
        ).unref(),
      ),
    ]);
  }

  /** Whether nothing more arrives within `ms`. */
  async silentFor(ms: number): Promise<boolean> {
    if (this.lines.length > 0) return false;
    try {
      await this.next(ms);
      return false;
    } catch {
      return true;
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Answers the handshake as a plain client (no auth) and returns the peer. */
export async function connectClient(port: number, name = 'Client', options: Partial<RawPeerOptions> = {}) {
  const peer = await RawPeer.connect({ port, ...options });
  const identity = await peer.nextJson();
  if (identity.attribute !== 'identity')
    throw new Error(`expected an identity request, got ${JSON.stringify(identity)}`);
  peer.sendJson({
    error: false,
    requester: null,
    result: { type: 'client', name, language: 'test', os: 'test' },
    uid: '',
  });
  return peer;
}

/** Answers the handshake as a Service (no auth) and returns the peer. */
export async function connectService(
  port: number,
  name: string,
  attributes: Record<string, unknown> = { echo: '(*args, **kwargs)' },
  maxClients = -1,
  options: Partial<RawPeerOptions> = {},
) {
  const peer = await RawPeer.connect({ port, ...options });
  const identity = await peer.nextJson();
  if (identity.attribute !== 'identity')
    throw new Error(`expected an identity request, got ${JSON.stringify(identity)}`);
  peer.sendJson({
    error: false,
    requester: null,
    result: { type: 'service', name, attributes, max_clients: maxClients, language: 'test', os: 'test' },
    uid: '',
  });
  return peer;
}

/** A request line as a Python client writes it. */
export function request(service: string, attribute: string, args: unknown[] = [], kwargs = {}, uid = 'u') {
  return { args, attribute, error: false, kwargs, service, uid };
}

/** Round trip: waits until the Manager has registered the peer (an identity request answered). */
export async function settle(client: RawPeer): Promise<Record<string, unknown>> {
  client.sendJson(request('Manager', 'identity', [], {}, 'settle'));
  for (;;) {
    const reply = await client.nextJson();
    if (reply.uid === 'settle') return reply.result as Record<string, unknown>;
  }
}

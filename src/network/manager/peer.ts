/**
 * One socket accepted by the Manager: its address, its line framing, its writes (gathered while one
 * chunk of input is handled, see `outgoing-lines.ts`), and a queue of lines for the steps that wait for
 * an answer (the handshake, an admin login in the middle of a session).
 *
 * Internal to the Manager.
 * @module
 */

import type { Socket } from 'node:net';
import { isIPv4 } from 'node:net';
import { ConnectionClosedError, FarcallTimeoutError } from '../../errors.js';
import { LineDecoder } from '../../wire/lines.js';
import { localHostname } from '../shared/certificates.js';
import { LINE_END, OutgoingLines, WriteScope } from './outgoing-lines.js';

// Lines sent ahead during the handshake (not asked for yet) are queued up to this many bytes or lines;
// past that the socket is paused until the handshake takes them.
const ANSWER_QUEUE_LIMIT = 1024 * 1024;
const ANSWER_QUEUE_LINES = 1000;

// The writes caused by one chunk of input are gathered and sent as one buffer per destination when
// the chunk is done (one message in: one write out; 2000 pipelined: still one write per destination).
const scope = new WriteScope();

/**
 * Runs `task` after the Manager's writes for the chunk being handled are handed to their sockets (at once
 * outside a chunk): see {@link WriteScope.later}. The Manager's log defers its lines with it.
 */
export function afterWrites(task: () => void): void {
  scope.later(task);
}

/** What the LineDecoder kept of a line it dropped for being over the limit. */
export interface OversizeSample {
  bytes: number;
  /** The first bytes of the line (up to 4 KiB). */
  head: string;
  /** The last bytes of the line (up to 4 KiB). */
  tail: string;
}

/** How a peer's lines are handled right now. */
export type PeerMode = 'handshake' | 'routing' | 'elevating' | 'closed';

/** Callbacks of a {@link PeerConnection}. */
export interface PeerHandlers {
  /** A line arrived while the peer is routing (or elevating). */
  onLine(peer: PeerConnection, line: Buffer): void;
  /** A line over the limit was dropped. */
  onOversize(peer: PeerConnection, sample: OversizeSample): void;
  /** The socket closed (once). */
  onClose(peer: PeerConnection): void;
  /**
   * This peer's unfinished line took the Manager's unfinished lines past their overall limit (the
   * line has been dropped).
   */
  onUnfinishedOverLimit?(peer: PeerConnection, unfinished: UnfinishedLines, held: number): void;
}

/**
 * The bytes of unfinished lines (no newline yet) held for all the connections of one Manager, against
 * one overall limit: each connection's own limit alone lets many connections together hold gigabytes.
 */
export class UnfinishedLines {
  /** The most bytes of unfinished lines held for all connections together. */
  readonly limit: number;
  /** The bytes held now. */
  used = 0;

  constructor(limit: number) {
    this.limit = limit;
  }
}

/** Whether an IP address is this computer's loopback. */
export function isLoopback(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip === '::ffff:127.0.0.1' || ip.startsWith('::ffff:127.');
}

/** A socket the Manager accepted. */
export class PeerConnection {
  readonly socket: Socket;
  /** The peer's IP address (IPv4-mapped IPv6 addresses are shown as IPv4). */
  readonly ip: string;
  readonly port: number;
  /** The peer's host name as msl-network shows it: this computer's name for loopback, else the IP. */
  readonly hostname: string;
  /** `hostname:port`. */
  readonly address: string;
  /** `name[hostname:port]` once the identity is known, else `hostname:port`. */
  networkName: string;
  mode: PeerMode = 'handshake';
  isAdmin = false;
  /** Failed logins on this connection (each one makes the next refusal slower). */
  failures = 0;
  readonly #decoder: LineDecoder;
  readonly #handlers: PeerHandlers;
  readonly #out: OutgoingLines;
  #answers: Buffer[] = [];
  #answerBytes = 0;
  #answersPaused = false;
  #waiter: { resolve: (line: Buffer) => void; reject: (error: Error) => void } | undefined;
  #closed = false;
  readonly #unfinished: UnfinishedLines;
  // Bytes of this connection's unfinished line counted in #unfinished.
  #held = 0;

  constructor(
    socket: Socket,
    handlers: PeerHandlers,
    maxLineBytes: number,
    unfinished: UnfinishedLines = new UnfinishedLines(Number.POSITIVE_INFINITY),
  ) {
    this.socket = socket;
    this.#handlers = handlers;
    this.#unfinished = unfinished;
    const rawIp = socket.remoteAddress ?? 'unknown';
    this.ip = rawIp.startsWith('::ffff:') && isIPv4(rawIp.slice(7)) ? rawIp.slice(7) : rawIp;
    this.port = socket.remotePort ?? 0;
    this.hostname = isLoopback(this.ip) ? localHostname() : this.ip;
    this.address = `${this.hostname}:${this.port}`;
    this.networkName = this.address;
    this.#out = new OutgoingLines(socket, scope);
    this.#decoder = new LineDecoder({
      maxLineBytes,
      sampleBytes: 4096,
      onLine: (line) => this.#line(line),
      onOversize: (bytes, sample) =>
        this.#handlers.onOversize(this, {
          bytes,
          head: sample?.head.toString('utf8') ?? '',
          tail: sample?.tail.toString('utf8') ?? '',
        }),
    });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => scope.run(this.#push, chunk));
    socket.on('end', () => {
      // The unfinished last line is still read (a peer that writes one message and closes meant it);
      // it is within this connection's line limit like any other.
      this.#unfinished.used -= this.#held;
      this.#held = 0;
      this.#decoder.end();
      this.close();
    });
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  /** Whether the socket is gone. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The line limit (small during the handshake, `readLimit` after). */
  get maxLineBytes(): number {
    return this.#decoder.maxLineBytes;
  }

  set maxLineBytes(value: number) {
    this.#decoder.maxLineBytes = value;
  }

  readonly #push = (chunk: Buffer): void => {
    if (this.#closed) return;
    this.#decoder.push(chunk);
    const held = this.#decoder.bufferedBytes;
    this.#unfinished.used += held - this.#held;
    this.#held = held;
    if (held > 0 && this.#unfinished.used > this.#unfinished.limit) {
      this.#releaseUnfinished();
      this.#handlers.onUnfinishedOverLimit?.(this, this.#unfinished, held);
    }
  };

  // Gives back this connection's share of the unfinished-lines budget and drops its unfinished line.
  #releaseUnfinished(): void {
    this.#unfinished.used -= this.#held;
    this.#held = 0;
    this.#decoder.reset();
  }

  #line(line: Buffer): void {
    if (this.#closed) return;
    if (this.mode === 'handshake') {
      if (line.length === 0) return;
      this.#deliverAnswer(line);
      return;
    }
    this.#handlers.onLine(this, line);
  }

  #deliverAnswer(line: Buffer): void {
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      waiter.resolve(line);
    } else {
      // Copy: the line may be a view into a chunk, and it waits here past this call.
      this.#answers.push(Buffer.from(line));
      this.#answerBytes += line.length;
      // A peer that sends more than it was asked for waits (its lines stay in its own buffers)
      // instead of growing this queue.
      if (this.#answerBytes > ANSWER_QUEUE_LIMIT || this.#answers.length > ANSWER_QUEUE_LINES) {
        this.#answersPaused = true;
        this.socket.pause();
      }
    }
  }

  // Called when queued answers were taken: reads the peer again once the queue has room.
  #answersTaken(): void {
    this.#answerBytes = this.#answers.reduce((sum, line) => sum + line.length, 0);
    if (!this.#answersPaused || this.#closed) return;
    if (this.#answerBytes <= ANSWER_QUEUE_LIMIT && this.#answers.length <= ANSWER_QUEUE_LINES) {
      this.#answersPaused = false;
      this.socket.resume();
    }
  }

  /** Hands a line the router recognised as a handshake answer (during an admin login) to the waiter. */
  deliverAnswer(line: Buffer): void {
    this.#deliverAnswer(line);
  }

  /** Lines that arrived during the handshake and were not asked for yet (they are handed over once). */
  takeQueuedAnswers(): Buffer[] {
    const lines = this.#answers;
    this.#answers = [];
    this.#answersTaken();
    return lines;
  }

  /**
   * The next line the peer sends (for the handshake). Rejects with {@link ConnectionClosedError} if
   * the socket closes, or a {@link FarcallTimeoutError} at `deadline` (a `Date.now()` value).
   */
  nextAnswer(deadline: number): Promise<Buffer> {
    const queued = this.#answers.shift();
    if (queued !== undefined) {
      this.#answersTaken();
      return Promise.resolve(queued);
    }
    if (this.#closed)
      return Promise.reject(new ConnectionClosedError('The peer disconnected during the handshake'));
    return new Promise<Buffer>((resolve, reject) => {
      const ms = Math.max(0, deadline - Date.now());
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        reject(new FarcallTimeoutError(`The peer did not answer within the handshake deadline`, ms));
      }, ms);
      this.#waiter = {
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
    });
  }

  /**
   * Bytes written to this peer and not yet sent: the socket's unsent bytes plus those gathered for the
   * chunk being handled.
   */
  get unsentBytes(): number {
    return this.socket.writableLength + this.#out.gatheredBytes;
  }

  /** Writes one message (text without its line end). */
  send(text: string): void {
    if (this.#closed) return;
    this.#out.write(Buffer.from(`${text}\r\n`));
  }

  /**
   * Writes a line given as bytes (without its line end), then `tail`: the line end, or what ends a
   * spliced line (say `, "requester": …}` and the line end, built once by the caller). The bytes are
   * copied once, into the one buffer sent when the chunk being handled is done; more than 1 MiB (a large
   * line) is written as it is, never copied. Neither buffer may change until then.
   */
  sendBytes(line: Buffer, tail: Buffer = LINE_END): void {
    if (this.#closed) return;
    this.#out.write(line, tail);
  }

  /** Flushes what was written and closes the socket (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.mode = 'closed';
    // What was written before the close goes out before the end.
    this.#out.flush();
    this.#releaseUnfinished();
    this.#answers = [];
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(new ConnectionClosedError('The peer disconnected during the handshake'));
    this.socket.end();
    // A peer that never reads must not keep the socket (and the Manager's close) waiting.
    const timer = setTimeout(() => this.socket.destroy(), 2000);
    timer.unref();
    this.socket.once('close', () => clearTimeout(timer));
    this.#handlers.onClose(this);
  }

  /** Drops the socket at once, without flushing. */
  destroy(): void {
    this.close();
    this.socket.destroy();
  }
}

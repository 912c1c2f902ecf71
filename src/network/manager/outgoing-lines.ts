/**
 * The Manager's writes, gathered per socket while it handles one chunk of input and sent as one buffer
 * per socket when the chunk is done: 2000 pipelined requests in one chunk cost one `write` per
 * destination (one copy into one buffer), not 2000 buffers and a `writev` of 2000 pieces; one request
 * in costs one `write` out, as a direct write would.
 *
 * Internal to the Manager.
 * @module
 */
import type { Socket } from 'node:net';

// Up to this many bytes, a socket's gathered lines are joined into one buffer (one copy, one write);
// past it they are written corked, as they are, so that a 100 MB line is never copied.
const JOIN_LIMIT = 1024 * 1024;

/** The bytes that end a line. */
export const LINE_END = Buffer.from('\r\n');

/**
 * A scope in which writes are gathered: `run(work, value)` runs `work(value)`, and when the outermost
 * `run` ends every socket written to inside it is flushed. Outside a `run`, writes go out at once.
 */
export class WriteScope {
  #depth = 0;
  readonly #waiting = new Set<OutgoingLines>();
  #later: (() => void)[] = [];

  /** Whether writes are being gathered now. */
  get gathering(): boolean {
    return this.#depth > 0;
  }

  /** Runs `work(value)` (a value, not a closure: one chunk of input each time, no closure per chunk). */
  run<T>(work: (value: T) => void, value: T): void {
    this.#depth++;
    try {
      work(value);
    } finally {
      if (--this.#depth === 0) {
        if (this.#waiting.size > 0) {
          const waiting = [...this.#waiting];
          this.#waiting.clear();
          for (const lines of waiting) lines.flush();
        }
        if (this.#later.length > 0) this.#runLater();
      }
    }
  }

  /**
   * Runs `task` once the writes of this scope are handed to their sockets (at once outside a scope):
   * work that no reply waits for, such as building a log line, stays off the path from a line in to the
   * line out. Tasks run in the order given; one that throws does not stop the others.
   */
  later(task: () => void): void {
    if (this.#depth === 0) task();
    else this.#later.push(task);
  }

  #runLater(): void {
    const tasks = this.#later;
    this.#later = [];
    for (const task of tasks) {
      try {
        task();
      } catch {
        // A task is bookkeeping (a log line): its failure must not cost the others.
      }
    }
  }

  /** Called by an {@link OutgoingLines} when it gathered its first bytes of this scope. */
  enlist(lines: OutgoingLines): void {
    this.#waiting.add(lines);
  }
}

/** The lines written to one socket, gathered while its {@link WriteScope} gathers. */
export class OutgoingLines {
  readonly #socket: Socket;
  readonly #scope: WriteScope;
  #parts: Buffer[] = [];
  #bytes = 0;

  constructor(socket: Socket, scope: WriteScope) {
    this.#socket = socket;
    this.#scope = scope;
  }

  /** Bytes gathered and not yet handed to the socket. */
  get gatheredBytes(): number {
    return this.#bytes;
  }

  /**
   * Writes `parts` (together, one line) now, or gathers them when the scope gathers. The buffers
   * must not change until the scope ends (the Manager's lines are views of chunks nobody writes to).
   */
  write(...parts: Buffer[]): void {
    if (!this.#scope.gathering) {
      this.flush();
      writeParts(this.#socket, parts, sumLengths(parts));
      return;
    }
    if (this.#bytes === 0) this.#scope.enlist(this);
    for (const part of parts) {
      this.#parts.push(part);
      this.#bytes += part.length;
    }
  }

  /** Hands what was gathered to the socket. */
  flush(): void {
    if (this.#bytes === 0) return;
    const parts = this.#parts;
    const bytes = this.#bytes;
    this.#parts = [];
    this.#bytes = 0;
    if (this.#socket.destroyed) return;
    writeParts(this.#socket, parts, bytes);
  }
}

function sumLengths(parts: Buffer[]): number {
  let bytes = 0;
  for (const part of parts) bytes += part.length;
  return bytes;
}

function writeParts(socket: Socket, parts: Buffer[], bytes: number): void {
  if (parts.length === 1) {
    socket.write(parts[0]);
  } else if (bytes <= JOIN_LIMIT) {
    socket.write(Buffer.concat(parts, bytes));
  } else {
    socket.cork();
    for (const part of parts) socket.write(part);
    socket.uncork();
  }
}

/**
 * The output of a spawned child, line by line, prefixed with the child's name (`[worker] ready`), and the
 * tail of its stderr kept for the error raised when the child fails to start.
 * @module
 */
import type { Readable, Writable } from 'node:stream';

/** How much of a child's stderr is kept for error messages. */
const TAIL_BYTES = 8 * 1024;

/**
 * Copies `source` to `target` line by line, each line prefixed with `prefix`. A last line without a
 * newline is written when the source ends. Honours backpressure: the child's pipe is paused while `target`
 * is full, so a chatty child cannot grow our memory.
 *
 * Resolves when `source` has ended (or closed) and everything was handed to `target`.
 */
export function forwardLines(source: Readable, target: Writable | null, prefix: string): Promise<void> {
  let partial = '';
  source.setEncoding('utf8');
  const write = (text: string): void => {
    if (target === null || target.destroyed || target.writableEnded) return;
    if (!target.write(text)) {
      source.pause();
      target.once('drain', () => source.resume());
    }
  };
  source.on('data', (chunk: string) => {
    const text = partial + chunk;
    const lastNewline = text.lastIndexOf('\n');
    if (lastNewline < 0) {
      partial = text;
      return;
    }
    partial = text.slice(lastNewline + 1);
    let out = '';
    for (const line of text.slice(0, lastNewline).split('\n'))
      out += `${prefix}${line.endsWith('\r') ? line.slice(0, -1) : line}\n`;
    write(out);
  });
  return new Promise((resolve) => {
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      if (partial.length > 0) write(`${prefix}${partial}\n`);
      partial = '';
      resolve();
    };
    source.once('end', finish);
    source.once('close', finish);
    source.once('error', finish);
  });
}

/** Keeps the last {@link TAIL_BYTES} characters written to a stream (the child's stderr). */
export class OutputTail {
  #text = '';

  constructor(source: Readable) {
    source.on('data', (chunk: string | Buffer) => {
      this.#text = (this.#text + chunk.toString()).slice(-TAIL_BYTES);
    });
  }

  get text(): string {
    return this.#text;
  }
}

/**
 * Keeps a peer's text on one log line: every log of farcall writes messages through {@link lineSafe}.
 * @module
 */

const CONTROL_ALL = /\p{Cc}/gu;

/**
 * `text` with its control characters (`\p{Cc}`: U+0000–U+001F and U+007F–U+009F) escaped as `\xNN`, so
 * that a peer's text stays on its line.
 *
 * @example
 * ```ts
 * lineSafe('a\nb'); // 'a\\x0ab'
 * ```
 */
export function lineSafe(text: string): string {
  // One pass over the char codes: a regular expression costs more than the scan for the short names and
  // uids of every message the Manager forwards.
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return text.replace(CONTROL_ALL, escapeControl);
  }
  return text;
}

function escapeControl(char: string): string {
  return `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

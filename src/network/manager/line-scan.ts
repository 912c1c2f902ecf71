/**
 * Reading what the Manager needs from a raw line without routing it: whether a line answers a login
 * question, where a JSON object's closing brace is (to splice `requester` into the original bytes), a
 * string member of a dropped line's kept ends.
 * @module
 */
import { parseJson } from '../protocol/json.js';
import { isPlainObject } from '../protocol/messages.js';
import type { OversizeSample } from './peer.js';

// Whether a line (sent during an admin login) is the answer to the Manager's username/password question:
// a JSON object with `result` and no `service`, or plain text that is not a terminal command.
export function isHandshakeAnswer(line: Buffer): boolean {
  const text = line.toString('utf8');
  try {
    const value = parseJson(text);
    return isPlainObject(value) && 'result' in value && !('service' in value);
  } catch {
    return true;
  }
}

// The index of the closing `}` of a JSON object text (ignoring trailing whitespace), or -1.
export function closingBrace(line: Buffer): number {
  let end = line.length - 1;
  while (end >= 0 && (line[end] === 0x20 || line[end] === 0x09 || line[end] === 0x0d || line[end] === 0x0a))
    end--;
  return end >= 0 && line[end] === 0x7d ? end : -1;
}

// A string member found in the kept start or end of a dropped line.
export function findMember(sample: OversizeSample, name: string): string | undefined {
  const pattern = new RegExp(`"${name}"\\s*:\\s*"((?:[^"\\\\]|\\\\.)*)"`, 'g');
  for (const text of [sample.tail, sample.head]) {
    let found: string | undefined;
    for (const match of text.matchAll(pattern)) found = match[1];
    if (found !== undefined) {
      try {
        return JSON.parse(`"${found}"`) as string;
      } catch {
        return found;
      }
    }
  }
  return undefined;
}

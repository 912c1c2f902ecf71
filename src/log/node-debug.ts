/**
 * Which farcall parts `NODE_DEBUG` turns on, read once per process (as Node's `util.debuglog` does).
 * `NODE_DEBUG=farcall` turns on every part; `farcall:rpc`, `farcall:loadlib`, `farcall:network`,
 * `farcall:wire` one each; entries are separated by commas or spaces, case does not matter, and `*` is a
 * wildcard (`farcall*`, `farcall:*`).
 * @module
 */

/** The parts of farcall that log, each its own `NODE_DEBUG` section (`farcall:<part>`). */
export type LogPart = 'rpc' | 'loadlib' | 'network' | 'wire';

let sections: readonly string[] | undefined;

/**
 * Whether `NODE_DEBUG` names the section `farcall:<part>` (or all of farcall).
 *
 * @example
 * ```ts
 * // NODE_DEBUG=farcall:rpc node app.mjs
 * nodeDebugEnabled('rpc'); // true
 * nodeDebugEnabled('network'); // false
 * ```
 */
export function nodeDebugEnabled(part: LogPart): boolean {
  sections ??= parseNodeDebug(process.env.NODE_DEBUG ?? '');
  const section = `farcall:${part}`;
  return sections.some((entry) => entry === 'farcall' || matches(entry, section));
}

/** The entries of a `NODE_DEBUG` value, lower-cased. */
export function parseNodeDebug(value: string): string[] {
  return value
    .split(/[\s,]+/)
    .map((entry) => entry.trim().toLowerCase())
    .filter((entry) => entry.length > 0);
}

/** Forgets what `NODE_DEBUG` said, so the next check reads it again (for tests). @internal */
export function resetNodeDebug(): void {
  sections = undefined;
}

function matches(entry: string, section: string): boolean {
  if (!entry.includes('*')) return entry === section;
  const pattern = entry.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${pattern}$`).test(section);
}

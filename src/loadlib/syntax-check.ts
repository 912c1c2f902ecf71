/**
 * Where a module's SyntaxError is. Node.js 18 reports a SyntaxError met by `import()` without its file
 * and line, so the 32-bit server asks the Node.js it runs on (`--check`) — only after an import failed.
 *
 * Runs inside the 32-bit server, on Debian's i386 Node 18: Node 18 APIs only.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The longest the check may take (milliseconds). */
const CHECK_TIMEOUT_MS = 10_000;

/**
 * `file:line` and the offending source line of the SyntaxError in `modulePath`, as this Node.js sees it;
 * undefined when it cannot tell.
 */
export function locateSyntaxError(modulePath: string): { where: string; source: string } | undefined {
  const command = thisNodeCommand();
  if (command === undefined) return undefined;
  const result = spawnSync(command[0], [...command.slice(1), '--check', modulePath], {
    encoding: 'utf8',
    timeout: CHECK_TIMEOUT_MS,
    windowsHide: true,
  });
  // "<path>:<line>\n<source line>\n   ^\n\nSyntaxError: …"
  const [where, source] = (result.stderr ?? '').split('\n');
  if (where === undefined || !/:\d+$/.test(where)) return undefined;
  return { where, source: (source ?? '').trim() };
}

/**
 * How to start this very Node.js: on Linux the 32-bit runtime runs node through its own loader
 * (`ld-linux.so.2 --library-path … node`), which only /proc/self/cmdline shows.
 */
function thisNodeCommand(): string[] | undefined {
  if (process.platform !== 'linux') return [process.execPath];
  try {
    const argv = readFileSync('/proc/self/cmdline', 'utf8').split('\0');
    const script = argv.indexOf(process.argv[1] ?? '');
    return script > 0 ? argv.slice(0, script) : [process.execPath];
  } catch {
    return [process.execPath];
  }
}

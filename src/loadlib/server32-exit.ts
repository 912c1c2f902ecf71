/**
 * How a 32-bit server process ended, and that in words: a module of its own, so the client can explain
 * a crash without loading what spawns processes.
 * @module
 */

/** How the process ended. */
export interface ExitStatus {
  /** The exit code, or `null` when a signal ended it. */
  code: number | null;
  /** The signal that ended it, or `null`. */
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all. */
  error?: Error;
}

/**
 * How a process ended, in words: `exited with code 1`, `was killed by signal SIGSEGV (a segmentation
 * fault: the library read or wrote memory it does not own)`.
 */
export function describeExit(status: ExitStatus): string {
  if (status.error !== undefined) return `could not be started (${status.error.message})`;
  if (status.signal !== null) {
    const why = SIGNAL_MEANINGS[status.signal];
    return `was killed by signal ${status.signal}${why === undefined ? '' : ` (${why})`}`;
  }
  return `exited with code ${status.code}`;
}

const SIGNAL_MEANINGS: Partial<Record<NodeJS.Signals, string>> = {
  SIGSEGV: 'a segmentation fault: the library read or wrote memory it does not own',
  SIGBUS: 'a bus error: the library accessed memory it cannot',
  SIGILL: 'an illegal instruction in the library',
  SIGFPE: 'an arithmetic error in the library, e.g. an integer division by zero',
  SIGABRT: 'abort() was called, e.g. by a failed assertion in the library',
  SIGKILL: 'killed: by the kill timeout, by a user, or by the system running out of memory',
  SIGTERM: 'asked to terminate by another process',
};

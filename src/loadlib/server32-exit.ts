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
  const ntstatus = status.code === null ? undefined : NTSTATUS_MEANINGS[status.code];
  if (ntstatus !== undefined)
    return `exited with code 0x${(status.code as number).toString(16)} (${ntstatus})`;
  return `exited with code ${status.code}`;
}

/** Windows: a process killed by an exception exits with its NTSTATUS code. */
const NTSTATUS_MEANINGS: Record<number, string> = {
  3221225477: 'an access violation: the library read or wrote memory it does not own',
  3221225725: 'a stack overflow in the library',
  3221225501: 'an illegal instruction in the library',
  3221225620: 'an integer division by zero in the library',
  3221226505: 'a stack buffer overrun detected in the library',
  3221226356: 'heap corruption in the library',
};

const SIGNAL_MEANINGS: Partial<Record<NodeJS.Signals, string>> = {
  SIGSEGV: 'a segmentation fault: the library read or wrote memory it does not own',
  SIGBUS: 'a bus error: the library accessed memory it cannot',
  SIGILL: 'an illegal instruction in the library',
  SIGFPE: 'an arithmetic error in the library, e.g. an integer division by zero',
  SIGABRT: 'abort() was called, e.g. by a failed assertion in the library',
  SIGKILL: 'killed: by the kill timeout, by a user, or by the system running out of memory',
  SIGTERM: 'asked to terminate by another process',
};

/**
 * What keeps the 32-bit server from outliving its owner while it starts, before the owner watcher
 * (`server32-owner-watch`) runs.
 *
 * Why not start the watcher at once: it is a worker thread, and a worker thread of Debian's i386
 * Node.js 18 (no snapshot, no code cache) costs about 100 ms of CPU to boot, which on a busy machine
 * slowed a Client64's start by a fifth. So on Linux the server asks the kernel to kill it (SIGKILL) the
 * moment its parent dies (`prctl(PR_SET_PDEATHSIG)`) while it starts — a module or a constructor blocked
 * in a native call included — and starts the watcher once its start has been answered, then lifts the
 * kernel's order: from then on an owner that dies lets the server run its `shutdownHandler()` first (the
 * watcher kills a server whose main thread is blocked, as before). Elsewhere (Windows has no such
 * order), or if the order cannot be given, the watcher starts at once.
 *
 * Runs inside the 32-bit server, on Debian's i386 Node 18: Node 18 APIs only.
 * @module
 */
import koffi from 'koffi';

/** `PR_SET_PDEATHSIG` of `<linux/prctl.h>`. */
const PR_SET_PDEATHSIG = 1;
/** SIGKILL's number on Linux. */
const SIGKILL = 9;

/** The kernel's order to kill this process with its parent, while it holds. */
export interface StartGuard {
  /** Lifts the order (idempotent). */
  release(): void;
}

/**
 * Orders the kernel to kill this process when its parent (`ownerPid`) dies; undefined where that
 * cannot be done (not Linux, no glibc). If the owner is already gone, exits at once.
 */
export function guardStartWithParentDeath(ownerPid: number): StartGuard | undefined {
  if (process.platform !== 'linux') return undefined;
  let prctl: (option: number, ...rest: unknown[]) => number;
  try {
    prctl = koffi.load('libc.so.6').func('int prctl(int option, ...)') as typeof prctl;
    if (prctl(PR_SET_PDEATHSIG, 'unsigned long', SIGKILL) !== 0) return undefined;
  } catch {
    return undefined;
  }
  // The owner may have died before the order was given: then nobody would ever kill us.
  if (process.ppid !== ownerPid) process.exit(1);
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      prctl(PR_SET_PDEATHSIG, 'unsigned long', 0);
    },
  };
}

/**
 * Watches the 32-bit server's owner (the Client64's process) from a worker thread, so the server never
 * outlives it — also while the server's main thread is blocked in a long native call and cannot see its
 * pipe close.
 *
 * When the owner is gone, the main thread normally notices at once (the pipe closes), runs the server's
 * `shutdownHandler()` and exits; it tells the watcher so through {@link OwnerWatch.shuttingDown}. If the
 * main thread has not done so within {@link OWNER_GONE_GRACE_MS} (it is blocked), or the shutdown takes
 * longer than {@link ORPHAN_SHUTDOWN_LIMIT_MS}, the watcher kills the process (SIGKILL).
 *
 * How the owner is watched depends on the platform (see `server32-owner-watch-worker`): on Linux and
 * macOS its pid stops being our parent pid (we are re-parented); on Windows the pid stops existing. This
 * module is the seam where an OS-level guarantee can be added beside it — a Windows job object with
 * `JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE` created by the client, or Linux's `PR_SET_PDEATHSIG` — without
 * changing the server program.
 *
 * Runs inside the 32-bit server, on Debian's i386 Node 18: Node 18 APIs only.
 * @module
 */
import { createRequire } from 'node:module';

/** How often the watcher looks at the owner (milliseconds). */
export const OWNER_POLL_MS = 200;
/** How long the main thread has to notice a gone owner before the watcher kills the process. */
export const OWNER_GONE_GRACE_MS = 1000;
/** The longest an orphaned server may take to run its shutdownHandler before it is killed. */
export const ORPHAN_SHUTDOWN_LIMIT_MS = 10_000;

/** What the worker is told (its `workerData`). */
export interface OwnerWatchData {
  /** The owner's pid: our parent pid when the server started. */
  ownerPid: number;
  /** One Int32: 0 while serving, 1 once the main thread has begun to shut down. */
  state: SharedArrayBuffer;
  pollMs: number;
  graceMs: number;
  shutdownLimitMs: number;
}

/** The main thread's side of the watch. */
export interface OwnerWatch {
  /** The main thread has begun to shut down (its owner closed the pipe or went away). */
  shuttingDown(): void;
}

/**
 * Starts the watcher thread (it does not keep the process alive).
 * @param ownerPid - the owner's pid (`process.ppid` read as early as possible: if the owner died even
 *   before, the watcher sees at once that it is not our parent any more)
 */
export function watchOwner(ownerPid: number): OwnerWatch {
  const state = new SharedArrayBuffer(4);
  const flag = new Int32Array(state);
  const workerData: OwnerWatchData = {
    ownerPid,
    state,
    pollMs: OWNER_POLL_MS,
    graceMs: OWNER_GONE_GRACE_MS,
    shutdownLimitMs: ORPHAN_SHUTDOWN_LIMIT_MS,
  };
  // Loaded here, not at the top: on Linux the watcher starts after the start reply, and node:worker_threads
  // (four of Node.js's own modules, compiled at every start by Debian's i386 Node.js) would delay it.
  const { Worker } = createRequire(import.meta.url)(
    'node:worker_threads',
  ) as typeof import('node:worker_threads');
  const worker = new Worker(new URL('./server32-owner-watch-worker.js', import.meta.url), { workerData });
  worker.unref();
  worker.on('error', (error) => {
    process.stderr.write(`farcall server32: the owner watcher failed: ${error.stack ?? error.message}\n`);
  });
  return {
    shuttingDown() {
      Atomics.store(flag, 0, 1);
    },
  };
}

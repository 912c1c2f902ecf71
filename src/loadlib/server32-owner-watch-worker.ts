/**
 * The owner watcher's thread (see `server32-owner-watch`): polls whether the Client64's process is still
 * there and kills this process when it is gone and the main thread cannot shut down by itself.
 *
 * Runs inside the 32-bit server, on Debian's i386 Node 18: Node 18 APIs only.
 * @module
 */
import { writeSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import type { OwnerWatchData } from './server32-owner-watch.js';

const data = workerData as OwnerWatchData;
const flag = new Int32Array(data.state);

/** Whether the owner is still there. */
function ownerAlive(): boolean {
  if (process.platform !== 'win32') {
    // An orphan is re-parented (to init or a subreaper): a reliable sign that cannot be fooled by a
    // recycled pid.
    return process.ppid === data.ownerPid;
  }
  // Windows does not re-parent: ask whether the pid still exists.
  try {
    process.kill(data.ownerPid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function killSelf(why: string): void {
  try {
    // Straight to fd 2: a worker's process.stderr goes through the main thread, which may be blocked.
    writeSync(2, `farcall server32: ${why}; killing the server (pid ${process.pid})\n`);
  } catch {
    // nobody may be reading stderr any more
  }
  process.kill(process.pid, 'SIGKILL');
}

const poll = setInterval(() => {
  if (ownerAlive()) return;
  clearInterval(poll);
  // The owner is gone. Give the main thread a moment to notice (its pipe closed) and begin shutting down.
  setTimeout(() => {
    if (Atomics.load(flag, 0) === 0) {
      killSelf(
        `the Client64's process (pid ${data.ownerPid}) is gone and the server's main thread did not ` +
          `notice within ${data.graceMs} ms (a native call is blocking it)`,
      );
      return;
    }
    setTimeout(
      () =>
        killSelf(
          `the Client64's process (pid ${data.ownerPid}) is gone and the shutdownHandler did not return ` +
            `within ${data.shutdownLimitMs} ms`,
        ),
      data.shutdownLimitMs,
    );
  }, data.graceMs);
}, data.pollMs);

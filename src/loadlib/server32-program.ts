/**
 * The program the 32-bit Node.js runs for a `Client64`: it serves a {@link Server32Host} over the
 * private pipe on fd 3 and lives exactly as long as that pipe. When the client shuts it down, exits, or
 * is killed, the pipe closes and this process runs the server's `shutdownHandler()` and exits. A watcher
 * thread (`server32-owner-watch`) kills it when its owner is gone and the main thread is blocked in a
 * native call: it can never outlive its client.
 *
 * A failure to start (the module, the class, its constructor, the library) is printed on stderr, sent
 * to the client as the reply to `start`, and ends the process with exit code 1.
 *
 * `server32-main` runs it. Client64 starts that program with the condition `farcall-server32`, under
 * which `farcall/loadlib` is `server32-bundle`: this program and the whole `farcall/loadlib` in one file
 * (`npm run build` bundles it), so the server module's `import … from 'farcall/loadlib'` finds the very
 * module instances this program already loaded, and the start reads one file, not fifty. Each file
 * costs Node 18's ES module loader several milliseconds, and the i386 Node has no code cache.
 *
 * Runs on Debian's i386 Node 18: Node 18 APIs only.
 * @module
 */
import { rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { dirname } from 'node:path';
import { partLog } from '../log/logger.js';
import { Connection } from '../rpc/connection.js';
import type { Listener } from '../wire/transports.js';
import { markServer32Process } from './server32.js';
import { SERVER32_MAX_MESSAGE_BYTES, Server32Host } from './server32-host.js';
import { server32LogName } from './server32-log-name.js';
import { type OwnerWatch, watchOwner } from './server32-owner-watch.js';
import { guardStartWithParentDeath } from './server32-start-guard.js';

/**
 * Serves one Client64 over fd 3 (or the socket control channel) until it goes; then exits.
 * `afterStart` runs once the start reply has been written (the bundle saves its code cache then).
 */
export async function runServer32Program(afterStart?: () => void): Promise<void> {
  // First of all: from now on, this process dies with its owner even while a native call blocks it.
  // On Linux the kernel sees to it while the server starts, and the watcher thread (costly to boot)
  // takes over once the start is answered; elsewhere the watcher starts now (see server32-start-guard).
  const ownerPid = process.ppid;
  const guard = guardStartWithParentDeath(ownerPid);
  let owner: OwnerWatch | undefined = guard === undefined ? watchOwner(ownerPid) : undefined;
  let closing = false;
  const watchFromNowOn = (): void => {
    if (owner === undefined) {
      owner = watchOwner(ownerPid);
      if (closing) owner.shuttingDown();
    }
    // The watcher thread boots by itself, even while a native call blocks this one.
    guard?.release();
  };
  markServer32Process();
  // Ctrl-C in the client's terminal reaches this process too; the client decides when the server stops.
  process.on('SIGINT', () => {});

  let listener: Listener | undefined;
  let socketDir: string | undefined;
  let exitCode = 0;

  const host = new Server32Host(
    async (address, authKey, root) => {
      // A Unix socket lives in a private folder the client made for it; remove it when we go.
      if (address.startsWith('unix://')) socketDir = dirname(address.slice('unix://'.length));
      // Loaded when asked for: the default private pipe needs no socket code (and no TLS) at start.
      const { listenForClient } = await import('./server32-listener.js');
      listener = await listenForClient(address, authKey, root);
      return listener.address;
    },
    () => {
      // The error goes to the client as the reply to `start` (printing it too would show it twice there).
      exitCode = 1;
      // Let the error reply leave first, then close the pipe: that ends this process.
      setImmediate(() => {
        connection.close('the server could not start').catch(() => {});
      });
    },
    // After the start reply has been written (the next turn), so that booting the watcher does not
    // delay it; the kernel's order holds until then.
    () =>
      setImmediate(() => {
        watchFromNowOn();
        afterStart?.();
      }),
  );

  // Windows Node.js (under Wine, or on Windows) connects back to the client instead: see server32-socket-control
  // (loaded only then: the pipe's start stays as quick as it was). Otherwise the private pipe on fd 3 (what
  // wire's parentChannel(3) makes, without loading the socket transports).
  const control = process.env.FARCALL_SERVER32_CONTROL
    ? await (await import('./server32-socket-control.js')).connectControl()
    : undefined;
  const connection = new Connection(
    control?.stream ?? new Socket({ fd: 3, readable: true, writable: true }),
    {
      root: host,
      authKey: control?.key,
      side: 'server',
      peerName: 'the Client64',
      maxFrameBytes: SERVER32_MAX_MESSAGE_BYTES,
      log: partLog('loadlib'),
      logName: server32LogName,
    },
  );

  connection.whenClosed.then(async () => {
    // Before the start was answered, the kernel's order still holds instead of the watcher.
    closing = true;
    owner?.shuttingDown();
    // Do not let a shutdownHandler that never returns keep us alive: the client kills us after its
    // killTimeout anyway, but a client that is gone cannot.
    const deadline = setTimeout(() => process.exit(exitCode), 30_000);
    try {
      await host.shutdown();
      await listener?.close();
    } finally {
      clearTimeout(deadline);
      if (socketDir !== undefined) {
        try {
          rmSync(socketDir, { recursive: true, force: true });
        } catch {
          // the client removes it too
        }
      }
      process.exit(exitCode);
    }
  });
}

/**
 * The program a {@link ProcessSpawner} child runs: imports the user's module, publishes what it provides
 * on an RPCServer, then serves the parent over the pipe on fd 3 (the parent's handshake completing is
 * the "ready" signal). It exits when the parent goes: when the pipe or stdin closes.
 *
 * Failures before ready are written to stderr and end the process with code 1, so the parent rejects at
 * once with the message (it forwards our stderr).
 * @module
 */
import { parentChannel } from '../wire/transports.js';
import { childLogger, flushChildLogs, openChildLogChannel } from './child-log.js';
import { RPCServer } from './server.js';
import { SPAWNER_CONFIG_VARIABLE, type SpawnerChildConfig, type SpawnerContext } from './spawner-config.js';

/** How long the cleanup returned by setup() and the server's close may take when the parent goes. */
const SHUTDOWN_DEADLINE_MS = 3_000;
/** How long the child waits, before it exits, for its queued log records to reach the pipe. */
const LOG_FLUSH_DEADLINE_MS = 1_000;

const config = readConfig();
// Before the user's module runs: what it logs while it loads reaches the parent too.
if (config.logFd !== undefined) openChildLogChannel(config.logFd, config.name);
let server: RPCServer | undefined;
let cleanup: (() => unknown) | undefined;
let shuttingDown = false;

// Until the rpc pipe is served, stdin is the lifeline: it ends when the parent dies.
process.stdin.on('error', () => {});
process.stdin.once('end', () => void shutdown());
process.stdin.once('close', () => void shutdown());
process.stdin.resume();

let stage = `import ${config.module}`;
try {
  const module = (await import(config.module)) as Record<string, unknown>;
  const options = {
    address: config.address,
    policy: config.policy,
    authKey: config.authKey,
    importable: config.importable,
    maxFrameBytes: config.maxFrameBytes,
    timeout: config.callTimeout,
  };
  stage = config.address === undefined ? 'start the RPCServer' : `listen on ${config.address}`;
  server = config.address === undefined ? new RPCServer(options) : await RPCServer.listen(options);
  stage = module.setup === undefined ? `publish the exports of ${config.module}` : 'run setup()';
  cleanup = await publish(server, module);
} catch (error) {
  await fail(`Could not ${stage}`, error);
}
if (shuttingDown) await new Promise(() => {}); // the parent died while we were starting; exit is under way
// The parent's own client may close its child; other clients only with allowRemoteClose.
const connection = (server as RPCServer).serve(parentChannel(3), {
  peerName: 'the parent process',
  canCloseServer: true,
});
void connection.whenClosed.then(() => shutdown());

/** Publishes what the module provides; returns the cleanup its setup() gave, if any. */
async function publish(
  target: RPCServer,
  module: Record<string, unknown>,
): Promise<(() => unknown) | undefined> {
  const setup = module.setup;
  if (setup !== undefined) {
    if (typeof setup !== 'function') {
      throw new TypeError(`The export 'setup' of ${config.module} is not a function`);
    }
    const context: SpawnerContext = { name: config.name, args: config.args, log: childLogger() };
    const result = await (setup as (server: RPCServer, context: SpawnerContext) => unknown)(target, context);
    if (typeof result === 'function') return result as () => unknown;
    const disposable = result as { [Symbol.asyncDispose]?: () => unknown; [Symbol.dispose]?: () => unknown };
    if (disposable !== null && typeof disposable === 'object') {
      const dispose = disposable[Symbol.asyncDispose] ?? disposable[Symbol.dispose];
      if (typeof dispose === 'function') return () => dispose.call(disposable);
    }
    return undefined;
  }
  const names = Object.keys(module);
  if (names.length === 0) {
    throw new TypeError(
      `${config.module} exports nothing to publish: export a setup(server) function, or the objects to publish`,
    );
  }
  for (const name of names) target.set(name, module[name]);
  return undefined;
}

/** Closes down: the setup's cleanup, then the server (its clients are told), then exit — within a deadline. */
async function shutdown(): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  const deadline = setTimeout(() => process.exit(0), SHUTDOWN_DEADLINE_MS);
  deadline.unref();
  try {
    await cleanup?.();
  } catch (error) {
    process.stderr.write(`cleanup failed: ${describe(error)}\n`);
  }
  await server?.close();
  await flushChildLogs(LOG_FLUSH_DEADLINE_MS);
  process.exit(0);
}

async function fail(what: string, error: unknown): Promise<never> {
  await new Promise<void>((resolve) =>
    process.stderr.write(`${what}: ${describe(error)}\n`, () => resolve()),
  );
  await server?.close();
  await flushChildLogs(LOG_FLUSH_DEADLINE_MS);
  process.exit(1);
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // A module that is not found needs no stack trace of Node's loader.
  if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') return error.message;
  return error.stack ?? `${error.name}: ${error.message}`;
}

function readConfig(): SpawnerChildConfig {
  const text = process.env[SPAWNER_CONFIG_VARIABLE];
  // Not for the user's code (it may hold the authKey).
  delete process.env[SPAWNER_CONFIG_VARIABLE];
  if (text === undefined) {
    process.stderr.write(
      'spawner-main is the program of a ProcessSpawner child: start it with ProcessSpawner.spawn()\n',
    );
    process.exit(2);
  }
  return JSON.parse(text) as SpawnerChildConfig;
}

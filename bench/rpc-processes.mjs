// Helpers of the rpc benchmarks: the server process (rpc-server.mjs) with farcall and the bare floor side
// by side, and a child process for ProcessSpawner's start-up floor.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { freshAddress } from './floor.mjs';

/**
 * Forks rpc-server.mjs with addresses of `kind` ('unix' | 'tcp'); resolves { rpc, bare, stop }.
 * FARCALL_BENCH_SERVER_FLAGS adds Node flags to the server process, e.g. '--cpu-prof' to profile it.
 */
export async function startServerProcess(kind) {
  const child = fork(
    fileURLToPath(new URL('./rpc-server.mjs', import.meta.url)),
    [freshAddress(kind), freshAddress(kind)],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: (process.env.FARCALL_BENCH_SERVER_FLAGS ?? '').split(' ').filter(Boolean),
    },
  );
  const [addresses] = await once(child, 'message');
  return { ...addresses, stop: () => child.disconnect() };
}

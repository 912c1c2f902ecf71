// vitest global setup: runs once before all test files. It compiles the native test libraries
// (native/build/, 32- and 64-bit) with scripts/build-native.sh, which skips what is up to date.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const script = fileURLToPath(new URL('../scripts/build-native.sh', import.meta.url));
  try {
    execFileSync('bash', [script], { stdio: ['ignore', 'inherit', 'pipe'], timeout: 120_000 });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`Building the native test libraries failed (bash scripts/build-native.sh):\n${stderr}`, {
      cause: err,
    });
  }
}

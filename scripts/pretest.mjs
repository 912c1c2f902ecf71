#!/usr/bin/env node
// Runs before `npm test`: makes sure the 32-bit runtime and `gcc -m32` the loadlib tests need are there (and
// Wine with the Windows runtimes and MinGW, for the Windows tests), so
// that `npm install && npm test` works on a fresh Debian/Ubuntu machine (as root, or with sudo). The setup
// script is idempotent: with everything in place it changes nothing and takes about a second.
// Elsewhere (not Linux on x86-64) it says what to do instead; the loadlib tests then fail with that advice.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.warn(
    'farcall pretest: the loadlib tests need a 32-bit runtime; scripts/setup-server32.sh prepares it on ' +
      'Debian/Ubuntu x86-64 only (see "Setting up the 32-bit runtime" in the README)',
  );
} else {
  const setup = spawnSync('bash', [join(here, 'setup-server32.sh')], { stdio: 'inherit' });
  if (setup.status !== 0) process.exit(setup.status ?? 1);
  // The Windows tests: Wine, MinGW and the Windows runtimes (idempotent too: a few seconds when in place).
  const wine = spawnSync('bash', [join(here, 'setup-wine.sh'), '--client64', '--mingw'], { stdio: 'inherit' });
  if (wine.status !== 0) process.exit(wine.status ?? 1);
}

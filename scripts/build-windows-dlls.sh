#!/usr/bin/env bash
# Cross-compiles the Windows DLLs that farcall's Windows tests (run under Wine) load, with MinGW-w64:
#   native/build/windows/farcall_example-32.dll         the example contract; add_stdcall exported as add_stdcall@8
#   native/build/windows/farcall_example_killat-32.dll  the same, linked with --kill-at: add_stdcall undecorated
#   native/build/windows/farcall_example-64.dll         the 64-bit build (the "wrong bitness" test)
#   native/build/windows/deps/farcall_dep-32.dll        a dependency kept in a folder of its own
#   native/build/windows/farcall_uses_dep-32.dll        needs farcall_dep-32.dll ("missing dependency")
#   native/build/windows/farcall_hresult-32.dll         __stdcall functions returning HRESULTs (oledll)
#   native/build/windows/farcall_winapi-32.dll          calls kernel32 (GetLocalTime, GetModuleFileNameW)
# Skips a DLL whose output is newer than its sources. Needs gcc-mingw-w64-i686 and gcc-mingw-w64-x86-64
# (bash scripts/setup-wine.sh --mingw installs them).
#
# Usage: bash scripts/build-windows-dlls.sh [--force]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/native"
out="$src/build/windows"
force=0
[ "${1:-}" = --force ] && force=1
mkdir -p "$out/deps"

for cc in i686-w64-mingw32-gcc x86_64-w64-mingw32-gcc; do
  command -v "$cc" >/dev/null ||
    { echo "build-windows-dlls: $cc is missing: apt-get install gcc-mingw-w64-i686 gcc-mingw-w64-x86-64 (or: bash scripts/setup-wine.sh --mingw)" >&2; exit 1; }
done

up_to_date() { # OUTPUT INPUT...
  local target="$1" input
  shift
  [ "$force" -eq 0 ] && [ -f "$target" ] || return 1
  for input in "$@" "${BASH_SOURCE[0]}"; do
    [ "$target" -nt "$input" ] || return 1
  done
}

build() { # OUTPUT BITS SOURCE [FLAGS...]
  local target="$1" bits="$2" source="$3"
  shift 3
  if up_to_date "$target" "$source" "$src/farcall_example.h"; then return 0; fi
  local cc=i686-w64-mingw32-gcc
  [ "$bits" = 64 ] && cc=x86_64-w64-mingw32-gcc
  echo "build-windows-dlls: $(basename "$target")"
  # Build under the final name (a DLL records its own name, and its users import by it) in a temporary
  # folder, then move it: an interrupted build never leaves a truncated DLL that looks up to date.
  local tmp
  tmp="$(mktemp -d)"
  # Static libgcc: the DLL then needs only system DLLs, as a vendor's DLL usually does.
  "$cc" -shared -O2 -Wall -Wextra -std=c11 -static-libgcc -o "$tmp/$(basename "$target")" "$source" "$@" ||
    { rm -rf "$tmp"; exit 1; }
  mv -f "$tmp/$(basename "$target")" "$target"
  rm -rf "$tmp"
}

build "$out/farcall_example-32.dll" 32 "$src/farcall_example.c"
build "$out/farcall_example_killat-32.dll" 32 "$src/farcall_example.c" -Wl,--kill-at
build "$out/farcall_example-64.dll" 64 "$src/farcall_example.c"
build "$out/deps/farcall_dep-32.dll" 32 "$src/farcall_dep.c"
build "$out/farcall_uses_dep-32.dll" 32 "$src/farcall_uses_dep.c" "$out/deps/farcall_dep-32.dll"
build "$out/farcall_hresult-32.dll" 32 "$src/windows/farcall_hresult.c"
build "$out/farcall_winapi-32.dll" 32 "$src/windows/farcall_winapi.c"

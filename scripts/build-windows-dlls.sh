#!/usr/bin/env bash
# Cross-compiles the Windows DLLs that farcall's Windows tests (run under Wine) load, with MinGW-w64:
#   native/build/windows/farcall_example-32.dll         the example contract; add_stdcall exported as add_stdcall@8
#   native/build/windows/farcall_example_killat-32.dll  the same, linked with --kill-at: add_stdcall undecorated
#   native/build/windows/farcall_example-64.dll         the 64-bit build (the "wrong bitness" test)
#   native/build/windows/deps/farcall_dep-32.dll        a dependency kept in a folder of its own
#   native/build/windows/farcall_uses_dep-32.dll        needs farcall_dep-32.dll ("missing dependency")
#   native/build/windows/farcall_hresult-32.dll         __stdcall functions returning HRESULTs (oledll)
#   native/build/windows/farcall_winapi-32.dll          calls kernel32 (GetLocalTime, GetModuleFileNameW)
# and the 32-bit DLLs of the examples in examples/loadlib/, next to their Linux builds (the example server
# modules load the .dll on Windows and the .so elsewhere):
#   native/build/libfarcall_cpp-32.dll                  examples/loadlib/cpp (native/cpp, g++)
#   native/build/libfarcall_fortran-32.dll              examples/loadlib/fortran (native/fortran, gfortran)
#   native/build/libfarcall_example-32.dll              examples/loadlib/echo (the C example contract)
#   native/build/libfarcall_{cpp,fortran,example}-64.dll  their 64-bit builds (mocked mode on Windows)
# Every DLL links the compiler's runtime statically, so that it imports only system DLLs (KERNEL32.dll,
# msvcrt.dll), as a vendor's DLL usually does. Skips a DLL whose output is newer than its sources.
# Needs gcc-mingw-w64-i686, g++-mingw-w64-i686, gfortran-mingw-w64-i686, gcc-mingw-w64-x86-64,
# g++-mingw-w64-x86-64 and gfortran-mingw-w64-x86-64 (bash scripts/setup-wine.sh --mingw installs them).
#
# Usage: bash scripts/build-windows-dlls.sh [--force]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/native"
out="$src/build/windows"
force=0
[ "${1:-}" = --force ] && force=1
mkdir -p "$out/deps"

for arch in i686 x86_64; do
  for cc in gcc g++ gfortran; do
    command -v "$arch-w64-mingw32-$cc" >/dev/null ||
      { echo "build-windows-dlls: $arch-w64-mingw32-$cc is missing: apt-get install {gcc,g++,gfortran}-mingw-w64-{i686,x86-64} (or: bash scripts/setup-wine.sh --mingw)" >&2; exit 1; }
  done
done

up_to_date() { # OUTPUT INPUT...
  local target="$1" input
  shift
  [ "$force" -eq 0 ] && [ -f "$target" ] || return 1
  for input in "$@" "${BASH_SOURCE[0]}"; do
    [ "$target" -nt "$input" ] || return 1
  done
}

# compile OUTPUT COMMAND...: runs COMMAND with -o <the output's name in a temporary folder> appended, then
# moves the DLL into place. The final name, because a DLL records its own name and its users import by it;
# the move, so that an interrupted build never leaves a truncated DLL that looks up to date.
compile() {
  local target="$1"
  shift
  echo "build-windows-dlls: $(basename "$target")"
  local tmp
  tmp="$(mktemp -d)"
  "$@" -o "$tmp/$(basename "$target")" || { rm -rf "$tmp"; exit 1; }
  mv -f "$tmp/$(basename "$target")" "$target"
  rm -rf "$tmp"
}

build() { # OUTPUT BITS SOURCE [FLAGS...]
  local target="$1" bits="$2" source="$3"
  shift 3
  if up_to_date "$target" "$source" "$src/farcall_example.h"; then return 0; fi
  local cc=i686-w64-mingw32-gcc
  [ "$bits" = 64 ] && cc=x86_64-w64-mingw32-gcc
  # Static libgcc: the DLL then needs only system DLLs, as a vendor's DLL usually does.
  compile "$target" "$cc" -shared -O2 -Wall -Wextra -std=c11 -static-libgcc "$source" "$@"
}

build "$out/farcall_example-32.dll" 32 "$src/farcall_example.c"
build "$out/farcall_example_killat-32.dll" 32 "$src/farcall_example.c" -Wl,--kill-at
build "$out/farcall_example-64.dll" 64 "$src/farcall_example.c"
build "$out/deps/farcall_dep-32.dll" 32 "$src/farcall_dep.c"
build "$out/farcall_uses_dep-32.dll" 32 "$src/farcall_uses_dep.c" "$out/deps/farcall_dep-32.dll"
build "$out/farcall_hresult-32.dll" 32 "$src/windows/farcall_hresult.c"
build "$out/farcall_winapi-32.dll" 32 "$src/windows/farcall_winapi.c"

# The examples' DLLs (the commands examples/loadlib/*/README.md give), 32-bit and 64-bit.
for bits in 32 64; do
  arch=i686
  [ "$bits" = 64 ] && arch=x86_64
  build "$root/native/build/libfarcall_example-$bits.dll" "$bits" "$src/farcall_example.c"
  target="$root/native/build/libfarcall_cpp-$bits.dll"
  if ! up_to_date "$target" "$src/cpp/farcall_cpp.cpp" "$src/cpp/farcall_cpp.h"; then
    compile "$target" "$arch-w64-mingw32-g++" -shared -O2 -Wall -Wextra -std=c++17 \
      -static-libgcc -static-libstdc++ "$src/cpp/farcall_cpp.cpp"
  fi
  target="$root/native/build/libfarcall_fortran-$bits.dll"
  if ! up_to_date "$target" "$src/fortran/farcall_fortran.f90"; then
    # -static: libgfortran and libquadmath too (they have no -static-lib… flag of their own that covers both).
    compile "$target" "$arch-w64-mingw32-gfortran" -shared -O2 -Wall -Wno-attributes -static \
      "$src/fortran/farcall_fortran.f90"
  fi
done

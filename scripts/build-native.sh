#!/usr/bin/env bash
# Compiles the C libraries in native/ that farcall's tests and examples load, 32- and 64-bit:
#   native/build/libfarcall_example-{32,64}.so     the example contract (see native/farcall_example.h)
#   native/build/deps/libfarcall_dep-{32,64}.so    a dependency kept off the loader's search path
#   native/build/libfarcall_uses_dep-{32,64}.so    needs libfarcall_dep-{32,64}.so ("missing dependency")
#   native/build/libfarcall_cpp-{32,64}.so         examples/loadlib/cpp (native/cpp, g++)
#   native/build/libfarcall_fortran-{32,64}.so     examples/loadlib/fortran (native/fortran, gfortran)
# Skips a library whose output is newer than its sources. Needs gcc, g++ and gfortran with their multilib
# packages (for -m32) and libgfortran5:i386, which scripts/setup-server32.sh installs.
#
# Usage: bash scripts/build-native.sh [--force] [--out DIR]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/native"
out="$src/build"
force=0
while [ $# -gt 0 ]; do
  case "$1" in
  --force)
    force=1
    shift
    ;;
  --out)
    out="$2"
    shift 2
    ;;
  *)
    echo "build-native: unknown argument '$1'" >&2
    exit 2
    ;;
  esac
done
cc="${CC:-gcc}"
cxx="${CXX:-g++}"
fc="${FC:-gfortran}"
mkdir -p "$out/deps"

# up_to_date OUTPUT INPUT...: the output exists and is newer than every input (and this script).
up_to_date() {
  local target="$1" input
  shift
  [ "$force" -eq 0 ] && [ -f "$target" ] || return 1
  for input in "$@" "${BASH_SOURCE[0]}"; do
    [ "$target" -nt "$input" ] || return 1
  done
}

# need_source FILE: a missing source is named as such (not blamed on the compiler).
need_source() {
  if [ ! -f "$1" ]; then
    echo "build-native: the source $1 is missing (a partial checkout or package?); reinstall farcall" >&2
    exit 1
  fi
}

# build OUTPUT BITS SOURCE [LINK-FLAGS...]: compile into a temporary file, then rename, so that an
# interrupted build never leaves a truncated library that looks up to date.
build() {
  local target="$1" bits="$2" source="$3"
  shift 3
  need_source "$source"
  if up_to_date "$target" "$source" "$src/farcall_example.h"; then return 0; fi
  local tmp="$target.tmp.$$"
  echo "build-native: $(basename "$target")"
  if ! "$cc" -m"$bits" -shared -fPIC -O2 -Wall -Wextra -std=c11 -D_POSIX_C_SOURCE=200809L \
    -Wl,-soname,"$(basename "$target")" -o "$tmp" "$source" "$@" -lm; then
    rm -f "$tmp"
    if [ "$bits" = 32 ]; then
      echo "build-native: cannot compile 32-bit code: install gcc-multilib (bash scripts/setup-server32.sh does)" >&2
    fi
    exit 1
  fi
  mv -f "$tmp" "$target"
}

# compile OUTPUT BITS PACKAGE COMMAND...: runs COMMAND with -o <temporary file> appended, then renames it
# (see build); PACKAGE is what to install when a 32-bit build fails.
compile() {
  local target="$1" bits="$2" package="$3"
  shift 3
  need_source "${!#}"
  local tmp="$target.tmp.$$"
  echo "build-native: $(basename "$target")"
  if ! "$@" -o "$tmp"; then
    rm -f "$tmp"
    if [ "$bits" = 32 ]; then
      echo "build-native: cannot compile 32-bit code: install $package (bash scripts/setup-server32.sh does)" >&2
    fi
    exit 1
  fi
  mv -f "$tmp" "$target"
}

# The C libraries first: the README's example needs only them and a C compiler.
for bits in 32 64; do
  build "$out/libfarcall_example-$bits.so" "$bits" "$src/farcall_example.c"
  build "$out/deps/libfarcall_dep-$bits.so" "$bits" "$src/farcall_dep.c"
  # Linked by name, without an rpath: the loader finds the dependency only through LD_LIBRARY_PATH.
  if ! up_to_date "$out/libfarcall_uses_dep-$bits.so" "$out/deps/libfarcall_dep-$bits.so"; then
    build "$out/libfarcall_uses_dep-$bits.so" "$bits" "$src/farcall_uses_dep.c" \
      -L"$out/deps" -l:"libfarcall_dep-$bits.so"
  fi
done
for bits in 32 64; do
  target="$out/libfarcall_cpp-$bits.so"
  if ! up_to_date "$target" "$src/cpp/farcall_cpp.cpp" "$src/cpp/farcall_cpp.h"; then
    compile "$target" "$bits" g++-multilib "$cxx" -m"$bits" -shared -fPIC -O2 -Wall -Wextra -std=c++17 \
      -Wl,-soname,"$(basename "$target")" "$src/cpp/farcall_cpp.cpp"
  fi
  target="$out/libfarcall_fortran-$bits.so"
  if ! up_to_date "$target" "$src/fortran/farcall_fortran.f90"; then
    compile "$target" "$bits" "gfortran-multilib and libgfortran5:i386" "$fc" -m"$bits" -shared -fPIC -O2 -Wall -Wno-attributes \
      -Wl,-soname,"$(basename "$target")" "$src/fortran/farcall_fortran.f90"
  fi
done

#!/usr/bin/env bash
# Installs seqnet from a build directory into a temporary prefix and builds
# and runs an outside project (consumer/main.cpp: a tiny LSTM model, one
# prediction, its shape checked) against it, one way per run:
#   find_package      CMake package: find_package(seqnet) + seqnet::seqnet
#   pkg_config        a plain compiler command with `pkg-config --cflags --libs [--static] seqnet`
#   add_subdirectory  no install: a parent project that add_subdirectory()s the
#                     checkout and builds the library again (slow; only
#                     registered with -DSEQNET_TEST_ADD_SUBDIRECTORY=ON)
# Usage: install_test.sh WAY CMAKE BUILD_DIR SOURCE_DIR CXX LIBRARY_TYPE VERSION
#   LIBRARY_TYPE: STATIC_LIBRARY or SHARED_LIBRARY (the seqnet target's TYPE)
# Everything happens in a temporary folder that is removed at exit.
set -euo pipefail
if [ $# -ne 7 ]; then
  echo "usage: $0 find_package|pkg_config|add_subdirectory CMAKE BUILD_DIR SOURCE_DIR CXX LIBRARY_TYPE VERSION" >&2
  exit 2
fi
way=$1 cmake=$2 build=$3 src=$4 cxx=$5 libtype=$6 version=$7
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/seqnet-install-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"

fail() { echo "FAIL (Install.$way): $*" >&2; exit 1; }
# Runs a command with its output in $tmp/log; shows the output if it fails.
run() {
  if ! "$@" > "$tmp/log" 2>&1; then
    cat "$tmp/log" >&2
    fail "command failed: $*"
  fi
}
step() { echo "-- $*"; }

# The consumer program ran and printed what it should.
check_consumer() {
  run "$1"
  if ! grep -q '^output shape (7, 2)$' "$tmp/log" || ! grep -q '^ok$' "$tmp/log"; then
    cat "$tmp/log" >&2
    fail "unexpected output from the consumer"
  fi
  cat "$tmp/log"
}

# The loader (names no layer, loads a model from JSON) found every layer.
check_loader() {
  run "$1"
  if ! grep -q '^loaded$' "$tmp/log"; then
    cat "$tmp/log" >&2
    fail "unexpected output from the loader"
  fi
  cat "$tmp/log"
}

# No compile command of the consumer's own file carries seqnet's machine flags.
check_no_march() {
  local commands=$1
  [ -f "$commands" ] || fail "no $commands"
  if grep -F 'consumer/main.cpp' "$commands" | grep -q -- '-march'; then
    grep -F 'consumer/main.cpp' "$commands" >&2
    fail "-march leaked into the consumer's compile command"
  fi
}

install_into_prefix() {
  step "cmake --install $build --prefix <tmp>"
  run "$cmake" --install "$build" --prefix "$prefix"
  # Headers: the whole include/seqnet tree.
  diff -r "$src/include/seqnet" "$prefix/include/seqnet" > "$tmp/log" 2>&1 \
    || { cat "$tmp/log" >&2; fail "installed headers differ from include/seqnet"; }
  # Library, package files, pkg-config file.
  libdir=$(dirname "$(find "$prefix" -path '*/pkgconfig/seqnet.pc' | head -n 1)")
  if [ -z "$libdir" ] || [ "$libdir" = . ]; then fail "no seqnet.pc installed"; fi
  libdir=$(dirname "$libdir")
  case "$libtype" in
    STATIC_LIBRARY) [ -f "$libdir/libseqnet.a" ] || fail "no $libdir/libseqnet.a" ;;
    SHARED_LIBRARY) [ -e "$libdir/libseqnet.so" ] || fail "no $libdir/libseqnet.so" ;;
    *) fail "unknown library type '$libtype'" ;;
  esac
  for f in seqnetConfig.cmake seqnetConfigVersion.cmake seqnetTargets.cmake; do
    [ -f "$libdir/cmake/seqnet/$f" ] || fail "no $libdir/cmake/seqnet/$f"
  done
  # The program, when the build has it (it runs from the prefix).
  if [ -f "$build/tools/seqnet/seqnet" ]; then
    [ -x "$prefix/bin/seqnet" ] || fail "no $prefix/bin/seqnet"
    run "$prefix/bin/seqnet" list
    grep -q '^  reverse ' "$tmp/log" || { cat "$tmp/log" >&2; fail "installed seqnet list: unexpected output"; }
  fi
}

case "$way" in
  find_package)
    install_into_prefix
    # The imported target's usage requirements, and the version check.
    step "find_package(seqnet): target properties and version compatibility"
    mkdir -p "$tmp/probe"
    cat > "$tmp/probe/CMakeLists.txt" <<'PROBE'
cmake_minimum_required(VERSION 3.20)
project(probe LANGUAGES CXX)
# A newer version is never accepted; before 1.0 neither is an older minor
# version (SameMinorVersion), from 1.0 an older major one.
string(REPLACE "." ";" parts "${WANT}")
list(GET parts 0 major)
list(GET parts 1 minor)
math(EXPR next "${minor} + 1")
set(refused "${major}.${next}")
if(major EQUAL 0 AND minor GREATER 0)
  math(EXPR prev "${minor} - 1")
  list(APPEND refused "0.${prev}")
elseif(major GREATER 0)
  math(EXPR prev "${major} - 1")
  list(APPEND refused "${prev}.0")
endif()
foreach(v ${refused})
  find_package(seqnet ${v} QUIET)
  if(seqnet_FOUND)
    message(FATAL_ERROR "find_package(seqnet ${v}) accepted version ${seqnet_VERSION}")
  endif()
  message(STATUS "find_package(seqnet ${v}) refuses ${WANT}")
endforeach()
find_package(seqnet ${WANT} EXACT REQUIRED)
foreach(p INTERFACE_COMPILE_OPTIONS INTERFACE_LINK_LIBRARIES INTERFACE_LINK_OPTIONS INTERFACE_COMPILE_FEATURES)
  get_target_property(v seqnet::seqnet ${p})
  message(STATUS "${p}=${v}")
endforeach()
message(STATUS "seqnet_DIR=${seqnet_DIR}")
PROBE
    run "$cmake" -S "$tmp/probe" -B "$tmp/probe/b" -DCMAKE_PREFIX_PATH="$prefix" -DWANT="$version"
    cat "$tmp/log" > "$tmp/probe.log"
    grep -q "seqnet_DIR=$prefix/" "$tmp/probe.log" || { cat "$tmp/probe.log" >&2; fail "seqnet was not found in the prefix"; }
    if grep -E 'INTERFACE_(COMPILE_OPTIONS|LINK_LIBRARIES|LINK_OPTIONS)=' "$tmp/probe.log" | grep -qE 'march|seqnet_flags|BUILD_INTERFACE|-W'; then
      cat "$tmp/probe.log" >&2
      fail "build-tree flags leak through seqnet::seqnet"
    fi
    grep -q 'INTERFACE_COMPILE_FEATURES=cxx_std_20' "$tmp/probe.log" || { cat "$tmp/probe.log" >&2; fail "seqnet::seqnet does not require C++20"; }
    if [ "$libtype" = STATIC_LIBRARY ]; then
      for dep in fmt::fmt PkgConfig::SEQNET_OPENBLAS PkgConfig::SEQNET_LIBZIP; do
        grep 'INTERFACE_LINK_LIBRARIES=' "$tmp/probe.log" | grep -qF "$dep" \
          || { cat "$tmp/probe.log" >&2; fail "static seqnet::seqnet does not link $dep"; }
      done
    fi
    grep 'INTERFACE_LINK_LIBRARIES=' "$tmp/probe.log"

    step "consumer: find_package(seqnet) + seqnet::seqnet"
    run "$cmake" -S "$here/consumer" -B "$tmp/build" -DCMAKE_CXX_COMPILER="$cxx" \
      -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
    grep -q "seqnet $version from $prefix/" "$tmp/log" || { cat "$tmp/log" >&2; fail "seqnet $version was not found in the prefix"; }
    run "$cmake" --build "$tmp/build"
    check_no_march "$tmp/build/compile_commands.json"
    check_consumer "$tmp/build/consumer"
    check_loader "$tmp/build/loader"
    ;;

  pkg_config)
    install_into_prefix
    command -v pkg-config > /dev/null || fail "pkg-config is not installed (scripts/install-deps installs it)"
    export PKG_CONFIG_PATH="$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
    [ "$(pkg-config --modversion seqnet)" = "$version" ] || fail "pkg-config --modversion seqnet: $(pkg-config --modversion seqnet)"
    # Relocatable: the prefix follows the file.
    pc_prefix=$(cd "$(pkg-config --variable=prefix seqnet)" && pwd)
    [ "$pc_prefix" = "$(cd "$prefix" && pwd)" ] || fail "seqnet.pc's prefix is $pc_prefix, not the install prefix"
    # A static libseqnet.a needs its dependencies' libraries (--static); a
    # shared one finds them itself, and is found through an rpath.
    query=(--cflags --libs)
    extra=()
    if [ "$libtype" = STATIC_LIBRARY ]; then
      query+=(--static)
    else
      extra=("-Wl,-rpath,$libdir")
    fi
    flags=$(pkg-config "${query[@]}" seqnet) || fail "pkg-config ${query[*]} seqnet failed"
    echo "pkg-config ${query[*]} seqnet: $flags"
    case "$flags" in *march*) fail "-march in seqnet.pc's flags" ;; esac
    step "consumer: $(basename "$cxx") main.cpp \$(pkg-config ${query[*]} seqnet)"
    # shellcheck disable=SC2086  # the flags are words
    run "$cxx" -o "$tmp/consumer" "$here/consumer/main.cpp" $flags "${extra[@]}"
    check_consumer "$tmp/consumer"
    # shellcheck disable=SC2086
    run "$cxx" -o "$tmp/loader" "$here/consumer/loader.cpp" $flags "${extra[@]}"
    check_loader "$tmp/loader"
    ;;

  add_subdirectory)
    step "consumer: add_subdirectory(<checkout> seqnet) + seqnet::seqnet (builds the library)"
    run "$cmake" -S "$here/consumer" -B "$tmp/build" -DCMAKE_CXX_COMPILER="$cxx" \
      -DSEQNET_SOURCE_DIR="$src" -DCMAKE_BUILD_TYPE=Release -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
    run "$cmake" --build "$tmp/build" -j "${SEQNET_TEST_JOBS:-2}"
    check_no_march "$tmp/build/compile_commands.json"
    check_consumer "$tmp/build/consumer"
    check_loader "$tmp/build/loader"
    ;;

  *)
    fail "unknown way '$way' (find_package, pkg_config, add_subdirectory)"
    ;;
esac
echo "PASS (Install.$way)"

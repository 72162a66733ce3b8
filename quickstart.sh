#!/usr/bin/env bash
# fleetsim quick start (Debian 12, as root):
#   ./quickstart.sh        install what is missing, build, replay the bundled
#                          Azure 2023 conversation trace on the default cluster
#   ./quickstart.sh test   install what is missing, build, run the test suite;
#                          then the same suite built with clang under ASan and
#                          UBSan (build-sanitize/), and every fuzz target for
#                          a bounded time (tests/fuzz/run_fuzzers.sh)
# Idempotent, and quiet when nothing is missing.
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(build-essential cmake pkg-config ninja-build
  libsimgrid-dev libprotobuf-dev protobuf-compiler libabsl-dev
  libgrpc++-dev protobuf-compiler-grpc
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  python3-grpcio python3-protobuf zlib1g-dev libssl-dev
  openmpi-bin libopenmpi-dev  # mpirun/srun sweeps (docs/cluster.md)
  chromium poppler-utils fonts-dejavu-core  # study reports: PDF and tests
  clang libclang-rt-14-dev llvm)  # the sanitized build and fuzzing

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "quickstart: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# npm, for buf (below): Debian's package only where no npm is installed; a
# Node.js from NodeSource brings its own npm and conflicts with Debian's.
if ! command -v npm >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq npm >/dev/null
fi

JOBS=$(nproc)
MODE=${1:-run}
# build_dir DIR: builds DIR quietly, showing its log when that fails.
build_dir() {
  if ! cmake --build "$1" -j "$JOBS" >"$1/build.log" 2>&1; then
    cat "$1/build.log" >&2
    echo "quickstart: build of $1 failed (log: $1/build.log)" >&2
    exit 1
  fi
}
# timed PHASE COMMAND...: runs COMMAND; in test mode, then prints its wall
# and CPU seconds (what sizes CI). A plain run stays quiet.
timed() {
  local phase=$1
  shift
  if [ "$MODE" != test ]; then
    "$@"
    return
  fi
  local TIMEFORMAT="quickstart: $phase: %0R s wall, %0U s user + %0S s system CPU"
  time "$@"
}

# buf (`buf lint` on proto/, buf.yaml; ctest BufLint) from npm, pinned:
# another version may check other rules. It goes to build/tools, where CMake
# looks for it (tests/CMakeLists.txt); a build configured before it was
# there is configured again so that the test is registered.
BUF_VERSION=1.75.0
BUF=build/tools/node_modules/.bin/buf
configure=0
[ -f build/build.ninja ] || configure=1
if [ "$("$BUF" --version 2>/dev/null)" != "$BUF_VERSION" ]; then
  # The registry out of reach leaves the schemas unlinted, said loudly,
  # rather than no build and no tests at all.
  npm install --prefix build/tools --no-save --no-audit --no-fund \
    --loglevel=error "@bufbuild/buf@$BUF_VERSION" >/dev/null ||
    echo "quickstart: WARNING: could not install buf $BUF_VERSION from npm;" \
      "the BufLint test is not registered" >&2
  configure=1
fi
if [ "$configure" = 1 ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
timed "build" build_dir build

case "$MODE" in
  test)
    timed "tests" ctest --test-dir build --output-on-failure -j "$JOBS"
    # The sanitized build: clang (libFuzzer is clang's), -O1 with line
    # tables, which keeps the instrumented suite near the plain one's time.
    if [ ! -f build-sanitize/build.ninja ]; then
      cmake -S . -B build-sanitize -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" \
        -DFLEETSIM_SANITIZE=address,undefined -DFLEETSIM_FUZZ=ON >/dev/null
    fi
    timed "sanitized build" build_dir build-sanitize
    # Every test but the suite's two longest, which are slow, not failing:
    # PlannerTest.SpadTable4OrderingOnAShortWindow and
    # PlannerTest.EarlyStopsFindTheSameFleets (~114 s and ~50 s wall in the
    # plain build, past their 300 s limit under ASan on a loaded 2-core
    # machine). They run the same search, simulation and early-stop code as
    # the other planner tests and SimulationTest.StoppingAtACertainMiss...,
    # which do run sanitized.
    timed "sanitized tests" ctest --test-dir build-sanitize \
      --output-on-failure -j "$JOBS" \
      -E '^PlannerTest\.(SpadTable4OrderingOnAShortWindow|EarlyStopsFindTheSameFleets)$'
    # 140 s of wall: 20 s per target on 2 cores (14 targets), 30 s at most.
    timed "fuzzing" tests/fuzz/run_fuzzers.sh build-sanitize 140
    ;;
  run)
    exec ./build/fleetsim replay --cluster data/clusters/default.txtpb \
      --model bloom-176b --trace data/traces/azure_2023_conv.csv --duration 600
    ;;
  *)
    echo "usage: ./quickstart.sh [test]" >&2
    exit 2
    ;;
esac

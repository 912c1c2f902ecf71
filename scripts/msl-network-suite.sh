#!/usr/bin/env bash
# Runs msl-network's own pytest suite twice, against msl-network's Manager and against farcall's, and
# prints the Manager tests that pass on msl-network's Manager but fail on ours (the work list).
#
# Only the command that starts the Manager is swapped: msl-network's tests/conftest starts it with
# `python -c 'from msl.network import cli; cli.main()' start <flags>`; a small pytest plugin, written to
# a temporary folder by this script, replaces that command (and only it) with `node dist/cli/main.js
# start <the same flags>`, FARCALL_HOME set to the test's MSL_NETWORK_HOME. msl-network's Clients and
# Services are unchanged. A "Manager test" is one during which the conftest started a Manager.
#
# Usage:
#   scripts/msl-network-suite.sh /path/to/msl-network [pytest arguments, e.g. -k lock]
#   MSL_NETWORK_SRC=/path/to/msl-network scripts/msl-network-suite.sh
# Get the source (never commit it): git clone https://github.com/MSLNZ/msl-network /tmp/msl-network
# Needs: Debian's python3 with python3-cryptography and python3-pytest (PYTHON=... to use another),
# node, and farcall built (the script runs `npm run build` unless SKIP_BUILD=1).
# Environment: SUITE_ONLY=farcall|msl runs one side; TEST_TIMEOUT (seconds per test, default 60);
# KEEP=1 keeps the temporary folder (junit reports, logs); REUSE_MSL=<a kept folder> reuses its
# msl-network side instead of running it again (it does not depend on our code).
#
# Loopback only: msl-network's Manager listens on every interface when no --host is given, so both
# runs happen in a private network namespace that has only a loopback interface (`unshare`, as root);
# without unshare the script refuses to run unless ALLOW_HOST_NETWORK=1.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
src="${1:-${MSL_NETWORK_SRC:-}}"
if [ $# -gt 0 ]; then shift; fi
if [ -z "$src" ] || [ ! -f "$src/conftest.py" ] || [ ! -d "$src/msl/network" ]; then
  echo "usage: $0 /path/to/msl-network [pytest args] (or MSL_NETWORK_SRC=...)" >&2
  echo "  the folder must hold msl-network's source: conftest.py, msl/network, tests" >&2
  echo "  get it with: git clone https://github.com/MSLNZ/msl-network /tmp/msl-network" >&2
  exit 2
fi
src="$(cd "$src" && pwd)"
python="${PYTHON:-}"
if [ -z "$python" ]; then
  if [ -x /usr/bin/python3 ]; then python=/usr/bin/python3; else python="$(command -v python3)"; fi
fi
if ! "$python" -c 'import cryptography, pytest' 2>/dev/null; then
  echo "$python lacks cryptography or pytest: apt-get install -y python3-cryptography python3-pytest" >&2
  exit 2
fi
node="$(command -v node)"
if [ "${SKIP_BUILD:-0}" != "1" ]; then (cd "$here" && npm run build --silent); fi
cli="$here/dist/cli/main.js"
[ -f "$cli" ] || { echo "missing $cli: run npm run build" >&2; exit 2; }

work="$(mktemp -d /tmp/msl-network-suite.XXXXXX)"
if [ "${KEEP:-0}" != "1" ]; then trap 'rm -rf "$work"' EXIT; else echo "keeping $work"; fi
mkdir -p "$work/plugin"

# The plugin: swaps the Manager's start command, records which tests started a Manager, and bounds
# each test's time (a test that waits forever on a Manager must not stall the run).
cat >"$work/plugin/farcall_suite_swap.py" <<'PY'
import os
import signal
import sys

import pytest

SIDE = os.environ['SUITE_SIDE']
RECORD = os.environ['SUITE_RECORD']
NODE = os.environ['SUITE_NODE']
CLI = os.environ['SUITE_CLI']
TIMEOUT = int(os.environ.get('TEST_TIMEOUT', '60'))
START = [sys.executable, '-c', 'from msl.network import cli; cli.main()']
current = {'id': None}
managers = []


class _Swap:
    """Stands in for the subprocess module inside msl-network's conftest only."""

    def __init__(self, real):
        self._real = real

    def __getattr__(self, name):
        return getattr(self._real, name)

    def Popen(self, command, *args, **kwargs):
        if isinstance(command, list) and command[:3] == START:
            with open(RECORD, 'a') as fp:
                fp.write(f'{current["id"]}\n')
            if SIDE == 'farcall':
                env = dict(kwargs.pop('env', None) or os.environ)
                env['FARCALL_HOME'] = env['MSL_NETWORK_HOME']
                kwargs['env'] = env
                command = [NODE, CLI] + command[3:]
            process = self._real.Popen(command, *args, **kwargs)
            managers.append(process)
            return process
        return self._real.Popen(command, *args, **kwargs)


def pytest_configure(config):
    import conftest
    conftest.subprocess = _Swap(conftest.subprocess)


class SuiteTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise SuiteTimeout(f'the test ran longer than {TIMEOUT} s')


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    current['id'] = item.nodeid
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIMEOUT)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        # A test that failed before its manager.shutdown() leaves its Manager running (conftest stops it
        # only when the object is collected), holding the database the next test recreates: stop it, so
        # that one failure does not fail the tests after it (on either side).
        while managers:
            process = managers.pop()
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except Exception:
                    process.kill()
PY

# Runs pytest for one side (inside the namespace); junit report and Manager-test record in $work.
cat >"$work/run-side.sh" <<'SH'
set -u
side="$1"; shift
if [ "${SUITE_NAMESPACE:-0}" = "1" ]; then ip link set lo up; fi
: >"$SUITE_WORK/$side.managers"
mkdir -p "$SUITE_WORK/$side.tmp"
cd "$SUITE_SRC"
export SUITE_SIDE="$side" SUITE_RECORD="$SUITE_WORK/$side.managers"
export PYTHONPATH="$SUITE_WORK/plugin:$SUITE_SRC${PYTHONPATH:+:$PYTHONPATH}"
# conftest creates MSL_NETWORK_HOME under the temp dir: one private temp dir per side.
export TMPDIR="$SUITE_WORK/$side.tmp" PYTHONDONTWRITEBYTECODE=1
"$SUITE_PYTHON" -m pytest -q -o addopts= -p conftest -p farcall_suite_swap -p no:cacheprovider \
  --junitxml="$SUITE_WORK/$side.xml" "$@" tests >"$SUITE_WORK/$side.log" 2>&1
echo "pytest exit status $?"
SH

export SUITE_WORK="$work" SUITE_SRC="$src" SUITE_PYTHON="$python" SUITE_NODE="$node" SUITE_CLI="$cli"
if command -v unshare >/dev/null && unshare --net --pid --fork --kill-child true 2>/dev/null; then
  # A private network namespace with only a loopback interface; every process in it ends with the run.
  isolate=(unshare --net --pid --fork --kill-child env SUITE_NAMESPACE=1)
elif [ "${ALLOW_HOST_NETWORK:-0}" = "1" ]; then
  isolate=()
else
  echo "unshare (a private network namespace) is not available: msl-network's Manager would listen on" >&2
  echo "every interface. Run as root, or set ALLOW_HOST_NETWORK=1 on a machine where that is fine." >&2
  exit 2
fi

if [ -n "${REUSE_MSL:-}" ]; then
  # msl-network's side does not change with our code: reuse an earlier run's results (a KEEP=1 folder).
  cp "$REUSE_MSL/msl.xml" "$REUSE_MSL/msl.managers" "$work/"
  SUITE_ONLY="${SUITE_ONLY:-farcall}"
fi
for side in ${SUITE_ONLY:-msl farcall}; do
  echo "::: msl-network's suite against the $side Manager"
  # unshare ignores SIGINT/SIGTERM while it waits: on Ctrl+C kill it, and --kill-child ends the run.
  "${isolate[@]}" bash "$work/run-side.sh" "$side" "$@" &
  child=$!
  trap 'kill -KILL $child 2>/dev/null' INT TERM
  wait $child || true
  trap - INT TERM
  tail -n 1 "$work/$side.log"
done

# The comparison: Manager tests (those that started a Manager) passing on msl's and failing on ours.
"$python" - "$work" <<'PY'
import os
import sys
import xml.etree.ElementTree as ET

work = sys.argv[1]


def outcomes(side):
    path = os.path.join(work, f'{side}.xml')
    if not os.path.exists(path):
        return None
    result = {}
    for case in ET.parse(path).iter('testcase'):
        cls = case.get('classname', '')
        name = f"{cls.replace('.', '/')}.py::{case.get('name')}" if cls else case.get('name')
        kinds = {child.tag for child in case}
        if 'failure' in kinds or 'error' in kinds:
            outcome = 'failed'
        elif 'skipped' in kinds:
            outcome = 'skipped'
        else:
            outcome = 'passed'
        # a test that failed in setup and again in teardown appears twice: keep the worst
        if result.get(name) != 'failed':
            result[name] = outcome
    return result


def managers(side):
    path = os.path.join(work, f'{side}.managers')
    if not os.path.exists(path):
        return set()
    return {line.strip() for line in open(path) if line.strip()}


msl, ours = outcomes('msl'), outcomes('farcall')
started = managers('msl') | managers('farcall')
for side, result in (('msl-network', msl), ('farcall', ours)):
    if result is None:
        continue
    mine = {n: o for n, o in result.items() if n in started}
    passed = sum(o == 'passed' for o in mine.values())
    print(f'{side} Manager: {passed} of {len(mine)} Manager tests pass '
          f'({sum(o == "passed" for o in result.values())} of {len(result)} tests in all)')
if msl is not None and ours is not None:
    work_list = sorted(n for n in started if msl.get(n) == 'passed' and ours.get(n) != 'passed')
    print(f'Manager tests that pass on msl-network\'s Manager and not on farcall\'s: {len(work_list)}')
    for name in work_list:
        print(f'  FAIL {name}')
    better = sorted(n for n in started if ours.get(n) == 'passed' and msl.get(n) != 'passed')
    for name in better:
        print(f'  (passes only on farcall\'s: {name})')
    sys.exit(1 if work_list else 0)
PY

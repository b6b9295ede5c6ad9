#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds, runs every test, and
# ends with a plain "N passed, N failed" line. Usage: bash scripts/test.sh
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }
# Headless Chromium for the preview page's browser tests (a missing browser fails them under CI=true).
bash scripts/setup.sh --browser || echo "warning: chromium could not be installed; the browser tests will skip (or fail in CI)" >&2

log=$(mktemp /tmp/asset-worker-test.XXXXXX)
# The services are stopped on every exit, so none is left running (set before they start).
cleanup() {
    bash scripts/stop-moto.sh >/dev/null 2>&1 || true
    bash scripts/stop-postgres.sh >/dev/null 2>&1 || true
    rm -f "$log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM   # so an interrupted run still stops the services (through the EXIT trap)

# moto_server (a real S3 implementation) for the upload tests: started here,
# always stopped on exit. In CI (CI=true) a missing moto fails those tests.
if moto_env=$(bash scripts/start-moto.sh); then
    eval "$moto_env"
else
    echo "warning: moto_server could not be started; the moto tests will skip (or fail in CI)" >&2
fi

# A throwaway PostgreSQL on loopback for the queue's tests (DATABASE_URL): started
# here, always stopped and removed on exit. In CI a server that cannot start fails the run.
if pg_env=$(bash scripts/start-postgres.sh); then
    eval "$pg_env"
elif [ "${CI:-}" = "true" ]; then
    echo "PostgreSQL could not be started (scripts/start-postgres.sh); the queue's tests need it in CI"
    echo "0 passed, 1 failed"
    exit 1
else
    echo "warning: PostgreSQL could not be started; the PostgreSQL tests will skip" >&2
fi

swift build --build-tests 2>&1 | tail -n 30
if [ "${PIPESTATUS[0]}" -ne 0 ]; then
    echo "build failed"
    echo "0 passed, 1 failed"
    exit 1
fi

# XCTest only; --disable-swift-testing keeps the empty Swift Testing run from
# printing a misleading "0 tests" last line.
swift test --skip-build --disable-swift-testing 2>&1 | tee "$log" | grep -E "error:|failed|Executed|skipped" | grep -v "^Test Case.*passed" | tail -n 60
status=${PIPESTATUS[0]}

# Count per test case from XCTest's own lines.
passed=$(grep -cE "^Test Case '.*' passed" "$log" || true)
failed=$(grep -cE "^Test Case '.*' failed" "$log" || true)
skipped=$(grep -cE "^Test Case '.*' skipped" "$log" || true)
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
    # The runner itself failed (crash, signal): count that as a failure.
    failed=1
fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
exit "$status"

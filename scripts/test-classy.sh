#!/usr/bin/env bash
# Runs the Classy client/sandbox tests with a moto_server of their own, and
# always stops it. In CI (CI=true) the moto test fails if moto is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/start-moto.sh)"
trap 'scripts/stop-moto.sh' EXIT
swift build --build-tests
swift test --skip-build --filter ClassyTests "$@"

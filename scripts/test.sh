#!/usr/bin/env bash
# Runs every test on a fresh machine: installs the dependencies, then builds and tests the static
# release build (unit, integration, and end-to-end tests that pipe requests through the static
# binary) and the development build against the system libraries.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --workflow --preset static
cmake --workflow --preset dev

#!/usr/bin/env bash
# Every test: installs what they need, then runs unit tests and the integration tests, which
# start their own Xvfb and real windows (zenity).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo test --locked "$@"

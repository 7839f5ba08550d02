#!/usr/bin/env bash
# Every test: installs what they need, then runs unit tests and the integration tests, which
# start their own Xvfb and real windows (zenity).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ ! -d target/debug/deps ]; then
  echo "building kuroko and its tests: the first build compiles about 350 crates and takes 10–15 minutes on 2 cores; cargo shows its progress"
fi
echo "then about 320 tests run (about 4 minutes): unit tests, real windows on a private Xvfb, the launcher page in headless Chromium"
cargo test --locked "$@"

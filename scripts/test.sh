#!/usr/bin/env bash
# Every test: installs what they need, then runs unit tests and the integration tests, which
# start their own Xvfb and real windows (zenity).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# The tests start their own session buses; one inherited from the caller that does not answer
# would hold GTK, Qt and Chromium back 25 s per question.
unset DBUS_SESSION_BUS_ADDRESS AT_SPI_BUS_ADDRESS
if [ ! -d target/debug/deps ]; then
  echo "building kuroko and its tests: the first build compiles about 350 crates and takes 10–15 minutes on 2 cores; cargo shows its progress"
fi
echo "then about 320 tests run (about 4 minutes): unit tests, real windows on a private Xvfb, the launcher page in headless Chromium"
cargo test --locked "$@"

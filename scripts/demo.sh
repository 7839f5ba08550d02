#!/usr/bin/env bash
# The main job, end to end: set up, build, open the example intake window (a stand-in for a
# business system) on the display — or on a virtual one — and let the demo scenario enter five
# applications into it, counting the time saved.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
cargo build --quiet

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export KUROKO_RUNS_DIR="${KUROKO_RUNS_DIR:-$HOME/.local/share/kuroko/runs}"

scripts/with-display.sh bash -c '
  set -euo pipefail
  examples/intake-window.sh "$1/registrations.csv" 5 &
  window_pid=$!
  status=0
  target/debug/kuroko run scenarios/demo-intake || status=$?
  wait "$window_pid" || true
  echo
  echo "What the intake window registered ($1/registrations.csv):"
  cat "$1/registrations.csv" 2>/dev/null || echo "(nothing)"
  echo
  echo "The time-saved report for this month, from the ledger (kuroko report --month $(date +%Y-%m)):"
  target/debug/kuroko report --month "$(date +%Y-%m)"
  exit $status
' demo "$work"

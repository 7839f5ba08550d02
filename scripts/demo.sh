#!/usr/bin/env bash
# The main job, end to end: set up, build, make a fresh batch of 60 住民票 applications (Japanese
# names with rare kanji, half-width-kana furigana, 和暦 birth dates), open the example intake
# system (a stand-in for a municipal business system) on the display — or on a virtual one —
# and let the scenario scenarios/juminhyo enter every application, exactly, recording each in
# the ledger; then print what the system registered and this month's time-saved report.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
if [ ! -x target/debug/kuroko ]; then
  echo "building kuroko: the first build compiles about 350 crates and takes 10–15 minutes on 2 cores; cargo shows its progress"
fi
cargo build

data="${XDG_DATA_HOME:-$HOME/.local/share}/kuroko/demo"
mkdir -p "$data"
batch="D$(date +%y%m%d%H%M%S)"
target/debug/kuroko run examples/make-applications --dry-run --var rows=60 --var "batch=$batch" \
  --runs-dir "$(mktemp -d)" >/dev/null 2>&1
mkdir -p scenarios/juminhyo/input
cp examples/make-applications/output/申請.xlsx scenarios/juminhyo/input/申請.xlsx
echo "60 applications (batch $batch) in scenarios/juminhyo/input/申請.xlsx"

scripts/with-display.sh bash -c '
  set -euo pipefail
  examples/intake-app.py "$1/registrations.jsonl" >/dev/null 2>&1 &
  app=$!
  status=0
  target/debug/kuroko run scenarios/juminhyo || status=$?
  kill "$app" 2>/dev/null || true
  echo
  echo "The intake system registered (the last 5 of $(grep -c "\"$2-" "$1/registrations.jsonl" || true) from this batch, in $1/registrations.jsonl):"
  grep "\"$2-" "$1/registrations.jsonl" | tail -5 || true
  echo
  echo "This month'"'"'s time-saved report from the ledger (kuroko report --month $(date +%Y-%m)):"
  target/debug/kuroko report --month "$(date +%Y-%m)"
  exit $status
' demo "$data" "$batch"

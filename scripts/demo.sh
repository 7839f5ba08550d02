#!/usr/bin/env bash
# The main job, end to end: set up, build, make a fresh batch of 60 住民票 applications (Japanese
# names with rare kanji, half-width-kana furigana, 和暦 birth dates), open the example intake
# system (a stand-in for a municipal business system) on the display — or on a virtual one —
# and let the scenario scenarios/juminhyo enter every application, exactly, recording each in
# the ledger; then print what the system registered and this month's time-saved report.
#
# `scripts/demo.sh web`: the same applications into the web version of the system
# (examples/web-intake, a browser-based 住民記録 system on this PC) with scenarios/juminhyo-web,
# in a Chromium window driven by its labels — login, a frameset menu, the 住所検索 popup, the
# confirm on 登録 and the slow save behind its spinner.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
if [ ! -x target/debug/kuroko ]; then
  echo "building kuroko: the first build compiles about 350 crates and takes 10–15 minutes on 2 cores; cargo shows its progress"
fi
cargo build
web=false
[ "${1:-}" = web ] && web=true
if $web; then cargo build --example web-intake; fi

data="${XDG_DATA_HOME:-$HOME/.local/share}/kuroko/demo"
mkdir -p "$data"
batch="D$(date +%y%m%d%H%M%S)"
target/debug/kuroko run examples/make-applications --dry-run --var rows=60 --var "batch=$batch" \
  --runs-dir "$(mktemp -d)" >/dev/null 2>&1
scenario=scenarios/juminhyo
$web && scenario=scenarios/juminhyo-web
mkdir -p "$scenario/input"
cp examples/make-applications/output/申請.xlsx "$scenario/input/申請.xlsx"
echo "60 applications (batch $batch) in $scenario/input/申請.xlsx"

scripts/with-display.sh bash -c '
  set -euo pipefail
  data=$1 batch=$2 web=$3
  status=0
  if [ "$web" = true ]; then
    registrations="$data/web/registrations.jsonl"
    mkdir -p "$data/web"
    target/debug/examples/web-intake --port 0 --data "$data/web" > "$data/web/listening" 2>/dev/null &
    app=$!
    for _ in $(seq 100); do grep -q listening "$data/web/listening" 2>/dev/null && break; sleep 0.1; done
    url=$(sed -n "s/^listening on //p" "$data/web/listening")
    echo "the web 住民記録 system is at $url (user kuroko, password kuroko)"
    target/debug/kuroko run scenarios/juminhyo-web --var "url=$url" || status=$?
  else
    registrations="$data/registrations.jsonl"
    examples/intake-app.py "$registrations" >/dev/null 2>&1 &
    app=$!
    target/debug/kuroko run scenarios/juminhyo || status=$?
  fi
  kill "$app" 2>/dev/null || true
  echo
  echo "The system registered (the last 5 of $(grep -c "\"$batch-" "$registrations" || true) from this batch, in $registrations):"
  grep "\"$batch-" "$registrations" | tail -5 || true
  echo
  echo "This month'"'"'s time-saved report from the ledger (kuroko report --month $(date +%Y-%m)):"
  target/debug/kuroko report --month "$(date +%Y-%m)"
  exit $status
' demo "$data" "$batch" "$web"

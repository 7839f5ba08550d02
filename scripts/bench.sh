#!/usr/bin/env bash
# kuroko beside its peers in one run: image search (OpenCV, pyscreeze) and screen capture (mss,
# pyautogui), on the peers' deterministic scenes and one 1920x1080 Xvfb. Prints every figure as a
# JSON line, then the ratios. Usage: scripts/bench.sh [vision|capture|typing|sheets|ledger|web|all]
# (ledger has no peer: the target is a fiscal-year report of 1,000,000 runs in under 3 s; web puts
# kuroko's web:: beside Playwright for Python on examples/web-intake, in the same headless
# /usr/bin/chromium: KUROKO_BENCH_WEB_ITEMS applications each (30), KUROKO_BENCH_KEEP=1 keeps the
# servers' data and kuroko's run folder, PLAYWRIGHT_PYTHON picks the python that has playwright)
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
peers=${KUROKO_PEERS:-../shared/bench/peers}
data=${PEERS_DATA:-/tmp/kuroko-peers-data}
out=$(mktemp)
web_pids=()
cleanup() {
  rm -f "$out"
  [ -n "${xpid:-}" ] && kill "$xpid" 2>/dev/null
  for p in "${web_pids[@]}"; do kill "$p" 2>/dev/null; done
  [ -n "${webtmp:-}" ] && [ -z "${KUROKO_BENCH_KEEP:-}" ] && rm -rf "$webtmp"
  true
}
trap cleanup EXIT

[ "$what" != web ] && cargo build --release --benches --quiet
if [ -z "${DISPLAY:-}" ] && [ "$what" != vision ] && [ "$what" != ledger ] && [ "$what" != sheets ] && [ "$what" != web ]; then
  for n in $(seq 150 190); do [ -e "/tmp/.X11-unix/X$n" ] || break; done
  Xvfb ":$n" -screen 0 1920x1080x24 -nolisten tcp -noreset >/dev/null 2>&1 & xpid=$!
  export DISPLAY=":$n"; sleep 1
fi
export PEERS_DATA="$data"
case $what in vision|all)
  "$peers/run.sh" vision | tee -a "$out" || true
  cargo bench --quiet --bench vision -- "$data" 20 | tee -a "$out" ;;
esac
case $what in capture|all)
  "$peers/run.sh" capture | tee -a "$out" || true
  cargo bench --quiet --bench capture -- 200 | tee -a "$out"
  [ -n "${KUROKO_BENCH_GETIMAGE:-}" ] && KUROKO_CAPTURE=getimage cargo bench --quiet --bench capture -- 50 | tee -a "$out" ;;
esac
case $what in typing|all)
  "$peers/run.sh" typing | tee -a "$out" || true
  cargo bench --quiet --bench typing -- 5 | tee -a "$out" ;;
esac
case $what in sheets|all)
  # The peers' sheets script uses a Python 3.12 f-string; on an older python run a copy with
  # that one line written the 3.11 way (same measurements).
  venv_py=${PEERS_VENV:-$HOME/.cache/kuroko-peers-venv}/bin/python
  if "$venv_py" -c 'import sys; sys.exit(sys.version_info >= (3, 12))' 2>/dev/null; then
    compat=$(mktemp -d)
    sed "s/version(\"python-calamine\")/version('python-calamine')/" "$peers/sheets_peers.py" > "$compat/sheets_peers.py"
    "$venv_py" "$compat/sheets_peers.py" "$data" 100000 3 | tee -a "$out" || true
  else
    "$peers/run.sh" sheets | tee -a "$out" || true
  fi
  cargo bench --quiet --bench sheets -- "$data" 100000 3 | tee -a "$out"
  KUROKO_BENCH_STREAM=1000000 cargo bench --quiet --bench sheets | tee -a "$out" ;;
esac
case $what in ledger|all)
  cargo bench --quiet --bench ledger -- 1000000 3 | tee -a "$out" ;;
esac
case $what in web|all)
  # One web-intake per tool, each on its own data dir, no save delay; Playwright, then kuroko,
  # one after the other. Each logs in before its timing starts; the first item is not counted.
  cargo build --release --quiet --bin kuroko --example web-intake
  items=${KUROKO_BENCH_WEB_ITEMS:-30}
  webtmp=$(mktemp -d)
  [ -n "${KUROKO_BENCH_KEEP:-}" ] && echo "web: servers' data and kuroko's run folder kept in $webtmp" >&2
  start_intake() {  # NAME: starts a server on $webtmp/NAME, sets $url
    mkdir -p "$webtmp/$1"
    target/release/examples/web-intake --port 0 --data "$webtmp/$1" --save-delay-ms 0 > "$webtmp/$1.out" 2>&1 &
    web_pids+=($!)
    url=
    for _ in $(seq 100); do
      url=$(sed -n '1s/^listening on //p' "$webtmp/$1.out")
      [ -n "$url" ] && return 0
      sleep 0.1
    done
    echo "web-intake did not start: $(cat "$webtmp/$1.out")" >&2; return 1
  }
  registered() {  # TOOL NAME
    echo "{\"area\": \"web\", \"tool\": \"$1\", \"case\": \"registered\", \"count\": $(cat "$webtmp/$2/registrations.jsonl" 2>/dev/null | wc -l), \"expected\": $items}"
  }
  start_intake playwright
  "${PLAYWRIGHT_PYTHON:-python3}" benches/web/playwright_peer.py "$url" "$items" | tee -a "$out" || true
  registered playwright playwright | tee -a "$out"
  start_intake kuroko
  chromium=$(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}')
  tool="kuroko $(target/release/kuroko --version | awk '{print $2}') (web::, chromium $chromium)"
  target/release/kuroko run benches/web/kuroko --var "url=$url" --var "items=$items" \
    --runs-dir "$webtmp/runs" --ledger "$webtmp/ledger.sqlite3" > "$webtmp/kuroko.log" 2>&1 \
    || { echo "kuroko run failed:" >&2; tail -5 "$webtmp/kuroko.log" >&2; }
  rmdir benches/web/kuroko/output 2>/dev/null || true  # made by the run (outputs), left empty
  python3 benches/web/kuroko_events.py "$webtmp/runs" "$tool" | tee -a "$out" || true
  registered kuroko kuroko | tee -a "$out" ;;
esac
python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
def pick(area, tool, case=None):
    for r in rows:
        if r.get("area") == area and r["tool"].startswith(tool) and (case is None or r.get("case") == case):
            return r
print("\nratios (peer median / kuroko median; > 1 means kuroko is faster):")
for case in ["button", "icon", "label", "absent"]:
    cv = pick("vision", "opencv", case)
    cv = next((r for r in rows if r.get("area") == "vision" and "gray" in r["tool"] and r.get("case") == case and "opencv" in r["tool"]), None)
    k = pick("vision", "kuroko", case)
    if cv and k:
        print(f"  find {case:7s}: opencv gray {cv['ms_median']:7.2f} ms (found={cv['found']}, correct={cv['correct']}, score {cv['score']}) "
              f"| kuroko {k['ms_median']:6.2f} ms (found={k['found']}, correct={k['correct']}, score {k['score']}) -> {cv['ms_median']/k['ms_median']:.1f}x")
for case in ["ascii200", "japanese"]:
    k = next((r for r in rows if r.get("area") == "typing" and r["tool"].startswith("kuroko") and r.get("case") == case), None)
    for r in rows:
        if k and r.get("area") == "typing" and not r["tool"].startswith("kuroko") and r.get("case") == case:
            print(f"  type {case:9s}: {r['tool']:16s} {r['chars_per_s']:8.1f} chars/s exact={r['exact']} | {k['tool']} {k['chars_per_s']:9.1f} chars/s exact={k['exact']} -> {k['chars_per_s']/r['chars_per_s']:.1f}x")
for r in rows:
    if r.get("area") == "typing" and r["tool"].startswith("kuroko") and r.get("case") == "japanese1000":
        print(f"  type 1,000 Japanese characters: {r['ms']} ms ({r['chars_per_s']} chars/s), exact={r['exact']}")
for r in rows:
    if r.get("area") == "vision" and r["tool"].startswith("kuroko") and r.get("case") not in ("button", "icon", "label", "absent"):
        print(f"  kuroko {r['case']}: {r['ms_median']} ms, found={r['found']}, correct={r['correct']}, score {r['score']}, at {r.get('at')}")
mss = next((r for r in rows if r.get("area") == "capture" and r["tool"].startswith("mss") and "numpy" not in r["tool"]), None)
for r in rows:
    if r.get("area") == "capture" and r["tool"].startswith("kuroko") and "ms_median" in r and mss:
        print(f"  capture {r['tool']}: {r['ms_median']} ms vs mss {mss['ms_median']} ms -> kuroko/mss = {r['ms_median']/mss['ms_median']:.2f}")
    if r.get("case") == "1000 consecutive":
        print(f"  {r['tool']}: 1000 consecutive captures, {r['failures']} failures ({r['seconds']} s)")
def sheets(prefix):
    return next((r for r in rows if r.get("area") == "sheets" and r.get("case", "").startswith(prefix)), None)
for peer, mine, what in [("read python-calamine", "read kuroko", "read"), ("write XlsxWriter", "write kuroko", "write")]:
    p, k = sheets(peer), sheets(mine)
    if p and k:
        print(f"  {what} {k['rows']} rows: {p['case']} {p['s_median']} s | kuroko {k['s_median']} s -> {p['s_median']/k['s_median']:.1f}x")
for r in rows:
    if r.get("area") == "sheets" and "peak_mb" in r:
        print(f"  {r['case']}: {r['rows']} rows in {r['s_median']} s, peak memory {r['peak_mb']} MB")
pw, k = pick("web", "playwright", "item"), pick("web", "kuroko", "item")
if pw and k:
    print(f"  web item (login, first item not counted; {k['runs']} items): playwright {pw['s_median']} s (p90 {pw['s_p90']}) "
          f"| kuroko {k['s_median']} s (p90 {k['s_p90']}) -> {pw['s_median']/k['s_median']:.2f}x")
    if pw.get("popup_closed_during_click"):
        print(f"  web playwright: the 選択 click failed with TargetClosedError {pw['popup_closed_during_click']} time(s), passed over as the popup had closed")
for tool in ["playwright", "kuroko"]:
    f, n = pick("web", tool, "first page"), pick("web", tool, "registered")
    if f:
        extra = f" ({f['ms_with_driver']} ms with the Playwright driver's start)" if "ms_with_driver" in f else ""
        print(f"  web browser start to first page loaded, {f['tool']}: {f['ms']} ms{extra}")
    if n:
        print(f"  web {tool}: registered {n['count']} of {n['expected']}")
PY

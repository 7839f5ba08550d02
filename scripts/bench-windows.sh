#!/usr/bin/env bash
# kuroko.exe under Wine beside Linux kuroko, in one run on one 1920x1080 Xvfb: full-screen capture
# (GDI BitBlt under Wine; MIT-SHM on X11), typing (200 ASCII characters, a Japanese string and a
# 1,000-character Japanese text into a Win32 edit control under Wine; into a GTK entry on X11;
# exact or not) and image search on the peers' scene (the same code, cross-built). Prints every
# figure as a JSON line, then the ratios. Run scripts/test-windows.sh once first (toolchain, Wine).
# Usage: scripts/bench-windows.sh
set -euo pipefail
cd "$(dirname "$0")/.."
data=${PEERS_DATA:-/tmp/kuroko-peers-data}
peers=${KUROKO_PEERS:-../shared/bench/peers}
out=$(mktemp)
trap 'rm -f "$out"; [ -n "${xpid:-}" ] && kill "$xpid" 2>/dev/null || true' EXIT

[ -f "$data/truth.json" ] || "$peers/run.sh" vision >/dev/null
echo "building the benchmarks for Linux and, in release, for Windows (the first Windows release build takes 10–15 minutes)" >&2
cargo build --release --benches --quiet
target=x86_64-pc-windows-gnu
wbuild() {
  CARGO_TARGET_DIR=target-windows RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
    /usr/bin/cargo "$1" --locked -Zbuild-std=std,panic_abort --target "$target" "${@:2}"
}
wbuild build --example win32-intake --quiet
bench_exe() { # the Windows executable of a bench target
  wbuild bench --no-run --bench "$1" --message-format=json 2>/dev/null | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["kind"] == ["bench"]:
        print(m["executable"])'
}
capture_exe=$(bench_exe capture)
vision_exe=$(bench_exe vision)
typing_exe=$(bench_exe typing)
dll=target-windows/$target/debug/bcryptprimitives.dll
[ -f "$dll" ] || { echo "run scripts/test-windows.sh first (it builds the Wine test shim)" >&2; exit 4; }
cp "$dll" "$(dirname "$capture_exe")/"
cp "$dll" "target-windows/$target/debug/examples/"

for n in $(seq 150 190); do [ -e "/tmp/.X11-unix/X$n" ] || break; done
Xvfb ":$n" -screen 0 1920x1080x24 -nolisten tcp -noreset >/dev/null 2>&1 & xpid=$!
export DISPLAY=":$n"; sleep 1
export WINEPREFIX="$PWD/target-windows/wine" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
export KUROKO_INTAKE_EXE="$PWD/target-windows/$target/debug/examples/win32-intake.exe"
wine=/usr/lib/wine/wine64
"$wine" wineboot -u >/dev/null 2>&1 || true
tag() { sed -u "s/\"tool\": \"kuroko/\"tool\": \"kuroko-$1/"; }

echo "capture (1920x1080), 200 times each" >&2
cargo bench --quiet --bench capture -- 200 | tag linux | tee -a "$out"
"$wine" "$capture_exe" 200 | tag wine | tee -a "$out"
echo "typing, 5 times each" >&2
cargo bench --quiet --bench typing -- 5 | tag linux | tee -a "$out"
"$wine" "$typing_exe" 5 | tag wine | tee -a "$out"
echo "image search on the peers' scene" >&2
cargo bench --quiet --bench vision -- "$data" 20 | tag linux | tee -a "$out"
"$wine" "$vision_exe" "$data" 20 | tag wine | tee -a "$out"

python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
def key(r):
    return (r.get("area"), r.get("case", ""))
linux = {key(r): r for r in rows if r["tool"].startswith("kuroko-linux")}
wine = {key(r): r for r in rows if r["tool"].startswith("kuroko-wine")}
print("\nkuroko.exe under Wine / kuroko on Linux (median ms; > 1 means Wine is slower):")
for k, w in wine.items():
    l = linux.get(k)
    ms = lambda r: r.get("ms", r.get("ms_median", r.get("seconds")))
    if l and ms(l) and ms(w):
        extra = f"  exact: wine {w.get('exact')}, linux {l.get('exact')}" if "exact" in w else ""
        print(f"  {k[0]:8} {k[1]:14} wine {ms(w):9.2f}  linux {ms(l):9.2f}  ratio {ms(w) / ms(l):5.2f}{extra}")
PY

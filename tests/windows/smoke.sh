#!/usr/bin/env bash
# kuroko.exe under Wine, the commands around the desktop: a data-only scenario (a Shift_JIS CSV,
# 和暦, an xlsx) runs and is recorded in the ledger; a desktop call reaches the Windows backend;
# import and the report work. (tests/windows/main.rs drives the desktop itself.)
# Needs KUROKO_EXE and KUROKO_WINE (set by scripts/test-windows.sh) and a display.
set -uo pipefail
cd "$(dirname "$0")/../.."
passed=0
failed=0
check() { # name, then a command that must succeed
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
    echo "ok: $name"
  else
    failed=$((failed + 1))
    echo "FAILED: $name"
  fi
}
exe() { "$KUROKO_WINE" "$KUROKO_EXE" "$@"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

check "its manifest declares per-monitor DPI v2 and no elevation" bash -c \
  "strings '$KUROKO_EXE' | grep -q '>PerMonitorV2<' && strings '$KUROKO_EXE' | grep -q 'level=\"asInvoker\"'"
check "kuroko.exe --version" bash -c "'$KUROKO_WINE' '$KUROKO_EXE' --version | grep -q kuroko"

# A data-only scenario, exactly as on Linux.
s="$work/henkan"
mkdir -p "$s/input"
cat >"$s/scenario.toml" <<'TOML'
id = "henkan"
name = "生年月日の和暦変換"
department = "市民課"
task = "変換"
manual_minutes_per_item = 2.0
mode = "unattended"
inputs = ["input"]
outputs = ["output"]
TOML
cat >"$s/main.rhai" <<'RHAI'
let rows = sheet::read("input/住民一覧.csv", #{ encoding: "shift_jis" });
let out = [];
for row in rows {
    let born = text::from_wareki(row["生年月日"]);
    out.push(#{ "番号": row["番号"], "氏名": text::zenkaku(row["氏名"]), "和暦": text::to_wareki(born, "padded") });
    task::item_done(row["番号"]);
}
sheet::write("output/変換.xlsx", out);
log::info(`${out.len()} 件を変換しました`);
RHAI
printf '番号,氏名,生年月日\r\n1,髙橋 花子,昭和50年1月1日\r\n2,ﾔﾏﾀﾞ ﾀﾛｳ,平成元年1月8日\r\n' |
  iconv -f UTF-8 -t CP932 >"$s/input/住民一覧.csv"
exe run "$s" --ledger "$work/ledger.sqlite3" --runs-dir "$work/runs" >"$work/run.out" 2>&1
code=$?
check "a data-only scenario runs (exit $code)" test "$code" -eq 0
check "it says what it did" grep -q "2 件を変換しました" "$work/run.out"
check "the xlsx is written" test -s "$s/output/変換.xlsx"
check "the ledger has the run with its 2 items" bash -c \
  "target/debug/kuroko ledger export --ledger '$work/ledger.sqlite3' | grep -q 'henkan,.*succeeded'"

# A desktop call reaches the Windows backend.
d="$work/gamen"
mkdir -p "$d"
sed 's/henkan/gamen/' "$s/scenario.toml" >"$d/scenario.toml"
printf 'task::item_done(1);\nlet size = screen::size();\nlog::info(`画面 ${size.width}x${size.height}`);\n' >"$d/main.rhai"
exe run "$d" --ledger "$work/ledger.sqlite3" --runs-dir "$work/runs" >"$work/gamen.out" 2>&1
code=$?
check "a desktop call succeeds (exit $code)" test "$code" -eq 0
check "on the Windows backend, with the screen's size" bash -c \
  "grep -q 'desktop connected (windows)' '$work/gamen.out' && grep -q '画面 1280x800' '$work/gamen.out'"

# The launcher at logon: a value under HKCU\...\Run for this user, and gone again.
check "serve --start-at-logon registers this user's Run value" bash -c \
  "'$KUROKO_WINE' '$KUROKO_EXE' serve --scenarios scenarios --start-at-logon >/dev/null 2>&1 &&
   '$KUROKO_WINE' reg query 'HKCU\Software\Microsoft\Windows\CurrentVersion\Run' /v kuroko 2>/dev/null | grep -q 'serve --open --scenarios'"
check "serve --no-start-at-logon removes it" bash -c \
  "'$KUROKO_WINE' '$KUROKO_EXE' serve --no-start-at-logon >/dev/null 2>&1 &&
   ! '$KUROKO_WINE' reg query 'HKCU\Software\Microsoft\Windows\CurrentVersion\Run' /v kuroko >/dev/null 2>&1"

# History from before kuroko, and the fiscal-year report.
printf 'date,department,task,runs,items,before_minutes,after_minutes,robot_minutes\n2021-04-15,市民課,住民票交付,20,640,3200,210,95\n' >"$work/history.csv"
check "ledger import" bash -c "'$KUROKO_WINE' '$KUROKO_EXE' ledger import '$work/history.csv' --ledger '$work/ledger.sqlite3' >/dev/null 2>&1"
check "the FY2021 report has the imported hours" bash -c \
  "'$KUROKO_WINE' '$KUROKO_EXE' report --fiscal-year 2021 --format table --ledger '$work/ledger.sqlite3' 2>/dev/null | grep -q '53.3        3.5         49.8'"
check "the xlsx report is written" bash -c \
  "'$KUROKO_WINE' '$KUROKO_EXE' report --fiscal-year 2021 --out '$work/FY2021.xlsx' --ledger '$work/ledger.sqlite3' >/dev/null 2>&1 && test -s '$work/FY2021.xlsx'"

echo "$passed passed, $failed failed"
test "$failed" -eq 0

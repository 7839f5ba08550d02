#!/usr/bin/env bash
# The fleet's benchmarks in one run, on one private PostgreSQL (Debian's, started here as the
# tests start theirs, stopped at the end):
#   claim   50 `kuroko agent` processes on loopback drain a queue of 10,000 items (a data-only
#           scenario: queue::next, queue::done), beside a bare Python loop (benches/fleet/
#           claim_loop.py: 50 processes, `SELECT … FOR UPDATE SKIP LOCKED LIMIT 1` + update to
#           done) on a table of as many items in the same server: one transaction per item and
#           two (claim, done), on psycopg's C binding, and one on Debian's pure-Python one.
#           items/s = items / (last done - first claim), by the rows' own times. Target: kuroko
#           within 2x of the fastest bare loop.
#   report  a fiscal-year report (`kuroko report --fiscal-year`) of a ledger of 1,000,000 runs
#           (benches/fleet/history.sql, then the same rows copied into a SQLite ledger), xlsx
#           and table, on PostgreSQL and on SQLite. Target: the xlsx under 3 s.
# Usage: scripts/bench-fleet.sh [claim|report|all]
# Environment: KUROKO_BENCH_ITEMS (10000), KUROKO_BENCH_AGENTS (50), KUROKO_BENCH_RUNS
# (1000000), KUROKO_BENCH_REPS (3, timings of each report), KUROKO_BENCH_FY (2024),
# KUROKO_BENCH_CLAIM_REPS (2: kuroko and the loops take turns), KUROKO_BENCH_LOOP_WORKERS ("8":
# the C-binding loop again with these numbers of workers; 50 contend for the same rows),
# KUROKO_BIN (a kuroko to use instead of building one; CARGO_TARGET_DIR is honoured),
# KUROKO_BENCH_KEEP=1 keeps the work folder (the server is stopped either way).
# Needs: postgresql (15), python3-psycopg, sqlite3, and PyPI once (psycopg[binary] into
# $KUROKO_FLEET_VENV, ~/.cache/kuroko-fleet-venv); as root the server runs as `nobody`.
# Prints one JSON line per figure, then a table. Everything is timed on this machine; the
# load average is printed with each figure (2 shared cores: compare figures of one run).
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
items=${KUROKO_BENCH_ITEMS:-10000}
agents=${KUROKO_BENCH_AGENTS:-50}
runs=${KUROKO_BENCH_RUNS:-1000000}
reps=${KUROKO_BENCH_REPS:-3}
fy=${KUROKO_BENCH_FY:-2024}
py=/usr/bin/python3  # Debian's python3-psycopg (psycopg's pure-Python libpq binding)
# The bare loop also runs on psycopg's C binding (psycopg[binary] from PyPI, in a venv made here
# once), so the loop's own client cost is as small as Python allows: the limit is the faster one.
venv=${KUROKO_FLEET_VENV:-$HOME/.cache/kuroko-fleet-venv}
case $what in claim|report|all) ;; *) echo "usage: $0 [claim|report|all]" >&2; exit 2 ;; esac

if [ -z "${KUROKO_BIN:-}" ]; then
  cargo build --release --locked --quiet --bin kuroko
  KUROKO_BIN=${CARGO_TARGET_DIR:-target}/release/kuroko
fi
kuroko=$(realpath "$KUROKO_BIN")
version=$("$kuroko" --version | awk '{print $2}')
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
[ -x "$pgbin/initdb" ] || { echo "no PostgreSQL: apt-get install postgresql" >&2; exit 1; }
"$py" -c 'import psycopg' 2>/dev/null || { echo "no psycopg for $py: apt-get install python3-psycopg" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "no sqlite3: apt-get install sqlite3" >&2; exit 1; }

work=$(mktemp -d /tmp/kuroko-bench-fleet.XXXXXX)
chmod 755 "$work"
out=$work/figures.jsonl
agent_pids=()
pg_pid=
cleanup() {
  for p in "${agent_pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  # SIGQUIT: immediate shutdown (nothing here needs to survive).
  if [ -n "$pg_pid" ]; then kill -QUIT "$pg_pid" 2>/dev/null || true; wait "$pg_pid" 2>/dev/null || true; fi
  if [ -n "${KUROKO_BENCH_KEEP:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

load() { cut -d' ' -f1-3 /proc/loadavg; }
now() { date +%s.%N; }
emit() { echo "$1" | tee -a "$out"; }

# The server: initdb refuses root, so as root it runs as nobody (like tests/support/postgres.rs).
# setpriv execs the program, so $! below is the postgres process itself.
as_pg=()
[ "$(id -u)" = 0 ] && as_pg=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
mkdir "$work/pg"
[ "$(id -u)" = 0 ] && chown nobody:nogroup "$work/pg"
"${as_pg[@]}" "$pgbin/initdb" -U kuroko --auth=trust -E UTF8 --locale=C -D "$work/pg/data" > "$work/initdb.log" 2>&1 \
  || { cat "$work/initdb.log" >&2; exit 1; }
port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The tests' settings: durability is not what is measured (both sides share the server).
"${as_pg[@]}" "$pgbin/postgres" -D "$work/pg/data" -p "$port" -k "$work/pg" -c listen_addresses=127.0.0.1 \
  -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
  > "$work/server.log" 2>&1 < /dev/null &
pg_pid=$!
psql() { PGOPTIONS="-c client_min_messages=warning" "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U kuroko "$@"; }
for _ in $(seq 300); do psql -d postgres -c 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.1; done
psql -d postgres -c 'SELECT 1' >/dev/null || { cat "$work/server.log" >&2; exit 1; }
pg_version=$(psql -d postgres -Atc 'SHOW server_version' | awk '{print $1}')
url() { echo "postgres://kuroko@127.0.0.1:$port/$1"; }

if [ "$what" = claim ] || [ "$what" = all ]; then
  # The queue file and the scenario of tests/fleet.rs: take an item, end it, until none is left.
  "$py" -c "
print('受付番号,氏名')
for i in range(1, $items + 1):
    print(f'R6-{i:05},髙橋 花子{i}')" > "$work/applications.csv"
  mkdir -p "$work/scenarios/tennyu"
  cat > "$work/scenarios/tennyu/scenario.toml" <<'TOML'
id = "tennyu"
name = "転入届"
department = "市民課"
task = "転入届"
manual_minutes_per_item = 6.0
human_minutes_per_item = 0.5
mode = "unattended"

[queue]
name = "転入届"
TOML
  cat > "$work/scenarios/tennyu/main.rhai" <<'RHAI'
loop {
    let item = queue::next();
    if item == () { break; }
    queue::done(item);
}
RHAI
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import psycopg' 2>/dev/null; then
    { python3 -m venv "$venv" && "$venv/bin/pip" install -q 'psycopg[binary]==3.2.*'; } >&2 \
      || echo "no psycopg[binary] venv ($venv): the bare loop runs on Debian's psycopg only" >&2
  fi
  # Each loop: python, transactions per item, workers. The machine is shared, so kuroko and the
  # loops take turns, CLAIM_REPS times, and each ratio is of figures measured minutes apart.
  loops=("$py one $agents")
  "$venv/bin/python" -c 'import psycopg' 2>/dev/null && loops=("$venv/bin/python one $agents" \
    "$venv/bin/python two $agents" "$py one $agents")
  for w in ${KUROKO_BENCH_LOOP_WORKERS-8}; do
    "$venv/bin/python" -c 'import psycopg' 2>/dev/null && loops+=("$venv/bin/python one $w")
  done
  for rep in $(seq "${KUROKO_BENCH_CLAIM_REPS:-2}"); do
    psql -d postgres -c "DROP DATABASE IF EXISTS fleet" -c "CREATE DATABASE fleet"
    ledger=$(url fleet)
    "$kuroko" queue add 転入届 "$work/applications.csv" --key 受付番号 --ledger "$ledger" > /dev/null
    rm -rf "$work/runs"
    before=$(load)
    started=$(now)
    for i in $(seq -w 1 "$agents"); do
      mkdir -p "$work/runs/robot-$i"
      "$kuroko" agent --scenarios "$work/scenarios" --name "robot-$i" --poll 0.2 \
        --runs-dir "$work/runs/robot-$i" --ledger "$ledger" < /dev/null \
        > "$work/runs/robot-$i/agent.out" 2> "$work/runs/robot-$i/agent.err" &
      agent_pids+=($!)
    done
    deadline=$(( $(date +%s) + 1200 ))
    while :; do
      ended=$(psql -d fleet -Atc "SELECT COUNT(*) FROM queue_items WHERE state NOT IN ('new', 'in_progress')")
      [ "$ended" = "$items" ] && break
      if [ "$(date +%s)" -gt "$deadline" ]; then echo "only $ended of $items ended in 20 min" >&2; exit 1; fi
      sleep 0.2
    done
    finished=$(now)
    after=$(load)
    for p in "${agent_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${agent_pids[@]}"; do wait "$p" || echo "agent $p ended with $?" >&2; done
    agent_pids=()
    # From the first claim to the last done, by the attempts' own times (written by the
    # agents' runs, all on this machine's clock); and the wall clock from starting the agents.
    read -r attempts once done_items keys robots span < <(psql -d fleet -At -F ' ' -c "
      SELECT (SELECT COUNT(*) FROM queue_attempts),
             (SELECT COUNT(*) FROM queue_attempts WHERE attempt = 1 AND outcome = 'done'),
             (SELECT COUNT(*) FROM queue_items WHERE state = 'done'),
             (SELECT COUNT(*) FROM (SELECT item_key FROM items WHERE state = 'done'
                                    GROUP BY item_key HAVING COUNT(*) = 1) k),
             (SELECT COUNT(DISTINCT machine) FROM queue_attempts),
             (SELECT EXTRACT(EPOCH FROM MAX(ended_at::timestamptz) - MIN(claimed_at::timestamptz))
                FROM queue_attempts)")
    ok=false
    [ "$attempts" = "$items" ] && [ "$once" = "$items" ] && [ "$done_items" = "$items" ] && [ "$keys" = "$items" ] && ok=true
    wall=$(echo "$finished - $started" | bc -l)
    emit "$("$py" -c "
import json
items, span, wall = $items, float('$span'), float('$wall')
print(json.dumps({'area': 'fleet', 'tool': 'kuroko $version', 'case': 'agents drain a queue', 'rep': $rep,
    'items': items, 'workers': $agents, 'robots_that_took_items': $robots,
    'items_per_s_db': round(items / span, 1), 'seconds_db': round(span, 3),
    'items_per_s_wall': round(items / wall, 1), 'seconds_wall': round(wall, 3),
    'done_once': '$ok' == 'true', 'load_before': '$before', 'load_after': '$after'},
    ensure_ascii=False))")"
    [ "$ok" = true ] || { echo "kuroko: $attempts attempts, $once done at attempt 1, $done_items done, $keys keys once, of $items" >&2; exit 1; }
    psql -d postgres -c 'DROP DATABASE fleet'

    psql -d postgres -c "DROP DATABASE IF EXISTS bare" -c "CREATE DATABASE bare"
    for loop in "${loops[@]}"; do
      read -r python mode workers <<< "$loop"
      before=$(load)
      line=$("$python" benches/fleet/claim_loop.py "$(url bare)" "$items" "$workers" "$mode")
      emit "$("$py" -c "
import json, sys
r = json.loads(sys.argv[1]); r['rep'] = $rep; r['load_before'] = '$before'; r['load_after'] = '$(load)'
print(json.dumps(r, ensure_ascii=False))" "$line")"
    done
    psql -d postgres -c 'DROP DATABASE bare'
  done
fi

if [ "$what" = report ] || [ "$what" = all ]; then
  psql -d postgres -c 'CREATE DATABASE ledger'
  ledger=$(url ledger)
  sqlite=$work/ledger.sqlite3
  "$kuroko" queue list --ledger "$ledger" > /dev/null 2>&1  # creates the tables, as any command does
  "$kuroko" queue list --ledger "$sqlite" > /dev/null 2>&1
  before=$(load)
  t=$(now)
  psql -d ledger -v runs="$runs" -v fy="$fy" -f benches/fleet/history.sql
  built=$(echo "$(now) - $t" | bc -l)
  # The same rows into the SQLite ledger: CSV out of PostgreSQL (NULL as \N), sqlite3's
  # .import into a staging table, then into kuroko's table. No ANALYZE: kuroko runs none.
  t=$(now)
  for table in runs items daily_totals; do
    cols=$(psql -d ledger -Atc "SELECT string_agg(column_name, ', ' ORDER BY ordinal_position)
      FROM information_schema.columns WHERE table_name = '$table' AND table_schema = 'public'")
    nullif=$(echo "$cols" | sed -E "s/([a-z_]+)/NULLIF(\1, '\\\\N')/g")
    psql -d ledger -c "\\copy (SELECT $cols FROM $table) TO '$work/$table.csv' WITH (FORMAT csv, HEADER, NULL '\\N')"
    sqlite3 "$sqlite" <<SQL
.import --csv $work/$table.csv staging_$table
BEGIN;
INSERT INTO $table ($cols) SELECT $nullif FROM staging_$table;
DROP TABLE staging_$table;
COMMIT;
SQL
    rm "$work/$table.csv"
  done
  sqlite3 "$sqlite" 'PRAGMA wal_checkpoint(TRUNCATE);' > /dev/null
  copied=$(echo "$(now) - $t" | bc -l)
  pg_mb=$(psql -d ledger -Atc "SELECT pg_database_size('ledger') / 1000000")
  sqlite_mb=$(( $(stat -c %s "$sqlite") / 1000000 ))
  read -r in_fy fy_items fy_failed < <(psql -d ledger -At -F ' ' -c "
    SELECT COUNT(*), SUM(items_done + items_failed), SUM(items_failed) FROM runs
    WHERE started_at >= '$fy-04-01' AND started_at < '$((fy + 1))-04-01'")
  emit "{\"area\": \"ledger\", \"case\": \"history\", \"runs\": $runs, \"runs_in_fy\": $in_fy, \"items\": $fy_items, \"items_failed\": $fy_failed, \"postgres_mb\": $pg_mb, \"sqlite_mb\": $sqlite_mb, \"build_postgres_s\": $(printf %.1f "$built"), \"copy_to_sqlite_s\": $(printf %.1f "$copied"), \"load_before\": \"$before\", \"load_after\": \"$(load)\"}"
  [ "$(sqlite3 "$sqlite" 'SELECT COUNT(*) FROM runs')" = "$runs" ] || { echo "the SQLite copy lacks runs" >&2; exit 1; }

  # Each report REPS times (median), as a clerk runs it: a new process, opening the ledger.
  timed() {  # STORE FORMAT ADDRESS EXTRA...: one JSON line
    local store=$1 format=$2 address=$3; shift 3
    local times=() before size=0 listed="" t status
    before=$(load)
    local file=$work/report-$store.$format
    for _ in $(seq "$reps"); do
      rm -f "$file"
      t=$(now)
      if [ "$format" = xlsx ]; then
        "$kuroko" report --fiscal-year "$fy" --out "$file" --ledger "$address" "$@" 2> "$work/report.err"
      else
        "$kuroko" report --fiscal-year "$fy" --format "$format" --out "$file" --ledger "$address" "$@" 2> "$work/report.err"
      fi
      times+=("$(echo "$(now) - $t" | bc -l)")
    done
    size=$(stat -c %s "$file")
    listed=$(sed -n 's/.*(\([0-9]*\) run record(s)).*/\1/p' "$work/report.err")
    "$py" - "$store" "$format" "$size" "${listed:-null}" "$before" "$(load)" "$*" "${times[@]}" <<'PY'
import json, statistics, sys
store, fmt, size, listed, before, after, extra, *times = sys.argv[1:]
times = sorted(float(t) for t in times)
r = {"area": "ledger", "tool": "kuroko", "case": f"fiscal-year report {fmt}" + (f" {extra}" if extra else ""),
     "store": store, "median_s": round(statistics.median(times), 3), "min_s": round(times[0], 3),
     "max_s": round(times[-1], 3), "reps": len(times), "bytes": int(size)}
if listed != "null":
    r["runs_listed"] = int(listed)
r["load_before"], r["load_after"] = before, after
print(json.dumps(r, ensure_ascii=False))
PY
    rm -f "$file"
  }
  for store in postgres sqlite; do
    address=$ledger; [ "$store" = sqlite ] && address=$sqlite
    emit "$(timed "$store" xlsx "$address")"
    emit "$(timed "$store" table "$address")"
  done
  # What the 実行一覧 sheet does with every run of the year (it stops at xlsx's 1,048,576 rows).
  reps=1
  for store in postgres sqlite; do
    address=$ledger; [ "$store" = sqlite ] && address=$sqlite
    emit "$(timed "$store" xlsx "$address" --max-runs 2000000)"
  done
fi

"$py" - "$out" "$items" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
items = sys.argv[2]
fleet = [r for r in rows if r.get("area") == "fleet"]
if fleet:
    print(f"\nclaim throughput, {items} items (first claim to last done, by the rows' own times; wall: from the start):")
    print(f"  {'rep':>3s}  {'who':44s} {'binding':8s} {'workers':>7s} {'items/s':>8s} {'s':>7s} {'wall/s':>7s}  once  load before")
    for r in fleet:
        who = r["tool"] + " agent" if r["tool"].startswith("kuroko") else r["case"]
        binding = r["tool"].split(" (")[1].split(" ")[0] if "(" in r["tool"] else ""
        print(f"  {r['rep']:3d}  {who:44s} {binding:8s} {r['workers']:7d} {r['items_per_s_db']:8.0f} {r['seconds_db']:7.2f} "
              f"{r['items_per_s_wall']:7.0f}  {str(r['done_once']):5s} {r['load_before']}")
    for rep in sorted({r["rep"] for r in fleet}):
        k = next((r for r in fleet if r["rep"] == rep and r["tool"].startswith("kuroko")), None)
        same = [r for r in fleet if r["rep"] == rep and not r["tool"].startswith("kuroko") and r["workers"] == k["workers"]]
        any_w = [r for r in fleet if r["rep"] == rep and not r["tool"].startswith("kuroko")]
        if k and same:
            b, a = max(same, key=lambda r: r["items_per_s_db"]), max(any_w, key=lambda r: r["items_per_s_db"])
            print(f"  rep {rep}: fastest bare loop with {k['workers']} workers / kuroko = {b['items_per_s_db'] / k['items_per_s_db']:.2f}x "
                  f"({'ok' if b['items_per_s_db'] / k['items_per_s_db'] <= 2 else 'OVER'}, target at most 2x); "
                  f"fastest with any workers ({a['workers']}) / kuroko = {a['items_per_s_db'] / k['items_per_s_db']:.2f}x")
h = next((r for r in rows if r.get("case") == "history"), None)
reports = [r for r in rows if r.get("area") == "ledger" and "store" in r]
if h:
    print(f"\nfiscal-year report, a ledger of {h['runs']:,} runs ({h['runs_in_fy']:,} in the year, {h['items']:,} items, "
          f"{h['items_failed']:,} failed; PostgreSQL {h['postgres_mb']} MB, SQLite {h['sqlite_mb']} MB):")
    print(f"  {'case':46s} {'store':9s} {'median s':>9s} {'min-max':>13s} {'MB':>7s} {'runs listed':>12s}  load")
    for r in reports:
        rng = f"{r['min_s']:.2f}-{r['max_s']:.2f}"
        print(f"  {r['case']:46s} {r['store']:9s} {r['median_s']:9.3f} {rng:>13s} {r['bytes'] / 1e6:7.2f} "
              f"{r.get('runs_listed', ''):>12}  {r['load_before']}")
    for store in ("postgres", "sqlite"):
        x = next((r for r in reports if r["store"] == store and r["case"] == "fiscal-year report xlsx"), None)
        if x:
            print(f"  xlsx on {store}: {x['median_s']:.2f} s (target: under 3 s) {'ok' if x['median_s'] < 3 else 'OVER'}")
PY

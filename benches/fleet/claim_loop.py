#!/usr/bin/python3
"""The bare PostgreSQL claim loop kuroko's queue is measured against: WORKERS processes, each
with its own connection, take the oldest new item with `SELECT ... FOR UPDATE SKIP LOCKED
LIMIT 1` and set it done, until none is left. Nothing else: no lease, no attempts table, no
run record, no script. That is the limit a queue on this server can reach.

Usage: claim_loop.py URL ITEMS WORKERS [one|two]
  one  claim and done in one transaction per item (the bare loop)
  two  claim (state in_progress, a lease) in one transaction, done in a second one, as a queue
       whose items take time must do

It makes its own table `bare_items` (dropped first) of ITEMS rows shaped like kuroko's queue
rows, starts the workers, waits until all are connected, and prints one JSON line:
items/s from the first claim to the last done by the server's clock (`now()` at the claim's
transaction start, `clock_timestamp()` at done), and by the wall clock from the start signal
to the last worker's exit. It checks every item is done exactly once.
"""

import json
import multiprocessing as mp
import sys
import time

import psycopg

SCHEMA = """
DROP TABLE IF EXISTS bare_items;
CREATE TABLE bare_items (
    seq BIGINT PRIMARY KEY,
    item_key TEXT COLLATE "C" NOT NULL UNIQUE,
    data TEXT NOT NULL,
    state TEXT NOT NULL,
    owner TEXT,
    attempt BIGINT NOT NULL DEFAULT 0,
    lease_until TIMESTAMPTZ,
    claimed_at TIMESTAMPTZ,
    done_at TIMESTAMPTZ
);
CREATE INDEX bare_items_waiting ON bare_items (state, seq);
"""

CLAIM = "SELECT seq FROM bare_items WHERE state = 'new' ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED"


def worker(url, name, mode, ready, go, counts):
    with psycopg.connect(url) as conn:
        ready.release()
        go.wait()
        n = 0
        while True:
            with conn.cursor() as cur:
                cur.execute(CLAIM)
                row = cur.fetchone()
                if row is None:
                    conn.commit()
                    break
                if mode == "one":
                    cur.execute(
                        "UPDATE bare_items SET state = 'done', owner = %s, attempt = attempt + 1, "
                        "claimed_at = now(), done_at = clock_timestamp() WHERE seq = %s",
                        (name, row[0]),
                    )
                    conn.commit()
                else:
                    cur.execute(
                        "UPDATE bare_items SET state = 'in_progress', owner = %s, "
                        "attempt = attempt + 1, claimed_at = now(), "
                        "lease_until = clock_timestamp() + interval '60 seconds' WHERE seq = %s",
                        (name, row[0]),
                    )
                    conn.commit()
                    cur.execute(
                        "UPDATE bare_items SET state = 'done', lease_until = NULL, "
                        "done_at = clock_timestamp() WHERE seq = %s AND owner = %s "
                        "AND state = 'in_progress'",
                        (row[0], name),
                    )
                    if cur.rowcount != 1:
                        raise SystemExit(f"{name}: lost item {row[0]}")
                    conn.commit()
            n += 1
        counts.put(n)


def main():
    url, items, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    mode = sys.argv[4] if len(sys.argv) > 4 else "one"
    assert mode in ("one", "two"), mode
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SCHEMA)
        with conn.cursor() as cur:
            with cur.copy("COPY bare_items (seq, item_key, data, state) FROM STDIN") as copy:
                for i in range(1, items + 1):
                    key = f"R6-{i:05}"
                    data = json.dumps({"受付番号": key, "氏名": f"髙橋 花子{i}"}, ensure_ascii=False)
                    copy.write_row((i, key, data, "new"))
        conn.execute("ANALYZE bare_items")

    ctx = mp.get_context("fork")
    ready, go, counts = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=worker, args=(url, f"worker-{w:02}", mode, ready, go, counts))
        for w in range(workers)
    ]
    for p in procs:
        p.start()
    for _ in procs:
        ready.acquire()
    start = time.monotonic()
    go.set()
    per_worker = [counts.get() for _ in procs]
    for p in procs:
        p.join()
    wall = time.monotonic() - start
    if any(p.exitcode != 0 for p in procs):
        raise SystemExit("a worker failed")

    with psycopg.connect(url) as conn:
        done, once, span = conn.execute(
            "SELECT COUNT(*) FILTER (WHERE state = 'done'), "
            "COUNT(*) FILTER (WHERE state = 'done' AND attempt = 1), "
            "EXTRACT(EPOCH FROM MAX(done_at) - MIN(claimed_at))::float8 FROM bare_items"
        ).fetchone()
    ok = done == items and once == items and sum(per_worker) == items
    print(json.dumps({
        "area": "fleet", "tool": f"python {sys.version.split()[0]} psycopg {psycopg.__version__}"
        f" ({psycopg.pq.__impl__} libpq binding)", "case": "bare loop, " + ("one transaction" if mode == "one" else "two transactions") + " per item",
        "items": items, "workers": workers, "items_per_s_db": round(items / span, 1),
        "seconds_db": round(span, 3), "items_per_s_wall": round(items / wall, 1),
        "seconds_wall": round(wall, 3), "done_once": ok,
        "busiest_worker": max(per_worker), "idlest_worker": min(per_worker),
    }, ensure_ascii=False))
    if not ok:
        raise SystemExit(f"bare loop: {done} done, {once} done once, of {items}")


if __name__ == "__main__":
    main()

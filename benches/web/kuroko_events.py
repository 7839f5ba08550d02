#!/usr/bin/env python3
"""The kuroko figures of scripts/bench.sh web, read from the run folder benches/web/kuroko left:
seconds per item (the differences between successive item_done events, so the first item, with
the menu click and the first form load, is dropped as on the Playwright side) and the time from
starting the browser to the first page loaded (the "loaded in N ms" log line). Prints JSON lines
in the shape of playwright_peer.py. Usage: kuroko_events.py RUNS_DIR TOOL_NAME"""
import glob, json, os, re, statistics, sys

runs_dir, tool = sys.argv[1], sys.argv[2]
paths = sorted(glob.glob(os.path.join(runs_dir, "*", "events.jsonl")), key=os.path.getmtime)
if not paths:
    sys.exit(f"kuroko_events.py: no run folder with events.jsonl in {runs_dir}")
events = [json.loads(line) for line in open(paths[-1], encoding="utf-8") if line.strip()]


def p90(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.9 * (len(xs) - 1))))]


done = [e["elapsed_ms"] for e in events if e["event"] == "item_done"]
start = next((e["elapsed_ms"] for e in events if e["event"] == "action"
              and e["action"].startswith("web click text=交付申請入力")), None)
finished = next((e for e in events if e["event"] == "finished"), {})
if finished.get("outcome") != "succeeded":
    print(f"kuroko_events.py: the run ended {finished.get('outcome')}: {finished.get('message')} "
          f"at {finished.get('location')} ({paths[-1]})", file=sys.stderr)
timed = [(b - a) / 1000 for a, b in zip(done, done[1:])]
if timed:
    row = {"area": "web", "tool": tool, "case": "item", "s_min": round(min(timed), 3),
           "s_median": round(statistics.median(timed), 3), "s_p90": round(p90(timed), 3),
           "s_max": round(max(timed), 3), "runs": len(timed), "items": len(done)}
    if start is not None:
        row["first_item_s"] = round((done[0] - start) / 1000, 3)
    print(json.dumps(row))
for e in events:
    m = e["event"] == "log" and re.search(r"loaded in (\d+) ms", e["message"])
    if m:
        print(json.dumps({"area": "web", "tool": tool, "case": "first page", "ms": int(m.group(1))}))
        break
print(json.dumps({"area": "web", "tool": tool, "case": "run", "outcome": finished.get("outcome"),
                  "run_dir": os.path.dirname(paths[-1])}))

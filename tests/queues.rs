//! Work queues on both stores, through the binary: a Shift_JIS CSV added all or nothing, a
//! data-only scenario that takes items with `queue::next()` and ends them done or failed, two
//! runs draining one queue without ever sharing an item, retry and abandon by hand, and a run
//! that stops answering: its items are set aside once its heartbeat is too old, and its late
//! `queue::done` is refused.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::support::postgres::{Store, TestLedger};
use crate::support::*;

crate::both_stores!(
    a_file_is_added_whole_or_not_at_all_and_a_key_only_once,
    items_are_taken_ended_and_recorded_and_two_runs_never_share_one,
    a_run_that_stops_answering_has_its_item_set_aside_and_cannot_end_it_later,
);

fn queue_cmd(ledger: &OsStr, args: &[&str]) -> Ran {
    Ran::from(
        kuroko()
            .arg("queue")
            .arg("--ledger")
            .arg(ledger)
            .args(args)
            .output()
            .unwrap(),
    )
}

/// A Shift_JIS CSV of `n` 転入届, every seventh without an address.
fn applications(dir: &Path, name: &str, n: usize) -> PathBuf {
    let mut csv = String::from("受付番号,氏名,住所\r\n");
    for i in 1..=n {
        let address = if i % 7 == 0 {
            String::new()
        } else {
            format!("深谷市仲町{i}番地")
        };
        csv.push_str(&format!("R6-{i:05},髙橋 花子{i},{address}\r\n"));
    }
    let (sjis, _, lossy) = encoding_rs::SHIFT_JIS.encode(&csv);
    assert!(!lossy);
    let path = dir.join(name);
    std::fs::write(&path, &sjis).unwrap();
    path
}

const WORKER: &str = r#"
loop {
    let item = queue::next();
    if item == () { break; }
    if task::get_var("pause", "0") != "0" { sleep(parse_int(task::get_var("pause", "0"))); }
    if item["住所"] == () || item["住所"] == "" {
        queue::failed(item, "住所不明", #{ kind: "business" });
    } else {
        queue::done(item);
    }
}
"#;

fn worker(dir: &Path, id: &str) -> PathBuf {
    let manifest =
        MANIFEST.replace("\"test\"", &format!("\"{id}\"")) + "\n[queue]\nname = \"転入届\"\n";
    scenario(dir, id, &manifest, WORKER)
}

fn spawn_worker(scenario: &Path, runs: &Path, ledger: &OsStr, vars: &[&str]) -> Child {
    let mut cmd = kuroko();
    cmd.arg("run").arg(scenario).arg("--runs-dir").arg(runs);
    for v in vars {
        cmd.args(["--var", v]);
    }
    std::fs::create_dir_all(runs).unwrap();
    cmd.arg("--ledger")
        .arg(ledger)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(runs.join("stderr.txt")).unwrap())
        .spawn()
        .unwrap()
}

/// The attempts of a queue as (key, attempt, outcome).
fn attempts(ledger: &OsStr, queue: &str) -> Vec<(String, u64, String)> {
    let out = queue_cmd(ledger, &["show", queue, "--attempts"]);
    out.expect(0);
    let mut reader = csv::Reader::from_reader(out.stdout.as_bytes());
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_string(), r[1].parse().unwrap(), r[6].to_string())
        })
        .collect()
}

fn a_file_is_added_whole_or_not_at_all_and_a_key_only_once(store: Store) {
    let dir = temp_dir(&format!("queue_add_{store:?}"));
    let ledger = TestLedger::new(store, &dir);
    let ledger = ledger.arg();
    // Bad keys: an empty one and a repeated one, each named with its row; nothing added.
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "受付番号,氏名\nR6-1,髙橋\n,渡邉\nR6-1,山田\nR6-4,佐藤\n",
    )
    .unwrap();
    queue_cmd(
        ledger,
        &["add", "転入届", bad.to_str().unwrap(), "--key", "受付番号"],
    )
    .expect(1)
    .stderr_has("row 3, column 受付番号: the key is empty")
    .stderr_has("row 4, column 受付番号: \"R6-1\" is also the key of row 2")
    .stderr_has("nothing was added");
    queue_cmd(
        ledger,
        &["add", "転入届", bad.to_str().unwrap(), "--key", "受付番"],
    )
    .expect(1)
    .stderr_has("no column \"受付番\"");
    queue_cmd(ledger, &["list"])
        .expect(0)
        .stderr_has("no queues");

    let file = applications(&dir, "march.csv", 30);
    queue_cmd(
        ledger,
        &["add", "転入届", file.to_str().unwrap(), "--key", "受付番号"],
    )
    .expect(0)
    .stdout_has("added 30 item(s) to queue \"転入届\"");
    // The same keys again are refused, whole, saying which and why.
    let again = applications(&dir, "again.csv", 32);
    queue_cmd(
        ledger,
        &[
            "add",
            "転入届",
            again.to_str().unwrap(),
            "--key",
            "受付番号",
        ],
    )
    .expect(1)
    .stderr_has("30 of these keys are already in queue \"転入届\"")
    .stderr_has("R6-00001 (new)")
    .stderr_has("nothing was added");
    let list = queue_cmd(ledger, &["list"]);
    list.expect(0);
    let row = list.stdout.lines().nth(1).unwrap().to_string();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        cells,
        ["転入届", "30", "0", "0", "0", "0"],
        "{}",
        list.stdout
    );
}

fn items_are_taken_ended_and_recorded_and_two_runs_never_share_one(store: Store) {
    let dir = temp_dir(&format!("queue_work_{store:?}"));
    let test_ledger = TestLedger::new(store, &dir);
    let ledger = test_ledger.arg();
    let file = applications(&dir, "march.csv", 140);
    queue_cmd(
        ledger,
        &["add", "転入届", file.to_str().unwrap(), "--key", "受付番号"],
    )
    .expect(0);
    let a = spawn_worker(&worker(&dir, "worker-a"), &dir.join("runs-a"), ledger, &[]);
    let b = spawn_worker(&worker(&dir, "worker-b"), &dir.join("runs-b"), ledger, &[]);
    let (code_a, out_a) = finish(a, Duration::from_secs(120));
    let (code_b, out_b) = finish(b, Duration::from_secs(120));
    assert_eq!((code_a, code_b), (Some(0), Some(0)), "{out_a}\n{out_b}");

    // Each item was taken once, by one of the two, and ended.
    let tried = attempts(ledger, "転入届");
    assert_eq!(tried.len(), 140, "every item claimed exactly once");
    assert!(tried.iter().all(|(_, attempt, _)| *attempt == 1));
    let failed: Vec<&str> = tried
        .iter()
        .filter(|(_, _, outcome)| outcome == "failed")
        .map(|(k, _, _)| k.as_str())
        .collect();
    assert_eq!(failed.len(), 20, "every seventh has no address");
    assert!(tried.iter().all(|(_, _, o)| o == "done" || o == "failed"));
    let list = queue_cmd(ledger, &["list"]);
    let cells: Vec<String> = list
        .stdout
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .map(String::from)
        .collect();
    assert_eq!(
        cells,
        ["転入届", "0", "0", "120", "20", "0"],
        "{}",
        list.stdout
    );
    queue_cmd(ledger, &["show", "転入届", "--state", "failed"])
        .expect(0)
        .stdout_has("R6-00007")
        .stdout_has("business: 住所不明");
    // The runs' items are in the ledger: 120 done between them, 20 failed.
    let rows = ledger_rows(ledger);
    assert_eq!(rows.iter().map(|r| r.2).sum::<u64>(), 120, "{rows:?}");
    assert!(rows.iter().all(|r| r.1 == "succeeded"));

    // A person fixes the data and retries two; done ones cannot be retried.
    queue_cmd(ledger, &["retry", "転入届", "R6-00007", "R6-00014"])
        .expect(0)
        .stdout_has("R6-00007: put back as new");
    queue_cmd(ledger, &["retry", "転入届", "R6-00001", "R6-99999"])
        .expect(1)
        .stderr_has("R6-00001: item \"R6-00001\" is done")
        .stderr_has("no item \"R6-99999\"");
    queue_cmd(
        ledger,
        &["abandon", "転入届", "R6-00014", "--reason", "申請取下げ"],
    )
    .expect(0);
    test_ledger.execute(
        "UPDATE queue_items SET data = REPLACE(data, '\"住所\":null', '\"住所\":\"深谷市本住町1\"') WHERE item_key = 'R6-00007'",
    );
    let c = spawn_worker(&worker(&dir, "worker-a"), &dir.join("runs-c"), ledger, &[]);
    assert_eq!(finish(c, Duration::from_secs(60)).0, Some(0));
    let tried = attempts(ledger, "転入届");
    let seventh: Vec<_> = tried.iter().filter(|(k, _, _)| k == "R6-00007").collect();
    assert_eq!(
        seventh,
        [
            &("R6-00007".to_string(), 1, "failed".to_string()),
            &("R6-00007".to_string(), 2, "done".to_string())
        ]
    );
    queue_cmd(ledger, &["show", "転入届", "--state", "abandoned"])
        .expect(0)
        .stdout_has("R6-00014")
        .stdout_has("申請取下げ");
}

fn a_run_that_stops_answering_has_its_item_set_aside_and_cannot_end_it_later(store: Store) {
    let dir = temp_dir(&format!("queue_stale_{store:?}"));
    let test_ledger = TestLedger::new(store, &dir);
    let ledger = test_ledger.arg();
    let file = applications(&dir, "march.csv", 3);
    queue_cmd(
        ledger,
        &["add", "転入届", file.to_str().unwrap(), "--key", "受付番号"],
    )
    .expect(0);
    // A run that takes an item and then works slowly; frozen (SIGSTOP) it cannot heartbeat.
    let mut cmd = kuroko();
    cmd.env("KUROKO_HEARTBEAT_LIMIT_S", "2");
    let runs = dir.join("runs");
    let child = cmd
        .arg("run")
        .arg(worker(&dir, "slow"))
        .args(["--var", "pause=4000", "--runs-dir"])
        .arg(&runs)
        .arg("--ledger")
        .arg(ledger)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the run to take an item", || {
        events_so_far(&runs).contains("took item R6-00001")
    });
    // Frozen between two writes: a process frozen inside one would hold the ledger's lock.
    for _ in 0..50 {
        signal(child.id(), "STOP");
        std::thread::sleep(Duration::from_millis(50));
        if test_ledger.nobody_mid_write() {
            break;
        }
        signal(child.id(), "CONT");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(3500));
    // Whoever opens the ledger next notices: the run is interrupted, its item abandoned.
    let mut show = kuroko();
    show.env("KUROKO_HEARTBEAT_LIMIT_S", "2");
    let shown = Ran::from(
        show.args(["queue", "show", "転入届", "--ledger"])
            .arg(ledger)
            .output()
            .unwrap(),
    );
    shown.expect(0).stdout_has("abandoned");
    assert!(
        shown.stdout.contains("interrupted while working on it"),
        "{}",
        shown.stdout
    );
    let rows = ledger_rows(ledger);
    assert_eq!(rows[0].1, "interrupted", "{rows:?}");
    // Woken up, the run finds the item is no longer its own: a script error, nothing recorded.
    signal(child.id(), "CONT");
    let (code, out) = finish(child, Duration::from_secs(30));
    assert_eq!(code, Some(1), "{out}");
    let tried = attempts(ledger, "転入届");
    assert_eq!(
        tried[0],
        ("R6-00001".to_string(), 1, "abandoned".to_string())
    );
    assert!(
        tried.iter().all(|(_, _, outcome)| outcome != "done"),
        "{tried:?}"
    );
}

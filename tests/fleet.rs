//! Several robots on one PostgreSQL ledger, as `kuroko agent` processes on loopback running a
//! data-only scenario: 50 agents drain 5,000 items, each done exactly once (the attempts prove
//! it); agents killed with SIGKILL while each holds an item leave exactly those items
//! abandoned once their lease runs out, and every other item done once; a stopped agent lets
//! its run finish the item in hand and take no more.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::support::postgres::{Store, TestLedger, server};
use crate::support::*;

fn queue_add(ledger: &TestLedger, file: &Path) {
    Ran::from(
        kuroko()
            .args(["queue", "add", "転入届"])
            .arg(file)
            .args(["--key", "受付番号", "--ledger"])
            .arg(ledger.arg())
            .output()
            .unwrap(),
    )
    .expect(0);
}

/// A CSV of `n` 転入届; the first `slow` take a minute to enter.
fn applications(dir: &Path, n: usize, slow: usize) -> PathBuf {
    let mut csv = String::from("受付番号,氏名,遅い\n");
    for i in 1..=n {
        let slow = if i <= slow { "yes" } else { "no" };
        csv.push_str(&format!("R6-{i:05},髙橋 花子{i},{slow}\n"));
    }
    let path = dir.join("applications.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

/// The scenarios folder with one worker that takes items and ends them, `pause_ms` each.
fn scenarios(dir: &Path, pause_ms: u64) -> PathBuf {
    let folder = dir.join("scenarios");
    let manifest = MANIFEST.replace("\"test\"", "\"tennyu\"") + "\n[queue]\nname = \"転入届\"\n";
    let script = format!(
        "loop {{\n    let item = queue::next();\n    if item == () {{ break; }}\n    \
         if item[\"遅い\"] == \"yes\" {{ sleep(60000); }}\n    \
         if {pause_ms} > 0 {{ sleep({pause_ms}); }}\n    queue::done(item);\n}}\n"
    );
    scenario(&folder, "tennyu", &manifest, &script);
    folder
}

fn agent(dir: &Path, ledger: &TestLedger, name: &str, env: &[(&str, &str)]) -> Child {
    let runs = dir.join("runs").join(name);
    std::fs::create_dir_all(&runs).unwrap();
    let mut cmd = kuroko();
    cmd.arg("agent")
        .arg("--scenarios")
        .arg(dir.join("scenarios"))
        .args(["--name", name, "--poll", "0.2", "--runs-dir"])
        .arg(&runs)
        .arg("--ledger")
        .arg(ledger.arg())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(runs.join("agent.out")).unwrap())
        .stderr(std::fs::File::create(runs.join("agent.err")).unwrap());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

fn count(db: &mut ::postgres::Client, sql: &str) -> i64 {
    db.query_one(sql, &[]).unwrap().get(0)
}

fn stop_all(agents: Vec<Child>) {
    for a in &agents {
        signal(a.id(), "TERM");
    }
    for a in agents {
        let (code, _) = finish(a, Duration::from_secs(60));
        assert_eq!(code, Some(0), "an agent did not stop cleanly");
    }
}

#[test]
fn fifty_agents_drain_five_thousand_items_each_done_exactly_once() {
    let dir = temp_dir("fleet_fifty");
    let ledger = TestLedger::new(Store::Postgres, &dir);
    let mut db = server().client(ledger.arg().to_str().unwrap());
    queue_add(&ledger, &applications(&dir, 5000, 0));
    scenarios(&dir, 0);
    let started = Instant::now();
    let agents: Vec<Child> = (0..50)
        .map(|i| agent(&dir, &ledger, &format!("robot-{i:02}"), &[]))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let done = count(
            &mut db,
            "SELECT COUNT(*) FROM queue_items WHERE state <> 'new' AND state <> 'in_progress'",
        );
        if done == 5000 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {done} of 5,000 ended in 10 min"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let took = started.elapsed().as_secs_f64();
    eprintln!(
        "fleet: 50 agents drained 5,000 items in {took:.1} s: {:.0} items/s",
        5000.0 / took
    );
    stop_all(agents);

    // Every item done, by one claim, recorded once as a run's item.
    assert_eq!(
        count(
            &mut db,
            "SELECT COUNT(*) FROM queue_items WHERE state = 'done'"
        ),
        5000
    );
    assert_eq!(count(&mut db, "SELECT COUNT(*) FROM queue_attempts"), 5000);
    assert_eq!(
        count(
            &mut db,
            "SELECT COUNT(*) FROM queue_attempts WHERE attempt = 1 AND outcome = 'done'"
        ),
        5000
    );
    assert_eq!(
        count(
            &mut db,
            "SELECT COUNT(*) FROM (SELECT item_key FROM items WHERE state = 'done' \
             GROUP BY item_key HAVING COUNT(*) = 1) once"
        ),
        5000,
        "each key is one run's item, once"
    );
    assert_eq!(count(&mut db, "SELECT COUNT(*) FROM items"), 5000);
    // The work was shared: many robots took items.
    let robots = count(
        &mut db,
        "SELECT COUNT(DISTINCT machine) FROM queue_attempts",
    );
    assert!(robots >= 10, "only {robots} robots took items");
    assert_eq!(
        count(
            &mut db,
            "SELECT COALESCE(SUM(items_done), 0)::BIGINT FROM runs"
        ),
        5000
    );
}

#[test]
fn agents_killed_mid_item_leave_exactly_those_items_abandoned() {
    let dir = temp_dir("fleet_killed");
    let ledger = TestLedger::new(Store::Postgres, &dir);
    let mut db = server().client(ledger.arg().to_str().unwrap());
    // The first five items take a minute each: whoever takes one holds it when killed.
    queue_add(&ledger, &applications(&dir, 200, 5));
    scenarios(&dir, 50);
    // A short limit, so leases run out within the test (runs heartbeat every 2 s).
    let env = [("KUROKO_HEARTBEAT_LIMIT_S", "8")];
    let mut agents: Vec<(String, Child)> = (0..10)
        .map(|i| {
            let name = format!("robot-{i:02}");
            let child = agent(&dir, &ledger, &name, &env);
            (name, child)
        })
        .collect();
    let slow = "SELECT owner, item_key FROM queue_items WHERE state = 'in_progress' \
                AND item_key <= 'R6-00005' ORDER BY item_key";
    wait_until("five robots each to hold a slow item", || {
        db.query(slow, &[]).unwrap().len() == 5
    });
    let held: Vec<(String, String)> = db
        .query(slow, &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let (killed, survivors): (Vec<_>, Vec<_>) = agents
        .drain(..)
        .partition(|(name, _)| held.iter().any(|(owner, _)| owner == name));
    assert_eq!(killed.len(), 5, "{held:?}");
    for (_, agent) in &killed {
        signal(agent.id(), "KILL");
    }
    for (_, agent) in killed {
        finish(agent, Duration::from_secs(10));
    }
    let survivors: Vec<Child> = survivors.into_iter().map(|(_, c)| c).collect();

    // The others finish the rest; the five stay in progress until their lease runs out.
    wait_until("the other items to be done", || {
        count(
            &mut db,
            "SELECT COUNT(*) FROM queue_items WHERE state = 'done'",
        ) == 195
    });
    std::thread::sleep(Duration::from_secs(9));
    let mut list = kuroko();
    list.env("KUROKO_HEARTBEAT_LIMIT_S", "8");
    let shown = Ran::from(
        list.args([
            "queue",
            "show",
            "転入届",
            "--state",
            "abandoned",
            "--ledger",
        ])
        .arg(ledger.arg())
        .output()
        .unwrap(),
    );
    shown.expect(0);
    for (_, key) in &held {
        assert!(
            shown.stdout.contains(key.as_str()),
            "{key}: {}",
            shown.stdout
        );
    }
    stop_all(survivors);

    let abandoned: Vec<String> = db
        .query(
            "SELECT item_key FROM queue_items WHERE state = 'abandoned' ORDER BY item_key",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let expected: Vec<String> = held.iter().map(|(_, key)| key.clone()).collect();
    assert_eq!(
        abandoned, expected,
        "exactly the items in the killed robots' hands"
    );
    assert_eq!(
        count(
            &mut db,
            "SELECT COUNT(*) FROM queue_attempts WHERE attempt = 1 AND outcome = 'done'"
        ),
        195,
        "every other item done by one claim"
    );
    assert_eq!(count(&mut db, "SELECT COUNT(*) FROM queue_attempts"), 200);
    assert_eq!(
        count(
            &mut db,
            "SELECT COUNT(*) FROM queue_attempts WHERE outcome = 'abandoned'"
        ),
        5
    );
    let owners: Vec<String> = held.iter().map(|(owner, _)| format!("'{owner}'")).collect();
    assert_eq!(
        count(
            &mut db,
            &format!(
                "SELECT COUNT(*) FROM runs WHERE state = 'interrupted' AND machine IN ({})",
                owners.join(", ")
            )
        ),
        5,
        "the killed robots' runs are interrupted"
    );
}

#[test]
fn a_stopped_agent_finishes_the_item_in_hand_and_takes_no_more() {
    let dir = temp_dir("fleet_drain");
    let ledger = TestLedger::new(Store::Postgres, &dir);
    let mut db = server().client(ledger.arg().to_str().unwrap());
    queue_add(&ledger, &applications(&dir, 20, 0));
    scenarios(&dir, 1500);
    let a = agent(&dir, &ledger, "robot-solo", &[]);
    wait_until("the robot to hold an item", || {
        count(
            &mut db,
            "SELECT COUNT(*) FROM queue_items WHERE state = 'in_progress'",
        ) == 1
    });
    let asked = Instant::now();
    signal(a.id(), "TERM");
    let (code, _) = finish(a, Duration::from_secs(30));
    assert_eq!(code, Some(0));
    assert!(
        asked.elapsed() < Duration::from_secs(10),
        "{:?}",
        asked.elapsed()
    );
    assert_eq!(
        count(
            &mut db,
            "SELECT COUNT(*) FROM queue_items WHERE state = 'done'"
        ),
        1,
        "the item in hand was finished"
    );
    assert_eq!(
        count(
            &mut db,
            "SELECT COUNT(*) FROM queue_items WHERE state = 'new'"
        ),
        19,
        "and no other was taken"
    );
    assert_eq!(
        count(
            &mut db,
            "SELECT COUNT(*) FROM runs WHERE state = 'succeeded'"
        ),
        1
    );
}

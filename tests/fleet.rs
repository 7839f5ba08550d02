//! Several robots on one PostgreSQL ledger, as `kuroko agent` processes on loopback running a
//! data-only scenario: 50 agents drain 5,000 items, each done exactly once (the attempts prove
//! it); agents killed with SIGKILL while each holds an item leave exactly those items
//! abandoned once their lease runs out, and every other item done once; a stopped agent lets
//! its run finish the item in hand and take no more; three robots show in the launcher (what
//! each runs, which item, the queue's failed item and why), take runs sent to them, and appear
//! in one report per machine and 課.

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

/// A machine name as one segment of a URL path.
fn path_segment(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn three_robots_show_in_the_launcher_take_runs_sent_to_them_and_appear_in_one_report() {
    let dir = temp_dir("fleet_three");
    let ledger = TestLedger::new(Store::Postgres, &dir);
    // 転入届 (情報政策課) from a queue, 0.3 s each, one with bad data; 集計 (市民課) only when
    // a person sends it to a robot.
    let folder = dir.join("scenarios");
    let manifest = MANIFEST.replace("\"test\"", "\"tennyu\"") + "\n[queue]\nname = \"転入届\"\n";
    scenario(
        &folder,
        "tennyu",
        &manifest,
        "loop {\n    let item = queue::next();\n    if item == () { break; }\n    sleep(300);\n    \
         if item.key == \"R6-00003\" {\n        \
         queue::failed(item, \"住所不明\", #{ kind: \"business\" });\n    } else {\n        \
         queue::done(item);\n    }\n}\n",
    );
    let manifest = MANIFEST
        .replace("\"test\"", "\"shukei\"")
        .replace("テスト", "集計")
        .replace("情報政策課", "市民課");
    scenario(&folder, "shukei", &manifest, "sleep(200);\n");
    let served = http::Served::start_on(&dir, None, ledger.arg().clone(), &[]);
    let names = ["本庁舎-1", "本庁舎-2", "支所-1"];
    let agents: Vec<Child> = names.iter().map(|n| agent(&dir, &ledger, n, &[])).collect();

    // Each robot registers with its scenarios.
    let machines = served.wait_json("/api/machines", "three robots waiting", |v| {
        v.as_array()
            .is_some_and(|a| a.len() == 3 && a.iter().all(|m| m["status"] == "waiting"))
    });
    let listed: Vec<&str> = machines
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["支所-1", "本庁舎-1", "本庁舎-2"]);
    for m in machines.as_array().unwrap() {
        let ids: Vec<&str> = m["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["shukei", "tennyu"], "{m}");
        assert!(m["seen_s_ago"].as_f64().unwrap() < 30.0, "{m}");
    }

    // Work arrives: the launcher shows which robot runs what, on which item.
    queue_add(&ledger, &applications(&dir, 30, 0));
    let busy = served.wait_json("/api/machines", "a robot working on an item", |v| {
        v.as_array().unwrap().iter().any(|m| {
            m["status"] == "running"
                && m["run"]["scenario_name"] == "テスト"
                && m["run"]["queue"] == "転入届"
                && m["run"]["item_key"]
                    .as_str()
                    .is_some_and(|k| k.starts_with("R6-"))
        })
    });
    eprintln!("busy: {busy}");

    // A person sends 集計 to each robot; bad requests are refused with why.
    for name in names {
        let r = served.post(
            &format!("/api/machines/{}/run", path_segment(name)),
            r#"{"scenario_id":"shukei"}"#,
        );
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["state"], "waiting");
    }
    let r = served.post(
        &format!("/api/machines/{}/run", path_segment("別館-9")),
        r#"{"scenario_id":"shukei"}"#,
    );
    assert_eq!(r.status, 400);
    assert!(r.text().contains("no robot PC is called"), "{}", r.text());
    let r = served.post(
        &format!("/api/machines/{}/run", path_segment("支所-1")),
        r#"{"scenario_id":"nothing"}"#,
    );
    assert_eq!(r.status, 400);
    assert!(
        r.text().contains("has no scenario \\\"nothing\\\""),
        "{}",
        r.text()
    );
    let requests = served.wait_json("/api/run-requests", "the three sent runs done", |v| {
        let a = v.as_array().unwrap();
        a.len() == 3 && a.iter().all(|r| r["state"] == "done")
    });
    for name in names {
        assert!(
            requests
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["machine"] == name && r["message"] == "exit code 0"),
            "{requests:#}"
        );
    }

    // The queue: counts per state, and the item a person must look at, with why.
    let queues = served.wait_json("/api/queues", "the queue drained", |v| {
        v[0]["done"] == 29 && v[0]["failed"] == 1
    });
    let needs = &queues[0]["needs_person"];
    assert_eq!(needs.as_array().unwrap().len(), 1, "{queues:#}");
    assert_eq!(needs[0]["key"], "R6-00003");
    assert_eq!(needs[0]["reason"], "住所不明");
    assert_eq!(needs[0]["failure_kind"], "business");
    assert!(
        names.contains(&needs[0]["machine"].as_str().unwrap()),
        "{needs}"
    );

    stop_all(agents);
    served.wait_json("/api/machines", "three robots stopped", |v| {
        v.as_array()
            .unwrap()
            .iter()
            .all(|m| m["status"] == "stopped")
    });
    // A stopped robot takes no runs.
    let r = served.post(
        &format!("/api/machines/{}/run", path_segment("本庁舎-1")),
        r#"{"scenario_id":"shukei"}"#,
    );
    assert_eq!(r.status, 400);
    assert!(r.text().contains("not running its agent"), "{}", r.text());

    // One report: every robot's runs, per machine and per 課.
    let month = chrono::Local::now().format("%Y-%m").to_string();
    let xlsx = dir.join("report.xlsx");
    Ran::from(
        kuroko()
            .args(["report", "--month", &month, "--out"])
            .arg(&xlsx)
            .arg("--ledger")
            .arg(ledger.arg())
            .output()
            .unwrap(),
    )
    .expect(0);
    use calamine::Reader;
    let mut book = calamine::open_workbook_auto(&xlsx).unwrap();
    let sheet = book.worksheet_range("PC別").unwrap();
    let rows: Vec<Vec<String>> = sheet
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(rows[0][..3], ["端末", "課", "実行回数"]);
    for name in names {
        let line = rows
            .iter()
            .find(|r| r[0] == name && r[1] == "市民課")
            .unwrap_or_else(|| panic!("no 市民課 line for {name}: {rows:?}"));
        assert_eq!(line[2], "1", "{line:?}");
    }
    let items: f64 = rows
        .iter()
        .filter(|r| r[1] == "情報政策課")
        .map(|r| r[7].parse::<f64>().unwrap())
        .sum();
    assert_eq!(items, 29.0, "{rows:?}");
    let total = rows.last().unwrap();
    assert_eq!(total[0], "合計");
}

#[test]
fn a_run_sent_to_a_robot_that_dies_shows_failed_when_its_agent_comes_back() {
    let dir = temp_dir("fleet_sent_dies");
    let ledger = TestLedger::new(Store::Postgres, &dir);
    let folder = dir.join("scenarios");
    let manifest = MANIFEST.replace("\"test\"", "\"slow\"");
    scenario(&folder, "slow", &manifest, "sleep(120000);\n");
    let served = http::Served::start_on(&dir, None, ledger.arg().clone(), &[]);
    let robot = agent(&dir, &ledger, "robot-9", &[]);
    served.wait_json("/api/machines", "the robot waiting", |v| {
        v[0]["status"] == "waiting"
    });
    let r = served.post("/api/machines/robot-9/run", r#"{"scenario_id":"slow"}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    served.wait_json("/api/machines", "the robot running the sent run", |v| {
        v[0]["status"] == "running" && v[0]["run"]["scenario_name"] == "テスト"
    });
    let requests = served.get("/api/run-requests").json();
    assert_eq!(requests[0]["state"], "taken", "{requests}");
    // A taken request cannot be cancelled from the page: 400 with why.
    let id = requests[0]["id"].as_str().unwrap().to_string();
    let r = served.post(&format!("/api/run-requests/{id}/cancel"), "{}");
    assert_eq!(r.status, 400, "{}", r.text());

    // The robot dies (its run with it); when its agent starts again, the request it never
    // finished says so instead of showing as running for ever.
    signal(robot.id(), "KILL");
    let (_, _) = finish(robot, Duration::from_secs(30));
    let again = agent(&dir, &ledger, "robot-9", &[]);
    let requests = served.wait_json("/api/run-requests", "the lost request failed", |v| {
        v[0]["state"] == "failed"
    });
    assert!(
        requests[0]["message"]
            .as_str()
            .unwrap()
            .contains("the agent stopped before the run ended"),
        "{requests}"
    );
    stop_all(vec![again]);
}

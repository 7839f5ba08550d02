//! The README's main job, end to end: a generated xlsx of applications entered into the example
//! intake system (examples/intake-app.py, a real Qt window) by scenarios/juminhyo — every row
//! exactly once with exact text, the ledger and report matching; then stopped midway (the
//! abort hotkey) and killed midway (SIGKILL) and run again: the system's own file is the judge.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::support::applications::{assert_each_exactly_once, prepared, registrations};
use crate::support::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn start_app(x: &Xvfb, file: &Path) -> Child {
    x.command(&format!("{ROOT}/examples/intake-app.py"))
        .arg(file)
        .args(["--save-delay", "0.15"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn the_demo_registers_fifty_applications_exactly_once_and_the_report_counts_them() {
    let x = Xvfb::start();
    let dir = temp_dir("demo_e2e");
    let scenario = prepared(&dir, "juminhyo", 50);
    let file = dir.join("registrations.jsonl");
    let app = start_app(&x, &file);
    let ran = run_scenario(&scenario, Some(&x.display), &[]);
    ran.expect(0)
        .stderr_has("50 item(s) done")
        .stderr_has("登録 50 件、前回までに登録済み 0 件（全 50 件）");
    assert_each_exactly_once(&file, &scenario);
    // Era boundaries went in as the system wants them.
    let got = registrations(&file);
    assert_eq!(got[0]["生年月日"], "S64/01/07");
    assert_eq!(got[1]["生年月日"], "H01/01/08");
    assert_eq!(got[2]["生年月日"], "H31/04/30");
    assert_eq!(got[3]["生年月日"], "R01/05/01");

    // The result workbook and the report: 50 items x 4 min = 200 min before.
    assert!(dir.join("juminhyo/output/結果.xlsx").is_file());
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    let report = Ran::from(
        kuroko()
            .args([
                "report", "--from", &today, "--to", &today, "--format", "csv", "--out",
            ])
            .arg(dir.join("report.csv"))
            .arg("--ledger")
            .arg(dir.join("ledger.sqlite3"))
            .output()
            .unwrap(),
    );
    report.expect(0);
    let csv = std::fs::read_to_string(dir.join("report.csv")).unwrap();
    let total: Vec<&str> = csv.lines().last().unwrap().split(',').collect();
    assert_eq!((total[3], total[8]), ("1", "50"), "{csv}");
    assert_eq!(total[10], "3.3", "200 min before");
    drop(app);
}

#[test]
fn stopped_with_the_hotkey_then_run_again_registers_the_rest_none_twice() {
    let x = Xvfb::start();
    let dir = temp_dir("demo_stop_resume");
    let scenario = prepared(&dir, "juminhyo", 20);
    let file = dir.join("registrations.jsonl");
    let app = start_app(&x, &file);
    let runs = dir.join("runs-first");
    let first = spawn_run(&scenario, &runs, dir.join("ledger.sqlite3"), &x.display);
    wait_until("7 items", || count_events(&runs, "item_done") >= 7);
    x.xdotool(&["key", "shift+Escape"]);
    let (code, _) = finish(first, Duration::from_secs(20));
    assert_eq!(code, Some(3), "aborted");
    let before = registrations(&file).len();
    assert!((7..20).contains(&before), "{before}");

    let again = run_scenario(&scenario, Some(&x.display), &[]);
    again.expect(0).stderr_has("（全 20 件）");
    assert_each_exactly_once(&file, &scenario);
    drop(app);
}

#[test]
fn killed_while_registering_then_run_again_looks_it_up_and_registers_none_twice() {
    let x = Xvfb::start();
    let dir = temp_dir("demo_kill_resume");
    let scenario = prepared(&dir, "juminhyo", 12);
    let file = dir.join("registrations.jsonl");
    let app = start_app(&x, &file);
    let runs = dir.join("runs-first");
    let first = spawn_run(&scenario, &runs, dir.join("ledger.sqlite3"), &x.display);
    // Kill kuroko the moment the system has saved the 5th application: it has pressed 登録
    // and recorded the item as started, and most likely not yet seen 登録しました.
    wait_until("5 registrations", || registrations(&file).len() >= 5);
    signal(first.id(), "KILL");
    let _ = finish(first, Duration::from_secs(10));
    let list = Ran::from(
        kuroko()
            .args(["ledger", "list", "--ledger"])
            .arg(dir.join("ledger.sqlite3"))
            .output()
            .unwrap(),
    );
    list.expect(0).stdout_has("interrupted");
    let done_before_kill = count_events(&runs, "item_done");

    let again = run_scenario(&scenario, Some(&x.display), &[]);
    again.expect(0);
    if done_before_kill < 5 {
        // The 5th was registered but not recorded: the second run asked the system (照会).
        again.stderr_has("already registered by the last run; not entered again");
    }
    assert_each_exactly_once(&file, &scenario);
    drop(app);
}

#[test]
fn a_clerk_runs_the_saved_scenario_from_the_launcher_and_it_enters_every_application() {
    use crate::support::http::Served;
    let x = Xvfb::start();
    let dir = temp_dir("demo_launcher");
    let scenario = prepared(&dir.join("scenarios"), "juminhyo", 8);
    let file = dir.join("registrations.jsonl");
    let app = start_app(&x, &file);
    let s = Served::start(&dir, Some(&x.display));
    let id = s.post("/api/scenarios/juminhyo/run", "{}").json()["request_id"]
        .as_u64()
        .unwrap();
    let going = s.wait_json(
        &format!("/api/requests/{id}"),
        "the first application",
        |r| r["progress"]["items_done"].as_u64() >= Some(1),
    );
    assert_eq!(going["progress"]["items_total"], 8, "{going}");
    assert!(
        going["progress"]["step"]
            .as_str()
            .unwrap_or("")
            .contains("を入力中"),
        "{going}"
    );
    let done = s.wait_json(&format!("/api/requests/{id}"), "the end", |r| {
        r["state"] == "finished"
    });
    assert_eq!(done["outcome"], "succeeded", "{done}");
    assert_eq!(done["progress"]["items_done"], 8);
    assert!(
        done["progress"]["last_item"]
            .as_str()
            .is_some_and(|k| k.starts_with("T-")),
        "{done}"
    );
    assert_each_exactly_once(&file, &scenario);
    // 8 items: 32 min by hand, 8 × 0.33 + 2 min after (+ the robot's time, attended).
    let history = s.get("/api/history").json();
    assert_eq!(history[0]["trigger"], "launcher");
    assert!(
        history[0]["time"]["before_minutes"].as_f64() == Some(32.0),
        "{history}"
    );
    drop(app);
}

#[test]
fn every_saved_scenario_passes_check() {
    for entry in std::fs::read_dir(format!("{ROOT}/scenarios")).unwrap() {
        let path = entry.unwrap().path();
        Ran::from(kuroko().arg("check").arg(&path).output().unwrap()).expect(0);
    }
}

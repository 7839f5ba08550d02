//! The ledger and the report, end to end through the binary: history shaped like Fukaya
//! City's fiscal 2021, real runs (succeeded, failed, aborted, attended and unattended) on a
//! private X server, a run killed with SIGKILL, and import files with mistakes.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use calamine::{Data, Reader, open_workbook_auto};

use crate::support::fukaya::{DEPARTMENTS, fukaya_history};
use crate::support::postgres::{Store, TestLedger};
use crate::support::*;

crate::both_stores!(
    fukaya_fiscal_2021_report_says_6629_407_6222_hours_and_93_9_percent,
    a_bad_import_names_line_and_column_and_imports_nothing,
    runs_land_in_the_ledger_and_the_report_with_the_right_numbers,
    a_killed_run_shows_as_interrupted_with_its_items_and_a_rerun_skips_them,
    two_runs_writing_the_ledger_at_once_both_succeed,
);

fn ledger_cmd(ledger: &OsStr) -> std::process::Command {
    let mut cmd = kuroko();
    cmd.arg("ledger").arg("--ledger").arg(ledger);
    cmd
}

fn report_cmd(ledger: &OsStr, args: &[&str]) -> Ran {
    Ran::from(
        kuroko()
            .arg("report")
            .arg("--ledger")
            .arg(ledger)
            .args(args)
            .output()
            .unwrap(),
    )
}

fn number(d: &Data) -> f64 {
    match d {
        Data::Float(f) => *f,
        Data::Int(i) => *i as f64,
        other => panic!("expected a number, found {other:?}"),
    }
}

/// A file inside a zip (xlsx) archive, read by Python's zipfile.
fn zip_member(path: &Path, member: &str) -> String {
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg("import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode())")
        .arg(path)
        .arg(member)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{member}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fukaya_fiscal_2021_report_says_6629_407_6222_hours_and_93_9_percent(store: Store) {
    let dir = temp_dir(&format!("ledger_fukaya_{store:?}"));
    let ledger = TestLedger::new(store, &dir);
    let ledger = ledger.arg();
    let history = dir.join("history.csv");
    fukaya_history(&history);
    Ran::from(
        ledger_cmd(ledger)
            .arg("import")
            .arg(&history)
            .output()
            .unwrap(),
    )
    .expect(0)
    .stdout_has("imported 770 row(s)");

    // xlsx, read back.
    let xlsx = dir.join("FY2021.xlsx");
    let out = xlsx.display().to_string();
    report_cmd(ledger, &["--fiscal-year", "2021", "--out", &out]).expect(0);
    let mut book = open_workbook_auto(&xlsx).unwrap();
    assert_eq!(
        book.sheet_names(),
        ["概要", "業務別", "課別", "PC別", "実行一覧", "失敗一覧"]
    );
    let summary = book.worksheet_range("概要").unwrap();
    let title = summary.get_value((0, 0)).unwrap().to_string();
    assert!(title.contains("令和3年度"), "{title}");
    // The headline, then the counts: each figure under its label (the first cell so named).
    let value = |name: &str| {
        let (row, col) = summary
            .used_cells()
            .find(|(_, _, v)| *v == name)
            .map(|(r, c, _)| (r as u32, c as u32))
            .unwrap_or_else(|| panic!("概要 has no {name}"));
        number(summary.get_value((row + 1, col)).unwrap())
    };
    assert!((value("導入前") - 6629.0).abs() < 1e-9);
    assert!((value("導入後") - 407.0).abs() < 1e-9);
    assert!((value("削減時間") - 6222.0).abs() < 1e-9);
    assert_eq!(format!("{:.1}", value("削減率") * 100.0), "93.9");
    assert_eq!(value("実行回数"), 2301.0);
    assert_eq!(value("処理件数"), 22528.0);
    let tasks = book.worksheet_range("業務別").unwrap();
    assert_eq!(tasks.height(), 1 + 64 + 1, "header, 64 tasks, 合計");
    assert_eq!(tasks.get_value((65, 0)).unwrap().to_string(), "合計");
    let departments = book.worksheet_range("課別").unwrap();
    assert_eq!(departments.height(), 1 + 14 + 1);
    let runs = book.worksheet_range("実行一覧").unwrap();
    assert_eq!(
        runs.height(),
        1 + 768,
        "the rows outside the fiscal year are left out"
    );
    assert!(matches!(runs.get_value((1, 0)).unwrap(), Data::DateTime(_)));
    // A capped run list says where the rest is.
    let capped = dir.join("capped.xlsx");
    report_cmd(
        ledger,
        &[
            "--fiscal-year",
            "2021",
            "--max-runs",
            "10",
            "--out",
            &capped.display().to_string(),
        ],
    )
    .expect(0);
    let runs = open_workbook_auto(&capped)
        .unwrap()
        .worksheet_range("実行一覧")
        .unwrap();
    assert_eq!(runs.height(), 1 + 10 + 1);
    let note = runs.get_value((11, 0)).unwrap().to_string();
    assert!(
        note.contains("kuroko ledger export --from 2021-04-01 --to 2022-03-31"),
        "{note}"
    );
    // The charts plot the month table (12 months) and the department table (14), on 概要.
    let months = zip_member(&xlsx, "xl/charts/chart1.xml");
    assert!(
        months.contains("<c:f>概要!$D$13:$D$24</c:f>") && months.contains("val=\"col\""),
        "{months}"
    );
    let departments = zip_member(&xlsx, "xl/charts/chart2.xml");
    assert!(
        departments.contains("<c:f>概要!$A$28:$A$41</c:f>")
            && departments.contains("<c:f>概要!$C$28:$C$41</c:f>")
            && departments.contains("val=\"bar\""),
        "{departments}"
    );
    assert_eq!(summary.get_value((12, 0)).unwrap().to_string(), "2021-04");
    assert_eq!(summary.get_value((23, 0)).unwrap().to_string(), "2022-03");
    // Every 課 once, most hours saved first, 令和2年度 beside 令和3年度: only the row dated
    // 2021-03-31 (市民課, 10 items, 590 minutes) was in the year before.
    assert_eq!(summary.get_value((25, 1)).unwrap().to_string(), "令和3年度");
    assert_eq!(
        summary.get_value((25, 3)).unwrap().to_string(),
        "令和2年度（前年度）"
    );
    let row = |r: u32| {
        let cell = |c: u32| summary.get_value((r, c)).unwrap();
        let n = |c: u32| number(cell(c));
        (cell(0).to_string(), n(1), n(2), n(3), n(4))
    };
    let rows: Vec<(String, f64, f64, f64, f64)> = (27..41).map(row).collect();
    assert!(rows.windows(2).all(|w| w[0].2 >= w[1].2), "{rows:?}");
    let mut named: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    named.sort();
    let mut all = DEPARTMENTS.to_vec();
    all.sort();
    assert_eq!(named, all);
    let city = rows.iter().find(|r| r.0 == "市民課").unwrap();
    assert_eq!(
        format!("{} {:.1} {} {:.1}", city.1, city.2, city.3, city.4),
        "1730 481.1 10 9.8"
    );
    let total = row(41);
    assert_eq!(
        format!(
            "{} {} {:.1} {} {:.1}",
            total.0, total.1, total.2, total.3, total.4
        ),
        "合計 22528 6222.0 10 9.8"
    );

    // csv: the 合計 row.
    let csv = dir.join("FY2021.csv");
    report_cmd(
        ledger,
        &["--fiscal-year", "2021", "--out", &csv.display().to_string()],
    )
    .expect(0);
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with('\u{feff}'), "BOM for Excel");
    let total = text.lines().last().unwrap();
    assert!(
        total.contains(",合計,全課,") && total.contains(",6629.0,407.0,6222.0,93.9,"),
        "{total}"
    );
    assert_eq!(text.lines().count(), 1 + 64 + 1);

    // table, in the terminal.
    report_cmd(ledger, &["--fiscal-year", "2021", "--format", "table"])
        .expect(0)
        .stdout_has("令和3年度 (2021-04-01〜2022-03-31)")
        .stdout_has("6,629.0")
        .stdout_has("407.0")
        .stdout_has("6,222.0")
        .stdout_has("93.9");

    // One department only; and the same file cannot be imported twice.
    report_cmd(ledger, &["--fiscal-year", "2021", "--department", "市民課"])
        .expect(0)
        .stdout_has("[課: 市民課]");
    Ran::from(
        ledger_cmd(ledger)
            .arg("import")
            .arg(&history)
            .output()
            .unwrap(),
    )
    .expect(1)
    .stderr_has("already imported");
}

fn a_bad_import_names_line_and_column_and_imports_nothing(store: Store) {
    let dir = temp_dir(&format!("ledger_bad_import_{store:?}"));
    let ledger = TestLedger::new(store, &dir);
    let ledger = ledger.arg();
    let header = "date,department,task,runs,items,before_minutes,after_minutes,robot_minutes\n";
    let cases = [
        (
            format!("{header}2021-04-01,市民課,住民票,1,10,100,10,5\n2021-04-31,市民課,住民票,1,10,100,10,5\n"),
            "line 3, column date: \"2021-04-31\" is not a date",
        ),
        (
            format!("{header}2021-04-01,市民課,住民票,1,10,100,10,5\n2021-04-02,市民課,住民票,1,10,-100,10,5\n"),
            "line 3, column before_minutes: \"-100\" is negative",
        ),
        (
            "date,department,task,runs,items,before_minutes,robot_minutes\n2021-04-01,市民課,住民票,1,10,100,5\n"
                .to_string(),
            "line 1: missing column(s) after_minutes",
        ),
    ];
    for (i, (text, message)) in cases.iter().enumerate() {
        let file = dir.join(format!("bad{i}.csv"));
        std::fs::write(&file, text).unwrap();
        Ran::from(
            ledger_cmd(ledger)
                .arg("import")
                .arg(&file)
                .output()
                .unwrap(),
        )
        .expect(1)
        .stderr_has(message)
        .stderr_has("nothing was imported");
    }
    // Shift_JIS works, and nothing from the bad files is there.
    let text = format!("{header}2021-04-01,市民課,住民票,2,10,100,10,5\n");
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(&text);
    let good = dir.join("good.csv");
    std::fs::write(&good, &sjis).unwrap();
    Ran::from(
        ledger_cmd(ledger)
            .arg("import")
            .arg(&good)
            .output()
            .unwrap(),
    )
    .expect(0);
    let list = Ran::from(ledger_cmd(ledger).arg("list").output().unwrap());
    list.expect(0).stdout_has("(import x2)  市民課");
    assert_eq!(list.stdout.lines().count(), 2, "{}", list.stdout);
}

const UNATTENDED: &str = r#"id = "juminhyo"
name = "住民票の写し交付"
department = "市民課"
task = "住民票交付"
manual_minutes_per_item = 5.0
human_minutes_per_item = 0.5
human_minutes_per_run = 2.0
mode = "unattended"
"#;

fn manifest(id: &str, mode: &str) -> String {
    UNATTENDED
        .replace("juminhyo", id)
        .replace("\"unattended\"", &format!("\"{mode}\""))
}

/// Runs `script` as scenario `id` and returns the exit code.
fn run(dir: &Path, ledger: &OsStr, x: &Xvfb, id: &str, mode: &str, script: &str) -> Ran {
    let s = scenario(dir, id, &manifest(id, mode), script);
    run_scenario_with(&s, Some(&x.display), ledger, &[])
}

/// The export as (header → column) and rows.
fn export(ledger: &OsStr) -> Vec<std::collections::HashMap<String, String>> {
    let out = ledger_cmd(ledger).arg("export").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            headers
                .iter()
                .zip(r.unwrap().iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn started_run(dir: &Path, ledger: &OsStr, x: &Xvfb, id: &str, script: &str) -> (Child, PathBuf) {
    let s = scenario(dir, id, &manifest(id, "unattended"), script);
    let runs = dir.join(format!("runs-{id}"));
    let child = spawn_run(&s, &runs, ledger, &x.display);
    (child, runs)
}

/// Waits until the run has reported `n` items done.
fn wait_for_items(runs: &Path, n: usize) {
    wait_until(&format!("{n} items"), || {
        count_events(runs, "item_done") >= n
    });
}

fn runs_land_in_the_ledger_and_the_report_with_the_right_numbers(store: Store) {
    let x = Xvfb::start();
    let dir = temp_dir(&format!("ledger_runs_{store:?}"));
    let ledger = TestLedger::new(store, &dir);
    let ledger = ledger.arg();
    let four_and_one_failed = r#"
        for i in 1..=4 { task::item_done(`A-${i}`); }
        task::item_failed("A-5", "住所が見つかりません");
    "#;
    run(
        &dir,
        ledger,
        &x,
        "unattended",
        "unattended",
        four_and_one_failed,
    )
    .expect(0);
    run(
        &dir,
        ledger,
        &x,
        "attended",
        "attended",
        &four_and_one_failed.replace("A-", "B-"),
    )
    .expect(0);
    run(
        &dir,
        ledger,
        &x,
        "failing",
        "unattended",
        "task::item_done(\"C-1\"); task::item_done(\"C-2\");\nfail(\"業務システムが応答しません\");",
    )
    .expect(1);
    let (child, runs) = started_run(
        &dir,
        ledger,
        &x,
        "stopped",
        "for i in 1..=3 { task::item_done(`D-${i}`); } sleep(60000);",
    );
    wait_for_items(&runs, 3);
    signal(child.id(), "TERM");
    let (code, _) = finish(child, Duration::from_secs(10));
    assert_eq!(code, Some(3), "aborted");

    let rows = export(ledger);
    let by_id = |id: &str| rows.iter().find(|r| r["scenario_id"] == id).unwrap();
    let f = |r: &std::collections::HashMap<String, String>, k: &str| r[k].parse::<f64>().unwrap();

    // Unattended: before 4 x 5 = 20; after 4 x 0.5 + 2 = 4; saved 16.
    let u = by_id("unattended");
    assert_eq!(
        (
            u["outcome"].as_str(),
            u["items_done"].as_str(),
            u["items_failed"].as_str()
        ),
        ("succeeded", "4", "1")
    );
    assert_eq!(
        (
            f(u, "before_minutes"),
            f(u, "after_minutes"),
            f(u, "saved_minutes")
        ),
        (20.0, 4.0, 16.0)
    );
    // Attended: the robot's runtime is added to after.
    let a = by_id("attended");
    let robot = f(a, "robot_minutes");
    assert!(robot > 0.0);
    assert!((f(a, "after_minutes") - (4.0 + robot)).abs() < 1e-9);
    assert!((f(a, "saved_minutes") - (16.0 - robot)).abs() < 1e-9);
    // Failed: the two items done count, nothing more.
    let failed = by_id("failing");
    assert_eq!(failed["outcome"], "failed");
    assert_eq!(
        (f(failed, "before_minutes"), f(failed, "after_minutes")),
        (10.0, 3.0)
    );
    assert!(
        failed["message"].contains("業務システムが応答しません"),
        "{failed:?}"
    );
    assert!(failed["location"].contains("main.rhai:2:"), "{failed:?}");
    // Aborted: three items.
    let stopped = by_id("stopped");
    assert_eq!(
        (stopped["outcome"].as_str(), f(stopped, "before_minutes")),
        ("aborted", 15.0)
    );
    // Baselines and who ran it are kept with each run.
    assert_eq!(f(u, "manual_minutes_per_item"), 5.0);
    assert_eq!(u["department"], "市民課");
    assert_eq!(u["script_hash"].len(), 64);
    assert!(!u["machine"].is_empty() && !u["os_user"].is_empty());

    // The report: today's runs.
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    let csv = dir.join("today.csv");
    report_cmd(
        ledger,
        &[
            "--from",
            &today,
            "--to",
            &today,
            "--out",
            &csv.display().to_string(),
        ],
    )
    .expect(0);
    let text = std::fs::read_to_string(&csv).unwrap();
    let total = text.lines().last().unwrap().to_string();
    let fields: Vec<&str> = total.split(',').collect();
    // 期間,課,業務,実行回数,成功,失敗,中止,中断,処理件数,失敗件数,導入前(h),導入後(h),...
    assert_eq!(
        &fields[3..10],
        ["4", "2", "1", "1", "0", "13", "2"],
        "{total}"
    );
    let before_h: f64 = fields[10].parse().unwrap();
    assert_eq!(
        format!("{before_h:.1}"),
        format!("{:.1}", (20.0 + 20.0 + 10.0 + 15.0) / 60.0)
    );
    let after = 4.0 + (4.0 + robot) + 3.0 + (1.5 + 2.0);
    assert_eq!(fields[11], format!("{:.1}", after / 60.0), "{total}");

    // The xlsx lists the failure with its message, and the failed items with their reasons.
    let xlsx = dir.join("today.xlsx");
    report_cmd(
        ledger,
        &[
            "--from",
            &today,
            "--to",
            &today,
            "--out",
            &xlsx.display().to_string(),
        ],
    )
    .expect(0);
    let mut book = open_workbook_auto(&xlsx).unwrap();
    let failures = book.worksheet_range("失敗一覧").unwrap();
    let cells: Vec<String> = failures.cells().map(|(_, _, c)| c.to_string()).collect();
    assert!(
        cells
            .iter()
            .any(|c| c.contains("業務システムが応答しません"))
    );
    assert!(cells.iter().any(|c| c == "中止"));
    assert_eq!(
        cells
            .iter()
            .filter(|c| *c == "住所が見つかりません")
            .count(),
        2
    );
}

fn a_killed_run_shows_as_interrupted_with_its_items_and_a_rerun_skips_them(store: Store) {
    let x = Xvfb::start();
    let dir = temp_dir(&format!("ledger_kill_{store:?}"));
    let ledger = TestLedger::new(store, &dir);
    let ledger = ledger.arg();
    let script = r#"
        for i in 1..=5 {
            if task::is_done(`K-${i}`) { log::info(`K-${i} already done`); continue; }
            task::item_done(`K-${i}`);
            if i == 3 && task::get_var("slow", "no") == "yes" { sleep(60000); }
        }
    "#;
    let s = scenario(&dir, "killed", &manifest("killed", "unattended"), script);
    let runs = dir.join("runs-first");
    let child = kuroko()
        .args(["run", "--var", "slow=yes", "--runs-dir"])
        .arg(&runs)
        .arg("--ledger")
        .arg(ledger)
        .arg(&s)
        .env("DISPLAY", &x.display)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_items(&runs, 3);
    signal(child.id(), "KILL");
    let (code, _) = finish(child, Duration::from_secs(10));
    assert_eq!(code, None, "killed by a signal");

    let list = Ran::from(ledger_cmd(ledger).arg("list").output().unwrap());
    list.expect(0);
    let line = list.stdout.lines().nth(1).unwrap().to_string();
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        &cells[2..9],
        [
            "interrupted",
            "killed",
            "市民課",
            "住民票交付",
            "3",
            "0",
            "11.5"
        ],
        "{line}"
    );
    // Which robot ran it, and as whom.
    assert_eq!(
        cells[9],
        gethostname::gethostname().to_string_lossy(),
        "{line}"
    );
    assert!(!cells[10].is_empty(), "{line}");

    // Run again: the three done are skipped, the other two are done.
    let again = run_scenario_with(&s, Some(&x.display), ledger, &[]);
    again
        .expect(0)
        .stderr_has("K-3 already done")
        .stderr_has("2 item(s) done");
    let rows = export(ledger);
    let done: u64 = rows
        .iter()
        .map(|r| r["items_done"].parse::<u64>().unwrap())
        .sum();
    assert_eq!(done, 5, "every item once");
}

fn two_runs_writing_the_ledger_at_once_both_succeed(store: Store) {
    let x = Xvfb::start();
    let dir = temp_dir(&format!("ledger_concurrent_{store:?}"));
    let ledger = TestLedger::new(store, &dir);
    let ledger = ledger.arg();
    let script = "for i in 1..=150 { task::item_done(`${i}`); }";
    let (a, _) = started_run(&dir, ledger, &x, "first", script);
    let (b, _) = started_run(&dir, ledger, &x, "second", script);
    assert_eq!(finish(a, Duration::from_secs(60)).0, Some(0));
    assert_eq!(finish(b, Duration::from_secs(60)).0, Some(0));
    let rows = export(ledger);
    assert_eq!(rows.len(), 2);
    for r in &rows {
        assert_eq!(
            (r["outcome"].as_str(), r["items_done"].as_str()),
            ("succeeded", "150")
        );
    }
}

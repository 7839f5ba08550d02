//! Scenarios that never touch the desktop (a Shift_JIS CSV to xlsx, 和暦 conversions, a 集計)
//! run with no display at all — from the command line and from a launcher started without
//! one — and are recorded like any run. A desktop call without a display is a script error at
//! its own line, not a refusal before the script starts.

use std::time::Duration;

use calamine::{Data, Reader, open_workbook_auto};

use crate::support::http::Served;
use crate::support::*;

const CONVERT: &str = r#"let rows = sheet::read("input/住民一覧.csv", #{ encoding: "shift_jis" });
task::set_total(rows.len());
let out = [];
for row in rows {
    let born = text::from_wareki(row["生年月日"]);
    out.push(#{ "番号": row["番号"], "氏名": text::zenkaku(row["氏名"]), "生年月日": born,
                "和暦": text::to_wareki(born, "padded"), "年度": text::to_wareki(born, "fiscal_year") });
    task::item_done(row["番号"]);
}
sheet::write("output/変換.xlsx", out);
log::info(`${out.len()} 件を変換しました`);
"#;

/// A scenario folder with a Shift_JIS CSV of three people in `input/`.
fn converter(parent: &std::path::Path, id: &str) -> std::path::PathBuf {
    let manifest = MANIFEST
        .replace("\"test\"", &format!("\"{id}\""))
        .replace("outputs = ", "inputs = [\"input\"]\noutputs = ");
    let dir = scenario(parent, id, &manifest, CONVERT);
    std::fs::create_dir_all(dir.join("input")).unwrap();
    let csv = "番号,氏名,生年月日\r\n1,髙橋 花子,昭和50年1月1日\r\n2,ﾔﾏﾀﾞ ﾀﾛｳ,平成元年1月8日\r\n3,渡邉 一郎,R6.4.1\r\n";
    let (sjis, _, lossy) = encoding_rs::SHIFT_JIS.encode(csv);
    assert!(!lossy, "the test's CSV is not Shift_JIS");
    std::fs::write(dir.join("input/住民一覧.csv"), &sjis).unwrap();
    dir
}

#[test]
fn a_data_only_scenario_runs_with_no_display_and_is_recorded() {
    let dir = temp_dir("data_only_cli");
    let s = converter(&dir, "henkan");
    // `kuroko()` never passes DISPLAY on.
    let ran = run_scenario(&s, None, &[]);
    ran.expect(0).stderr_has("3 件を変換しました");
    assert!(
        !ran.stderr.contains("desktop connected"),
        "the desktop was connected:\n{}",
        ran.stderr
    );

    let mut book = open_workbook_auto(s.join("output/変換.xlsx")).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let rows: Vec<Vec<String>> = sheet
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::DateTime(d) => d
                        .as_datetime()
                        .map(|t| t.date().to_string())
                        .unwrap_or_default(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect();
    let header = &rows[0];
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let born: Vec<&str> = rows[1..]
        .iter()
        .map(|r| r[col("生年月日")].as_str())
        .collect();
    assert_eq!(born, ["1975-01-01", "1989-01-08", "2024-04-01"]);
    let wareki: Vec<&str> = rows[1..].iter().map(|r| r[col("和暦")].as_str()).collect();
    assert_eq!(wareki, ["S50/01/01", "H01/01/08", "R06/04/01"]);
    let fy: Vec<&str> = rows[1..].iter().map(|r| r[col("年度")].as_str()).collect();
    assert_eq!(fy, ["昭和49年度", "昭和63年度", "令和6年度"]);
    assert_eq!(rows[2][col("氏名")], "ヤマダ　タロウ");

    let recorded = ledger_rows(dir.join("ledger.sqlite3"));
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(
        (
            recorded[0].0.as_str(),
            recorded[0].1.as_str(),
            recorded[0].2
        ),
        ("henkan", "succeeded", 3)
    );
    // 3 items × (2.0 − 0.5) minutes.
    assert!((recorded[0].3 - 4.5).abs() < 1e-9, "{recorded:?}");
}

#[test]
fn a_desktop_call_with_no_display_fails_at_its_line_with_exit_code_1() {
    let dir = temp_dir("data_only_screen");
    let s = scenario(
        &dir,
        "gamen",
        &MANIFEST.replace("\"test\"", "\"gamen\""),
        "task::item_done(\"a\");\nlet size = screen::size();\ntask::item_done(\"b\");\n",
    );
    let ran = run_scenario(&s, None, &[]);
    ran.expect(1)
        .stderr_has("main.rhai:2:20: desktop unavailable: no X display: DISPLAY is not set");
    // The item before the call is kept; the one after never happened.
    let recorded = ledger_rows(dir.join("ledger.sqlite3"));
    assert_eq!(
        (recorded[0].1.as_str(), recorded[0].2),
        ("failed", 1),
        "{recorded:?}"
    );
}

#[test]
fn a_launcher_with_no_display_runs_data_only_scenarios_and_explains_the_others() {
    let dir = temp_dir("data_only_serve");
    converter(&dir.join("scenarios"), "henkan");
    scenario(
        &dir.join("scenarios"),
        "nyuryoku",
        &MANIFEST.replace("\"test\"", "\"nyuryoku\""),
        "keyboard::type_text(\"山田\");\n",
    );
    let s = Served::start(&dir, None);
    let ended = |scenario: &str| {
        let queued = s
            .post(&format!("/api/scenarios/{scenario}/run"), "{}")
            .json();
        let id = queued["request_id"].as_u64().unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let status = s.get(&format!("/api/requests/{id}")).json();
            if status["state"] == "finished" {
                return status;
            }
            assert!(std::time::Instant::now() < deadline, "{status}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let converted = ended("henkan");
    assert_eq!(converted["outcome"], "succeeded", "{converted}");
    assert_eq!(converted["progress"]["items_done"], 3);
    let typed = ended("nyuryoku");
    assert_eq!(typed["outcome"], "failed", "{typed}");
    let message = typed["progress"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("desktop unavailable") && message.contains("DISPLAY is not set"),
        "{typed}"
    );
    let location = typed["progress"]["location"].as_str().unwrap_or_default();
    assert!(location.ends_with("main.rhai:1:11"), "{typed}");
    let outcomes: Vec<(String, String)> = ledger_rows(dir.join("ledger.sqlite3"))
        .into_iter()
        .map(|r| (r.0, r.1))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("henkan".to_string(), "succeeded".to_string()),
            ("nyuryoku".to_string(), "failed".to_string())
        ]
    );
}

/// The launcher's Stop is the stop file and SIGTERM: one stop, whichever the run sees first.
/// Seen in that order it was taken for a second stop, and the run exited at once without
/// recording how it ended (the ledger later said `interrupted`).
#[test]
fn a_stop_file_then_sigterm_is_one_stop_recorded_as_aborted() {
    let dir = temp_dir("data_only_stop_twice");
    let s = scenario(
        &dir,
        "s",
        MANIFEST,
        "for i in 1..=200 { sleep(100); task::item_done(`K-${i}`); }\n",
    );
    let ledger = dir.join("ledger.sqlite3");
    let stop = dir.join("stop");
    let child = kuroko()
        .arg("run")
        .arg(&s)
        .arg("--runs-dir")
        .arg(dir.join("runs"))
        .arg("--ledger")
        .arg(&ledger)
        .arg("--stop-file")
        .arg(&stop)
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(dir.join("stderr")).unwrap())
        .spawn()
        .unwrap();
    wait_until("the first items", || {
        ledger_rows(&ledger)
            .first()
            .is_some_and(|r| r.1 == "running")
    });
    // The ledger busy (another writer holds it): the run waits at its next item, still
    // running, while the stop file is seen (its watcher looks every 50 ms) and the signal
    // comes.
    let mut db = rusqlite::Connection::open(&ledger).unwrap();
    let held = db
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(&stop, "stop").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    signal(child.id(), "TERM");
    std::thread::sleep(Duration::from_millis(300));
    held.rollback().unwrap();
    let (code, _) = finish(child, Duration::from_secs(30));
    let stderr = std::fs::read_to_string(dir.join("stderr")).unwrap();
    assert_eq!(code, Some(3), "{stderr}");
    assert!(!stderr.contains("stopped again"), "{stderr}");
    let rows = ledger_rows(&ledger);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].1, "aborted", "{rows:?}");
}

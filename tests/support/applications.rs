//! The 住民票 applications of the demo, shared by the Linux demo (tests/demo.rs) and the
//! Windows demo (tests/windows/main.rs): a private copy of a demo scenario with generated
//! applications as its input, what the intake system must receive, what it did receive, and
//! the judge — every application exactly once, with exactly the expected text.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use kuroko::japanese::{wareki, width};

use super::{Ran, kuroko};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Copies a folder, leaving out run output (and the input a demo generates).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "output" && entry.file_name() != "input" {
                copy_dir(&entry.path(), &target);
            }
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A private copy of `scenarios/<id>` in `dir` with `rows` generated applications as its input
/// (made by the Linux kuroko: the generator is a dry run, the same on both systems).
pub fn prepared(dir: &Path, id: &str, rows: usize) -> PathBuf {
    let maker = dir.join("make-applications");
    copy_dir(&Path::new(ROOT).join("examples/make-applications"), &maker);
    Ran::from(
        kuroko()
            .arg("run")
            .arg(&maker)
            .args([
                "--dry-run",
                "--var",
                &format!("rows={rows}"),
                "--var",
                "batch=T",
            ])
            .arg("--runs-dir")
            .arg(dir.join("gen-runs"))
            .output()
            .unwrap(),
    )
    .expect(0);
    let scenario = dir.join(id);
    copy_dir(&Path::new(ROOT).join("scenarios").join(id), &scenario);
    std::fs::create_dir_all(scenario.join("input")).unwrap();
    std::fs::copy(
        maker.join("output/申請.xlsx"),
        scenario.join("input/申請.xlsx"),
    )
    .unwrap();
    scenario
}

/// The applications as the intake system must receive them: フリガナ in half-width kana and
/// the birth date as S50/01/01-style 和暦.
pub fn expected(scenario: &Path) -> Vec<HashMap<String, String>> {
    use calamine::{Reader, open_workbook_auto};
    let mut book = open_workbook_auto(scenario.join("input/申請.xlsx")).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let mut rows = sheet.rows();
    let header: Vec<String> = rows.next().unwrap().iter().map(|c| c.to_string()).collect();
    rows.map(|r| {
        let mut m: HashMap<String, String> = header
            .iter()
            .cloned()
            .zip(r.iter().map(|c| c.to_string()))
            .collect();
        let kana = width::hankaku(&m["フリガナ"]);
        m.insert("フリガナ".into(), kana);
        let born = wareki::parse(&m["生年月日"]).unwrap();
        m.insert(
            "生年月日".into(),
            wareki::format(born, wareki::Style::Padded).unwrap(),
        );
        m
    })
    .collect()
}

pub fn registrations(file: &Path) -> Vec<HashMap<String, String>> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            // Text fields as they are; other values (the web system's true/false) as JSON.
            let fields: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(l).unwrap();
            fields
                .into_iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => (k, s),
                    other => (k, other.to_string()),
                })
                .collect()
        })
        .collect()
}

/// Every application registered exactly once, with exactly the expected text.
pub fn assert_each_exactly_once(file: &Path, scenario: &Path) {
    let want = expected(scenario);
    let got = registrations(file);
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for r in &got {
        *seen.entry(r["受付番号"].as_str()).or_default() += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "registered more than once: {twice:?}");
    assert_eq!(got.len(), want.len(), "every application registered");
    for w in &want {
        let g = got.iter().find(|g| g["受付番号"] == w["受付番号"]).unwrap();
        for field in ["氏名", "フリガナ", "生年月日", "住所"] {
            assert_eq!(g[field], w[field], "{} {field}", w["受付番号"]);
        }
    }
}

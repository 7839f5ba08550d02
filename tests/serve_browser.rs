//! The launcher page in a real Chromium (Debian's, headless, through chromedriver): a clerk
//! opens the printed URL, sees the Japanese scenario name, presses 実行, watches the run to its
//! end, finds it in the history and the ledger; presses 停止 during a long run and sees it
//! stopped. With KUROKO_DOCS_SCREENSHOT=1 the page during a run is saved as
//! docs/launcher.png (the README shows it).

use std::path::Path;
use std::time::{Duration, Instant};

use crate::serve::{asking, paced_in};
use crate::support::http::Served;
use crate::support::webdriver::Browser;
use crate::support::*;

#[test]
fn a_clerk_runs_a_scenario_watches_it_and_stops_another_from_the_page() {
    let x = Xvfb::start();
    let dir = temp_dir("serve_browser");
    paced_in(
        &dir,
        "jukyo",
        "住所変更の入力",
        ("市民課", "住所変更届の入力"),
        3,
        400,
    );
    paced_in(
        &dir,
        "nagai",
        "転入届の一括入力",
        ("市民課", "転入届の入力"),
        300,
        400,
    );
    let manifest = MANIFEST
        .replace("\"test\"", "\"shippai\"")
        .replace("テスト", "課税台帳の住所確認")
        .replace("情報政策課", "税務課")
        .replace("\"試験\"", "\"課税台帳の確認\"");
    scenario(
        &dir.join("scenarios"),
        "shippai",
        &manifest,
        "screen::size(); task::item_done(1);\nfail(\"住所が見つかりません\");\n",
    );
    let s = Served::start(&dir, Some(&x.display));
    let b = Browser::start(&dir);
    b.goto(&s.url);

    // The saved scenario, by its Japanese name, and the 実行 button.
    b.wait_text(r#"article[data-scenario="jukyo"] h3"#, 30, |t| {
        t == "住所変更の入力"
    });
    b.click(r#"button.run[data-scenario="jukyo"]"#);
    // Progress to the end, live.
    b.wait_text("#run-name", 30, |t| t == "住所変更の入力");
    b.wait_text("#run-state", 60, |t| t == "成功");
    assert_eq!(b.text("#run-done"), "3");
    assert!(
        b.text("#run-message").contains("削減時間 4.5 分"),
        "{}",
        b.text("#run-message")
    );
    // In the history, with its items, and in the ledger with the right time saved:
    // 3 items × (2.0 − 0.5) minutes, unattended.
    let row = b.wait_text(r#"#history tr[data-state="succeeded"]"#, 30, |t| {
        t.contains("住所変更の入力")
    });
    assert!(
        row.contains("4.5 分") && row.contains("ランチャー"),
        "{row}"
    );
    assert_eq!(
        ledger_rows(&s.ledger),
        [(
            "jukyo".into(),
            "succeeded".into(),
            3,
            4.5,
            "launcher".into()
        )]
    );
    b.wait_text("#totals", 30, |t| t.contains("今月 0.1 時間"));

    // A long run: the page shows it going, 停止 ends it within a second.
    b.click(r#"button.run[data-scenario="nagai"]"#);
    b.wait_text("#run-name", 30, |t| t == "転入届の一括入力");
    b.wait_text("#run-done", 60, |t| t.parse::<u32>().is_ok_and(|n| n >= 3));
    assert_eq!(b.text("#run-state"), "実行中");
    assert!(
        b.text("#run-step").ends_with("件目を処理中"),
        "{}",
        b.text("#run-step")
    );
    if std::env::var_os("KUROKO_DOCS_SCREENSHOT").is_some() {
        b.screenshot(&Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/launcher.png"));
    } else {
        b.screenshot(&dir.join("launcher.png"));
    }
    // A second 実行 meanwhile waits in the queue (the desktop is busy), and can be cancelled.
    b.click(r#"button.run[data-scenario="jukyo"]"#);
    b.wait_text("#queue li", 30, |t| t.contains("住所変更の入力"));
    assert_eq!(
        b.text("#run-name"),
        "転入届の一括入力",
        "the running one stays shown"
    );
    b.click("#queue button.cancel");
    wait_until("the queue empties", || {
        b.js("return document.getElementById('queue-box').hidden") == true
    });
    let asked = Instant::now();
    b.click("#stop");
    wait_until("the ledger says aborted", || {
        ledger_rows(&s.ledger)
            .iter()
            .any(|r| r.0 == "nagai" && r.1 == "aborted")
    });
    let took = asked.elapsed();
    eprintln!("停止 clicked → aborted in the ledger: {took:?}");
    assert!(took < Duration::from_secs(1), "aborted after {took:?}");
    b.wait_text("#run-state", 10, |t| t == "停止しました");
    b.wait_text(r#"#history tr[data-state="aborted"]"#, 30, |t| {
        t.contains("転入届の一括入力")
    });
    // The cancelled request never ran.
    assert_eq!(
        ledger_rows(&s.ledger)
            .iter()
            .filter(|r| r.0 == "jukyo")
            .count(),
        1
    );

    // A failure: the message and where in the script, and the screen at that moment inline.
    b.click(r#"button.run[data-scenario="shippai"]"#);
    b.wait_text("#run-state", 60, |t| t == "失敗");
    let message = b.text("#run-message");
    assert!(
        message.contains("住所が見つかりません") && message.contains("main.rhai:2"),
        "{message}"
    );
    b.wait_text(r#"#history tr[data-state="failed"]"#, 30, |t| {
        t.contains("課税台帳の住所確認")
    });
    wait_until("the failure screenshot shows in the history", || {
        b.js(r#"const i = document.querySelector('#history tr[data-state="failed"] img.thumb'); return i !== null && i.complete && i.naturalWidth > 0"#) == true
    });
    assert_eq!(b.text("#connection"), "", "the page showed an error");
    assert!(!s.stderr_text().contains("panicked"), "{}", s.stderr_text());
}

#[test]
fn a_clerk_uploads_the_file_a_scenario_asks_for_and_runs_it() {
    let x = Xvfb::start();
    let dir = temp_dir("serve_browser_upload");
    asking(&dir, "kofu", "交付申請の一括処理");
    let file = dir.join("五月分.csv");
    std::fs::write(&file, "番号,氏名\n1,髙橋一郎\n2,𠮷田花子\n3,山﨑次郎\n").unwrap();
    scenario(
        &dir.join("scenarios"),
        "kowareta",
        "id = \"kowareta\"\n",
        "",
    );
    let s = Served::start(&dir, Some(&x.display));
    let b = Browser::start(&dir);
    b.goto(&s.url);
    // A scenario that does not load says why, and offers no 実行.
    let broken = b.wait_text(r#"article[data-scenario="kowareta"]"#, 30, |t| {
        t.contains("読み込めない")
    });
    assert!(broken.contains("name"), "{broken}");
    assert_eq!(
        b.js(
            r#"return document.querySelector('article[data-scenario="kowareta"] button') === null"#
        ),
        true
    );
    b.click(r#"button.run[data-scenario="kofu"]"#);
    // The dialog asks for the file; none is there yet, so the clerk uploads one.
    b.wait_text("#ask-title", 30, |t| t == "交付申請の一括処理");
    b.wait_text(r#"fieldset[data-var="file"] select"#, 30, |t| {
        t.contains("ファイルがありません")
    });
    b.send_keys(
        r#"fieldset[data-var="file"] input[type="file"]"#,
        file.to_str().unwrap(),
    );
    b.wait_text(r#"fieldset[data-var="file"] select"#, 30, |t| {
        t.contains("五月分.csv")
    });
    assert!(dir.join("scenarios/kofu/input/五月分.csv").is_file());
    assert_eq!(b.text("#ask-run"), "実行");
    b.click("#ask-run");
    b.wait_text("#run-name", 30, |t| t == "交付申請の一括処理");
    b.wait_text("#run-state", 60, |t| t == "成功");
    assert_eq!(b.text("#run-done"), "3");
    assert_eq!(ledger_rows(&s.ledger)[0].2, 3);

    // In English, and back (the choice is remembered by the browser).
    b.click("#language");
    b.wait_text("#scenarios-title", 10, |t| t == "Scenarios");
    assert_eq!(b.text(r#"button.run[data-scenario="kofu"]"#), "Run");
    assert_eq!(b.text("#run-state"), "Succeeded");
    b.click("#language");
    b.wait_text("#scenarios-title", 10, |t| t == "シナリオ");
    assert_eq!(b.text(r#"button.run[data-scenario="kofu"]"#), "実行");

    // The ICT office schedules it on the page: it is listed with its next run.
    b.send_keys("#schedule-spec", "weekly mon 09:00");
    b.click(r#"#schedule-form button[type="submit"]"#);
    let row = b.wait_text(r#"#schedules tr[data-schedule="kofu-1"]"#, 30, |t| {
        t.contains("weekly mon 09:00")
    });
    assert!(row.contains(" 09:00"), "{row}");
    assert_eq!(b.text("#connection"), "", "the page showed an error");
}

/// A web scenario started from the launcher: its items count up on the page like any run's;
/// a web run that fails shows its last web steps (element, time, a picture of the page) from
/// the history.
#[test]
fn a_web_run_shows_its_progress_and_a_failed_one_its_last_steps() {
    let dir = temp_dir("serve_browser_web");
    let manifest = |id: &str, name: &str| {
        MANIFEST
            .replace("\"test\"", &format!("\"{id}\""))
            .replace("テスト", name)
    };
    scenario(
        &dir.join("scenarios"),
        "webform",
        &manifest("webform", "交付申請のWeb入力"),
        &format!(
            "let b = web::open(\"{}\", #{{ headless: true }});\ntask::set_total(4);\nfor i in 1..=4 {{\n    b.fill(\"label=受付番号\", `A-00${{i}}`);\n    b.click(\"css=#register\");\n    b.wait_for(\"css=#log .entry\", #{{ nth: i - 1 }});\n    task::item_done(`A-00${{i}}`);\n}}\n",
            crate::web::fixture_in(&dir.join("scenarios/webform"), "locators.html")
        ),
    );
    scenario(
        &dir.join("scenarios"),
        "webfail",
        &manifest("webfail", "交付申請のWeb照会"),
        &format!(
            "let b = web::open(\"{}\", #{{ headless: true }});\nb.fill(\"label=氏名\", \"髙橋 花子\");\nb.click(\"role=button[name=\\\"削除\\\"]\", #{{ timeout_s: 1 }});\n",
            crate::web::fixture_in(&dir.join("scenarios/webfail"), "locators.html")
        ),
    );
    let s = Served::start(&dir, None);
    let b = Browser::start(&dir);
    b.goto(&s.url);

    b.click(r#"button.run[data-scenario="webform"]"#);
    b.wait_text("#run-name", 30, |t| t == "交付申請のWeb入力");
    b.wait_text("#run-state", 60, |t| t == "成功");
    assert_eq!(b.text("#run-done"), "4");

    b.click(r#"button.run[data-scenario="webfail"]"#);
    b.wait_text("#run-state", 60, |t| t == "失敗");
    assert!(
        b.text("#run-message").contains("削除"),
        "{}",
        b.text("#run-message")
    );
    b.wait_text(r#"#history tr[data-state="failed"]"#, 30, |t| {
        t.contains("交付申請のWeb照会") && t.contains("Web の記録")
    });
    b.click(r#"#history tr[data-state="failed"] button.trace"#);
    let steps = b.wait_text("#trace-steps", 30, |t| t.contains("削除"));
    assert!(steps.contains("label=氏名"), "{steps}");
    assert_eq!(
        b.js("return document.querySelectorAll('#trace-steps tr').length"),
        2
    );
    assert_eq!(
        b.js("return document.querySelectorAll('#trace-steps tr.failed').length"),
        1
    );
    wait_until("the steps' pictures load", || {
        b.js("const i = [...document.querySelectorAll('#trace-steps img')]; return i.length === 2 && i.every((x) => x.complete && x.naturalWidth > 0)") == true
    });
    assert_eq!(b.text("#connection"), "", "the page showed an error");
}

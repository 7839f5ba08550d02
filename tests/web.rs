//! `web::` against Debian's Chromium (headless, and headed on a private Xvfb): every locator
//! kind on Japanese pages, waiting through a loading overlay, dialogs armed and not, the error
//! for a missing element with its evidence, the 300 municipal strings through `fill`, a stop
//! during a wait, attaching to a browser started with a debugging port. The web intake system
//! (frames, popups, downloads, uploads, paged tables) is in `web_intake.rs`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::municipal::{municipal_strings, rhai_array};
use crate::support::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A fixture page where it lies in the repository (for a browser kuroko did not start).
pub fn fixture(name: &str) -> String {
    format!("file://{ROOT}/tests/fixtures/web/{name}")
}

/// Copies the fixture pages into a scenario folder (a script opens only files inside its
/// folders) and returns the address of `page` there (`page` may carry a `?query`).
pub fn fixture_in(scenario: &Path, page: &str) -> String {
    std::fs::create_dir_all(scenario).unwrap();
    for f in std::fs::read_dir(Path::new(ROOT).join("tests/fixtures/web")).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), scenario.join(f.file_name())).unwrap();
    }
    format!("file://{}/{page}", scenario.display())
}

/// A scenario whose script opens the fixture `page` (headless unless `headed`) as `b`, then
/// runs `body`.
pub fn web_scenario(dir: &Path, id: &str, page: &str, headed: bool, body: &str) -> PathBuf {
    let manifest = MANIFEST.replace("\"test\"", &format!("\"{id}\""));
    let url = fixture_in(&dir.join(id), page);
    let script = format!(
        "let b = web::open(\"{url}\", #{{ headless: {}, timeout_s: 10 }});\n{body}",
        !headed
    );
    scenario(dir, id, &manifest, &script)
}

/// Whether a process still has `part` in its command line (a browser with this run's profile).
pub fn process_with(part: &str) -> Option<String> {
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        if !entry
            .file_name()
            .to_string_lossy()
            .chars()
            .all(|c| c.is_ascii_digit())
        {
            continue;
        }
        if let Ok(cmd) = std::fs::read(entry.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(part) {
                return Some(cmd);
            }
        }
    }
    None
}

fn assert_browser_gone(dir: &Path) {
    let run = only_run_dir(dir);
    let profile = run.join("browser-profile").display().to_string();
    let deadline = Instant::now() + Duration::from_secs(5);
    while let Some(cmd) = process_with(&profile) {
        assert!(
            Instant::now() < deadline,
            "the browser is still running after the run: {cmd}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !run.join("browser-profile").exists(),
        "the temporary profile was left behind"
    );
}

const LOCATORS: &str = r#"
b.fill("css=input[name=no]", "A-0012");
b.press("css=input[name=no]", "Backspace");
b.press("css=input[name=no]", "Backspace");
b.press("css=input[name=no]", "1");
b.fill("xpath=//input[@name='born']", "S50/01/01");
b.fill("label=氏名", "髙橋 花子");
b.fill("label=氏名（フリガナ）", "ﾀｶﾊｼ ﾊﾅｺ");
b.fill("label=ユーザーID", "kuroko");
b.fill("label=パスワード", "秘密の合言葉");
b.fill("label=備考", "窓口で確認済み");
b.fill("label=生年月日", "S50/01/02");
b.fill("placeholder=町名を入力", "仲町");
b.fill("placeholder=\"町名（カナ）\"", "ﾅｶﾏﾁ");
let chosen = b.select("label=使用目的", "各種手続");
b.check("label=本籍・筆頭者の記載");
b.click("text=登録");
b.click("text=\"登録確認\"");
b.click("role=button[name=\"クリア\"]");
b.click("role=link[name*=\"一覧\"]");
b.click("role=button[name=\"閉じる\"]");
b.click("role=button[name=\"選択\"]", #{ nth: -1 });
b.dblclick("css=#register");

let got = #{
    no: b.value("css=input[name=no]"),
    born: b.value("label=生年月日"),
    name: b.value("css=input[name=name]"),
    kana: b.value("css=input[name=kana]"),
    user: b.value("css=#user"),
    password: b.value("css=input[type=password]"),
    memo: b.value("css=input[name=memo]"),
    town: b.value("css=input[name=town]"),
    town2: b.value("css=input[name=town2]"),
    purpose: b.value("label=使用目的"),
    chosen: chosen,
    honseki: b.attr("css=input[name=honseki]", "name"),
    missing_attr: b.attr("css=#addr", "data-none"),
    log: b.text("css=#log"),
    towns: b.count("role=listitem", #{ has_text: "深谷市" }),
    inputs: b.count("css=input"),
    heading: b.text("role=heading"),
    exists: b.exists("text=存在しない"),
    address: b.value("label=住所"),
    title: b.title(),
};
let want = #{
    no: "A-001", born: "S50/01/02", name: "髙橋 花子", kana: "ﾀｶﾊｼ ﾊﾅｺ", user: "kuroko",
    password: "秘密の合言葉", memo: "窓口で確認済み", town: "仲町", town2: "ﾅｶﾏﾁ",
    purpose: "x", chosen: "各種手続", honseki: "honseki", missing_attr: (),
    log: "登録\n登録確認\nクリア\n一覧\n閉じる\n選択:熊谷市仲町\n登録\n登録",
    towns: 1, inputs: 12, heading: "交付申請入力", exists: false,
    address: "埼玉県深谷市仲町", title: "ロケーター試験 - 住民記録システム",
};
for k in want.keys() {
    if got[k] != want[k] { fail(`${k}: got ${got[k]}, want ${want[k]}`); }
}
b.uncheck("label=本籍・筆頭者の記載");
if b.exists("css=input[name=honseki]:checked") { fail("still ticked"); }
b.screenshot("output/画面.png");
log::info("all locators found their elements");
"#;

#[test]
fn every_locator_kind_finds_its_element_on_a_japanese_page() {
    let dir = temp_dir("web_locators");
    let s = web_scenario(&dir, "locators", "locators.html", false, LOCATORS);
    run_scenario(&s, None, &[])
        .expect(0)
        .stderr_has("all locators found their elements");
    let png = std::fs::read(s.join("output/画面.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    assert_browser_gone(&dir);
}

#[test]
fn several_matches_are_an_error_that_lists_them() {
    let dir = temp_dir("web_ambiguous");
    let s = web_scenario(
        &dir,
        "ambiguous",
        "locators.html",
        false,
        "b.click(\"text=選択\");\n",
    );
    run_scenario(&s, None, &[])
        .expect(1)
        .stderr_has("main.rhai:2:")
        .stderr_has("2 elements match: <button>選択, <button>選択")
        .stderr_has("#{ nth: 0 }");
    let typo = web_scenario(
        &dir,
        "typo",
        "locators.html",
        false,
        "b.click(\"role=buton[name=\\\"登録\\\"]\");\n",
    );
    run_scenario(&typo, None, &[])
        .expect(1)
        .stderr_has("main.rhai:2:")
        .stderr_has("did you mean button");
}

/// The page hides a button for 0.6 s, keeps another disabled for 0.8 s and covers everything
/// with a 保存中 overlay for 1.2 s: the clicks wait for all of it, with no sleep in the script,
/// in a real browser window on a private X server.
#[test]
fn steps_wait_through_a_loading_overlay_in_a_window_on_xvfb() {
    let x = Xvfb::start();
    let dir = temp_dir("web_overlay");
    let body = r#"
b.click("css=#disabled");
b.click("text=後から出るボタン");
let log = b.text("css=#log");
if log != "overlay gone\n無効\n遅延" { fail(`the clicks did not wait: ${log}`); }
log::info("waited for the overlay");
"#;
    let s = web_scenario(
        &dir,
        "overlay",
        "locators.html?overlay=1200&late=600&enable=800",
        true,
        body,
    );
    run_scenario(&s, Some(&x.display), &[])
        .expect(0)
        .stderr_has("waited for the overlay")
        .stderr_has("desktop connected");
    assert_browser_gone(&dir);
}

#[test]
fn an_armed_dialog_is_answered_and_an_unarmed_one_is_an_error_quoting_it() {
    let dir = temp_dir("web_dialogs");
    let body = r#"
b.on_dialog("accept", "登録しますか");
b.click("css=#confirm");
if b.text("css=#out") != "登録" { fail("confirm was not accepted"); }
b.on_dialog("dismiss");
b.click("css=#confirm");
if b.text("css=#out") != "取消" { fail("confirm was not dismissed"); }
b.on_dialog("accept", "理由", #{ prompt: "転居のため" });
b.click("css=#prompt");
if b.text("css=#out") != "理由:転居のため" { fail(`prompt: ${b.text("css=#out")}`); }
log::info("armed dialogs answered");
b.click("css=#alert");
log::info("not reached");
"#;
    let s = web_scenario(&dir, "dialogs", "dialogs.html", false, body);
    // The browser on a loopback port (the Windows path) instead of the pipe.
    let ran = Ran::from(
        kuroko()
            .args(["run"])
            .arg(&s)
            .arg("--runs-dir")
            .arg(dir.join("runs"))
            .arg("--ledger")
            .arg(dir.join("ledger.sqlite3"))
            .env("KUROKO_BROWSER_TRANSPORT", "port")
            .output()
            .unwrap(),
    );
    ran.expect(1)
        .stderr_has("armed dialogs answered")
        .stderr_has("main.rhai:13:")
        .stderr_has("「受付番号 A-001 は登録済みです」")
        .stderr_has("on_dialog");
    assert!(!ran.stderr.contains("not reached"));
    assert_browser_gone(&dir);
}

#[test]
fn a_missing_element_names_the_locator_and_keeps_a_screenshot_and_the_html() {
    let dir = temp_dir("web_missing");
    let body = "b.fill(\"label=氏名\", \"髙橋 花子\");\nb.click(\"role=button[name=\\\"削除\\\"]\", #{ timeout_s: 1 });\n";
    let s = web_scenario(&dir, "missing", "locators.html", false, body);
    run_scenario(&s, None, &[])
        .expect(1)
        .stderr_has("main.rhai:3:")
        .stderr_has("web click role=button[name=\"削除\"]: no element matches after 1 s")
        .stderr_has("web-failure-1.png, web-failure-1.html");
    let run = only_run_dir(&dir);
    let png = std::fs::read(run.join("web-failure-1.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let html = std::fs::read_to_string(run.join("web-failure-1.html")).unwrap();
    assert!(html.contains("交付申請入力"), "{html}");
    // The trace: both steps, the failed one last, with its locator and a picture.
    let trace: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("web-trace/trace.json")).unwrap())
            .unwrap();
    let steps = trace.as_array().unwrap();
    assert_eq!(steps.len(), 2, "{trace}");
    assert_eq!(steps[1]["locator"], "role=button[name=\"削除\"]");
    assert_eq!(steps[1]["ok"], false);
    assert!(steps[1]["ms"].as_u64().unwrap() >= 1000);
    let picture = steps[1]["picture"].as_str().expect("a picture of the page");
    assert!(run.join("web-trace").join(picture).is_file());
}

#[test]
fn three_hundred_municipal_strings_round_trip_through_fill_and_value() {
    let dir = temp_dir("web_strings");
    let strings = municipal_strings(300);
    let body = format!(
        r#"
let texts = {};
let wrong = [];
for t in texts {{
    b.fill("label=入力欄", t);
    let v = b.value("label=入力欄");
    let seen = b.text("css=#seen");
    if v != t || seen != t {{ wrong.push(`${{t}} → ${{v}} / ${{seen}}`); }}
}}
if wrong.len() > 0 {{ fail(`${{wrong.len()}} differ: ${{wrong}}`); }}
log::info(`${{texts.len()}} strings exact`);
"#,
        rhai_array(&strings)
    );
    let s = web_scenario(&dir, "strings", "fields.html", false, &body);
    run_scenario(&s, None, &[])
        .expect(0)
        .stderr_has("300 strings exact");
}

#[test]
fn a_stop_during_a_wait_ends_the_run_within_200_ms_and_closes_the_browser() {
    let dir = temp_dir("web_abort");
    let s = web_scenario(
        &dir,
        "abort",
        "locators.html",
        false,
        "b.wait_for(\"text=来ない\", #{ timeout_s: 600 });\n",
    );
    let runs = dir.join("runs");
    let mut child = kuroko()
        .arg("run")
        .arg(&s)
        .arg("--runs-dir")
        .arg(&runs)
        .arg("--ledger")
        .arg(dir.join("ledger.sqlite3"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the run to wait for the element", || {
        events_so_far(&runs).contains("web wait_for text=来ない")
    });
    std::thread::sleep(Duration::from_millis(300));
    let profile = only_run_dir(&dir)
        .join("browser-profile")
        .display()
        .to_string();
    assert!(
        process_with(&profile).is_some(),
        "the browser is not running"
    );
    signal(child.id(), "TERM");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(3), "exit code of an aborted run");
    let events = events_so_far(&runs);
    let finished: serde_json::Value = events
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["event"] == "finished")
        .unwrap();
    assert_eq!(finished["outcome"], "aborted");
    let latency = finished["stop_latency_ms"].as_u64().unwrap();
    assert!(latency <= 200, "stopped {latency} ms after the request");
    assert_browser_gone(&dir);
}

/// A browser the clerk started with a debugging port: kuroko attaches, works in its tab, and
/// leaves it running.
#[test]
fn attach_drives_a_browser_started_with_a_debugging_port_and_leaves_it_open() {
    let dir = temp_dir("web_attach");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let profile = dir.join("clerk-profile");
    let mut browser = without_session_bus(&mut Command::new("chromium"))
        .args(["--headless=new", "--no-sandbox", "--no-first-run"])
        .arg(format!("--remote-debugging-port={port}"))
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(fixture("locators.html"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium (scripts/setup.sh installs it)");
    wait_until("the browser's debugging port", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let manifest = MANIFEST.replace("\"test\"", "\"attach\"");
    let script = format!(
        "let b = web::attach({port});\nb.wait_for(\"text=交付申請入力\");\nb.fill(\"label=氏名\", \"𠮷田 花子\");\nlog::info(b.title() + \" / \" + b.value(\"label=氏名\"));\n"
    );
    let s = scenario(&dir, "attach", &manifest, &script);
    let ran = run_scenario(&s, None, &[]);
    let alive = browser.try_wait().unwrap().is_none();
    let _ = browser.kill();
    let _ = browser.wait();
    ran.expect(0)
        .stderr_has("ロケーター試験 - 住民記録システム / 𠮷田 花子");
    assert!(alive, "kuroko closed the clerk's browser");
}

/// A dry run must not act on a real system: `web::open` is an error there, at its line.
#[test]
fn a_dry_run_does_not_open_a_browser() {
    let dir = temp_dir("web_dry_run");
    let s = web_scenario(
        &dir,
        "dry",
        "locators.html",
        false,
        "b.click(\"text=登録\");\n",
    );
    run_scenario(&s, None, &["--dry-run"])
        .expect(1)
        .stderr_has("main.rhai:1:")
        .stderr_has("do not run in a dry run");
}

/// A script opens web addresses and files inside its own folders only, and never names a
/// program to run as its browser.
#[test]
fn addresses_outside_the_sandbox_and_other_programs_are_refused() {
    let dir = temp_dir("web_refused");
    let manifest = MANIFEST.replace("\"test\"", "\"refused\"");
    for (id, script, said) in [
        (
            "passwd",
            "let b = web::open(\"file:///etc/passwd\", #{ headless: true });\n",
            "reading \"/etc/passwd\" is not allowed",
        ),
        (
            "data",
            "let b = web::open(\"data:text/html,x\", #{ headless: true });\n",
            "kuroko opens http:// and https://",
        ),
        (
            "program",
            "let b = web::open(\"about:blank\", #{ headless: true, browser: \"/bin/sh\" });\n",
            "a scenario chooses \"chromium\", \"chrome\" or \"edge\"",
        ),
    ] {
        let s = scenario(&dir, id, &manifest, script);
        run_scenario(&s, None, &[])
            .expect(1)
            .stderr_has("main.rhai:1:")
            .stderr_has(said);
    }
    let s = web_scenario(
        &dir,
        "goto",
        "locators.html",
        false,
        "b.goto(\"file:///etc/hostname\");\n",
    );
    run_scenario(&s, None, &[])
        .expect(1)
        .stderr_has("main.rhai:2:")
        .stderr_has("is not allowed");
}

/// A table whose header spans rows and columns and whose first column spans households; a
/// button far below the fold inside a tall frame (scrolled to and clicked in the right place);
/// the text of a button that stays disabled (waited on, never clicked).
#[test]
fn spanned_tables_frames_below_the_fold_and_text_in_a_disabled_button() {
    let dir = temp_dir("web_layout");
    let body = r#"
let rows = b.table("css=#households");
if rows.len() != 3 || rows[1]["世帯主"] != "髙橋 一郎" || rows[1]["氏名"] != "髙橋 花子"
    || rows[1]["住所 町名"] != "仲町" || rows[2]["住所 市区町村"] != "熊谷市" {
    fail(`table: ${rows}`);
}
let f = b.frame("css=#inner");
f.click("text=枠内の登録");
if b.text("css=#log") != "frame" { fail(`log: ${b.text("css=#log")}`); }
log::info("table and frame ok");
b.click("text=確定", #{ timeout_s: 1 });
"#;
    let s = web_scenario(&dir, "layout", "layout.html", false, body);
    run_scenario(&s, None, &[])
        .expect(1)
        .stderr_has("table and frame ok")
        .stderr_has("main.rhai:12:")
        .stderr_has("disabled after 1 s");
}

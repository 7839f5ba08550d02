//! The web intake system (`examples/web-intake`: login, a legacy frameset, table-layout forms,
//! a 住所検索 popup, confirm on 登録, slow saves behind a spinner, a paged list, a Shift_JIS
//! CSV download, a file upload) driven by scenarios in Debian's Chromium, and the Web demo:
//! 60 applications entered once each, also across a kill -9.

use std::process::Stdio;

use crate::support::applications::{assert_each_exactly_once, prepared, registrations};
use crate::support::web_intake::WebIntake;
use crate::support::*;
use crate::web::process_with;

const LOGIN: &str = r#"
b.fill("label=ユーザーID", "kuroko");
b.fill("label=パスワード", "kuroko");
b.click("role=button[name=\"ログイン\"]");
b.wait_url("/main");
let menu = b.frame("css=frame[name=menu]");
let content = b.frame("css=frame[name=content]");
"#;

/// 23 earlier registrations, so the list has three pages of ten.
fn seed(data: &std::path::Path) {
    std::fs::create_dir_all(data).unwrap();
    let mut lines = String::new();
    for i in 1..=23 {
        lines.push_str(
            &serde_json::json!({
                "受付番号": format!("S-{i:03}"), "氏名": format!("佐藤 {i}郎"), "フリガナ": "ｻﾄｳ",
                "生年月日": "S50/01/01", "郵便番号": "366-0825", "住所": "埼玉県深谷市仲町１-１",
                "番地": "１-１", "交付通数": "1", "使用目的": "年金", "本籍記載": false,
                "登録日時": "2026-12-01T09:00:00",
            })
            .to_string(),
        );
        lines.push('\n');
    }
    std::fs::write(data.join("registrations.jsonl"), lines).unwrap();
}

#[test]
fn frames_a_popup_a_confirm_the_spinner_a_paged_table_a_download_and_an_upload() {
    let dir = temp_dir("web_intake_all");
    seed(&dir.join("data"));
    let system = WebIntake::start(&dir.join("data"), "800-1200");
    let manifest = MANIFEST
        .replace("\"test\"", "\"web-intake\"")
        .replace("outputs = ", "inputs = [\"input\"]\noutputs = ");
    let body = format!(
        r#"let b = web::open("{url}", #{{ headless: true, timeout_s: 15 }});
{LOGIN}
for a in [["W-001", "髙橋 花子", "ﾀｶﾊｼ ﾊﾅｺ", "埼玉県深谷市仲町", "３-２"],
          ["W-002", "𠮷田 一郎", "ﾖｼﾀﾞ ｲﾁﾛｳ", "埼玉県深谷市上柴町西", "１２-４"]] {{
    menu.click("text=交付申請入力");
    content.fill("label=受付番号", a[0]);
    content.fill("label=氏名", a[1]);
    content.fill("label=フリガナ", a[2]);
    content.fill("label=生年月日", "H01/01/08");
    let w = content.popup("text=住所検索");
    w.fill("placeholder=町名を入力", a[3]);
    w.click("role=button[name=\"検索\"]");
    w.click("role=button[name=\"選択\"]");
    content.fill("label=番地", a[4]);
    content.select("label=交付通数", "2通");
    content.select("label=使用目的", "年金");
    content.check("label=本籍・筆頭者の記載");
    content.on_dialog("accept", "この内容で登録しますか");
    content.click("text=登録");
    content.wait_for(`text=登録しました（受付番号：${{a[0]}}）`);
}}
if content.attr("css=#register", "disabled") == () {{ fail("登録 is still enabled"); }}

menu.click("text=登録一覧");
let rows = content.table("css=#registrations", #{{ next: "text=次へ" }});
if rows.len() != 25 {{ fail(`the paged table gave ${{rows.len()}} rows`); }}
if rows[0]["受付番号"] != "S-001" || rows[24]["氏名"] != "𠮷田 一郎" || rows[23]["住所"] != "埼玉県深谷市仲町３-２" {{
    fail(`rows: ${{rows[0]}} … ${{rows[23]}} ${{rows[24]}}`);
}}

let csv = content.download("text=CSV出力");
let listed = sheet::read(csv);
if csv != "output/登録一覧.csv" || listed.len() != 25 || listed[23]["氏名"] != "髙橋 花子" || listed[23]["交付通数"] != 2 {{
    fail(`the download ${{csv}}: ${{listed.len()}} rows, ${{listed[23]}}`);
}}

menu.click("text=一括取込");
content.upload("label=取込ファイル", "input/転入.csv");
content.click("role=button[name=\"取込\"]");
content.wait_for("text=取込しました：転入.csv（3 行）");
log::info(`paged table ${{rows.len()}} rows, download ${{listed.len()}} rows, upload done`);
"#,
        url = system.url
    );
    let s = scenario(&dir, "web-intake", &manifest, &body);
    std::fs::create_dir_all(s.join("input")).unwrap();
    let upload = "番号,氏名\r\n1,髙橋 花子\r\n2,𠮷田 一郎\r\n";
    std::fs::write(s.join("input/転入.csv"), upload).unwrap();
    run_scenario(&s, None, &[])
        .expect(0)
        .stderr_has("paged table 25 rows, download 25 rows, upload done");

    let got = registrations(&system.registrations_file());
    assert_eq!(got.len(), 25);
    assert_eq!(got[23]["住所"], "埼玉県深谷市仲町３-２");
    assert_eq!(got[23]["郵便番号"], "366-0825");
    assert_eq!(got[24]["氏名"], "𠮷田 一郎");
    assert_eq!(got[24]["本籍記載"], "true");
    assert_eq!(
        std::fs::read(dir.join("data/uploads/転入.csv")).unwrap(),
        upload.as_bytes(),
        "the system received the file exactly"
    );
}

/// The Web demo: 60 generated applications into the web system, killed (-9) after the 5th,
/// then run again in a browser window on Xvfb: each application is registered exactly once,
/// with exactly the expected text.
#[test]
fn the_web_demo_enters_sixty_applications_once_each_across_a_kill() {
    let dir = temp_dir("web_demo");
    let scenario = prepared(&dir, "juminhyo-web", 60);
    let system = WebIntake::start(&dir.join("data"), "200-400");
    let runs = dir.join("runs-1");
    let mut first = kuroko()
        .arg("run")
        .arg(&scenario)
        .args([
            "--var",
            &format!("url={}", system.url),
            "--var",
            "headless=true",
        ])
        .arg("--runs-dir")
        .arg(&runs)
        .arg("--ledger")
        .arg(dir.join("ledger.sqlite3"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("five applications", || {
        count_events(&runs, "item_done") >= 5
    });
    signal(first.id(), "KILL");
    first.wait().unwrap();
    let run_dir = std::fs::read_dir(&runs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let profile = run_dir.join("browser-profile").display().to_string();
    wait_until("the killed run's browser to end", || {
        process_with(&profile).is_none()
    });

    let x = Xvfb::start();
    let second = Ran::from(
        kuroko()
            .arg("run")
            .arg(&scenario)
            .args(["--var", &format!("url={}", system.url)])
            .arg("--runs-dir")
            .arg(dir.join("runs-2"))
            .arg("--ledger")
            .arg(dir.join("ledger.sqlite3"))
            .env("DISPLAY", &x.display)
            .output()
            .unwrap(),
    );
    second.expect(0).stderr_has("（全 60 件）");
    assert_each_exactly_once(&system.registrations_file(), &scenario);
}

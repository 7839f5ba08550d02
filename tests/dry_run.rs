//! `--dry-run`: the fake desktop; nothing on a display is touched, the action trace is printed
//! and recorded.

use crate::support::*;

pub const FORM_SCRIPT: &str = r#"
let w = window::wait("kuroko-form", 10);
window::activate("kuroko-form");
keyboard::type_text("Sato Hanako");
keyboard::press("Tab");
keyboard::type_text("wrong");
keyboard::hotkey(["Ctrl", "a"]);
keyboard::type_text("1-2-3 Chuo");
mouse::click(w.x + w.w - 51, w.y + w.h - 25);
task::item_done("A-001");
"#;

#[test]
fn dry_run_prints_and_records_the_trace_without_a_display() {
    let dir = temp_dir("dry_run");
    let s = scenario(&dir, "s", MANIFEST, FORM_SCRIPT);
    // No DISPLAY at all: a dry run must not need one.
    let ran = run_scenario(&s, None, &["--dry-run"]);
    ran.expect(0)
        .stderr_has("dry run, desktop: fake")
        .stderr_has("type \"Sato Hanako\"")
        .stderr_has("press Tab")
        .stderr_has("hotkey Ctrl+a")
        .stderr_has("click ")
        .stderr_has("item done: A-001")
        .stderr_has("1 item(s) done");
    let run_dir = only_run_dir(&dir);
    let events = std::fs::read_to_string(run_dir.join("events.jsonl")).unwrap();
    let actions: Vec<serde_json::Value> = events
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|e: &serde_json::Value| e["event"] == "action")
        .collect();
    let names: Vec<&str> = actions
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(names[0], "wait for window \"kuroko-form\" (up to 10 s)");
    assert_eq!(
        &names[2..5],
        ["type \"Sato Hanako\"", "press Tab", "type \"wrong\""]
    );
    assert!(
        std::fs::read_to_string(run_dir.join("run.log"))
            .unwrap()
            .contains("hotkey Ctrl+a")
    );
    // Time saved: 1 item x 2.0 min by hand, 0.5 min checking afterwards.
    let finished: serde_json::Value = serde_json::from_str(events.lines().last().unwrap()).unwrap();
    assert_eq!(finished["outcome"], "succeeded");
    assert_eq!(finished["time_saved"]["saved_minutes"], 1.5);
}

#[test]
fn vars_reach_the_script() {
    let dir = temp_dir("dry_vars");
    let s = scenario(
        &dir,
        "s",
        MANIFEST,
        "if task::get_var(\"month\") != \"2024-04\" || VARS.month != \"2024-04\" { fail(\"bad\"); }\nlet n = task::get_var(\"n\", \"7\");\nif n != \"7\" { fail(\"default\"); }\ntask::get_var(\"missing\");\n",
    );
    run_scenario(&s, None, &["--dry-run", "--var", "month=2024-04"])
        .expect(1)
        .stderr_has("main.rhai:4:7: no run variable \"missing\" (given: month)");
}

#[test]
fn an_ad_hoc_script_runs_with_its_own_output_folder() {
    let dir = temp_dir("dry_adhoc");
    let script = dir.join("try.rhai");
    std::fs::write(
        &script,
        "screen::save(\"output/shot.png\");\nprint(\"printed\");\n",
    )
    .unwrap();
    let ran = Ran::from(
        kuroko()
            .arg("run")
            .arg(&script)
            .arg("--dry-run")
            .arg("--runs-dir")
            .arg(dir.join("runs"))
            .output()
            .unwrap(),
    );
    ran.expect(0).stderr_has("printed");
    let png = image::open(dir.join("output/shot.png")).unwrap();
    assert_eq!((png.width(), png.height()), (1920, 1080));
}

#[test]
fn text_helpers_convert_in_scripts_and_bad_wareki_names_the_line() {
    let dir = temp_dir("dry_run_text");
    let s = scenario(
        &dir,
        "s",
        MANIFEST,
        r#"
log::info(text::zenkaku("ﾔﾏﾀﾞ ﾀﾛｳ 1-2"));
log::info(text::hankaku("０４８－５７１　ガッコウ"));
log::info(text::to_wareki(text::from_wareki("H31.4.30"), "long"));
log::info(text::to_wareki("2019-05-01", "padded"));
log::info(text::from_wareki("令和元年5月1日").to_string());
let bad = text::from_wareki("令和6年2月30日");
"#,
    );
    run_scenario(&s, None, &["--dry-run"])
        .expect(1)
        .stderr_has("ヤマダ　タロウ　１－２")
        .stderr_has("048-571 ｶﾞｯｺｳ")
        .stderr_has("平成31年4月30日")
        .stderr_has("R01/05/01")
        .stderr_has("2019-05-01")
        .stderr_has(
            "main.rhai:7:17: \"令和6年2月30日\" is not a 和暦 date: 令和6年2月30日 does not exist",
        );
}

#[test]
fn a_picture_not_found_where_something_similar_is_names_the_likely_causes() {
    let dir = temp_dir("dry_similar");
    let s = scenario(
        &dir,
        "s",
        MANIFEST,
        "screen::wait_for(\"images/登録.png\", #{ timeout_s: 1 });\n",
    );
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vision");
    // A button that differs from the one on the screen in one character.
    std::fs::copy(fixtures.join("tpl_absent.png"), s.join("images/登録.png")).unwrap();
    let screen = fixtures.join("scene.png");
    run_scenario(
        &s,
        None,
        &["--dry-run", "--screen", screen.to_str().unwrap()],
    )
    .expect(1)
    .stderr_has("main.rhai:1:")
    .stderr_has("Something similar is on the screen")
    .stderr_has("another font")
    .stderr_has("kuroko locate images/登録.png --in ");
}

#[test]
fn ui_calls_run_in_a_dry_run_and_bad_selectors_are_errors_at_their_line() {
    let dir = temp_dir("dry_run_ui");
    let s = scenario(
        &dir,
        "s",
        MANIFEST,
        r#"let w = "申請入力";
ui::click(#{ window: w, role: "button", name: "新規" });
ui::set_text(#{ window: w, role: "text", right_of: "氏名" }, "髙橋 𠮷男");
let b = ui::find(#{ window: w, role: "button", name: "登録" });
ui::wait(#{ window: w, role: "label", name: "登録しました" }, #{ timeout_s: 5 });
ui::wait_gone(#{ window: w, role: "label", name: "登録中" });
if !ui::exists(#{ window: w, role: "button", name: "登録" }) { fail("missing"); }
log::info(`found ${b.role} ${b.name} at ${b.cx},${b.cy}`);
"#,
    );
    run_scenario(&s, None, &["--dry-run"])
        .expect(0)
        .stderr_has("ui click button \"新規\"")
        .stderr_has("ui set_text text \"\"")
        .stderr_has("\"髙橋 𠮷男\"")
        .stderr_has("found button 登録 at 960,540");
    for (script, message) in [
        (
            "ui::click(#{ window: \"申請\", role: \"buton\", name: \"登録\" });",
            "role \"buton\" is not one kuroko knows (did you mean `button`?)",
        ),
        (
            "ui::click(#{ window: \"申請\", nme: \"登録\" });",
            "unknown selector key `nme` (did you mean `name`?)",
        ),
        (
            "ui::click(#{ window: \"申請\" });",
            "the selector names no control",
        ),
        (
            "ui::click(#{ right_of: \"氏名\", below: \"住所\" });",
            "one label anchor, not both",
        ),
        (
            "ui::click(#{ name: \"登録\", index: -1 });",
            "index -1 must be 0 or more",
        ),
        (
            "ui::wait(#{ name: \"登録\" }, #{ timeout: 3 });",
            "unknown option `timeout` (did you mean `timeout_s`?)",
        ),
    ] {
        std::fs::write(s.join("main.rhai"), format!("let x = 1;\n{script}\n")).unwrap();
        let ran = run_scenario(&s, None, &["--dry-run"]);
        ran.expect(1).stderr_has("main.rhai:2:").stderr_has(message);
    }
}

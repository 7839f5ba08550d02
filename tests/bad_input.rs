//! Bad input gets a clear message with its position and the documented exit code; never a panic.

use crate::support::*;

const FAILED: i32 = 1;
const USAGE: i32 = 2;

#[test]
fn syntax_error_names_file_line_and_column() {
    let dir = temp_dir("bad_syntax");
    let s = scenario(&dir, "s", MANIFEST, "log::info(\"ok\");\nlet x = ;\n");
    run_scenario(&s, None, &["--dry-run"])
        .expect(FAILED)
        .stderr_has("main.rhai:2:9: syntax error");
    assert!(
        !dir.join("runs").exists(),
        "a script that does not compile starts no run"
    );
}

#[test]
fn wrong_argument_type_is_a_script_error_with_the_expected_signature() {
    let dir = temp_dir("bad_type");
    let s = scenario(
        &dir,
        "s",
        MANIFEST,
        "mouse::move_to(1, 1);\nmouse::click(\"ten\", 20);\n",
    );
    run_scenario(&s, None, &["--dry-run"])
        .expect(FAILED)
        .stderr_has("main.rhai:2:8")
        .stderr_has("expected")
        .stderr_has("mouse::click(x: int, y: int)");
}

#[test]
fn unknown_key_name_is_an_error_with_position_and_hint() {
    let dir = temp_dir("bad_key");
    let s = scenario(
        &dir,
        "s",
        MANIFEST,
        "keyboard::press(\"Tab\");\n  keyboard::press(\"Entr\");\n",
    );
    let ran = run_scenario(&s, None, &["--dry-run"]);
    ran.expect(FAILED)
        .stderr_has("main.rhai:2:13")
        .stderr_has("unknown key name \"Entr\"")
        .stderr_has("did you mean `Enter`");
    // The first key was pressed, the run stopped at the bad one.
    let events = std::fs::read_to_string(only_run_dir(&dir).join("events.jsonl")).unwrap();
    assert!(events.contains("press Tab") && events.contains("\"outcome\":\"failed\""));
}

#[test]
fn fail_ends_the_run_with_its_message() {
    let dir = temp_dir("bad_fail");
    let s = scenario(
        &dir,
        "s",
        MANIFEST,
        "task::item_done(1);\nfail(\"申請書が見つかりません\");\n",
    );
    run_scenario(&s, None, &["--dry-run"])
        .expect(FAILED)
        .stderr_has("main.rhai:2:1: 申請書が見つかりません")
        .stderr_has("1 item(s) done");
}

#[test]
fn manifest_typo_names_the_key_and_line() {
    let dir = temp_dir("bad_manifest");
    let manifest = MANIFEST.replace("department =", "departmnet =");
    let s = scenario(&dir, "s", &manifest, "log::info(\"x\");\n");
    run_scenario(&s, None, &["--dry-run"])
        .expect(USAGE)
        .stderr_has("scenario.toml:3:1: unknown key `departmnet` (did you mean `department`?)");
}

#[test]
fn missing_scenario_is_a_usage_error() {
    let dir = temp_dir("bad_missing");
    run_scenario(&dir.join("nope"), None, &["--dry-run"])
        .expect(USAGE)
        .stderr_has("no scenario at")
        .stderr_has("no such file or folder");
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    run_scenario(&empty, None, &[])
        .expect(USAGE)
        .stderr_has("has no scenario.toml");
}

#[test]
fn bad_command_line_values_are_usage_errors() {
    let dir = temp_dir("bad_cli");
    let s = scenario(&dir, "s", MANIFEST, "log::info(\"x\");\n");
    run_scenario(&s, None, &["--dry-run", "--var", "novalue"])
        .expect(USAGE)
        .stderr_has("NAME=VALUE");
    run_scenario(&s, None, &["--abort-hotkey", "Shift+Escap"])
        .expect(USAGE)
        .stderr_has("Escape");
    Ran::from(kuroko().arg("frobnicate").output().unwrap()).expect(USAGE);
}

#[test]
fn no_display_is_a_script_error_at_the_first_desktop_call_not_a_panic() {
    let dir = temp_dir("bad_no_display");
    let s = scenario(
        &dir,
        "s",
        MANIFEST,
        "let n = 1 + 1;\nlog::info(`before ${n}`);\nkeyboard::type_text(\"x\");\n",
    );
    run_scenario(&s, None, &[])
        .expect(1)
        .stderr_has("before 2")
        .stderr_has("main.rhai:3:11: desktop unavailable: no X display: DISPLAY is not set");
}

#[test]
fn an_unusable_or_missing_ledger_is_named_and_nothing_runs() {
    let dir = temp_dir("bad_ledger");
    let s = scenario(&dir, "s", MANIFEST, "task::item_done(1);\n");
    let folder = dir.join("a-folder");
    std::fs::create_dir_all(&folder).unwrap();
    let ran = Ran::from(
        kuroko()
            .arg("run")
            .arg(&s)
            .arg("--dry-run")
            .arg("--ledger")
            .arg(&folder)
            .output()
            .unwrap(),
    );
    ran.expect(4).stderr_has("a-folder: cannot open");
    assert!(!ran.stderr.contains("item done"), "nothing ran");
    let missing = dir.join("typo.sqlite3");
    Ran::from(
        kuroko()
            .args(["report", "--month", "2024-04", "--ledger"])
            .arg(&missing)
            .output()
            .unwrap(),
    )
    .expect(USAGE)
    .stderr_has("no ledger at");
    assert!(!missing.exists(), "reading does not create a ledger");
}

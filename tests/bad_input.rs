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

#[test]
fn a_string_that_doubles_forever_is_stopped_at_the_memory_limit() {
    let dir = temp_dir("bad_memory");
    let s = scenario(
        &dir,
        "s",
        &format!("{MANIFEST}max_memory_mb = 64\n"),
        "let s = \"x\";\nloop { s += s; }\n",
    );
    run_scenario(&s, None, &[])
        .expect(1)
        .stderr_has("main.rhai:2:")
        .stderr_has("held more than 64 MB of memory");
}

#[test]
fn values_past_the_supported_ranges_are_errors_not_panics() {
    let dir = temp_dir("bad_ranges");
    // A report period far outside the calendar kuroko handles.
    for month in ["+262142-12", "0001-01", "9999-12"] {
        let ran = Ran::from(
            kuroko()
                .args(["report", "--month", month, "--ledger"])
                .arg(dir.join("none.sqlite3"))
                .output()
                .unwrap(),
        );
        ran.expect(2)
            .stderr_has("reports cover the years 1900 to 9998");
    }
    // Date arithmetic past the year 9999.
    let s = scenario(
        &dir,
        "days",
        MANIFEST,
        "let d = sheet::date(\"2024-01-01\");\nlet far = sheet::add_days(d, 9223372036854775807);\n",
    );
    run_scenario(&s, None, &[])
        .expect(1)
        .stderr_has("main.rhai:2:")
        .stderr_has("outside the dates kuroko handles (years 1868 to 9999)");
    // A timeout no clock can count to is refused by `check` and `run`, with its line.
    let t = scenario(
        &dir,
        "timeout",
        &format!("{MANIFEST}timeout_minutes = 1e300\n"),
        "task::item_done(1);\n",
    );
    for command in ["check", "run"] {
        let ran = Ran::from(kuroko().arg(command).arg(&t).output().unwrap());
        let said = format!("{}{}", ran.stdout, ran.stderr);
        assert!(
            said.contains(
                "scenario.toml:9:1: `timeout_minutes`: 1e300 must be more than 0 and at most 10080"
            ),
            "{command}: {said}"
        );
        assert_ne!(ran.code, 0, "{command}");
    }
}

#[test]
fn a_csv_with_a_hundred_thousand_columns_reads_in_one_pass() {
    // The duplicate-name check compared every column with every earlier one: 10k columns took
    // 0.6 s, 40k 5.6 s, 1M never ended.
    let dir = temp_dir("bad_wide_csv");
    let manifest = MANIFEST.replace("outputs = ", "inputs = [\"input\"]\noutputs = ");
    let s = scenario(
        &dir,
        "wide",
        &manifest,
        "let rows = sheet::read(\"input/wide.csv\");\nlog::info(`${rows[0].len()} columns`);\n",
    );
    std::fs::create_dir_all(s.join("input")).unwrap();
    let n = 100_000;
    let header: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
    let row: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    std::fs::write(
        s.join("input/wide.csv"),
        format!("{}\n{}\n", header.join(","), row.join(",")),
    )
    .unwrap();
    run_scenario(&s, None, &[])
        .expect(0)
        .stderr_has("100000 columns");
}

#[test]
fn scenario_files_in_another_encoding_are_named_with_a_hint_and_a_bom_is_fine() {
    let dir = temp_dir("bad_encoding");
    // Saved by メモ帳 as Shift_JIS: the name on line 2 is not UTF-8.
    let s = scenario(&dir, "sjis", MANIFEST, "task::item_done(1);\n");
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(MANIFEST);
    std::fs::write(s.join("scenario.toml"), &sjis).unwrap();
    for command in ["check", "run"] {
        let ran = Ran::from(kuroko().arg(command).arg(&s).output().unwrap());
        ran.expect(2)
            .stderr_has("scenario.toml:2: not UTF-8 (it looks like Shift_JIS); save it as UTF-8");
    }
    // A BOM (as Windows editors write) is not an error, in the manifest or the script.
    let bom = scenario(
        &dir,
        "bom",
        &format!("\u{feff}{MANIFEST}"),
        "\u{feff}log::info(\"ok\");\n",
    );
    run_scenario(&bom, None, &[]).expect(0);
    Ran::from(kuroko().arg("check").arg(&bom).output().unwrap()).expect(0);
    // A script too long to be one (data belongs in a sheet).
    let long = scenario(&dir, "long", MANIFEST, &"let a = 1;\n".repeat(10_001));
    run_scenario(&long, None, &[])
        .expect(2)
        .stderr_has("main.rhai:10001: the script has 10001 lines; a script is at most 10000 lines");
}

#[test]
fn an_endless_or_overlong_import_is_refused_and_nothing_is_imported() {
    let dir = temp_dir("bad_import_limits");
    let ledger = dir.join("ledger.sqlite3");
    let import = |file: &std::path::Path| {
        Ran::from(
            kuroko()
                .args(["ledger", "import"])
                .arg(file)
                .arg("--ledger")
                .arg(&ledger)
                .output()
                .unwrap(),
        )
    };
    // It used to read /dev/zero into memory until the machine gave out.
    import(std::path::Path::new("/dev/zero"))
        .expect(1)
        .stderr_has("larger than 64 MB");
    let header = "date,department,task,runs,items,before_minutes,after_minutes,robot_minutes\n";
    let long = dir.join("long.csv");
    std::fs::write(
        &long,
        format!("{header}2024-04-01,{},入力,1,1,5,1,1\n", "課".repeat(200)),
    )
    .unwrap();
    import(&long)
        .expect(1)
        .stderr_has("line 2, column department")
        .stderr_has("longer than 100 characters");
    let wide = dir.join("wide.csv");
    std::fs::write(&wide, format!("{header}{}\n", "x".repeat(1 << 20))).unwrap();
    import(&wide)
        .expect(1)
        .stderr_has("line 2: longer than 4096 characters");
    assert!(ledger_rows(&ledger).is_empty());
}

#[test]
fn a_failure_message_of_any_length_is_kept_short_in_the_ledger_and_the_report_still_writes() {
    let dir = temp_dir("bad_long_message");
    let s = scenario(
        &dir,
        "s",
        MANIFEST,
        "let reason = \"x\";\nreason.pad(100000, 'y');\ntask::item_failed(1, reason);\nfail(reason);\n",
    );
    run_scenario(&s, None, &[]).expect(1);
    let out = dir.join("report.xlsx");
    let month = chrono::Local::now().format("%Y-%m").to_string();
    Ran::from(
        kuroko()
            .args(["report", "--month", &month, "--out"])
            .arg(&out)
            .arg("--ledger")
            .arg(dir.join("ledger.sqlite3"))
            .output()
            .unwrap(),
    )
    .expect(0);
    assert!(out.is_file());
}

#[test]
fn doctor_without_a_display_says_so_with_the_environment_exit_code() {
    let ran = Ran::from(kuroko().arg("doctor").output().unwrap());
    ran.expect(4)
        .stdout_has("[NG]   デスクトップ: 接続できません: no X display")
        .stdout_has("結果: デスクトップに接続できません");
}

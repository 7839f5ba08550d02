//! The sandbox: no files outside the scenario's folders, no module loading, runaway scripts stopped.

use crate::support::*;

#[test]
fn a_script_cannot_load_files_as_modules() {
    let dir = temp_dir("sandbox_import");
    let s = scenario(&dir, "s", MANIFEST, "import \"/etc/passwd\" as p;\n");
    run_scenario(&s, None, &["--dry-run"])
        .expect(1)
        .stderr_has("main.rhai:1:8")
        .stderr_has("not allowed");
}

#[test]
fn a_script_cannot_write_outside_its_output_folders() {
    let dir = temp_dir("sandbox_write");
    let outside = dir.join("outside.png");
    for target in [
        outside.display().to_string(),
        "../outside.png".into(),
        "output/../../outside.png".into(),
        "main.rhai".into(),
    ] {
        let s = scenario(&dir, "s", MANIFEST, &format!("screen::save({target:?});\n"));
        run_scenario(&s, None, &["--dry-run"])
            .expect(1)
            .stderr_has("main.rhai:1:9")
            .stderr_has("is not allowed: scripts may write only inside");
        assert!(!outside.exists());
        assert_eq!(
            std::fs::read_to_string(s.join("main.rhai")).unwrap(),
            format!("screen::save({target:?});\n")
        );
    }
}

#[test]
fn without_declared_outputs_nothing_can_be_written() {
    let dir = temp_dir("sandbox_no_outputs");
    let manifest = MANIFEST.replace("outputs = [\"output\"]\n", "");
    let s = scenario(&dir, "s", &manifest, "screen::save(\"output/a.png\");\n");
    run_scenario(&s, None, &["--dry-run"])
        .expect(1)
        .stderr_has("declares no output folders");
}

#[test]
fn an_endless_loop_is_stopped_by_the_operation_limit() {
    let dir = temp_dir("sandbox_loop");
    let manifest = format!("{MANIFEST}max_operations = 200000\n");
    let s = scenario(&dir, "s", &manifest, "let i = 0;\nloop { i += 1; }\n");
    run_scenario(&s, None, &["--dry-run"])
        .expect(1)
        .stderr_has("more operations than allowed");
}

#[test]
fn a_run_past_its_timeout_is_stopped_and_failed() {
    let dir = temp_dir("sandbox_timeout");
    let manifest = format!("{MANIFEST}timeout_minutes = 0.01\n");
    // A busy loop (a dry run skips sleeps), so the timeout is what ends it.
    let s2 = scenario(
        &dir,
        "s2",
        &manifest,
        "let n = 0;\nwhile true { n += 1; if n % 1000 == 0 { print(\"\"); } }\n",
    );
    let started = std::time::Instant::now();
    run_scenario(&s2, None, &["--dry-run"])
        .expect(1)
        .stderr_has("longer than its timeout of 0.01 minute(s)");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

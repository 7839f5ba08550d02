//! The README's main job: the demo scenario enters five applications into the example intake
//! window, and the window's own record is the judge.

use std::process::Stdio;
use std::time::Duration;

use crate::support::*;

#[test]
fn the_demo_scenario_registers_every_application_exactly_once() {
    let x = Xvfb::start();
    let dir = temp_dir("demo");
    let registrations = dir.join("registrations.csv");
    let root = env!("CARGO_MANIFEST_DIR");
    let window = x
        .command("bash")
        .arg(format!("{root}/examples/intake-window.sh"))
        .arg(&registrations)
        .arg("5")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let ran = Ran::from(
        kuroko()
            .arg("run")
            .arg(format!("{root}/scenarios/demo-intake"))
            .arg("--runs-dir")
            .arg(dir.join("runs"))
            .arg("--ledger")
            .arg(dir.join("ledger.sqlite3"))
            .env("DISPLAY", &x.display)
            .output()
            .unwrap(),
    );
    ran.expect(0).stderr_has("5 item(s) done");
    // Attended: after = 5 items x 0.33 min + 1 min per run + the robot's own runtime.
    let events = std::fs::read_to_string(only_run_dir(&dir).join("events.jsonl")).unwrap();
    let finished: serde_json::Value = serde_json::from_str(events.lines().last().unwrap()).unwrap();
    let runtime_min = finished["duration_ms"].as_f64().unwrap() / 60_000.0;
    let saved = &finished["time_saved"];
    assert_eq!(saved["before_minutes"].as_f64().unwrap(), 15.0);
    assert!(
        (saved["after_minutes"].as_f64().unwrap() - (5.0 * 0.33 + 1.0 + runtime_min)).abs() < 1e-4
    );
    assert!((saved["saved_minutes"].as_f64().unwrap() - (15.0 - 2.65 - runtime_min)).abs() < 1e-4);
    let (code, _) = finish(window, Duration::from_secs(10));
    assert_eq!(code, Some(0));
    assert_eq!(
        std::fs::read_to_string(&registrations).unwrap(),
        "1,\"Sato Hanako\",\"1-2-3 Chuo, Fukaya-shi\"\n\
         2,\"Suzuki Ichiro\",\"45 Okabe, Fukaya-shi\"\n\
         3,\"Takahashi Yuki\",\"6-7 Hanazono, Fukaya-shi\"\n\
         4,\"Tanaka Kenji\",\"890 Kawamoto, Fukaya-shi\"\n\
         5,\"Watanabe Mai\",\"12-3 Nishijima-cho, Fukaya-shi\"\n"
    );
}

#[test]
fn every_saved_scenario_passes_check() {
    let root = env!("CARGO_MANIFEST_DIR");
    for entry in std::fs::read_dir(format!("{root}/scenarios")).unwrap() {
        let path = entry.unwrap().path();
        Ran::from(kuroko().arg("check").arg(&path).output().unwrap()).expect(0);
    }
}

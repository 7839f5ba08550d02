//! Stopping a run from the desk: the failsafe corner and the abort hotkey end a long scenario
//! quickly, with the "aborted" exit code, and leave no key or button held.

use std::io::Read;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

const ABORTED: i32 = 3;

/// Holds Shift and a mouse button, then types forever into a zenity entry.
const LONG: &str = r#"
window::wait("kuroko-long", 60);
window::activate("kuroko-long");
keyboard::key_down("Shift");
keyboard::key_down("Ctrl");
keyboard::key_up("Ctrl");
loop {
    keyboard::type_text("abcdefghijklmnopqrstuvwxyz");
    sleep(30);
}
"#;

fn start_long_run(x: &Xvfb, name: &str) -> (std::path::PathBuf, Child, Child) {
    let dir = temp_dir(name);
    let zenity = x.zenity(&["--entry", "--title=kuroko-long"]);
    let s = scenario(&dir, "s", MANIFEST, LONG);
    let mut child = kuroko()
        .arg("run")
        .arg(&s)
        .arg("--runs-dir")
        .arg(dir.join("runs"))
        .env("DISPLAY", &x.display)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until it is really typing.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let typing = std::fs::read_dir(dir.join("runs"))
            .ok()
            .and_then(|mut d| d.next())
            .and_then(|e| std::fs::read_to_string(e.ok()?.path().join("events.jsonl")).ok())
            .is_some_and(|events| events.matches("type \\\"abc").count() >= 3);
        if typing {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            let _ = child.stderr.take().unwrap().read_to_string(&mut err);
            panic!("the long scenario ended before it typed ({status}): {err}");
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let mut err = String::new();
            let _ = child.stderr.take().unwrap().read_to_string(&mut err);
            let events = std::fs::read_dir(dir.join("runs"))
                .ok()
                .and_then(|mut d| d.next())
                .and_then(|e| std::fs::read_to_string(e.ok()?.path().join("events.jsonl")).ok())
                .unwrap_or_default();
            panic!("the long scenario never started typing\nstderr: {err}\nevents: {events}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (dir, child, zenity)
}

/// Waits for the run to end; returns its exit code, stderr and how long it took after `since`.
fn wait_for_stop(mut child: Child, since: Instant) -> (i32, String, Duration) {
    let deadline = since + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let took = since.elapsed();
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            return (status.code().unwrap_or(-1), err, took);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the run did not stop within 10 s");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn finished_event(dir: &std::path::Path) -> serde_json::Value {
    let events = std::fs::read_to_string(only_run_dir(dir).join("events.jsonl")).unwrap();
    serde_json::from_str(events.lines().last().unwrap()).unwrap()
}

fn assert_stopped_cleanly(
    x: &Xvfb,
    dir: &std::path::Path,
    code: i32,
    stderr: &str,
    took: Duration,
    reason: &str,
) {
    assert_eq!(code, ABORTED, "{stderr}");
    assert!(stderr.contains(reason), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let finished = finished_event(dir);
    assert_eq!(finished["outcome"], "aborted");
    let latency = finished["stop_latency_ms"].as_u64().unwrap();
    assert!(
        latency < 200,
        "the engine took {latency} ms to stop after the request"
    );
    // Whole process, from the trigger to exit, including the X round trips: well under a second.
    assert!(took < Duration::from_millis(1000), "took {took:?} to stop");
    let (keys, buttons) = x.held();
    assert!(keys.is_empty(), "keys still held after the abort: {keys:?}");
    assert_eq!(buttons, 0, "mouse buttons still held");
    eprintln!("stopped in {took:?} (engine latency {latency} ms)");
}

#[test]
fn the_failsafe_corner_stops_a_long_run() {
    let x = Xvfb::start();
    let (dir, child, zenity) = start_long_run(&x, "x11_abort_corner");
    let t = Instant::now();
    x.xdotool(&["mousemove", "0", "0"]);
    let (code, stderr, took) = wait_for_stop(child, t);
    assert_stopped_cleanly(&x, &dir, code, &stderr, took, "failsafe");
    drop(zenity);
}

#[test]
fn the_abort_hotkey_stops_a_long_run() {
    let x = Xvfb::start();
    let (dir, child, _zenity) = start_long_run(&x, "x11_abort_hotkey");
    let t = Instant::now();
    x.xdotool(&["key", "shift+Escape"]);
    let (code, stderr, took) = wait_for_stop(child, t);
    assert_stopped_cleanly(&x, &dir, code, &stderr, took, "abort hotkey Shift+Escape");
}

#[test]
fn sigterm_from_a_launcher_stops_a_long_run() {
    let x = Xvfb::start();
    let (dir, child, _zenity) = start_long_run(&x, "x11_abort_signal");
    let t = Instant::now();
    let status = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let (code, stderr, took) = wait_for_stop(child, t);
    assert_stopped_cleanly(&x, &dir, code, &stderr, took, "termination signal");
}

#[test]
fn a_script_moving_into_a_corner_itself_does_not_trip_the_failsafe() {
    let x = Xvfb::start();
    let dir = temp_dir("x11_corner_by_script");
    let s = scenario(
        &dir,
        "s",
        MANIFEST,
        "mouse::move_to(600, 400);\nsleep(100);\nmouse::move_to(0, 0);\nsleep(300);\nmouse::move_to(600, 400);\n",
    );
    run_scenario(&s, Some(&x.display), &[]).expect(0);
}

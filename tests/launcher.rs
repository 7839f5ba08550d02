//! The launcher's run queue, on a private X server: runs are `kuroko run` processes, one at a
//! time; a second request waits and can be cancelled; Stop ends a sleeping run through the
//! abort path; a killed run shows as interrupted and the queue moves on.

use std::ffi::OsStr;
use std::path::Path;
use std::time::{Duration, Instant};

use kuroko::events::Trigger;
use kuroko::serve::launcher::{Launcher, LauncherConfig, RequestState};

use crate::support::postgres::{Store, TestLedger};
use crate::support::*;

crate::both_stores!(
    one_run_at_a_time_a_waiting_one_can_be_cancelled,
    stop_ends_a_sleeping_run_within_a_second_and_a_killed_run_is_interrupted,
);

fn launcher(dir: &Path, ledger: &TestLedger, x: &Xvfb) -> Launcher {
    Launcher::start(LauncherConfig {
        exe: env!("CARGO_BIN_EXE_kuroko").into(),
        ledger: ledger.address(),
        runs_dir: dir.join("runs"),
        env: vec![("DISPLAY".into(), x.display.clone())],
        grace: Duration::from_secs(5),
        stop_grace: Duration::from_secs(5),
        die_with_parent: false,
    })
}

fn wait_for_state(l: &Launcher, id: u64, mut ok: impl FnMut(&RequestState) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ok(&l.request(id).unwrap().state) {
        assert!(
            Instant::now() < deadline,
            "request {id}: {:?}",
            l.request(id)
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn ledger_outcomes(ledger: &OsStr) -> Vec<(String, String, String)> {
    ledger_rows(ledger)
        .into_iter()
        .map(|(id, outcome, _, _, trigger)| (id, outcome, trigger))
        .collect()
}

/// (scenario, outcome) of every run in the ledger, sorted.
fn sorted_outcomes(ledger: &OsStr) -> Vec<(String, String)> {
    let mut runs: Vec<(String, String)> = ledger_outcomes(ledger)
        .into_iter()
        .map(|(id, outcome, _)| (id, outcome))
        .collect();
    runs.sort();
    runs
}

fn sleeper(dir: &Path, id: &str, ms: u64) -> std::path::PathBuf {
    scenario(
        dir,
        id,
        &MANIFEST.replace("\"test\"", &format!("\"{id}\"")),
        &format!("task::item_done(1); task::item_done(2); sleep({ms});"),
    )
}

fn one_run_at_a_time_a_waiting_one_can_be_cancelled(store: Store) {
    let x = Xvfb::start();
    let dir = temp_dir(&format!("launcher_queue_{store:?}"));
    let ledger = TestLedger::new(store, &dir);
    let l = launcher(&dir, &ledger, &x);
    let a = l.submit(&sleeper(&dir, "first", 1500), vec![], Trigger::Launcher);
    let b = l.submit(&sleeper(&dir, "second", 0), vec![], Trigger::Scheduled);
    let c = l.submit(&sleeper(&dir, "third", 0), vec![], Trigger::Launcher);
    wait_for_state(&l, a, |s| matches!(s, RequestState::Running { .. }));
    assert_eq!(
        l.request(b).unwrap().state,
        RequestState::Queued,
        "not at once"
    );
    assert!(l.cancel(c));
    assert!(!l.cancel(a), "a running request is stopped, not cancelled");
    assert!(l.wait_idle(Duration::from_secs(60)));
    for id in [a, b] {
        assert_eq!(
            l.request(id).unwrap().state,
            RequestState::Finished {
                exit_code: Some(0),
                killed_after_timeout: false,
                killed_after_stop: false
            }
        );
    }
    assert_eq!(l.request(c).unwrap().state, RequestState::Cancelled);
    let mut runs = ledger_outcomes(ledger.arg());
    runs.sort();
    assert_eq!(
        runs,
        [
            ("first".into(), "succeeded".into(), "launcher".into()),
            ("second".into(), "succeeded".into(), "scheduled".into())
        ]
    );
}

fn stop_ends_a_sleeping_run_within_a_second_and_a_killed_run_is_interrupted(store: Store) {
    let x = Xvfb::start();
    let dir = temp_dir(&format!("launcher_stop_{store:?}"));
    let ledger = TestLedger::new(store, &dir);
    let l = launcher(&dir, &ledger, &x);
    let long = l.submit(&sleeper(&dir, "long", 60_000), vec![], Trigger::Launcher);
    let runs = l.request(long).unwrap().runs_dir;
    wait_for_state(&l, long, |s| matches!(s, RequestState::Running { .. }));
    wait_until("2 items", || count_events(&runs, "item_done") >= 2);
    let asked = Instant::now();
    assert!(l.stop(long));
    wait_for_state(&l, long, |s| matches!(s, RequestState::Finished { .. }));
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "{:?}",
        asked.elapsed()
    );
    assert_eq!(
        l.request(long).unwrap().state,
        RequestState::Finished {
            exit_code: Some(3),
            killed_after_timeout: false,
            killed_after_stop: false
        }
    );

    // Killed: interrupted in the ledger, and the next request runs.
    let doomed = l.submit(&sleeper(&dir, "doomed", 60_000), vec![], Trigger::Launcher);
    let next = l.submit(&sleeper(&dir, "next", 0), vec![], Trigger::Launcher);
    let doomed_runs = l.request(doomed).unwrap().runs_dir;
    wait_until("doomed's items", || {
        count_events(&doomed_runs, "item_done") >= 2
    });
    let RequestState::Running { pid } = l.request(doomed).unwrap().state else {
        panic!("not running")
    };
    signal(pid, "KILL");
    assert!(l.wait_idle(Duration::from_secs(30)));
    assert_eq!(
        l.request(next).unwrap().state,
        RequestState::Finished {
            exit_code: Some(0),
            killed_after_timeout: false,
            killed_after_stop: false
        }
    );
    let runs = sorted_outcomes(ledger.arg());
    let outcomes: Vec<(&str, &str)> = runs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(
        outcomes,
        [
            ("doomed", "interrupted"),
            ("long", "aborted"),
            ("next", "succeeded")
        ]
    );
}

#[test]
fn a_run_that_does_not_stop_when_asked_is_killed_and_the_queue_moves_on() {
    let dir = temp_dir("launcher_hung");
    // A stand-in for a hung run: a process that ignores SIGTERM.
    let hung = dir.join("hung.sh");
    std::fs::write(
        &hung,
        "#!/bin/sh\ntrap '' TERM\nwhile :; do sleep 0.05; done\n",
    )
    .unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&hung)
        .status()
        .unwrap();
    let l = Launcher::start(LauncherConfig {
        exe: hung,
        ledger: kuroko::ledger::Address::File(dir.join("ledger.sqlite3")),
        runs_dir: dir.join("runs"),
        env: vec![],
        grace: Duration::from_secs(5),
        stop_grace: Duration::from_millis(500),
        die_with_parent: false,
    });
    let a = l.submit(&sleeper(&dir, "stuck", 0), vec![], Trigger::Launcher);
    let b = l.submit(&sleeper(&dir, "after", 0), vec![], Trigger::Launcher);
    wait_for_state(&l, a, |s| matches!(s, RequestState::Running { .. }));
    std::thread::sleep(Duration::from_millis(200));
    let asked = Instant::now();
    assert!(l.stop(a));
    wait_for_state(&l, a, |s| matches!(s, RequestState::Finished { .. }));
    let took = asked.elapsed();
    assert!(
        (Duration::from_millis(500)..Duration::from_secs(3)).contains(&took),
        "{took:?}"
    );
    assert_eq!(
        l.request(a).unwrap().state,
        RequestState::Finished {
            exit_code: None,
            killed_after_timeout: false,
            killed_after_stop: true
        }
    );
    // The next request gets its turn (and is stopped the same way).
    wait_for_state(&l, b, |s| matches!(s, RequestState::Running { .. }));
    assert!(l.stop(b));
    assert!(l.wait_idle(Duration::from_secs(10)));
}

#[test]
fn two_kuroko_processes_never_drive_one_desktop_at_once() {
    let x = Xvfb::start();
    let dir = temp_dir("desktop_lock");
    let ledger = dir.join("ledger.sqlite3");
    let start = |id: &str, ms: u64| {
        let err = dir.join(format!("{id}.stderr"));
        // The desktop is taken at the script's first desktop call, and held to the end.
        let script = scenario(
            &dir,
            id,
            &MANIFEST.replace("\"test\"", &format!("\"{id}\"")),
            &format!("screen::size(); task::item_done(1); task::item_done(2); sleep({ms});"),
        );
        let child = kuroko()
            .arg("run")
            .arg(script)
            .arg("--runs-dir")
            .arg(dir.join(id))
            .arg("--ledger")
            .arg(&ledger)
            .env("DISPLAY", &x.display)
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .unwrap();
        (child, err)
    };
    let (mut first, _) = start("first", 60_000);
    wait_until("first's items", || {
        count_events(&dir.join("first"), "item_done") >= 2
    });
    let (mut second, second_err) = start("second", 0);
    let (mut third, third_err) = start("third", 0);
    wait_until("second says it waits", || {
        std::fs::read_to_string(&second_err)
            .unwrap_or_default()
            .contains("waiting for the desktop: another kuroko run is using it (pid")
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        count_events(&dir.join("second"), "item_done"),
        0,
        "second drove the desktop beside first"
    );
    // Stopped while waiting: the script went no further than its first desktop call.
    wait_until("third waits", || {
        std::fs::read_to_string(&third_err)
            .unwrap_or_default()
            .contains("waiting for the desktop")
    });
    signal(third.id(), "TERM");
    assert_eq!(third.wait().unwrap().code(), Some(3));
    assert!(
        std::fs::read_to_string(&third_err)
            .unwrap()
            .contains("stopped while waiting")
    );
    assert_eq!(count_events(&dir.join("third"), "item_done"), 0);
    // The first one leaves; the second gets the desktop and runs.
    signal(first.id(), "TERM");
    assert_eq!(first.wait().unwrap().code(), Some(3));
    assert_eq!(second.wait().unwrap().code(), Some(0));
    let runs = sorted_outcomes(ledger.as_os_str());
    let outcomes: Vec<(&str, &str)> = runs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(
        outcomes,
        [
            ("first", "aborted"),
            ("second", "succeeded"),
            ("third", "aborted")
        ]
    );
}

#[test]
fn a_launcher_that_runs_for_months_remembers_only_the_newest_ended_requests() {
    let dir = temp_dir("launcher_forget");
    let l = Launcher::start(LauncherConfig {
        exe: "/bin/true".into(),
        ledger: kuroko::ledger::Address::File(dir.join("ledger.sqlite3")),
        runs_dir: dir.join("runs"),
        env: vec![],
        grace: Duration::from_secs(5),
        stop_grace: Duration::from_secs(5),
        die_with_parent: false,
    });
    let scenario = sleeper(&dir, "often", 0);
    let ids: Vec<u64> = (0..230)
        .map(|_| l.submit(&scenario, vec![], Trigger::Scheduled))
        .collect();
    assert!(l.wait_idle(Duration::from_secs(120)));
    let last = l.submit(&scenario, vec![], Trigger::Scheduled);
    assert!(l.wait_idle(Duration::from_secs(10)));
    let kept = l.requests();
    assert!(kept.len() <= 201, "{}", kept.len());
    assert!(l.request(ids[0]).is_none(), "the oldest is forgotten");
    assert!(l.request(last).is_some());
}

#[test]
fn the_launchers_stop_file_stops_a_run_on_any_system() {
    let x = Xvfb::start();
    let dir = temp_dir("launcher_stop_file");
    let stop = dir.join("request-1.stop");
    let runs = dir.join("runs");
    let child = kuroko()
        .arg("run")
        .arg(sleeper(&dir, "filed", 60_000))
        .arg("--runs-dir")
        .arg(&runs)
        .arg("--ledger")
        .arg(dir.join("ledger.sqlite3"))
        .arg("--stop-file")
        .arg(&stop)
        .env("DISPLAY", &x.display)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until("2 items", || count_events(&runs, "item_done") >= 2);
    let asked = Instant::now();
    std::fs::write(&stop, "stop").unwrap();
    let (code, _) = finish(child, Duration::from_secs(10));
    assert_eq!(code, Some(3), "aborted");
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "{:?}",
        asked.elapsed()
    );
    assert!(events_so_far(&runs).contains("stopped from the launcher"));
    assert_eq!(
        ledger_outcomes(dir.join("ledger.sqlite3").as_os_str())[0].1,
        "aborted"
    );
}

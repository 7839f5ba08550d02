//! kuroko.exe on a Windows desktop, under Wine on a private Xvfb: typing into Win32 edit
//! controls (ASCII, named keys and hotkeys, 300 municipal strings), windows listed, waited for
//! and activated, a button found by its picture and clicked, the abort hotkey and the failsafe
//! corner, the Windows demo (60 applications into the Win32 受付システム, each exactly once,
//! also after kill -9), bad input that must fail clearly, and an agent killed with its run
//! (the run ends with it: a kill-on-close job).
//!
//! Run by scripts/test-windows.sh, which builds kuroko.exe and examples/win32-intake.rs for
//! Windows and sets KUROKO_EXE, KUROKO_INTAKE_EXE, KUROKO_WINE, WINEPREFIX and DISPLAY. The
//! tests share one Wine desktop, so they take turns.

#[path = "../support/mod.rs"]
#[allow(dead_code)]
mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use support::applications::{assert_each_exactly_once, prepared, registrations};
use support::http::Served;
use support::municipal::{municipal_strings, rhai_array};
use support::{MANIFEST, Ran, temp_dir, wait_until};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const ABORTED: i32 = 3;

/// One Wine desktop: one test at a time.
fn desktop() -> MutexGuard<'static, ()> {
    static DESKTOP: Mutex<()> = Mutex::new(());
    let guard = DESKTOP.lock().unwrap_or_else(|e| e.into_inner());
    // The pointer in the middle: Wine moves it back to where X has it, and a pointer X keeps
    // in a corner would look like the failsafe.
    xdotool(&["mousemove", "640", "400"]);
    guard
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run these tests through scripts/test-windows.sh")
    })
}

/// A Windows program under Wine, started in the repository (on Wine's drive Z:, so Linux
/// absolute paths work as arguments).
fn wine(exe: &str) -> Command {
    let mut cmd = Command::new(var("KUROKO_WINE"));
    cmd.arg(var(exe)).current_dir(ROOT);
    cmd
}

fn kuroko_exe() -> Command {
    let mut cmd = wine("KUROKO_EXE");
    cmd.env_remove("KUROKO_ABORT_HOTKEY");
    cmd
}

fn xdotool(args: &[&str]) {
    let ok = Command::new("xdotool")
        .args(args)
        .status()
        .unwrap()
        .success();
    assert!(ok, "xdotool {args:?} failed");
}

/// `kuroko.exe run <dir>` with the runs and the ledger beside the scenario.
fn run(dir: &Path, extra: &[&str]) -> Ran {
    Ran::from(
        run_command(dir, &dir.parent().unwrap().join("runs"), extra)
            .output()
            .unwrap(),
    )
}

fn run_command(dir: &Path, runs: &Path, extra: &[&str]) -> Command {
    let parent = dir.parent().unwrap();
    let mut cmd = kuroko_exe();
    cmd.arg("run")
        .arg(dir)
        .arg("--runs-dir")
        .arg(runs)
        .arg("--ledger")
        .arg(parent.join("ledger.sqlite3"))
        .args(extra);
    cmd
}

fn scenario(parent: &Path, script: &str) -> PathBuf {
    support::scenario(parent, "s", MANIFEST, script)
}

/// A Win32 program that closes when the test ends.
struct App(Child);

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts examples/win32-intake.rs with `args` and waits until its window is up.
fn intake(args: &[&str]) -> App {
    let mut child = wine("KUROKO_INTAKE_EXE")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(
        line.trim(),
        "ready",
        "the Win32 intake program did not start"
    );
    App(child)
}

/// The one-field window of win32-intake: every Enter writes a line to `out`.
fn lines_window(out: &Path, title: &str) -> App {
    intake(&["--lines", out.to_str().unwrap(), title])
}

fn lines(out: &Path) -> Vec<String> {
    std::fs::read_to_string(out)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Waits until `out` has `n` lines (the program writes them as Enter arrives).
fn wait_lines(out: &Path, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = lines(out);
        if got.len() >= n || Instant::now() > deadline {
            return got;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The one-field window wrote exactly `strings`, one per line, in order.
fn assert_lines_are(out: &Path, strings: &[String]) {
    let got = wait_lines(out, strings.len());
    let wrong: Vec<String> = strings
        .iter()
        .enumerate()
        .filter(|(i, want)| got.get(*i) != Some(want))
        .map(|(i, want)| format!("#{i}: entered {want:?}, got {:?}", got.get(i)))
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of {} differ:\n{}",
        wrong.len(),
        strings.len(),
        wrong.join("\n")
    );
    assert_eq!(got.len(), strings.len());
}

#[test]
fn ascii_named_keys_and_hotkeys_arrive_exactly_in_a_win32_edit_control() {
    let _desktop = desktop();
    let dir = temp_dir("win_ascii");
    let out = dir.join("lines.txt");
    let _app = lines_window(&out, "kuroko-ascii");
    let s = scenario(
        &dir,
        r#"window::wait("kuroko-ascii", 20);
window::activate("kuroko-ascii");
keyboard::type_text("Hello, Fukaya! 0123 ~`!@#$%^&*()_+-=[]{}|;':\",./<>? \\ end");
keyboard::press("Enter");
keyboard::type_text("abcdef");
keyboard::press("Left"); keyboard::press("Left"); keyboard::press("Left");
keyboard::type_text("X");
keyboard::press("Home");
keyboard::type_text("^");
keyboard::press("End");
keyboard::type_text("$");
keyboard::press("Enter");
keyboard::type_text("junk that is replaced");
keyboard::hotkey(["Ctrl", "a"]);
keyboard::type_text("replaced");
keyboard::press("Enter");
keyboard::type_text("abcd");
keyboard::press("Backspace");
keyboard::press("Enter");
keyboard::type_text("Tab\tand CAPS");
keyboard::press("Enter");
"#,
    );
    run(&s, &[]).expect(0);
    let got = wait_lines(&out, 5);
    assert_eq!(
        got,
        [
            "Hello, Fukaya! 0123 ~`!@#$%^&*()_+-=[]{}|;':\",./<>? \\ end",
            "^abcXdef$",
            "replaced",
            "abc",
            // Tab moves the focus, here back into the one field with its text selected (as
            // Windows does), so the text after it replaces "Tab".
            "and CAPS",
        ]
    );
}

#[test]
fn three_hundred_municipal_strings_arrive_exactly_each_verified() {
    let _desktop = desktop();
    let dir = temp_dir("win_japanese");
    let out = dir.join("lines.txt");
    let _app = lines_window(&out, "kuroko-ja");
    let strings = municipal_strings(300);
    let s = scenario(
        &dir,
        &format!(
            r#"window::wait("kuroko-ja", 20);
window::activate("kuroko-ja");
for s in {} {{
    keyboard::type_text(s, #{{ verify: true }});
    keyboard::press("Enter");
}}
"#,
            rhai_array(&strings)
        ),
    );
    let ran = run(&s, &[]);
    ran.expect(0);
    assert_lines_are(&out, &strings);
}

#[test]
fn text_pasted_through_the_clipboard_arrives_and_the_clerks_clipboard_is_put_back() {
    let _desktop = desktop();
    let dir = temp_dir("win_paste");
    let out = dir.join("lines.txt");
    let _app = lines_window(&out, "kuroko-paste");
    let s = scenario(
        &dir,
        r#"window::wait("kuroko-paste", 20);
window::activate("kuroko-paste");
keyboard::type_text("課長の控え 髙橋");
keyboard::hotkey(["Ctrl", "a"]);
keyboard::hotkey(["Ctrl", "c"]);
sleep(300);
keyboard::press("Delete");
keyboard::type_text("深谷市仲町１１－１ 𠮷野家 ｶﾞｯｺｳ", #{ method: "paste" });
keyboard::press("Enter");
keyboard::hotkey(["Ctrl", "v"]);
keyboard::press("Enter");
"#,
    );
    run(&s, &[]).expect(0);
    assert_eq!(
        wait_lines(&out, 2),
        ["深谷市仲町１１－１ 𠮷野家 ｶﾞｯｺｳ", "課長の控え 髙橋"]
    );
}

#[test]
fn windows_are_waited_for_listed_and_activated_and_a_button_is_clicked_by_its_picture() {
    let _desktop = desktop();
    let dir = temp_dir("win_windows");
    let file = dir.join("registrations.jsonl");
    let s = scenario(
        &dir,
        r#"let w = window::wait("受付システム", 30);
let titles = window::list().map(|w| w.title);
if !titles.contains("受付システム — 住民票交付申請") { fail(`not listed: ${titles}`); }
window::activate("kuroko-other");
window::activate("受付システム");
screen::click_image("images/新規.png", #{ timeout_s: 10 });
keyboard::type_text("W-0001", #{ verify: true });
log::info(`window at ${w.x},${w.y} ${w.w}x${w.h}`);
"#,
    );
    for image in ["新規.png"] {
        std::fs::copy(
            Path::new(ROOT)
                .join("scenarios/juminhyo-win/images")
                .join(image),
            s.join("images").join(image),
        )
        .unwrap();
    }
    let _other = lines_window(&dir.join("other.txt"), "kuroko-other");
    // The run starts before the window it waits for.
    let run = run_command(&s, &dir.join("runs"), &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let _app = intake(&[file.to_str().unwrap()]);
    let ran = Ran::from(run.wait_with_output().unwrap());
    ran.expect(0).stderr_has("window at ").stderr_has("640x380");
}

/// Holds Shift, then types into the one-field window until stopped.
const LONG: &str = r#"
window::wait("kuroko-long", 20);
window::activate("kuroko-long");
mouse::move_to(400, 100);
keyboard::key_down("Shift");
keyboard::key_down("Ctrl");
keyboard::key_up("Ctrl");
loop {
    keyboard::type_text("abcdefghijklmnopqrstuvwxyz");
    sleep(30);
}
"#;

/// Starts the long run and waits until it is typing.
fn start_long_run(name: &str) -> (PathBuf, PathBuf, Child, App) {
    let dir = temp_dir(name);
    let out = dir.join("lines.txt");
    let app = lines_window(&out, "kuroko-long");
    let s = scenario(&dir, LONG);
    let runs = dir.join("runs");
    let child = run_command(&s, &runs, &[])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("the long run types", || {
        support::events_so_far(&runs)
            .matches("type \\\"abc")
            .count()
            >= 3
    });
    (dir, out, child, app)
}

/// Waits for the run's `finished` event; returns the time from `since`, the exit code, stderr
/// and the engine's own stop latency.
fn wait_stopped(runs: &Path, child: Child, since: Instant) -> (Duration, i32, String, u64) {
    let deadline = since + Duration::from_secs(10);
    let events = || {
        std::fs::read_dir(runs)
            .ok()
            .and_then(|mut d| d.next())
            .and_then(|e| std::fs::read_to_string(e.ok()?.path().join("events.jsonl")).ok())
            .unwrap_or_default()
    };
    let took = loop {
        if events().contains("\"event\":\"finished\"") {
            break since.elapsed();
        }
        assert!(
            Instant::now() < deadline,
            "the run did not stop within 10 s"
        );
        std::thread::sleep(Duration::from_millis(2));
    };
    let out = child.wait_with_output().unwrap();
    let finished: serde_json::Value = serde_json::from_str(
        events()
            .lines()
            .find(|l| l.contains("\"event\":\"finished\""))
            .unwrap(),
    )
    .unwrap();
    (
        took,
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        finished["stop_latency_ms"].as_u64().unwrap_or(u64::MAX),
    )
}

/// The run ended as aborted, quickly, and Windows sees no key held afterwards.
fn assert_stopped(out: &Path, took: Duration, code: i32, stderr: &str, latency: u64, by: &str) {
    assert_eq!(code, ABORTED, "{stderr}");
    assert!(stderr.contains(by), "{stderr}");
    assert!(
        latency < 200,
        "the engine took {latency} ms to stop after the request"
    );
    assert!(
        took < Duration::from_millis(1000),
        "{took:?} from the trigger to the finished run"
    );
    eprintln!("stopped {took:?} after the trigger (engine latency {latency} ms)");
    // Escape makes the window write the keys Windows still sees held. (With no window manager
    // X sends keys to the window under the pointer.)
    let before = lines(out).len();
    xdotool(&["mousemove", "400", "100"]);
    xdotool(&["key", "Escape"]);
    let got = wait_lines(out, before + 1);
    let held = got.last().unwrap();
    assert_eq!(held, "held:", "keys left held after the stop");
}

#[test]
fn the_abort_hotkey_stops_a_long_run_quickly_and_leaves_no_key_held() {
    let _desktop = desktop();
    let (dir, out, child, _app) = start_long_run("win_abort_hotkey");
    // With no window manager X sends keys to the window under the pointer.
    xdotool(&["mousemove", "400", "100"]);
    let t = Instant::now();
    xdotool(&["key", "shift+Escape"]);
    let (took, code, stderr, latency) = wait_stopped(&dir.join("runs"), child, t);
    assert_stopped(
        &out,
        took,
        code,
        &stderr,
        latency,
        "abort hotkey Shift+Escape",
    );
}

#[test]
fn the_failsafe_corner_stops_a_long_run_quickly_and_leaves_no_key_held() {
    let _desktop = desktop();
    let (dir, out, child, _app) = start_long_run("win_abort_corner");
    let t = Instant::now();
    xdotool(&["mousemove", "0", "0"]);
    let (took, code, stderr, latency) = wait_stopped(&dir.join("runs"), child, t);
    assert_stopped(&out, took, code, &stderr, latency, "failsafe");
}

#[test]
fn a_missing_window_and_a_region_off_the_screen_fail_clearly_at_their_line() {
    let _desktop = desktop();
    let dir = temp_dir("win_bad_input");
    let s = scenario(&dir, "window::activate(\"存在しない画面\");\n");
    run(&s, &[])
        .expect(1)
        .stderr_has("main.rhai:1:")
        .stderr_has("存在しない画面");
    std::fs::write(
        s.join("main.rhai"),
        "let size = screen::size();\nscreen::find(\"images/x.png\", #{ region: [size.width - 10, 0, 200, 200] });\n",
    )
    .unwrap();
    image::RgbaImage::from_pixel(8, 8, image::Rgba([1, 2, 3, 255]))
        .save(s.join("images/x.png"))
        .unwrap();
    let ran = run(&s, &[]);
    ran.expect(1).stderr_has("main.rhai:2:");
    assert!(!ran.stderr.contains("panicked"), "{}", ran.stderr);
}

#[test]
fn doctor_types_the_probe_into_its_own_window_and_reads_it_back() {
    let _desktop = desktop();
    let ran = Ran::from(kuroko_exe().arg("doctor").output().unwrap());
    ran.expect(0)
        .stdout_has("[OK]   画面: 1280×800")
        .stdout_has("[OK]   入力と読み取り: 自分のウィンドウに「髙橋 𠮷野家 ｶﾞｯｺｳ」を入力し、同じ文字を読み返しました。画面にも映っています")
        .stdout_has("[OK]   表示の拡大率: 100%")
        .stdout_has("結果: すべての確認を通りました");
}

#[test]
fn the_launcher_of_kuroko_exe_is_reached_from_linux_runs_stops_and_keeps_its_history() {
    let _desktop = desktop();
    let dir = temp_dir("win_serve");
    let scenarios = dir.join("scenarios");
    support::scenario(
        &scenarios,
        "jukyo",
        &MANIFEST
            .replace("\"test\"", "\"jukyo\"")
            .replace("テスト", "住居確認"),
        "task::set_total(3);\nfor i in 0..3 { sleep(100); task::item_done(i); }\n",
    );
    support::scenario(
        &scenarios,
        "nagai",
        &MANIFEST
            .replace("\"test\"", "\"nagai\"")
            .replace("テスト", "長い処理"),
        "task::set_total(200);\nfor i in 0..200 { sleep(300); task::item_done(i); }\n",
    );
    let served = Served::start_program(
        kuroko_exe(),
        &dir,
        dir.join("ledger.sqlite3").into_os_string(),
        &[],
    );
    // The page, from Linux, on 127.0.0.1.
    let page = served.get("/");
    assert_eq!(page.status, 200);
    assert!(
        page.text().contains("住居確認")
            || served.get("/api/scenarios").text().contains("住居確認")
    );

    let quick = served.post("/api/scenarios/jukyo/run", "{}").json()["request_id"]
        .as_u64()
        .unwrap();
    let done = served.wait_json(&format!("/api/requests/{quick}"), "jukyo finished", |r| {
        r["state"] == "finished"
    });
    assert_eq!(done["outcome"], "succeeded", "{done}");
    assert_eq!(done["progress"]["items_done"], 3);

    // 停止: the stop file reaches the run; aborted in the ledger.
    let long = served.post("/api/scenarios/nagai/run", "{}").json()["request_id"]
        .as_u64()
        .unwrap();
    served.wait_json(&format!("/api/requests/{long}"), "2 items done", |r| {
        r["state"] == "running" && r["progress"]["items_done"].as_u64() >= Some(2)
    });
    let asked = Instant::now();
    assert_eq!(
        served
            .post(&format!("/api/requests/{long}/stop"), "")
            .status,
        200
    );
    let stopped = served.wait_json(&format!("/api/requests/{long}"), "finished", |r| {
        r["state"] == "finished"
    });
    eprintln!("stop requested → finished: {:?}", asked.elapsed());
    assert_eq!(stopped["outcome"], "aborted", "{stopped}");
    assert!(
        asked.elapsed() < Duration::from_secs(3),
        "{:?}",
        asked.elapsed()
    );

    // History: both runs, with their outcomes, and the run log served.
    let history = served.get("/api/history").json();
    let rows = history.as_array().unwrap();
    let outcome = |id: &str| {
        rows.iter()
            .find(|r| r["scenario_id"] == id)
            .map(|r| r["state"].as_str().unwrap_or("").to_string())
    };
    assert_eq!(outcome("jukyo").as_deref(), Some("succeeded"), "{history}");
    assert_eq!(outcome("nagai").as_deref(), Some("aborted"), "{history}");
    let run_id = rows.iter().find(|r| r["scenario_id"] == "jukyo").unwrap()["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    let log = served.get(&format!("/api/runs/{run_id}/files/run.log"));
    assert_eq!(log.status, 200);
    assert!(log.text().contains("succeeded"), "{}", log.text());
}

#[test]
fn a_clerk_runs_and_stops_scenarios_of_kuroko_exe_from_the_page_in_chromium() {
    let _desktop = desktop();
    let dir = temp_dir("win_serve_browser");
    let scenarios = dir.join("scenarios");
    support::scenario(
        &scenarios,
        "jukyo",
        &MANIFEST
            .replace("\"test\"", "\"jukyo\"")
            .replace("テスト", "住所変更の入力"),
        "let size = screen::size();\ntask::set_total(3);\nfor i in 0..3 { sleep(200); task::item_done(i); }\n",
    );
    support::scenario(
        &scenarios,
        "nagai",
        &MANIFEST
            .replace("\"test\"", "\"nagai\"")
            .replace("テスト", "転入届の一括入力"),
        "task::set_total(300);\nfor i in 0..300 { sleep(300); task::item_done(i); }\n",
    );
    let s = Served::start_program(
        kuroko_exe(),
        &dir,
        dir.join("ledger.sqlite3").into_os_string(),
        &[],
    );
    let b = support::webdriver::Browser::start(&dir);
    b.goto(&s.url);
    b.wait_text(r#"article[data-scenario="jukyo"] h3"#, 30, |t| {
        t == "住所変更の入力"
    });
    b.click(r#"button.run[data-scenario="jukyo"]"#);
    b.wait_text("#run-state", 60, |t| t == "成功");
    assert_eq!(b.text("#run-done"), "3");
    b.wait_text(r#"#history tr[data-state="succeeded"]"#, 30, |t| {
        t.contains("住所変更の入力")
    });

    b.click(r#"button.run[data-scenario="nagai"]"#);
    b.wait_text("#run-name", 30, |t| t == "転入届の一括入力");
    b.wait_text("#run-state", 30, |t| t == "実行中");
    b.wait_text("#run-done", 60, |t| t.parse::<u32>().is_ok_and(|n| n >= 2));
    let asked = Instant::now();
    b.click("#stop");
    b.wait_text("#run-state", 10, |t| t == "停止しました");
    eprintln!(
        "停止 clicked → 停止しました on the page: {:?}",
        asked.elapsed()
    );
    b.wait_text(r#"#history tr[data-state="aborted"]"#, 30, |t| {
        t.contains("転入届の一括入力")
    });
    assert_eq!(b.text("#connection"), "", "the page showed an error");
}

// ---- The Windows demo: scenarios/juminhyo-win and the Win32 受付システム ----

#[test]
fn the_windows_demo_enters_sixty_applications_each_exactly_once_also_after_kill_9() {
    let _desktop = desktop();
    let dir = temp_dir("win_demo");
    let scenario = prepared(&dir, "juminhyo-win", 60);
    let file = dir.join("registrations.jsonl");
    let _app = intake(&[file.to_str().unwrap(), "--save-delay", "0.15"]);

    // kill -9 once the system has saved the 5th application: kuroko has pressed 登録 and
    // recorded the item as started, and most likely not yet seen 登録しました.
    let runs = dir.join("runs-first");
    let mut first = run_command(&scenario, &runs, &[])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("5 registrations", || registrations(&file).len() >= 5);
    first.kill().unwrap();
    first.wait().unwrap();
    let before = registrations(&file).len();
    assert!((5..60).contains(&before), "{before}");

    let started = Instant::now();
    let again = run(&scenario, &[]);
    let took = started.elapsed();
    again.expect(0).stderr_has("（全 60 件）");
    assert_each_exactly_once(&file, &scenario);
    eprintln!(
        "the second run entered {} applications in {took:?}",
        60 - before
    );

    // Recorded in the ledger: the first run interrupted, the second succeeded; 60 items done.
    let export = Ran::from(
        support::kuroko()
            .args(["ledger", "export", "--ledger"])
            .arg(dir.join("ledger.sqlite3"))
            .output()
            .unwrap(),
    );
    export.expect(0);
    let rows: Vec<&str> = export
        .stdout
        .lines()
        .filter(|l| l.contains("juminhyo-win"))
        .collect();
    assert_eq!(rows.len(), 2, "{}", export.stdout);
    assert!(
        rows.iter().any(|r| r.contains("succeeded")),
        "{}",
        export.stdout
    );
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    let items = Ran::from(
        support::kuroko()
            .args(["report", "--format", "csv", "--ledger"])
            .arg(dir.join("ledger.sqlite3"))
            .args(["--from", &today, "--to", &today, "--out"])
            .arg(dir.join("report.csv"))
            .output()
            .unwrap(),
    );
    items.expect(0);
    let csv = std::fs::read_to_string(dir.join("report.csv")).unwrap();
    let total: Vec<&str> = csv.lines().last().unwrap().split(',').collect();
    assert_eq!(total[8], "60", "{csv}");
}

/// The item a Windows agent's run holds, and that run, from the ledger file.
fn held(ledger: &Path) -> Option<(String, String)> {
    let store =
        kuroko::ledger::open_existing(&kuroko::ledger::Address::File(ledger.into())).ok()??;
    let items = store
        .queue_items("転入届", Some(kuroko::ledger::QueueState::InProgress), 10)
        .ok()?;
    let item = items.into_iter().next()?;
    Some((item.key, item.run_id?))
}

#[test]
fn a_killed_agent_takes_its_run_with_it_and_the_item_in_hand_is_set_aside() {
    let dir = temp_dir("win_agent_killed");
    let ledger = dir.join("ledger.sqlite3");
    let folder = dir.join("scenarios");
    let manifest = MANIFEST.replace("\"test\"", "\"tennyu\"") + "\n[queue]\nname = \"転入届\"\n";
    support::scenario(
        &folder,
        "tennyu",
        &manifest,
        "loop {\n    let item = queue::next();\n    if item == () { break; }\n    \
         if item.key == \"R6-00001\" { sleep(120000); }\n    queue::done(item);\n}\n",
    );
    std::fs::write(
        dir.join("items.csv"),
        "受付番号,氏名\nR6-00001,髙橋 花子\nR6-00002,山田 太郎\n",
    )
    .unwrap();
    Ran::from(
        support::kuroko()
            .args(["queue", "add", "転入届"])
            .arg(dir.join("items.csv"))
            .args(["--key", "受付番号", "--ledger"])
            .arg(&ledger)
            .output()
            .unwrap(),
    )
    .expect(0);
    let mut agent = kuroko_exe()
        .arg("agent")
        .arg("--scenarios")
        .arg(&folder)
        .args(["--name", "win-robot", "--poll", "0.2", "--runs-dir"])
        .arg(dir.join("runs"))
        .arg("--ledger")
        .arg(&ledger)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.join("agent.out")).unwrap())
        .stderr(std::fs::File::create(dir.join("agent.err")).unwrap())
        .spawn()
        .unwrap();
    let mut holding = None;
    wait_until("the agent's run holding the slow item", || {
        std::thread::sleep(Duration::from_millis(200));
        holding = held(&ledger);
        holding.is_some()
    });
    let (key, run_id) = holding.unwrap();
    assert_eq!(key, "R6-00001");
    // The robot is registered, running that run.
    let store = kuroko::ledger::open(&kuroko::ledger::Address::File(ledger.clone())).unwrap();
    let machines = store.machines().unwrap();
    assert_eq!(machines.len(), 1, "{machines:?}");
    assert_eq!(machines[0].name, "win-robot");
    assert_eq!(machines[0].os, "windows");
    assert_eq!(machines[0].status, "running", "{machines:?}");
    assert_eq!(
        machines[0].run.as_ref().map(|r| r.run_id.as_str()),
        Some(run_id.as_str())
    );
    drop(store);

    // kill -9 of the agent: its job closes, and the run in it ends too. A kuroko.exe of the
    // same machine then finds the run's process gone: interrupted, its item set aside.
    agent.kill().unwrap();
    agent.wait().unwrap();
    let mut state = String::new();
    wait_until("the run to be found dead", || {
        let looked = Ran::from(
            kuroko_exe()
                .env("KUROKO_MACHINE", "win-robot")
                .args(["ledger", "list", "--ledger"])
                .arg(&ledger)
                .output()
                .unwrap(),
        );
        assert_eq!(looked.code, 0, "{}", looked.stderr);
        let store = kuroko::ledger::open(&kuroko::ledger::Address::File(ledger.clone())).unwrap();
        state = store
            .queue_items("転入届", None, 10)
            .unwrap()
            .into_iter()
            .find(|i| i.key == "R6-00001")
            .map(|i| i.state.as_str().to_string())
            .unwrap_or_default();
        state == "abandoned"
    });
    let store = kuroko::ledger::open(&kuroko::ledger::Address::File(ledger.clone())).unwrap();
    let second = store
        .queue_items("転入届", None, 10)
        .unwrap()
        .into_iter()
        .find(|i| i.key == "R6-00002")
        .unwrap();
    assert_eq!(
        second.state.as_str(),
        "new",
        "the dead run took no more items"
    );
}

#[test]
fn ui_finds_win32_controls_by_role_and_label_sets_300_strings_exactly_and_clicks_by_name() {
    let _desktop = desktop();
    let dir = temp_dir("win_ui");
    // 300 municipal strings set into a Win32 EDIT by WM_SETTEXT, read back, and entered with
    // Enter: the program itself writes what its field held.
    let out = dir.join("lines.txt");
    let _lines = lines_window(&out, "kuroko-ui");
    let strings = municipal_strings(300);
    let s = scenario(
        &dir,
        &format!(
            r#"window::wait("kuroko-ui", 20);
let field = #{{ window: "kuroko-ui", role: "text" }};
ui::click(field);
for s in {} {{
    ui::set_text(field, s);
    if ui::get_text(field) != s {{ fail(`read back ${{ui::get_text(field)}}, not ${{s}}`); }}
    keyboard::press("Enter");
}}
"#,
            rhai_array(&strings)
        ),
    );
    run(&s, &[]).expect(0);
    assert_lines_are(&out, &strings);

    // The 受付システム: fields found right of their labels, buttons by name, the status label
    // waited for; one registration, exactly as set.
    let file = dir.join("registrations.jsonl");
    let _app = intake(&[file.to_str().unwrap()]);
    let form = scenario(
        &dir.join("form"),
        r#"let w = "受付システム";
ui::click(#{ window: w, role: "button", name: "新規" });
ui::set_text(#{ window: w, role: "text", right_of: "受付番号" }, "UI-0001");
ui::set_text(#{ window: w, role: "text", name: "氏名" }, "髙橋 𠮷男");
ui::set_text(#{ window: w, role: "text", right_of: "フリガナ" }, "ﾀｶﾊｼ ﾖｼｵ");
ui::set_text(#{ window: w, role: "text", right_of: "生年月日" }, "S50/01/02");
ui::set_text(#{ window: w, role: "text", near: "住所" }, "深谷市仲町１１－１");
let b = ui::find(#{ window: w, role: "button", name: "登録" });
log::info(`登録 at ${b.cx},${b.cy} ${b.w}x${b.h}`);
ui::click(#{ window: w, role: "button", name: "登録" });
ui::wait(#{ window: w, role: "label", name: "登録しました" }, #{ timeout_s: 20 });
if ui::exists(#{ window: w, role: "label", name: "登録中…" }) { fail("still saving"); }
log::info(`status: ${ui::get_text(#{ window: w, role: "label", name_contains: "登録" })}`);
"#,
    );
    run(&form, &[])
        .expect(0)
        .stderr_has("登録 at ")
        .stderr_has("status: 登録しました");
    let rows = registrations(&file);
    assert_eq!(rows.len(), 1, "{rows:?}");
    for (k, v) in [
        ("受付番号", "UI-0001"),
        ("氏名", "髙橋 𠮷男"),
        ("フリガナ", "ﾀｶﾊｼ ﾖｼｵ"),
        ("生年月日", "S50/01/02"),
        ("住所", "深谷市仲町１１－１"),
    ] {
        assert_eq!(rows[0][k], v, "{k}");
    }

    // A missing control names the nearest; an ambiguous one lists the matches; both at their
    // line, after no wait for the ambiguous one.
    let missing = scenario(
        &dir.join("missing"),
        "let w = \"受付システム\";\nui::click(#{ window: w, role: \"button\", name: \"登緑\", timeout_s: 1 });\n",
    );
    run(&missing, &[])
        .expect(1)
        .stderr_has("main.rhai:2:")
        .stderr_has("found nothing within 1 s (Win32 controls); nearest: button \"登録\"");
    let ambiguous = scenario(
        &dir.join("ambiguous"),
        "ui::get_text(#{ window: \"受付システム\", role: \"text\" });\n",
    );
    run(&ambiguous, &[])
        .expect(1)
        .stderr_has("main.rhai:1:")
        .stderr_has("matches 6 controls")
        .stderr_has("add index");
}

/// The centre of the first control `kuroko.exe inspect --window` lists whose line starts with
/// `prefix`.
fn inspected(window: &str, prefix: &str) -> (u32, u32) {
    support::inspected_control(
        &format!("{prefix} in {window}"),
        || {
            kuroko_exe()
                .args(["inspect", "--window", window])
                .output()
                .unwrap()
        },
        |lines| lines[0].starts_with(prefix),
    )
}

/// X windows named `name` (the indicator is a Wine window like any other).
fn x_windows_named(name: &str) -> usize {
    let out = Command::new("xdotool")
        .args(["search", "--name", name])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).lines().count()
}

/// What the fields of the 受付システム hold, as `kuroko.exe inspect` shows them.
fn field_texts(window: &str) -> Vec<String> {
    let out = kuroko_exe()
        .args(["inspect", "--window", window])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("  text \""))
        .map(|l| l.trim().to_string())
        .collect()
}

#[test]
fn clicks_and_typed_words_in_a_win32_window_are_recorded_by_the_hooks_and_replay_exactly() {
    let _desktop = desktop();
    let dir = temp_dir("win_record");
    let app = intake(&[dir.join("recorded.jsonl").to_str().unwrap()]);
    let w = "受付システム";
    let new = inspected(w, "button \"新規\"");
    let number = inspected(w, "text \"受付番号\"");
    let name = inspected(w, "text \"氏名\"");
    let address = inspected(w, "text \"住所\"");
    let scenario = dir.join("rec");
    let err = dir.join("record.err");
    let mut recorder = kuroko_exe()
        .arg("record")
        .arg(&scenario)
        .args(["--department", "市民課", "--task", "受付入力"])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    wait_until("the recorder to start", || {
        std::fs::read_to_string(&err)
            .unwrap_or_default()
            .contains("記録中")
    });
    assert_eq!(
        x_windows_named("kuroko 記録中"),
        1,
        "no recording indicator"
    );
    let click = |(x, y): (u32, u32)| {
        xdotool(&["mousemove", &x.to_string(), &y.to_string(), "click", "1"]);
        std::thread::sleep(Duration::from_millis(400));
    };
    // ASCII only: xdotool's remapped non-ASCII keys are unreliable under Wine.
    let type_word = |text: &str| {
        xdotool(&["type", "--delay", "40", text]);
        std::thread::sleep(Duration::from_millis(400));
    };
    click(new);
    click(number);
    type_word("R7-0042");
    click(name);
    type_word("Takahashi Yoshio");
    click(address);
    type_word("Fukaya 11-1");
    let entered = field_texts(w);
    assert!(
        entered.contains(&"text \"Takahashi Yoshio\"".to_string()),
        "{entered:?}"
    );
    // The pointer is still over the window, which therefore has the keys.
    xdotool(&["key", "shift+Escape"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while recorder.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = recorder.kill();
    let out = recorder.wait_with_output().unwrap();
    let stderr = std::fs::read_to_string(&err).unwrap_or_default();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("ok: "),
        "{stderr}"
    );
    assert_eq!(x_windows_named("kuroko 記録中"), 0, "the indicator stayed");
    let script = std::fs::read_to_string(scenario.join("main.rhai")).unwrap();
    assert!(!script.contains("sleep"), "{script}");
    for want in [
        "// 1. 新規 をクリック",
        "role: \"button\", name: \"新規\"});",
        "role: \"text\", name: \"受付番号\"}, \"R7-0042\");",
        "role: \"text\", name: \"氏名\"}, \"Takahashi Yoshio\");",
        "role: \"text\", name: \"住所\"}, \"Fukaya 11-1\");",
    ] {
        assert!(script.contains(want), "{want} not in\n{script}");
    }
    drop(app);

    // Replayed against a fresh instance: the fields hold what was typed, exactly.
    let _fresh = intake(&[dir.join("replayed.jsonl").to_str().unwrap()]);
    run(&scenario, &[]).expect(0);
    assert_eq!(field_texts(w), entered);
}

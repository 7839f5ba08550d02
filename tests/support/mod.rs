//! Test helpers: run the kuroko binary, make scenario folders, start a private Xvfb, start
//! zenity dialogs, and ask the X server which keys and buttons are held.

#![allow(dead_code)]

pub mod applications;
pub mod fukaya;
pub mod http;
pub mod ime;
pub mod municipal;
pub mod postgres;
pub mod web_intake;
pub mod webdriver;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// What a finished kuroko process said.
#[derive(Debug)]
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    pub fn from(output: Output) -> Ran {
        Ran {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts the exit code and that nothing panicked, showing everything on failure.
    pub fn expect(&self, code: i32) -> &Ran {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        assert!(
            !self.stderr.contains("panicked"),
            "kuroko panicked:\n{}",
            self.stderr
        );
        self
    }

    pub fn stderr_has(&self, text: &str) -> &Ran {
        assert!(
            self.stderr.contains(text),
            "stderr lacks {text:?}:\n{}",
            self.stderr
        );
        self
    }

    pub fn stdout_has(&self, text: &str) -> &Ran {
        assert!(
            self.stdout.contains(text),
            "stdout lacks {text:?}:\n{}",
            self.stdout
        );
        self
    }
}

/// Keeps a program away from the session bus the tests were started with. GTK, Qt and Chromium
/// ask it questions at start, and a bus that does not answer holds each back 25 s per question
/// (a zenity window 96 s, Chromium past the tests' 60 s). Tests that need a bus start their own
/// ([`SessionBus`]).
pub fn without_session_bus(cmd: &mut Command) -> &mut Command {
    cmd.env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("AT_SPI_BUS_ADDRESS")
        .env("NO_AT_BRIDGE", "1")
}

pub fn kuroko() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kuroko"));
    cmd.env_remove("DISPLAY")
        // Never the developer's desktop session: ui:: would see its windows.
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("AT_SPI_BUS_ADDRESS")
        .env_remove("KUROKO_ABORT_HOTKEY")
        .env_remove("KUROKO_CAPTURE")
        // Never the user's own ledger; tests that look at the ledger pass their own.
        .env(
            "KUROKO_LEDGER",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("shared-ledger.sqlite3"),
        )
        // Never the user's own key for secrets (agents make one at their first start); tests
        // of secrets give each robot its own.
        .env(
            "KUROKO_IDENTITY",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("identity.txt"),
        );
    cmd
}

/// A fresh, empty folder for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub const MANIFEST: &str = r#"id = "test"
name = "テスト"
department = "情報政策課"
task = "試験"
manual_minutes_per_item = 2.0
human_minutes_per_item = 0.5
mode = "unattended"
outputs = ["output"]
"#;

/// Writes a scenario folder with `manifest` and `script`; returns its path.
pub fn scenario(parent: &Path, id: &str, manifest: &str, script: &str) -> PathBuf {
    let dir = parent.join(id);
    std::fs::create_dir_all(dir.join("images")).unwrap();
    std::fs::write(dir.join("scenario.toml"), manifest).unwrap();
    std::fs::write(dir.join("main.rhai"), script).unwrap();
    dir
}

/// `kuroko run <dir> --runs-dir <parent>/runs --ledger <parent>/ledger.sqlite3` plus `extra`
/// arguments, on `display`.
pub fn run_scenario(dir: &Path, display: Option<&str>, extra: &[&str]) -> Ran {
    let ledger = dir.parent().unwrap().join("ledger.sqlite3");
    run_scenario_with(dir, display, ledger.as_os_str(), extra)
}

/// `kuroko run <dir> --runs-dir <parent>/runs --ledger <ledger>` plus `extra` arguments, on
/// `display`.
pub fn run_scenario_with(dir: &Path, display: Option<&str>, ledger: &OsStr, extra: &[&str]) -> Ran {
    let parent = dir.parent().unwrap();
    let mut cmd = kuroko();
    cmd.arg("run")
        .arg(dir)
        .arg("--runs-dir")
        .arg(parent.join("runs"))
        .arg("--ledger")
        .arg(ledger)
        .args(extra);
    if let Some(d) = display {
        cmd.env("DISPLAY", d);
    }
    Ran::from(cmd.output().unwrap())
}

/// `kuroko run <scenario> --runs-dir <runs> --ledger <ledger>` started in the background on
/// `display`, its stdout piped (for `finish`) and stderr dropped.
pub fn spawn_run(scenario: &Path, runs: &Path, ledger: impl AsRef<OsStr>, display: &str) -> Child {
    kuroko()
        .arg("run")
        .arg(scenario)
        .arg("--runs-dir")
        .arg(runs)
        .arg("--ledger")
        .arg(ledger)
        .env("DISPLAY", display)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// The `events.jsonl` of the (first) run folder under `runs`, or "" before there is one.
pub fn events_so_far(runs: &Path) -> String {
    std::fs::read_dir(runs)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("events.jsonl"))
        .find_map(|events| std::fs::read_to_string(events).ok())
        .unwrap_or_default()
}

/// How many events of one kind (`item_done`, `item_started`, ...) the run has written.
pub fn count_events(runs: &Path, event: &str) -> usize {
    events_so_far(runs)
        .matches(&format!("\"event\":\"{event}\""))
        .count()
}

/// Waits (up to a minute) until `ready`.
pub fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The single run folder under `<parent>/runs`.
pub fn only_run_dir(parent: &Path) -> PathBuf {
    let runs: Vec<PathBuf> = std::fs::read_dir(parent.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs[0].clone()
}

/// A private X server for one test, stopped when dropped.
pub struct Xvfb {
    child: Child,
    pub display: String,
}

static NEXT_DISPLAY: AtomicU32 = AtomicU32::new(0);

impl Xvfb {
    pub fn start() -> Xvfb {
        assert!(
            which("Xvfb"),
            "Xvfb is not installed: these tests drive a real X server (run scripts/test.sh, which installs it)"
        );
        let base = 200 + (std::process::id() % 500) * 8;
        for _ in 0..50 {
            let n = base + NEXT_DISPLAY.fetch_add(1, Ordering::SeqCst);
            let lock = format!("/tmp/.X{n}-lock");
            if let Ok(owner) = std::fs::read_to_string(&lock) {
                // A lock left by a server that was killed is stale: its number is free again.
                let alive = owner
                    .trim()
                    .parse::<u32>()
                    .is_ok_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
                if alive {
                    continue;
                }
                let _ = std::fs::remove_file(&lock);
                let _ = std::fs::remove_file(format!("/tmp/.X11-unix/X{n}"));
            }
            let mut child = Command::new("Xvfb")
                .arg(format!(":{n}"))
                // -noreset: by default the server resets when its last client leaves, and a
                // client connecting during the reset cannot open the display (measured: 117 of
                // 300 connections failed while another client came and went; CI lost a zenity).
                .args(["-screen", "0", "1280x800x24"])
                .args(["-nolisten", "tcp", "-noreset"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let socket = format!("/tmp/.X11-unix/X{n}");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // lost a race for this display number; try the next
                }
                // Ready when a client can connect and get an answer.
                if Path::new(&socket).exists() && answers(&format!(":{n}")) {
                    return Xvfb {
                        child,
                        display: format!(":{n}"),
                    };
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("could not start Xvfb");
    }

    /// Runs an X client (zenity, xdotool) on this display, away from any session bus the
    /// tests were started with ([`without_session_bus`]).
    pub fn command(&self, program: &str) -> Command {
        assert!(
            which(program),
            "{program} is not installed (run scripts/test.sh, which installs it)"
        );
        let mut cmd = Command::new(program);
        cmd.env("DISPLAY", &self.display);
        without_session_bus(&mut cmd);
        cmd
    }

    /// Starts a zenity dialog whose stdout is captured and, when it has a `--title=`, returns
    /// once its window is shown (see [`Xvfb::shown`]).
    pub fn zenity(&self, args: &[&str]) -> Child {
        let start = |stderr: Stdio| {
            self.command("zenity")
                .args(args)
                .stdout(Stdio::piped())
                .stderr(stderr)
                .spawn()
                .unwrap()
        };
        match args.iter().find_map(|a| a.strip_prefix("--title=")) {
            Some(title) => self.shown(title, start),
            None => start(Stdio::null()),
        }
    }

    /// Starts the PyQt5 line edit (tests/fixtures/qt/entry.py, run by Debian's python3 through
    /// its #! line) titled `title`, with its stdout captured; returns once it is shown.
    pub fn qt_entry(&self, title: &str, args: &[&str]) -> Child {
        self.shown(title, |stderr| {
            self.command(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/qt/entry.py"
            ))
            .arg(title)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap()
        })
    }

    /// Starts a program (`start` is given where its stderr goes) and returns once a visible
    /// window titled exactly `title` exists. Under a loaded CI a program has now and then shown
    /// nothing for a minute; such a program is stopped and started again (three tries, 20 s
    /// each). One that exits first fails the test with its stderr.
    pub fn shown(&self, title: &str, mut start: impl FnMut(Stdio) -> Child) -> Child {
        let pattern: String = title
            .chars()
            .flat_map(|c| {
                let special = "\\.^$|?*+()[]{}".contains(c);
                special.then_some('\\').into_iter().chain([c])
            })
            .collect();
        // One file per window started, so two windows on one display keep both stderrs.
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "stderr-{}-{}-{}.txt",
            self.display.trim_start_matches(':'),
            std::process::id(),
            STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        for attempt in 1..=3 {
            let file = std::fs::File::create(&log).unwrap();
            let mut child = start(Stdio::from(file));
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                let found = self
                    .command("xdotool")
                    .args(["search", "--onlyvisible", "--name"])
                    .arg(format!("^{pattern}$"))
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .unwrap()
                    .success();
                if found {
                    return child;
                }
                if let Some(status) = child.try_wait().unwrap() {
                    panic!(
                        "{title} exited ({status}) before its window was shown; its stderr:\n{}",
                        std::fs::read_to_string(&log).unwrap_or_default()
                    );
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            eprintln!(
                "{title} showed no window within 20 s (try {attempt}); its stderr:\n{}\nstarting it again",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("{title} never showed its window in three tries");
    }

    pub fn xdotool(&self, args: &[&str]) {
        let status = self.command("xdotool").args(args).status().unwrap();
        assert!(status.success(), "xdotool {args:?} failed");
    }

    /// Keycodes held down and pointer buttons pressed, as the X server sees them.
    pub fn held(&self) -> (Vec<u8>, u16) {
        use x11rb::connection::Connection;
        use x11rb::protocol::xproto::ConnectionExt;
        let (conn, screen) = x11rb::connect(Some(&self.display)).unwrap();
        let root = conn.setup().roots[screen].root;
        let keymap = conn.query_keymap().unwrap().reply().unwrap().keys;
        let keys = (0..256u32)
            .filter(|k| keymap[(*k / 8) as usize] & (1 << (k % 8)) != 0)
            .map(|k| k as u8)
            .collect();
        let mask = u16::from(conn.query_pointer(root).unwrap().reply().unwrap().mask);
        let buttons = mask & 0x1f00; // Button1..Button5
        (keys, buttons)
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn answers(display: &str) -> bool {
    use x11rb::protocol::xproto::ConnectionExt;
    x11rb::connect(Some(display))
        .ok()
        .and_then(|(conn, _)| conn.get_input_focus().ok()?.reply().ok())
        .is_some()
}

pub fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|p| p.join(program).is_file()))
        .unwrap_or(false)
}

/// Waits for a child to exit (killing it after `timeout`) and returns its stdout.
pub fn finish(mut child: Child, timeout: Duration) -> (Option<i32>, String) {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut out = String::new();
            use std::io::Read;
            // A child whose output went to a file has none piped.
            if let Some(mut stdout) = child.stdout.take() {
                stdout.read_to_string(&mut out).unwrap();
            }
            return (status.code(), out);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return (None, String::new());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// (scenario_id, outcome, items_done, saved_minutes, trigger) of every run in the ledger.
pub fn ledger_rows(ledger: impl AsRef<OsStr>) -> Vec<(String, String, u64, f64, String)> {
    let ledger = ledger.as_ref();
    if !ledger.to_string_lossy().starts_with("postgres://") && !Path::new(ledger).exists() {
        return Vec::new();
    }
    let out = kuroko()
        .args(["ledger", "export", "--ledger"])
        .arg(ledger)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let h = reader.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let (id, outcome, items, saved, trigger) = (
        col("scenario_id"),
        col("outcome"),
        col("items_done"),
        col("saved_minutes"),
        col("trigger"),
    );
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[id].to_string(),
                r[outcome].to_string(),
                r[items].parse().unwrap(),
                r[saved].parse().unwrap(),
                r[trigger].to_string(),
            )
        })
        .collect()
}

/// Sends a signal ("TERM", "KILL", ...) to a process.
pub fn signal(pid: u32, name: &str) {
    Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .unwrap();
}

/// Starts a program that publishes its controls and returns once `kuroko inspect --window
/// WINDOW` (run by `kuroko`) lists a line starting with `prefix`. Under load a Qt program
/// sometimes asks for the accessibility bus while the bus is still being started, gets no
/// answer, and never publishes anything; such a program is stopped and started again (three
/// tries, 20 s each).
pub fn spawn_accessible(
    mut start: impl FnMut() -> Child,
    mut kuroko: impl FnMut() -> Command,
    window: &str,
    prefix: &str,
) -> Child {
    for attempt in 1..=3 {
        let mut child = start();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let out = kuroko()
                .args(["inspect", "--window", window])
                .output()
                .unwrap();
            if String::from_utf8_lossy(&out.stdout)
                .lines()
                .any(|l| l.starts_with(prefix))
            {
                return child;
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("{window} exited ({status}) before it showed {prefix}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        eprintln!("{window} published no {prefix} within 20 s (try {attempt}); starting it again");
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("{window} never published {prefix} on the accessibility bus in three tries");
}

/// The centre of the control of `window` whose inspect lines (`kuroko inspect --window`, run by
/// `kuroko`) start with `prefix` (e.g. `button "新規"`) or, when `prefix` is a `ui::`
/// selector part such as `right_of: "氏名"`, include it.
pub fn control_centre(
    mut kuroko: impl FnMut() -> Command,
    window: &str,
    prefix: &str,
) -> (u32, u32) {
    inspected_control(
        &format!("{prefix} in {window}"),
        || {
            kuroko()
                .args(["inspect", "--window", window])
                .output()
                .unwrap()
        },
        |lines| lines[0].starts_with(prefix) || lines[1..].iter().any(|l| l.contains(prefix)),
    )
}

/// The centre of the first control `kuroko inspect --window` (run by `inspect`) prints whose
/// lines `pick` accepts — its first line (`button "新規" (id "101") at …`) and the indented
/// ones under it (role, text, the `ui::` call that finds it) — waiting until one shows.
pub fn inspected_control(
    what: &str,
    mut inspect: impl FnMut() -> Output,
    pick: impl Fn(&[&str]) -> bool,
) -> (u32, u32) {
    let mut found = None;
    wait_until(what, || {
        let out = inspect();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let lines: Vec<&str> = text.lines().collect();
        let starts = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| !l.starts_with(' '));
        for (i, first) in starts {
            let end = lines[i + 1..]
                .iter()
                .position(|l| !l.starts_with(' '))
                .map_or(lines.len(), |n| i + 1 + n);
            if pick(&lines[i..end]) {
                found = Some(first.to_string());
                break;
            }
        }
        found.is_some()
    });
    inspected_centre(&found.unwrap())
}

/// Waits until the recorder records: its indicator shows once the capture runs. A moment
/// more lets it take its first look at the screen.
pub fn recording(x: &Xvfb) {
    wait_until("the recording indicator", || indicators(x) == 1);
    std::thread::sleep(Duration::from_millis(300));
}

/// How many recording indicators are on the display.
pub fn indicators(x: &Xvfb) -> usize {
    let out = x
        .command("xdotool")
        .args(["search", "--classname", "kuroko-record-indicator"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).lines().count()
}

/// The centre of a control as `kuroko inspect` prints it: `button "新規" … at X,Y WxH in …`.
pub fn inspected_centre(line: &str) -> (u32, u32) {
    let n: Vec<u32> = line
        .split(" at ")
        .nth(1)
        .unwrap_or_else(|| panic!("no \" at \" in {line:?}"))
        .split([',', ' ', 'x'])
        .take(4)
        .map(|n| n.parse().unwrap())
        .collect();
    (n[0] + n[2] / 2, n[1] + n[3] / 2)
}

/// The address a `dbus-daemon --print-address=1` started with piped stdout prints first.
pub fn bus_address(daemon: &mut Child) -> String {
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(daemon.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert!(line.starts_with("unix:"), "dbus-daemon said {line:?}");
    line.trim().to_string()
}

/// A command that runs `program` as `nobody` when the tests run as root (PostgreSQL and Mozc
/// refuse to run as root).
pub fn as_nobody_when_root(program: impl AsRef<OsStr>) -> Command {
    if unsafe { libc::geteuid() } == 0 {
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
            .arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

/// A desktop whose programs publish their controls: a display and a session bus carrying the
/// accessibility bus, with programs and kuroko started on both ([`SessionBus`], and
/// [`ime::ImeSession`] with an IME).
pub trait Session {
    /// A program on the session's display and bus.
    fn command(&self, program: &str) -> Command;

    /// kuroko on the session's display and bus.
    fn kuroko(&self) -> Command;

    /// Starts a program that publishes its controls; see [`spawn_accessible`].
    fn spawn_accessible(&self, start: impl FnMut() -> Child, window: &str, prefix: &str) -> Child
    where
        Self: Sized,
    {
        spawn_accessible(start, || self.kuroko(), window, prefix)
    }

    /// The centre of a control of `window`; see [`control_centre`].
    fn control_centre(&self, window: &str, prefix: &str) -> (u32, u32)
    where
        Self: Sized,
    {
        control_centre(|| self.kuroko(), window, prefix)
    }

    /// A zenity form titled 申請入力 (text 登録) with one entry per label, once its OK button is
    /// published; its answer comes on stdout.
    fn zenity_form(&self, entries: &[&str]) -> Child
    where
        Self: Sized,
    {
        let start = || {
            self.command("zenity")
                .args(["--forms", "--title=申請入力", "--text=登録"])
                .args(entries.iter().map(|e| format!("--add-entry={e}")))
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        };
        self.spawn_accessible(start, "申請入力", "button \"OK\"")
    }

    /// `kuroko record <scenario> ARGS` in the session, its output piped.
    fn recorder(&self, scenario: &Path, args: &[&str]) -> Child {
        self.kuroko()
            .arg("record")
            .arg(scenario)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// `kuroko run <dir> --runs-dir <parent>/runs --ledger <parent>/ledger.sqlite3` in the
    /// session.
    fn run(&self, dir: &Path) -> Ran {
        let parent = dir.parent().unwrap();
        Ran::from(
            self.kuroko()
                .arg("run")
                .arg(dir)
                .arg("--runs-dir")
                .arg(parent.join("runs"))
                .arg("--ledger")
                .arg(parent.join("ledger.sqlite3"))
                .output()
                .unwrap(),
        )
    }
}

/// What a program printed once it ended (killed after 20 s, which fails its `expect`).
pub fn ended(mut child: Child) -> Ran {
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    Ran::from(child.wait_with_output().unwrap())
}

/// A private D-Bus session bus on an Xvfb display: the accessibility bus (AT-SPI) starts on it
/// when a program first asks, so GTK and Qt windows started with `command` publish their
/// controls to kuroko started with `kuroko`.
pub struct SessionBus {
    child: Child,
    pub address: String,
    display: String,
}

impl SessionBus {
    pub fn start(x: &Xvfb) -> SessionBus {
        assert!(
            which("dbus-daemon"),
            "dbus-daemon is not installed (run scripts/test.sh, which installs it)"
        );
        let mut child = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .env("DISPLAY", &x.display)
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let address = bus_address(&mut child);
        SessionBus {
            child,
            address,
            display: x.display.clone(),
        }
    }

    /// The Qt 受付システム (examples/intake-app.py, saving to `file` after 0.3 s), once its 新規
    /// button is published.
    pub fn qt_intake(&self, file: &Path) -> Child {
        let start = || {
            self.command(&format!(
                "{}/examples/intake-app.py",
                env!("CARGO_MANIFEST_DIR")
            ))
            .arg(file)
            .args(["--save-delay", "0.3"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
        };
        self.spawn_accessible(start, "受付システム", "button \"新規\"")
    }
}

impl Session for SessionBus {
    /// A program on the display and this bus, with Qt's accessibility on.
    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("DISPLAY", &self.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .env_remove("AT_SPI_BUS_ADDRESS")
            .env_remove("NO_AT_BRIDGE")
            .env("QT_LINUX_ACCESSIBILITY_ALWAYS_ON", "1");
        cmd
    }

    /// kuroko on the display and this bus.
    fn kuroko(&self) -> Command {
        let mut cmd = kuroko();
        cmd.env("DISPLAY", &self.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address);
        cmd
    }
}

impl Drop for SessionBus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! Finding and starting the browser kuroko controls (Chromium, Chrome or Edge: the same
//! DevTools protocol), and making sure it ends with the run: closed politely, killed if it does
//! not go, and on Linux killed by the kernel if kuroko itself is killed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::cdp::Connection;

/// How to start the browser.
#[derive(Debug, Clone)]
pub struct LaunchOptions {
    /// "chromium", "chrome", "edge", a path, or `None` for the one found on this PC.
    pub browser: Option<String>,
    pub headless: bool,
    /// The profile folder (kept between runs when named by the script, else a temporary one).
    pub profile: PathBuf,
    /// Remove the profile folder when the browser ends.
    pub temporary_profile: bool,
    /// The browser's own messages go here.
    pub log: PathBuf,
}

/// The started browser's process.
pub struct Process {
    child: Child,
    /// Windows: the job that ends the browser when kuroko ends (dropped after the kill).
    #[cfg(windows)]
    _job: Option<crate::job::KillOnClose>,
    profile: PathBuf,
    temporary_profile: bool,
    log: PathBuf,
}

/// Where each browser is usually installed.
fn candidates(name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if cfg!(windows) {
        let roots: Vec<PathBuf> = ["ProgramFiles(x86)", "ProgramFiles", "LOCALAPPDATA"]
            .iter()
            .filter_map(std::env::var_os)
            .map(PathBuf::from)
            .collect();
        let rel: &[&str] = match name {
            "edge" => &["Microsoft\\Edge\\Application\\msedge.exe"],
            "chrome" => &["Google\\Chrome\\Application\\chrome.exe"],
            _ => &["Chromium\\Application\\chrome.exe"],
        };
        for root in &roots {
            for r in rel {
                found.push(root.join(r));
            }
        }
    } else {
        let names: &[&str] = match name {
            "edge" => &["microsoft-edge", "microsoft-edge-stable"],
            "chrome" => &["google-chrome", "google-chrome-stable"],
            _ => &["chromium", "chromium-browser"],
        };
        let path = std::env::var_os("PATH").unwrap_or_default();
        for dir in std::env::split_paths(&path) {
            for n in names {
                found.push(dir.join(n));
            }
        }
    }
    found
}

/// The browser to start: the script's choice ("chromium", "chrome" or "edge" — a script never
/// names a program to run), else `KUROKO_BROWSER` (a name or, set by the PC's administrator,
/// a program's path), else the first installed of Edge and Chrome (Windows) or Chromium,
/// Chrome and Edge (elsewhere).
pub fn find_browser(choice: Option<&str>) -> Result<PathBuf, String> {
    if let Some(c) = choice
        && !["chromium", "chrome", "edge"].contains(&c)
    {
        return Err(format!(
            "browser {c:?}: a scenario chooses \"chromium\", \"chrome\" or \"edge\"; another \
             browser's program is set for the PC with KUROKO_BROWSER"
        ));
    }
    let env = std::env::var("KUROKO_BROWSER")
        .ok()
        .filter(|s| !s.is_empty());
    let choice = choice.map(String::from).or(env);
    let names: Vec<&str> = match choice.as_deref() {
        Some("chromium") => vec!["chromium"],
        Some("chrome") => vec!["chrome"],
        Some("edge") => vec!["edge"],
        Some(path) => {
            let p = PathBuf::from(path);
            return if p.is_file() {
                Ok(p)
            } else {
                Err(format!(
                    "KUROKO_BROWSER={path:?} is not a program: set \"chromium\", \"chrome\", \
                     \"edge\" or the path of the browser's program"
                ))
            };
        }
        None if cfg!(windows) => vec!["edge", "chrome", "chromium"],
        None => vec!["chromium", "chrome", "edge"],
    };
    for name in &names {
        if let Some(p) = candidates(name).into_iter().find(|p| p.is_file()) {
            return Ok(p);
        }
    }
    Err(format!(
        "no {} browser is installed on this PC (looked in {})",
        names.join(" / "),
        if cfg!(windows) {
            "Program Files and the user's AppData"
        } else {
            "the folders of PATH"
        }
    ))
}

/// Flags every run uses: a clean, quiet browser that asks nothing and phones nowhere (offices
/// work on closed networks).
fn common_args(options: &LaunchOptions) -> Vec<String> {
    let mut args: Vec<String> = [
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--disable-popup-blocking",
        "--disable-prompt-on-repost",
        "--disable-hang-monitor",
        "--disable-client-side-phishing-detection",
        "--disable-features=Translate,MediaRouter,OptimizationHints,DownloadBubble,DownloadBubbleV2",
        "--metrics-recording-only",
        "--password-store=basic",
        "--use-mock-keychain",
        "--disable-dev-shm-usage",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(format!("--user-data-dir={}", options.profile.display()));
    if options.headless {
        args.extend(
            [
                "--headless=new",
                "--hide-scrollbars",
                "--mute-audio",
                "--window-size=1280,900",
            ]
            .map(String::from),
        );
    } else {
        args.push("--window-size=1280,900".into());
    }
    #[cfg(unix)]
    {
        // Chromium refuses to start as root without this (CI containers, some kiosks).
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            args.push("--no-sandbox".into());
        }
    }
    args
}

/// Starts the browser and connects to it: over its debugging pipe on Unix (no port is opened),
/// over a loopback port it picks itself (written to `DevToolsActivePort` in the profile) on
/// Windows or when `KUROKO_BROWSER_TRANSPORT=port`.
pub fn launch(options: &LaunchOptions) -> Result<(Connection, Process), String> {
    let program = find_browser(options.browser.as_deref())?;
    std::fs::create_dir_all(&options.profile).map_err(|e| {
        format!(
            "cannot create the browser profile folder {}: {e}",
            options.profile.display()
        )
    })?;
    let log = std::fs::File::create(&options.log)
        .map_err(|e| format!("cannot create {}: {e}", options.log.display()))?;
    let mut command = Command::new(&program);
    command
        .args(common_args(options))
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log);
    let use_port =
        cfg!(windows) || std::env::var("KUROKO_BROWSER_TRANSPORT").is_ok_and(|v| v == "port");
    let started = Instant::now();
    // The pipe is made before the browser starts; the port is read after.
    let (piped, child) = if use_port {
        let _ = std::fs::remove_file(options.profile.join("DevToolsActivePort"));
        command.arg("--remote-debugging-port=0").arg("about:blank");
        (None, spawn(&mut command, &program)?)
    } else {
        let (conn, child) = pipe_launch(&mut command, &program)?;
        (Some(conn), child)
    };
    let mut process = Process {
        #[cfg(windows)]
        _job: crate::job::contain(&child).ok(),
        child,
        profile: options.profile.clone(),
        temporary_profile: options.temporary_profile,
        log: options.log.clone(),
    };
    // On an error the process is dropped, which ends it.
    let conn = match piped {
        Some(conn) => conn,
        None => Connection::over_websocket(&wait_for_port_file(
            &options.profile,
            &mut process,
            started,
        )?)?,
    };
    Ok((conn, process))
}

fn spawn(command: &mut Command, program: &Path) -> Result<Child, String> {
    command
        .spawn()
        .map_err(|e| format!("cannot start the browser {}: {e}", program.display()))
}

#[cfg(unix)]
fn pipe_launch(command: &mut Command, program: &Path) -> Result<(Connection, Child), String> {
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    // The browser reads commands from its fd 3 and writes answers to its fd 4.
    let (to_browser_read, to_browser_write) =
        std::io::pipe().map_err(|e| format!("cannot make a pipe for the browser: {e}"))?;
    let (from_browser_read, from_browser_write) =
        std::io::pipe().map_err(|e| format!("cannot make a pipe for the browser: {e}"))?;
    let child_in = to_browser_read.as_raw_fd();
    let child_out = from_browser_write.as_raw_fd();
    command.arg("--remote-debugging-pipe").arg("about:blank");
    // SAFETY: only async-signal-safe calls (fcntl, dup2, prctl) between fork and exec.
    unsafe {
        command.pre_exec(move || {
            // Move both ends above 4 first, so neither dup2 overwrites the other.
            let a = libc::fcntl(child_in, libc::F_DUPFD, 10);
            let b = libc::fcntl(child_out, libc::F_DUPFD, 10);
            if a < 0 || b < 0 || libc::dup2(a, 3) < 0 || libc::dup2(b, 4) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::close(a);
            libc::close(b);
            #[cfg(target_os = "linux")]
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let child = spawn(command, program)?;
    drop(to_browser_read);
    drop(from_browser_write);
    Ok((
        Connection::over_pipe(from_browser_read, to_browser_write),
        child,
    ))
}

#[cfg(not(unix))]
fn pipe_launch(_command: &mut Command, _program: &Path) -> Result<(Connection, Child), String> {
    Err("the debugging pipe is not available on this system".into())
}

/// Waits for the browser to write the port it listens on, and returns its WebSocket address.
fn wait_for_port_file(
    profile: &Path,
    process: &mut Process,
    started: Instant,
) -> Result<String, String> {
    let file = profile.join("DevToolsActivePort");
    loop {
        if let Ok(text) = std::fs::read_to_string(&file) {
            let mut lines = text.lines();
            if let (Some(port), Some(path)) = (lines.next(), lines.next())
                && let Ok(port) = port.trim().parse::<u16>()
            {
                return Ok(format!("ws://127.0.0.1:{port}{}", path.trim()));
            }
        }
        if let Ok(Some(status)) = process.child.try_wait() {
            return Err(format!(
                "the browser ended at once ({status}){}",
                process.log_tail()
            ));
        }
        if started.elapsed() > Duration::from_secs(60) {
            return Err(format!(
                "the browser did not open its debugging port within 60 s{}",
                process.log_tail()
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Process {
    /// Whether the process has ended (and reaps it).
    pub fn has_ended(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits up to `grace` for the browser to end by itself, then kills it; removes a
    /// temporary profile.
    pub fn end(&mut self, grace: Duration) {
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if self.has_ended() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.kill();
    }

    fn kill(&mut self) {
        if !self.has_ended() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if self.temporary_profile {
            // The browser's helpers may hold files a moment longer.
            for _ in 0..20 {
                if std::fs::remove_dir_all(&self.profile).is_ok() || !self.profile.exists() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    /// The last lines the browser printed, for an error message.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        if lines.is_empty() {
            return String::new();
        }
        let tail = lines[lines.len().saturating_sub(5)..].join("\n  ");
        format!("; the browser said:\n  {tail}")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

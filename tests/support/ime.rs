//! A desktop session with a real Japanese IME for tests — fcitx5 with Mozc, as a Linux office
//! PC has it — on a private Xvfb and a private session bus that also carries the accessibility
//! bus (AT-SPI), so GTK and Qt windows take input through the IME and publish their controls.
//!
//! Mozc's server refuses to run as root, and fcitx5, the programs and kuroko must share its user
//! (Mozc's socket) and the bus (D-Bus checks the user), so when the tests run as root everything
//! but the X server runs as `nobody` (setpriv). The bus has its own configuration whose only
//! service is the accessibility bus: the stock session configuration would also start a second
//! fcitx5, without this one's settings, at the first question to it. Mozc learns from what is
//! chosen, so each session starts with a fresh configuration folder.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{Session, Xvfb, temp_dir, which};

/// The IME session; everything it started ends when it is dropped.
pub struct ImeSession {
    pub x: Xvfb,
    dir: PathBuf,
    bus: Child,
    address: String,
    fcitx: Option<Child>,
}

fn root() -> bool {
    // SAFETY: a plain query.
    unsafe { libc::geteuid() == 0 }
}

/// `path` (and everything in it) given to nobody when the tests run as root.
pub fn give_to_session_user(path: &Path) {
    if root() {
        let ok = Command::new("chown")
            .args(["-R", "nobody:nogroup"])
            .arg(path)
            .status()
            .unwrap()
            .success();
        assert!(ok, "chown {}", path.display());
    }
}

const PROFILE: &str = "[Groups/0]
Name=Default
Default Layout=us
DefaultIM=mozc

[Groups/0/Items/0]
Name=keyboard-us
Layout=

[Groups/0/Items/1]
Name=mozc
Layout=

[GroupOrder]
0=Default
";

/// Active from the start in every window, Mozc loaded at once, and no mode notice (it lingers
/// under the field and takes clicks).
const CONFIG: &str = "[Behavior]
ActiveByDefault=True
ShareInputState=All
PreloadInputMethod=True
ShowInputMethodInformation=False
showInputMethodInformationWhenFocusIn=False
";

const MOZC_SERVER: &str = "/usr/lib/mozc/mozc_server";

fn wait_for(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `cmd` with the session's environment: its folders, the display, the IME's variables and,
/// once it exists, the session bus (`address`).
fn environment(mut cmd: Command, d: &Path, display: &str, address: &str) -> Command {
    cmd.current_dir(d.join("work"))
        .env("DISPLAY", display)
        .env("HOME", d.join("home"))
        .env("XDG_CONFIG_HOME", d.join("config"))
        .env("XDG_DATA_HOME", d.join("data"))
        .env("XDG_CACHE_HOME", d.join("cache"))
        .env("XDG_RUNTIME_DIR", d.join("run"))
        .env("GTK_IM_MODULE", "fcitx")
        .env("QT_IM_MODULE", "fcitx")
        .env("XMODIFIERS", "@im=fcitx")
        .env("LANG", "C.UTF-8")
        .env("QT_LINUX_ACCESSIBILITY_ALWAYS_ON", "1")
        .env_remove("NO_AT_BRIDGE")
        .env_remove("AT_SPI_BUS_ADDRESS")
        .env_remove("DBUS_SESSION_BUS_ADDRESS");
    if !address.is_empty() {
        cmd.env("DBUS_SESSION_BUS_ADDRESS", address);
    }
    cmd
}

impl ImeSession {
    pub fn start(name: &str) -> ImeSession {
        for program in ["fcitx5", "fcitx5-remote"] {
            assert!(
                which(program),
                "{program} is not installed (run scripts/test.sh, which installs it)"
            );
        }
        assert!(
            Path::new(MOZC_SERVER).exists(),
            "fcitx5-mozc is not installed (run scripts/test.sh, which installs it)"
        );
        let x = Xvfb::start();
        let dir = temp_dir(name);
        for sub in [
            "home",
            "config/fcitx5",
            "data",
            "cache",
            "run",
            "services",
            "work",
        ] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        std::fs::write(dir.join("config/fcitx5/profile"), PROFILE).unwrap();
        std::fs::write(dir.join("config/fcitx5/config"), CONFIG).unwrap();
        std::fs::copy(
            "/usr/share/dbus-1/services/org.a11y.Bus.service",
            dir.join("services/org.a11y.Bus.service"),
        )
        .unwrap();
        std::fs::write(
            dir.join("bus.conf"),
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:dir={run}</listen>
  <auth>EXTERNAL</auth>
  <servicedir>{services}</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                run = dir.join("run").display(),
                services = dir.join("services").display()
            ),
        )
        .unwrap();
        give_to_session_user(&dir);
        let mut bus = environment(
            super::as_nobody_when_root("dbus-daemon"),
            &dir,
            &x.display,
            "",
        )
        .arg(format!("--config-file={}", dir.join("bus.conf").display()))
        .args(["--nofork", "--print-address=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
        let address = super::bus_address(&mut bus);
        let mut session = ImeSession {
            x,
            dir,
            bus,
            address,
            fcitx: None,
        };

        let fcitx = session
            .command("fcitx5")
            .args([
                "-D",
                "--disable=wayland,waylandim,kimpanel,notificationitem,notifications",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        session.fcitx = Some(fcitx);
        // fcitx5 answers "2" (Mozc active) once it is up; Mozc's server is started by it and
        // is ready when its socket listens (typing before that waits for it anyway).
        wait_for("fcitx5 with Mozc active", Duration::from_secs(30), || {
            session.remote(&[]) == "2"
        });
        wait_for("Mozc's server", Duration::from_secs(30), || {
            session.mozc_listening()
        });
        session
    }

    fn environment(&self, cmd: Command) -> Command {
        environment(cmd, &self.dir, &self.x.display, &self.address)
    }

    /// A folder the session's user may write.
    pub fn work_dir(&self, name: &str) -> PathBuf {
        let dir = self.dir.join("work").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        give_to_session_user(&dir);
        dir
    }

    fn remote(&self, args: &[&str]) -> String {
        let out = self.command("fcitx5-remote").args(args).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn mozc_listening(&self) -> bool {
        let Ok(ipc) = std::fs::read(self.dir.join("config/mozc/.session.ipc")) else {
            return false;
        };
        let text = String::from_utf8_lossy(&ipc).into_owned();
        let key = text
            .split(|c: char| !c.is_ascii_hexdigit())
            .find(|part| part.len() == 32);
        let Some(key) = key else { return false };
        std::fs::read_to_string("/proc/net/unix")
            .unwrap_or_default()
            .contains(&format!("@tmp/.mozc.{key}.session"))
    }

    /// The IME on, in hiragana (Mozc's own mode is not fcitx5's: the Hiragana key sets it).
    pub fn ime_on(&self) {
        self.remote(&["-o"]);
        self.x.xdotool(&["key", "Hiragana"]);
    }

    /// Whether an input method (Mozc), not the plain keyboard, is active.
    pub fn ime_is_on(&self) -> bool {
        self.remote(&[]) == "2"
    }

    /// The IME off: keys type as they are.
    pub fn ime_off(&self) {
        self.remote(&["-c"]);
    }

    /// Waits until the IME's candidate window is gone (it sits under the field and takes the
    /// clicks meant for what is below it).
    pub fn wait_candidates_closed(&self) {
        wait_for(
            "the IME's candidate window to close",
            Duration::from_secs(10),
            || {
                let out = self
                    .x
                    .command("xdotool")
                    .args(["search", "--onlyvisible", "--class", "^fcitx$"])
                    .output()
                    .unwrap();
                out.stdout.is_empty()
            },
        );
    }

    /// The mozc_server processes of this session (found by their configuration folder).
    fn mozc_servers(&self) -> Vec<u32> {
        let marker = format!("XDG_CONFIG_HOME={}", self.dir.join("config").display());
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                std::fs::read_to_string(format!("/proc/{pid}/comm"))
                    .is_ok_and(|c| c.trim() == "mozc_server")
                    && std::fs::read(format!("/proc/{pid}/environ"))
                        .is_ok_and(|env| env.split(|b| *b == 0).any(|v| v == marker.as_bytes()))
            })
            .collect()
    }
}

impl Drop for ImeSession {
    fn drop(&mut self) {
        // fcitx5 before Mozc's server (fcitx5 starts a killed one again), then the bus.
        if let Some(mut fcitx) = self.fcitx.take() {
            let _ = fcitx.kill();
            let _ = fcitx.wait();
        }
        for pid in self.mozc_servers() {
            super::signal(pid, "KILL");
        }
        let _ = self.bus.kill();
        let _ = self.bus.wait();
    }
}

impl Session for ImeSession {
    /// A program in the session, as its user, with the IME's environment.
    fn command(&self, program: &str) -> Command {
        self.environment(super::as_nobody_when_root(program))
    }

    /// kuroko in the session (no shared ledger: pass `--ledger`).
    fn kuroko(&self) -> Command {
        let mut cmd = self.command(env!("CARGO_BIN_EXE_kuroko"));
        cmd.env_remove("KUROKO_ABORT_HOTKEY")
            .env_remove("KUROKO_CAPTURE")
            .env("KUROKO_LEDGER", self.dir.join("work/ledger.sqlite3"));
        cmd
    }
}

impl ImeSession {
    /// Clicks at a point and lets the program take it.
    pub fn click(&self, (x, y): (u32, u32)) {
        self.x
            .xdotool(&["mousemove", &x.to_string(), &y.to_string(), "click", "1"]);
        std::thread::sleep(Duration::from_millis(400));
    }
}

//! The web intake system (`examples/web-intake`, a local 住民記録 web application) started
//! for one test on a free loopback port, with its own data folder; stopped when dropped.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub struct WebIntake {
    child: Child,
    /// `http://127.0.0.1:PORT/`
    pub url: String,
    pub data: PathBuf,
}

/// The example's program, built by `cargo test` beside the test binary's folder.
fn program() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let debug = exe.parent().unwrap().parent().unwrap();
    let p = debug.join("examples").join("web-intake");
    assert!(
        p.is_file(),
        "{} is missing: build it with `cargo build --example web-intake`",
        p.display()
    );
    p
}

impl WebIntake {
    /// Starts it with `data` as its data folder and saves that take `delay_ms` ("1000-2000").
    pub fn start(data: &Path, delay_ms: &str) -> WebIntake {
        std::fs::create_dir_all(data).unwrap();
        let mut child = Command::new(program())
            .args(["--port", "0", "--save-delay-ms", delay_ms, "--data"])
            .arg(data)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("web-intake said {line:?}"))
            .to_string();
        WebIntake {
            child,
            url,
            data: data.to_path_buf(),
        }
    }

    pub fn registrations_file(&self) -> PathBuf {
        self.data.join("registrations.jsonl")
    }
}

impl Drop for WebIntake {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

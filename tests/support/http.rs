//! A small HTTP/1.1 client over a plain TCP stream, so tests can send exactly the headers an
//! attacker would (a foreign Host, a cross-site Origin, no cookie), and the `kuroko serve`
//! process a test starts.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// Sends one request to `addr` (`127.0.0.1:PORT`) with exactly these headers (no Host is added).
pub fn request(
    addr: &str,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Response {
    let mut stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("{addr}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut head = format!("{method} {target} HTTP/1.1\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = body.unwrap_or_default();
    if !body.is_empty() || method == "POST" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    read_response(stream)
}

fn read_response(stream: TcpStream) -> Response {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {line:?}"));
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            let size = usize::from_str_radix(line.trim(), 16).unwrap_or(0);
            if size == 0 {
                break;
            }
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).unwrap();
            body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(length) = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
    {
        // Some servers keep the connection open after the body.
        body.resize(length, 0);
        reader.read_exact(&mut body).unwrap();
    } else {
        reader.read_to_end(&mut body).unwrap();
    }
    Response {
        status,
        headers,
        body,
    }
}

/// A `kuroko serve` process for one test, killed when dropped.
pub struct Served {
    child: Child,
    pub url: String,
    pub addr: String,
    pub port: u16,
    pub token: String,
    /// What `--ledger` was given.
    pub ledger: std::ffi::OsString,
    pub runs: PathBuf,
    pub stderr: PathBuf,
}

impl Served {
    /// Starts `kuroko serve` on scenarios under `dir/scenarios`, its ledger and runs in `dir`.
    pub fn start(dir: &Path, display: Option<&str>) -> Served {
        Served::start_with(dir, display, &[])
    }

    /// `start` with more arguments for `kuroko serve`.
    pub fn start_with(dir: &Path, display: Option<&str>, extra: &[&str]) -> Served {
        let ledger = dir.join("ledger.sqlite3").into_os_string();
        Served::start_on(dir, display, ledger, extra)
    }

    /// `start_with` on a given ledger (a file or a database).
    pub fn start_on(
        dir: &Path,
        display: Option<&str>,
        ledger: std::ffi::OsString,
        extra: &[&str],
    ) -> Served {
        let mut cmd = super::kuroko();
        if let Some(d) = display {
            cmd.env("DISPLAY", d);
        }
        Served::start_program(cmd, dir, ledger, extra)
    }

    /// `start_on` for a given kuroko program (`cmd`, e.g. kuroko.exe under Wine).
    pub fn start_program(
        mut cmd: std::process::Command,
        dir: &Path,
        ledger: std::ffi::OsString,
        extra: &[&str],
    ) -> Served {
        let runs = dir.join("runs");
        let stderr = dir.join("serve.stderr");
        cmd.arg("serve")
            .arg("--scenarios")
            .arg(dir.join("scenarios"))
            .arg("--ledger")
            .arg(&ledger)
            .arg("--runs-dir")
            .arg(&runs)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap());
        let mut child = cmd.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut first = String::new();
            let _ = BufReader::new(stdout).read_line(&mut first);
            let _ = tx.send(first);
        });
        let first = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| {
                panic!(
                    "kuroko serve printed no URL; stderr: {:?}",
                    std::fs::read_to_string(&stderr)
                )
            });
        let url = first.trim().to_string();
        assert!(
            url.starts_with("http://127.0.0.1:"),
            "first line: {url:?}; stderr: {:?}",
            std::fs::read_to_string(&stderr)
        );
        let rest = url.trim_start_matches("http://127.0.0.1:");
        let (port, token) = rest.split_once("/?token=").expect("URL with a token");
        Served {
            child,
            addr: format!("127.0.0.1:{port}"),
            port: port.parse().unwrap(),
            token: token.to_string(),
            url,
            ledger,
            runs,
            stderr,
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The most memory the server has held so far, in MB (VmHWM).
    pub fn peak_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap();
        kb / 1024.0
    }

    pub fn host(&self) -> String {
        self.addr.clone()
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn cookie(&self) -> String {
        format!("kuroko_token={}", self.token)
    }

    /// A GET as the page makes it (Host and cookie).
    pub fn get(&self, target: &str) -> Response {
        let (host, cookie) = (self.host(), self.cookie());
        request(
            &self.addr,
            "GET",
            target,
            &[("Host", &host), ("Cookie", &cookie)],
            None,
        )
    }

    /// A POST as the page makes it (Host, cookie, Origin), with a JSON body.
    pub fn post(&self, target: &str, json: &str) -> Response {
        let (host, cookie, origin) = (self.host(), self.cookie(), self.origin());
        request(
            &self.addr,
            "POST",
            target,
            &[
                ("Host", &host),
                ("Cookie", &cookie),
                ("Origin", &origin),
                ("Content-Type", "application/json"),
            ],
            Some(json.as_bytes()),
        )
    }

    /// Waits until `ready` holds for the JSON at `target`.
    pub fn wait_json(
        &self,
        target: &str,
        what: &str,
        mut ready: impl FnMut(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let v = self.get(target).json();
            if ready(&v) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {v:#}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends the server SIGTERM and waits (up to 20 s) for it to exit; its exit code.
    pub fn terminate(&mut self) -> Option<i32> {
        super::signal(self.child.id(), "TERM");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(Instant::now() < deadline, "kuroko serve did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

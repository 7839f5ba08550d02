//! Debian's Chromium, headless, driven through Debian's chromedriver (W3C WebDriver over
//! HTTP), so the launcher page is tested the way a clerk uses it: load, click, read.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::http::request;

pub struct Browser {
    driver: Child,
    addr: String,
    session: String,
    profile: std::path::PathBuf,
}

/// The key of an element reference in W3C WebDriver answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a fresh profile under `dir`.
    pub fn start(dir: &Path) -> Browser {
        for program in ["chromium", "chromedriver"] {
            assert!(
                super::which(program),
                "{program} is missing: scripts/setup.sh installs chromium and chromium-driver"
            );
        }
        let port = free_port();
        let driver = super::without_session_bus(&mut Command::new("chromedriver"))
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let addr = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(&addr).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = dir.join("chromium-profile");
        let _ = std::fs::remove_dir_all(&profile);
        let mut browser = Browser {
            driver,
            addr,
            session: String::new(),
            profile: profile.clone(),
        };
        let caps = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": "/usr/bin/chromium",
                    "args": [
                        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                        "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--lang=ja",
                        "--window-size=1280,1000",
                        format!("--user-data-dir={}", profile.display()),
                    ]
                }
            }}
        });
        let v = browser.call("POST", "/session", Some(caps));
        browser.session = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_string();
        browser
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.try_call(method, path, body)
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"))
    }

    /// A WebDriver command; `Err` with the status and answer when it failed.
    fn try_call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let body = body.map(|b| b.to_string());
        let r = request(
            &self.addr,
            method,
            path,
            &[("Host", &self.addr), ("Content-Type", "application/json")],
            body.as_deref().map(str::as_bytes),
        );
        let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        if r.status >= 300 {
            return Err(format!("{} {}", r.status, r.text()));
        }
        Ok(v.get("value").cloned().unwrap_or(v))
    }

    /// Does something to the element `css` names, finding it again when the page has just
    /// redrawn it (a stale element) or something briefly covers it, for up to 30 s.
    fn on_element(&self, css: &str, method: &str, action: &str, body: Option<Value>) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let id = self.wait_for(css, 30);
            let path = format!("/session/{}/element/{id}{action}", self.session);
            match self.try_call(method, &path, body.clone()) {
                Ok(v) => return v,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("WebDriver {action} on {css:?} again after: {e}");
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => panic!("WebDriver {action} on {css:?}: {e}"),
            }
        }
    }

    fn session_call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.call(method, &format!("/session/{}{path}", self.session), body)
    }

    pub fn goto(&self, url: &str) {
        self.session_call("POST", "/url", Some(json!({ "url": url })));
    }

    /// Runs JavaScript in the page and returns its value.
    pub fn js(&self, script: &str) -> Value {
        self.session_call(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    fn find(&self, css: &str) -> Option<String> {
        let body = Some(json!({ "using": "css selector", "value": css }));
        let r = request(
            &self.addr,
            "POST",
            &format!("/session/{}/element", self.session),
            &[("Host", &self.addr), ("Content-Type", "application/json")],
            body.map(|b| b.to_string()).as_deref().map(str::as_bytes),
        );
        if r.status >= 300 {
            return None;
        }
        let v: Value = serde_json::from_slice(&r.body).ok()?;
        v["value"][ELEMENT].as_str().map(String::from)
    }

    /// Waits (up to `seconds`) for an element to appear; its WebDriver id.
    pub fn wait_for(&self, css: &str, seconds: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            if let Some(id) = self.find(css) {
                return id;
            }
            assert!(Instant::now() < deadline, "no element {css:?} on the page");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn click(&self, css: &str) {
        self.on_element(css, "POST", "/click", Some(json!({})));
    }

    /// Types into an element; for `<input type=file>`, the text is the file's path.
    pub fn send_keys(&self, css: &str, text: &str) {
        self.on_element(css, "POST", "/value", Some(json!({ "text": text })));
    }

    /// The visible text of an element.
    pub fn text(&self, css: &str) -> String {
        self.on_element(css, "GET", "/text", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Waits until the element's text satisfies `ok`; returns it.
    pub fn wait_text(&self, css: &str, seconds: u64, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            let text = self.find(css).map(|_| self.text(css)).unwrap_or_default();
            if ok(&text) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "{css:?} never became right; last text {text:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A PNG of the viewport.
    pub fn screenshot(&self, target: &Path) {
        use base64_decode::decode;
        let b64 = self.session_call("GET", "/screenshot", None);
        let bytes = decode(b64.as_str().expect("base64 PNG"));
        std::fs::write(target, bytes).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = request(
                &self.addr,
                "DELETE",
                &format!("/session/{}", self.session),
                &[("Host", &self.addr)],
                None,
            );
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Standard base64 (the screenshot WebDriver sends), without another dependency.
mod base64_decode {
    pub fn decode(text: &str) -> Vec<u8> {
        let value = |c: u8| -> Option<u32> {
            Some(match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'+' => 62,
                b'/' => 63,
                _ => return None,
            } as u32)
        };
        let digits: Vec<u32> = text.bytes().filter_map(value).collect();
        let mut out = Vec::with_capacity(digits.len() * 3 / 4);
        for chunk in digits.chunks(4) {
            let n = chunk.iter().fold(0u32, |acc, d| (acc << 6) | d) << (6 * (4 - chunk.len()));
            let bytes = n.to_be_bytes();
            out.extend_from_slice(&bytes[1..chunk.len()]);
        }
        out
    }
}

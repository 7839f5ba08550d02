//! A page (tab, popup) or a frame inside one, and its steps. Every step finds its element
//! with the locator engine (`inject.js`) and waits — polling, and stopping within milliseconds
//! when the run is stopped — until the element is attached, visible, enabled, not moving and
//! not covered, then acts through real input events (`Input.dispatchMouseEvent`,
//! `Input.insertText`: exact Unicode, no IME, no clipboard).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::cdp::{CdpError, DialogAnswer};
use super::{Browser, Locator, WResult, WebError};

const ENGINE: &str = include_str!("inject.js");

/// Which element of several, and how long to wait: the options every step takes.
#[derive(Debug, Clone, Default)]
pub struct Act {
    pub timeout: Option<Duration>,
    /// 0 = the first, -1 = the last.
    pub nth: Option<i64>,
    pub has_text: Option<String>,
}

/// What `wait_for` waits for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum State {
    Attached,
    Detached,
    Visible,
    Hidden,
}

impl State {
    pub fn parse(text: &str) -> Option<State> {
        Some(match text {
            "attached" => State::Attached,
            "detached" => State::Detached,
            "visible" => State::Visible,
            "hidden" => State::Hidden,
            _ => return None,
        })
    }
}

/// A frame on the way from the page to the document a step looks in.
#[derive(Debug, Clone)]
struct FrameRef {
    loc: Locator,
    act: Act,
}

/// A tab, popup or frame. Cheap to clone.
#[derive(Clone)]
pub struct Page {
    browser: Arc<Browser>,
    session: String,
    target: String,
    frames: Vec<FrameRef>,
    pub timeout: Duration,
    /// The tab the browser opened with (closing it closes a browser kuroko started).
    first: bool,
}

/// One answer of the locator engine.
enum Answer {
    Ok(Value),
    Wait(String),
}

/// Protocol errors that mean "the page is between documents": ask again.
fn is_transient(message: &str) -> bool {
    [
        "Execution context was destroyed",
        "Cannot find context with specified id",
        "Cannot find default execution context",
        "Inspected target navigated or closed",
        "uniqueContextId not found",
        "Execution context with given id not found",
    ]
    .iter()
    .any(|m| message.contains(m))
}

fn target_json(loc: &Locator, act: &Act) -> Value {
    json!({ "loc": loc.to_json(), "nth": act.nth, "hasText": act.has_text })
}

fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

/// A key as the DevTools protocol wants it: (key, code, Windows key code, text).
fn key_event(name: &str) -> Option<(String, String, i64, Option<String>)> {
    let named: &[(&str, &str, i64, Option<&str>)] = &[
        ("Enter", "Enter", 13, Some("\r")),
        ("Tab", "Tab", 9, None),
        ("Escape", "Escape", 27, None),
        ("Backspace", "Backspace", 8, None),
        ("Delete", "Delete", 46, None),
        ("Insert", "Insert", 45, None),
        ("Home", "Home", 36, None),
        ("End", "End", 35, None),
        ("PageUp", "PageUp", 33, None),
        ("PageDown", "PageDown", 34, None),
        ("ArrowLeft", "ArrowLeft", 37, None),
        ("ArrowUp", "ArrowUp", 38, None),
        ("ArrowRight", "ArrowRight", 39, None),
        ("ArrowDown", "ArrowDown", 40, None),
        (" ", "Space", 32, Some(" ")),
    ];
    let alias = match name.to_ascii_lowercase().as_str() {
        "enter" | "return" => "Enter",
        "tab" => "Tab",
        "escape" | "esc" => "Escape",
        "backspace" => "Backspace",
        "delete" | "del" => "Delete",
        "insert" | "ins" => "Insert",
        "home" => "Home",
        "end" => "End",
        "pageup" => "PageUp",
        "pagedown" => "PageDown",
        "left" | "arrowleft" => "ArrowLeft",
        "up" | "arrowup" => "ArrowUp",
        "right" | "arrowright" => "ArrowRight",
        "down" | "arrowdown" => "ArrowDown",
        "space" => " ",
        _ => "",
    };
    if let Some((k, c, v, t)) = named.iter().find(|(k, ..)| *k == alias) {
        return Some((k.to_string(), c.to_string(), *v, t.map(String::from)));
    }
    let lower = name.to_ascii_lowercase();
    if let Some(n) = lower.strip_prefix('f').and_then(|n| n.parse::<i64>().ok())
        && (1..=12).contains(&n)
    {
        return Some((format!("F{n}"), format!("F{n}"), 111 + n, None));
    }
    let mut chars = name.chars();
    let (Some(c), None) = (chars.next(), chars.next()) else {
        return None;
    };
    let upper = c.to_ascii_uppercase();
    let (code, vk) = if upper.is_ascii_alphabetic() {
        (format!("Key{upper}"), upper as i64)
    } else if c.is_ascii_digit() {
        (format!("Digit{c}"), c as i64)
    } else {
        (String::new(), 0)
    };
    Some((c.to_string(), code, vk, Some(c.to_string())))
}

/// Parses "Control+Shift+A" into the DevTools modifier bits and the key.
fn chord(text: &str) -> Result<(i64, String), String> {
    let parts: Vec<&str> = text.split('+').collect();
    let (key, mods) = match parts.split_last() {
        Some((k, m)) if !k.is_empty() => (*k, m),
        _ if text == "+" => ("+", &[][..]),
        _ => return Err(format!("{text:?} is not a key")),
    };
    let mut bits = 0;
    for m in mods {
        bits |= match m.to_ascii_lowercase().as_str() {
            "alt" => 1,
            "control" | "ctrl" => 2,
            "meta" | "command" | "cmd" | "win" => 4,
            "shift" => 8,
            other => {
                return Err(format!(
                    "{other:?} in {text:?} is not a modifier (Control, Shift, Alt, Meta)"
                ));
            }
        };
    }
    if key_event(key).is_none() {
        return Err(format!(
            "{key:?} is not a key kuroko knows: a single character, Enter, Tab, Escape, Backspace, \
             Delete, Insert, Home, End, PageUp, PageDown, ArrowLeft/Up/Right/Down, Space or F1–F12"
        ));
    }
    Ok((bits, key.to_string()))
}

impl Page {
    /// Attaches to a tab or popup and gets its events (dialogs, screencast frames).
    pub(super) fn attach(browser: Arc<Browser>, target: &str, timeout: Duration) -> WResult<Page> {
        let attached = browser.call(
            "Target.attachToTarget",
            json!({ "targetId": target, "flatten": true }),
            timeout,
        )?;
        let session = attached["sessionId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let page = Page {
            browser,
            session,
            target: target.to_string(),
            frames: Vec::new(),
            timeout,
            first: false,
        };
        page.call("Page.enable", json!({}), timeout)?;
        // Small pictures of the page as it changes, for the failure trace; costs the script
        // nothing (the reader thread keeps the newest and acknowledges it).
        let _ = page.call(
            "Page.startScreencast",
            json!({ "format": "jpeg", "quality": 50, "maxWidth": 480, "maxHeight": 360 }),
            timeout,
        );
        Ok(page)
    }

    fn abort(&self) -> &crate::abort::AbortSignal {
        &self.browser.abort
    }

    fn call(&self, method: &str, params: Value, timeout: Duration) -> WResult<Value> {
        self.browser
            .conn
            .call(
                Some(&self.session),
                method,
                params,
                Instant::now() + timeout,
                self.abort(),
            )
            .map_err(|e| WebError::from_cdp(e, method))
    }

    fn timeout_of(&self, act: &Act) -> Duration {
        act.timeout.unwrap_or(self.timeout)
    }

    /// A page-like object for a frame inside this page (or frame).
    pub fn frame(&self, loc: &Locator, act: &Act) -> WResult<Page> {
        let mut frame = self.clone();
        frame.frames.push(FrameRef {
            loc: loc.clone(),
            act: Act {
                timeout: None,
                ..act.clone()
            },
        });
        let timeout = self.timeout_of(act);
        frame.until::<bool>(&format!("frame {}", loc.source), timeout, |p| {
            p.engine(json!({ "op": "frame" }), timeout)
        })?;
        Ok(frame)
    }

    /// Asks the locator engine; the page between two documents is "wait", not an error.
    fn engine(&self, mut call: Value, budget: Duration) -> WResult<Answer> {
        call["frames"] = Value::Array(
            self.frames
                .iter()
                .map(|f| target_json(&f.loc, &f.act))
                .collect(),
        );
        let expression = format!("({ENGINE})({call})");
        let reply = self.browser.conn.call(
            Some(&self.session),
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
            Instant::now() + budget.max(Duration::from_millis(500)),
            self.abort(),
        );
        let result = match reply {
            Ok(v) => v,
            Err(CdpError::Protocol(m)) if is_transient(&m) => {
                return Ok(Answer::Wait("the page is loading".into()));
            }
            Err(CdpError::Timeout) => {
                return Ok(Answer::Wait("the page does not answer (busy)".into()));
            }
            Err(e) => return Err(WebError::from_cdp(e, "the page")),
        };
        if let Some(ex) = result.get("exceptionDetails") {
            let text = ex["exception"]["description"]
                .as_str()
                .or_else(|| ex["text"].as_str())
                .unwrap_or("an error")
                .to_string();
            if is_transient(&text) {
                return Ok(Answer::Wait("the page is loading".into()));
            }
            return Err(WebError::new(format!("the page raised: {text}")));
        }
        let value = &result["result"]["value"];
        if let Some(error) = value.get("error").and_then(Value::as_str) {
            return Err(WebError::new(error.to_string()));
        }
        if let Some(wait) = value.get("wait").and_then(Value::as_str) {
            return Ok(Answer::Wait(wait.to_string()));
        }
        Ok(Answer::Ok(
            value.get("value").cloned().unwrap_or(Value::Null),
        ))
    }

    /// Reports a dialog the script did not expect (answered by the reader thread meanwhile).
    pub fn dialog_check(&self) -> WResult<()> {
        let mut state = self.browser.conn.state();
        if let Some(s) = state.sessions.get_mut(&self.session)
            && !s.dialog_errors.is_empty()
        {
            let errors = std::mem::take(&mut s.dialog_errors);
            return Err(WebError::new(errors.join("; ")));
        }
        Ok(())
    }

    /// Polls `attempt` until it answers, the timeout passes (the error names `what` and the
    /// condition that failed last), the run is stopped, or an unexpected dialog appears.
    fn until<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut attempt: impl FnMut(&Page) -> WResult<Answer>,
    ) -> WResult<T>
    where
        T: serde::de::DeserializeOwned,
    {
        let started = Instant::now();
        let deadline = started + timeout;
        let mut pause = Duration::from_millis(5);
        loop {
            if self.abort().is_requested() {
                return Err(WebError::aborted());
            }
            self.dialog_check()?;
            let remaining = deadline.saturating_duration_since(Instant::now());
            match attempt(self)? {
                Answer::Ok(v) => {
                    return serde_json::from_value(v).map_err(|e| {
                        WebError::new(format!("{what}: unexpected answer from the page ({e})"))
                    });
                }
                Answer::Wait(why) => {
                    if remaining.is_zero() || Instant::now() >= deadline {
                        let place = if self.frames.is_empty() {
                            String::new()
                        } else {
                            format!(
                                " (in frame {})",
                                self.frames
                                    .iter()
                                    .map(|f| f.loc.source.as_str())
                                    .collect::<Vec<_>>()
                                    .join(" → ")
                            )
                        };
                        let what = if what.is_empty() {
                            String::new()
                        } else {
                            format!("{what}: ")
                        };
                        return Err(WebError::with_evidence(format!(
                            "{what}{why}{place} after {}",
                            seconds(timeout)
                        )));
                    }
                }
            }
            self.abort()
                .sleep(pause.min(deadline.saturating_duration_since(Instant::now())))
                .map_err(|_| WebError::aborted())?;
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }

    fn probe(
        &self,
        loc: &Locator,
        act: &Act,
        op: &str,
        checks: Value,
        extra: Value,
    ) -> WResult<Value> {
        let timeout = self.timeout_of(act);
        self.until("", timeout, |p| {
            let mut call = json!({ "op": op, "target": target_json(loc, act), "checks": checks });
            if let (Some(c), Some(e)) = (call.as_object_mut(), extra.as_object()) {
                c.extend(e.clone());
            }
            p.engine(call, timeout)
        })
    }

    fn mouse_click(&self, x: f64, y: f64, clicks: i64) -> WResult<()> {
        let t = self.timeout;
        self.call(
            "Input.dispatchMouseEvent",
            json!({ "type": "mouseMoved", "x": x, "y": y }),
            t,
        )?;
        for n in 1..=clicks {
            for kind in ["mousePressed", "mouseReleased"] {
                self.call(
                    "Input.dispatchMouseEvent",
                    json!({ "type": kind, "x": x, "y": y, "button": "left", "clickCount": n,
                            "buttons": if kind == "mousePressed" { 1 } else { 0 } }),
                    t,
                )?;
            }
        }
        Ok(())
    }

    pub fn click(&self, loc: &Locator, act: &Act) -> WResult<()> {
        self.click_times(loc, act, 1)
    }

    pub fn dblclick(&self, loc: &Locator, act: &Act) -> WResult<()> {
        self.click_times(loc, act, 2)
    }

    fn click_times(&self, loc: &Locator, act: &Act, times: i64) -> WResult<()> {
        let at = self.probe(
            loc,
            act,
            "probe",
            json!({ "enabled": true, "stable": true, "hit": true }),
            json!({}),
        )?;
        let before = self.navigations();
        let clicked = self.mouse_click(
            at["x"].as_f64().unwrap_or(0.0),
            at["y"].as_f64().unwrap_or(0.0),
            times,
        );
        if self.is_detached() {
            // The click closed its own window (a popup's 選択 that writes back and closes).
            return Ok(());
        }
        clicked?;
        self.dialog_check()?;
        self.settle(before, self.timeout_of(act))
    }

    /// Whether this page's window has been closed.
    pub fn is_detached(&self) -> bool {
        self.browser
            .conn
            .state()
            .sessions
            .get(&self.session)
            .is_some_and(|s| s.detached)
    }

    fn navigations(&self) -> u64 {
        self.browser
            .conn
            .state()
            .sessions
            .get(&self.session)
            .map_or(0, |s| s.navigations)
    }

    /// When the step made the page (or one of its frames) navigate, waits until the new
    /// document has replaced the old one, so the next step cannot act on the page that is
    /// going away (a frame's old form filled, then thrown away). A round trip through the
    /// page first, so the page's navigation events are in. A step that made its own window
    /// close (a popup's 選択 that writes back and calls `window.close()`) returns when the
    /// window is gone: a popup still closing would be reused by the next `window.open` with
    /// its name, and vanish.
    fn settle(&self, before: u64, timeout: Duration) -> WResult<()> {
        let deadline = Instant::now() + timeout;
        let closing = self
            .call(
                "Runtime.evaluate",
                json!({ "expression": "window.closed", "returnByValue": true }),
                timeout,
            )
            .is_ok_and(|r| r["result"]["value"] == true);
        if closing {
            while !self.is_detached() && Instant::now() < deadline {
                self.abort()
                    .sleep(Duration::from_millis(5))
                    .map_err(|_| WebError::aborted())?;
            }
            return Ok(());
        }
        if self.navigations() == before || self.is_detached() {
            return Ok(());
        }
        loop {
            let pending = self
                .browser
                .conn
                .state()
                .sessions
                .get(&self.session)
                .is_some_and(|s| !s.navigating.is_empty());
            // A navigation that never arrives (a slow server) is left to the next step's own
            // waiting; this only keeps the old document from being used.
            if !pending || Instant::now() >= deadline {
                return Ok(());
            }
            self.abort()
                .sleep(Duration::from_millis(5))
                .map_err(|_| WebError::aborted())?;
            self.dialog_check()?;
        }
    }

    /// Puts `text` into a field exactly: focus, select what is there, insert the text as one
    /// edit. With `verify`, the field must then hold exactly `text`.
    pub fn fill(&self, loc: &Locator, text: &str, act: &Act, verify: bool) -> WResult<()> {
        let focused = self.probe(
            loc,
            act,
            "focus",
            json!({ "enabled": true, "editable": true, "hit": true }),
            json!({ "selectAll": true }),
        )?;
        let kind = focused["kind"].as_str().unwrap_or("");
        match kind {
            "text" => {
                if text.is_empty() {
                    self.engine_now(json!({ "op": "clear" }))?;
                } else {
                    self.call("Input.insertText", json!({ "text": text }), self.timeout)?;
                }
            }
            "native" => {
                self.engine_now(
                    json!({ "op": "setNative", "target": target_json(loc, act), "text": text }),
                )?;
            }
            "select" => {
                return Err(WebError::new(format!(
                    "{} is a drop-down list: use select(…, \"option\")",
                    loc.source
                )));
            }
            "checkbox" => {
                return Err(WebError::new(format!(
                    "{} is a check box: use check() or uncheck()",
                    loc.source
                )));
            }
            "file" => {
                return Err(WebError::new(format!(
                    "{} is a file field: use upload(…, path)",
                    loc.source
                )));
            }
            _ => {
                return Err(WebError::new(format!(
                    "{} is not a field text can be typed into",
                    loc.source
                )));
            }
        }
        self.dialog_check()?;
        if verify {
            let now: String = self
                .read(loc, act, "value", None)?
                .as_str()
                .unwrap_or_default()
                .to_string();
            if now != text {
                return Err(WebError::with_evidence(format!(
                    "{}: the field holds {now:?} after filling {text:?} (a length limit, or \
                     the page changed it; #{{ verify: false }} accepts what the page made of it)",
                    loc.source
                )));
            }
        }
        Ok(())
    }

    /// Runs an engine operation once (no waiting).
    fn engine_now(&self, call: Value) -> WResult<Value> {
        match self.engine(call, self.timeout)? {
            Answer::Ok(v) => Ok(v),
            Answer::Wait(why) => Err(WebError::new(format!(
                "the page changed during the step: {why}"
            ))),
        }
    }

    pub fn press(&self, loc: &Locator, key: &str, act: &Act) -> WResult<()> {
        let (modifiers, key) = chord(key).map_err(WebError::new)?;
        self.probe(
            loc,
            act,
            "focus",
            json!({ "enabled": true }),
            json!({ "anyKind": true }),
        )?;
        let before = self.navigations();
        self.key(modifiers, &key)?;
        self.dialog_check()?;
        self.settle(before, self.timeout_of(act))
    }

    fn key(&self, modifiers: i64, key: &str) -> WResult<()> {
        let Some((key, code, vk, text)) = key_event(key) else {
            return Err(WebError::new(format!("{key:?} is not a key")));
        };
        // A chord with Control, Alt or Meta types no character.
        let text = text.filter(|_| modifiers & 7 == 0);
        let mut down = json!({
            "type": if text.is_some() { "keyDown" } else { "rawKeyDown" },
            "modifiers": modifiers, "key": key, "code": code,
            "windowsVirtualKeyCode": vk, "nativeVirtualKeyCode": vk,
        });
        if let Some(t) = &text {
            down["text"] = json!(t);
            down["unmodifiedText"] = json!(t);
        }
        self.call("Input.dispatchKeyEvent", down, self.timeout)?;
        self.call(
            "Input.dispatchKeyEvent",
            json!({ "type": "keyUp", "modifiers": modifiers, "key": key, "code": code,
                    "windowsVirtualKeyCode": vk, "nativeVirtualKeyCode": vk }),
            self.timeout,
        )?;
        Ok(())
    }

    /// Chooses the option whose text (or value) is `option`; returns its text.
    pub fn select(&self, loc: &Locator, option: &str, act: &Act) -> WResult<String> {
        let before = self.navigations();
        let chosen = self.probe(
            loc,
            act,
            "select",
            json!({ "enabled": true }),
            json!({ "text": option }),
        )?;
        self.dialog_check()?;
        // Old forms submit themselves on change (`onchange="this.form.submit()"`).
        self.settle(before, self.timeout_of(act))?;
        Ok(chosen.as_str().unwrap_or_default().to_string())
    }

    /// Ticks (or clears) a check box or radio button, by clicking it when it is not already
    /// so; an error when the click did not change it.
    pub fn set_checked(&self, loc: &Locator, on: bool, act: &Act) -> WResult<()> {
        let at = self.probe(
            loc,
            act,
            "probe",
            json!({ "enabled": true, "stable": true, "hit": true }),
            json!({}),
        )?;
        match at["checked"].as_bool() {
            None => {
                return Err(WebError::new(format!(
                    "{} is not a check box or radio button",
                    loc.source
                )));
            }
            Some(now) if now == on => return Ok(()),
            Some(_) => {}
        }
        let before = self.navigations();
        self.mouse_click(
            at["x"].as_f64().unwrap_or(0.0),
            at["y"].as_f64().unwrap_or(0.0),
            1,
        )?;
        self.dialog_check()?;
        self.settle(before, self.timeout_of(act))?;
        if self.is_detached() || self.navigations() != before {
            return Ok(()); // the click closed the window or sent the form
        }
        let now = self.read(loc, act, "checked", None)?;
        if now.as_bool() != Some(on) {
            return Err(WebError::with_evidence(format!(
                "{}: clicked, but it is still {}",
                loc.source,
                if on { "not ticked" } else { "ticked" }
            )));
        }
        Ok(())
    }

    /// Reads from one element once it is attached: "text", "value", "attr", "checked",
    /// "fileInput", "table".
    fn read(&self, loc: &Locator, act: &Act, what: &str, name: Option<&str>) -> WResult<Value> {
        let timeout = self.timeout_of(act);
        self.until("", timeout, |p| {
            p.engine(
                json!({ "op": "read", "target": target_json(loc, act), "what": what, "name": name }),
                timeout,
            )
        })
    }

    pub fn text(&self, loc: &Locator, act: &Act) -> WResult<String> {
        Ok(self
            .read(loc, act, "text", None)?
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    pub fn value(&self, loc: &Locator, act: &Act) -> WResult<String> {
        Ok(self
            .read(loc, act, "value", None)?
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    pub fn attr(&self, loc: &Locator, name: &str, act: &Act) -> WResult<Option<String>> {
        Ok(self
            .read(loc, act, "attr", Some(name))?
            .as_str()
            .map(String::from))
    }

    /// How many elements match now (no waiting).
    pub fn count(&self, loc: &Locator, act: &Act) -> WResult<u64> {
        let call = json!({ "op": "count", "target": target_json(loc, act) });
        match self.engine(call, self.timeout)? {
            Answer::Ok(v) => Ok(v.as_u64().unwrap_or(0)),
            // Between two documents nothing is there yet.
            Answer::Wait(_) => Ok(0),
        }
    }

    pub fn wait_for(&self, loc: &Locator, state: State, act: &Act) -> WResult<()> {
        let timeout = self.timeout_of(act);
        self.until::<bool>("", timeout, |p| {
            let call = json!({ "op": "state", "target": target_json(loc, act) });
            let answer = p.engine(call, timeout)?;
            let Answer::Ok(s) = answer else {
                return Ok(answer);
            };
            let attached = s["attached"].as_bool().unwrap_or(false);
            let visible = s["visible"].as_bool().unwrap_or(false);
            let done = match state {
                State::Attached => attached,
                State::Detached => !attached,
                State::Visible => visible,
                State::Hidden => !visible,
            };
            Ok(if done {
                Answer::Ok(Value::Bool(true))
            } else {
                Answer::Wait(match (attached, visible) {
                    (false, _) => "no element matches".into(),
                    (true, false) => "it is there but not visible".into(),
                    (true, true) => "it is still visible".into(),
                })
            })
        })?;
        Ok(())
    }

    fn location(&self) -> WResult<Value> {
        let t = self.timeout;
        self.until("reading the page's address", t, |p| {
            p.engine(json!({ "op": "location" }), t)
        })
    }

    pub fn url(&self) -> WResult<String> {
        Ok(self.location()?["url"]
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    pub fn title(&self) -> WResult<String> {
        Ok(self.location()?["title"]
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    pub fn wait_url(&self, part: &str, act: &Act) -> WResult<String> {
        let timeout = self.timeout_of(act);
        self.until(
            &format!("waiting for an address with {part:?}"),
            timeout,
            |p| {
                let answer = p.engine(json!({ "op": "location" }), timeout)?;
                let Answer::Ok(l) = answer else {
                    return Ok(answer);
                };
                let url = l["url"].as_str().unwrap_or_default();
                Ok(if url.contains(part) && l["ready"] != "loading" {
                    Answer::Ok(json!(url))
                } else {
                    Answer::Wait(format!("the address is {url}"))
                })
            },
        )
    }

    /// Goes to `url` (in this page, or in this frame) and waits until it has loaded.
    pub fn goto(&self, url: &str, timeout: Duration) -> WResult<()> {
        if self.frames.is_empty() {
            let nav = self.call("Page.navigate", json!({ "url": url }), timeout)?;
            if let Some(error) = nav.get("errorText").and_then(Value::as_str) {
                return Err(WebError::with_evidence(format!(
                    "cannot open {url}: {error}"
                )));
            }
        } else {
            // The frame's own window goes to the address; its old document is marked so the
            // wait below does not mistake it for the new one.
            let t = self.timeout;
            self.until::<bool>(&format!("opening {url} in the frame"), t, |p| {
                p.engine(json!({ "op": "navigate", "url": url }), t)
            })?;
        }
        self.until::<bool>(&format!("loading {url}"), timeout, |p| {
            let answer = p.engine(json!({ "op": "location" }), timeout)?;
            let Answer::Ok(l) = answer else {
                return Ok(answer);
            };
            let loaded = l["ready"] == "complete" && l["old"] != true;
            Ok(
                if loaded && (l["url"] != "about:blank" || url == "about:blank") {
                    Answer::Ok(Value::Bool(true))
                } else {
                    Answer::Wait("the page is still loading".into())
                },
            )
        })?;
        Ok(())
    }

    /// An HTML table as rows keyed by its header cells; with `next`, follows that link or
    /// button through every page of results until it is gone or disabled.
    pub fn table(
        &self,
        loc: &Locator,
        next: Option<&Locator>,
        act: &Act,
    ) -> WResult<(Vec<String>, Vec<Vec<String>>)> {
        #[derive(serde::Deserialize)]
        struct Table {
            keys: Vec<String>,
            rows: Vec<Vec<String>>,
            sig: String,
        }
        let read = |p: &Page| -> WResult<Table> {
            let v = p.read(loc, act, "table", None)?;
            serde_json::from_value(v).map_err(|e| WebError::new(format!("{}: {e}", loc.source)))
        };
        let first = read(self)?;
        let keys = first.keys.clone();
        let mut rows = first.rows;
        let Some(next) = next else {
            return Ok((keys, rows));
        };
        let mut sig = first.sig;
        let plain = Act {
            timeout: act.timeout,
            ..Act::default()
        };
        for _page in 0..10_000 {
            // Is there a next page? The link must be there, visible and enabled.
            let state =
                self.engine_now(json!({ "op": "state", "target": target_json(next, &plain) }))?;
            if !state["visible"].as_bool().unwrap_or(false) {
                return Ok((keys, rows));
            }
            let probe = self.engine(
                json!({ "op": "probe", "target": target_json(next, &plain),
                        "checks": { "enabled": true } }),
                self.timeout,
            )?;
            if let Answer::Wait(why) = &probe
                && why == "disabled"
            {
                return Ok((keys, rows));
            }
            self.click(next, &plain)?;
            let timeout = self.timeout_of(act);
            let page: Table = self.until(
                &format!("the next page of {} after {}", loc.source, next.source),
                timeout,
                |p| {
                    let answer = p.engine(
                        json!({ "op": "read", "target": target_json(loc, act), "what": "table" }),
                        timeout,
                    )?;
                    Ok(match answer {
                        Answer::Ok(v) if v["sig"].as_str() != Some(sig.as_str()) => Answer::Ok(v),
                        Answer::Ok(_) => Answer::Wait("the table has not changed yet".into()),
                        wait => wait,
                    })
                },
            )?;
            sig = page.sig;
            rows.extend(page.rows);
        }
        Err(WebError::new(format!(
            "{}: more than 10,000 pages",
            loc.source
        )))
    }

    /// Clicks `loc` and waits for the download it starts; returns the file in `dir` (named as
    /// the site suggested) — the caller moves it where it belongs.
    pub fn download(&self, loc: &Locator, act: &Act) -> WResult<(PathBuf, String)> {
        let timeout = self.timeout_of(act);
        self.browser.enable_downloads(timeout)?;
        let before: Vec<String> = self
            .browser
            .conn
            .state()
            .downloads
            .iter()
            .map(|d| d.guid.clone())
            .collect();
        self.click(loc, act)?;
        let done: (String, String) =
            self.until(&format!("the download from {}", loc.source), timeout, |p| {
                let state = p.browser.conn.state();
                let new = state.downloads.iter().find(|d| !before.contains(&d.guid));
                Ok(match new {
                    None => Answer::Wait("no download started".into()),
                    Some(d) if d.state == "completed" => Answer::Ok(json!([d.guid, d.suggested])),
                    Some(d) if d.state == "canceled" => {
                        return Err(WebError::new(format!(
                            "the download of {:?} was cancelled",
                            d.suggested
                        )));
                    }
                    Some(_) => Answer::Wait("the download has not finished".into()),
                })
            })?;
        Ok((self.browser.downloads.join(&done.0), done.1))
    }

    /// Gives a file field the files at `paths` (absolute).
    pub fn upload(&self, loc: &Locator, paths: &[&Path], act: &Act) -> WResult<()> {
        let is_file = self.read(loc, act, "fileInput", None)?;
        if is_file != Value::Bool(true) {
            return Err(WebError::new(format!(
                "{} is not a file field (<input type=file>)",
                loc.source
            )));
        }
        let object = self.element_handle(loc, act)?;
        let files: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        let set = self.call(
            "DOM.setFileInputFiles",
            json!({ "files": files, "objectId": object }),
            self.timeout,
        );
        let _ = self.call(
            "Runtime.releaseObject",
            json!({ "objectId": object }),
            self.timeout,
        );
        set?;
        self.dialog_check()
    }

    /// A remote reference to the one element `loc` finds (for the protocol's DOM commands).
    fn element_handle(&self, loc: &Locator, act: &Act) -> WResult<String> {
        let mut call = json!({ "op": "element", "target": target_json(loc, act) });
        call["frames"] = Value::Array(
            self.frames
                .iter()
                .map(|f| target_json(&f.loc, &f.act))
                .collect(),
        );
        let expression = format!("({ENGINE})({call}).then((r) => r.value || null)");
        let reply = self.call(
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": false, "awaitPromise": true }),
            self.timeout,
        )?;
        reply["result"]["objectId"]
            .as_str()
            .map(String::from)
            .ok_or_else(|| WebError::new(format!("{}: the element went away", loc.source)))
    }

    /// Clicks `loc` and returns the window or tab it opens.
    pub fn popup(&self, loc: &Locator, act: &Act) -> WResult<Page> {
        let before: Vec<String> = self
            .browser
            .conn
            .state()
            .targets
            .iter()
            .map(|t| t.id.clone())
            .collect();
        self.click(loc, act)?;
        let timeout = self.timeout_of(act);
        let id: String = self.until(
            &format!("the window opened by {}", loc.source),
            timeout,
            |p| {
                let state = p.browser.conn.state();
                Ok(
                    match state.targets.iter().find(|t| {
                        t.kind == "page"
                            && !before.contains(&t.id)
                            && t.opener.as_deref() == Some(p.target.as_str())
                    }) {
                        Some(t) => Answer::Ok(json!(t.id)),
                        None => Answer::Wait("no new window opened".into()),
                    },
                )
            },
        )?;
        let popup = Page::attach(self.browser.clone(), &id, self.timeout)?;
        // A window opened on an address shows about:blank first; one the page writes itself
        // (`window.open("")` and `document.write`) stays at about:blank: accepted after 1 s.
        let opened = Instant::now();
        popup.until::<bool>("loading the new window", timeout, |p| {
            let answer = p.engine(json!({ "op": "location" }), timeout)?;
            let Answer::Ok(l) = answer else {
                return Ok(answer);
            };
            let blank_for_long = opened.elapsed() > Duration::from_secs(1);
            Ok(
                if l["ready"] == "complete" && (l["url"] != "about:blank" || blank_for_long) {
                    Answer::Ok(Value::Bool(true))
                } else {
                    Answer::Wait("the new window is still loading".into())
                },
            )
        })?;
        Ok(popup)
    }

    /// Arms the answer to this page's next JavaScript dialog.
    pub fn on_dialog(&self, accept: bool, expected: Option<String>, prompt_text: Option<String>) {
        let mut state = self.browser.conn.state();
        state
            .sessions
            .entry(self.session.clone())
            .or_default()
            .armed = Some(DialogAnswer {
            accept,
            expected,
            prompt_text,
        });
    }

    /// The page as a PNG.
    pub fn screenshot(&self) -> WResult<Vec<u8>> {
        use base64::Engine;
        let shot = self.call(
            "Page.captureScreenshot",
            json!({ "format": "png" }),
            self.timeout,
        )?;
        base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap_or_default())
            .map_err(|e| WebError::new(format!("the screenshot could not be read: {e}")))
    }

    /// The page's HTML (and that of its frames), for evidence.
    pub fn html(&self) -> WResult<String> {
        match self.engine(json!({ "op": "html" }), Duration::from_secs(5))? {
            Answer::Ok(v) => Ok(v.as_str().unwrap_or_default().to_string()),
            Answer::Wait(why) => Err(WebError::new(why)),
        }
    }

    /// The newest small picture of the page (JPEG), for the trace.
    pub fn latest_frame(&self) -> Option<Arc<String>> {
        self.browser
            .conn
            .state()
            .sessions
            .get(&self.session)
            .and_then(|s| s.frame.clone())
    }

    /// Closes this tab or popup; the first tab of a browser kuroko started closes the browser.
    pub fn close(&self) -> WResult<()> {
        if self.browser.is_closed() {
            return Ok(());
        }
        let _ = self.browser.call(
            "Target.closeTarget",
            json!({ "targetId": self.target }),
            self.timeout,
        );
        Ok(())
    }

    pub fn browser(&self) -> &Arc<Browser> {
        &self.browser
    }

    pub fn is_first_tab(&self) -> bool {
        self.first && self.frames.is_empty()
    }

    pub(super) fn set_first(&mut self) {
        self.first = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_chords() {
        assert_eq!(chord("Enter").unwrap(), (0, "Enter".into()));
        assert_eq!(chord("Control+a").unwrap(), (2, "a".into()));
        assert_eq!(chord("Ctrl+Shift+F5").unwrap(), (10, "F5".into()));
        assert!(chord("Hyper+a").unwrap_err().contains("not a modifier"));
        assert!(chord("Enterr").unwrap_err().contains("not a key"));
        assert_eq!(key_event("a").unwrap().2, 'A' as i64);
        assert_eq!(key_event("enter").unwrap().3.as_deref(), Some("\r"));
        assert_eq!(key_event("F12").unwrap().2, 123);
    }
}

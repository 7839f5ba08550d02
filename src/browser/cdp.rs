//! The DevTools protocol connection to one browser: JSON commands with ids, their replies and
//! the browser's events, over `--remote-debugging-pipe` (no port opened) or a WebSocket (a
//! browser the clerk started with a debugging port, and Windows). One reader thread per
//! connection matches replies to callers and answers what cannot wait for the script:
//! JavaScript dialogs (a dialog blocks the page until answered) and screencast frames (the
//! failure trace's small pictures).

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::abort::AbortSignal;

/// Why a command got no result.
#[derive(Debug, Clone, PartialEq)]
pub enum CdpError {
    /// The browser answered with an error.
    Protocol(String),
    /// No answer before the deadline.
    Timeout,
    /// The run is being stopped.
    Aborted,
    /// The browser went away (closed, crashed, or the pipe broke).
    Closed(String),
}

impl std::fmt::Display for CdpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CdpError::Protocol(m) => write!(f, "{m}"),
            CdpError::Timeout => write!(f, "the browser did not answer in time"),
            CdpError::Aborted => write!(f, "aborted"),
            CdpError::Closed(m) => write!(f, "the browser is gone ({m})"),
        }
    }
}

/// A page, popup or other target the browser reported.
#[derive(Debug, Clone)]
pub struct Target {
    pub id: String,
    pub kind: String,
    pub opener: Option<String>,
}

/// The answer armed for the next JavaScript dialog of a page.
#[derive(Debug, Clone)]
pub struct DialogAnswer {
    pub accept: bool,
    /// The dialog's text must contain this, else it is dismissed and reported.
    pub expected: Option<String>,
    pub prompt_text: Option<String>,
}

/// What the reader thread keeps per attached page (a CDP session).
#[derive(Debug, Default)]
pub struct SessionState {
    pub armed: Option<DialogAnswer>,
    /// Dialogs answered since the script last looked: (kind, text, accepted).
    pub dialogs: Vec<(String, String, bool)>,
    /// A dialog the script did not expect; the next page call reports it.
    pub dialog_errors: Vec<String>,
    /// The newest screencast frame (JPEG, base64), for the failure trace.
    pub frame: Option<Arc<String>>,
    pub detached: bool,
    /// Navigations asked for in this page (a link or a submit clicked, `location` set).
    pub navigations: u64,
    /// Frames asked to navigate whose new document has not arrived yet.
    pub navigating: std::collections::HashSet<String>,
}

/// A download the browser reported.
#[derive(Debug, Clone)]
pub struct Download {
    pub guid: String,
    pub suggested: String,
    /// "inProgress", "completed" or "canceled".
    pub state: String,
}

#[derive(Debug, Default)]
pub struct State {
    pub targets: Vec<Target>,
    pub sessions: HashMap<String, SessionState>,
    pub downloads: Vec<Download>,
}

type Reply = Result<Value, CdpError>;
/// A caller waiting for an answer, with the page (session) it asked.
type Waiter = (Option<String>, mpsc::Sender<Reply>);

/// Where commands are written.
enum Outgoing {
    /// The pipe's write end: each message is followed by a NUL byte (Unix; Windows uses the
    /// WebSocket).
    #[cfg_attr(not(unix), allow(dead_code))]
    Pipe(Mutex<Box<dyn Write + Send>>),
    /// Text frames on a WebSocket.
    Socket(Box<Mutex<tungstenite::WebSocket<std::net::TcpStream>>>),
}

struct Inner {
    out: Outgoing,
    next_id: AtomicU64,
    pending: Mutex<HashMap<u64, Waiter>>,
    state: Mutex<State>,
    closed: AtomicBool,
    closed_reason: Mutex<String>,
}

/// Cheap to clone; every clone talks to the same browser.
#[derive(Clone)]
pub struct Connection {
    inner: Arc<Inner>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The largest message accepted from the browser (a full-page screenshot of a tall page).
const MAX_MESSAGE: usize = 256 * 1024 * 1024;

impl Connection {
    /// A connection over the browser's debugging pipe (`reader`: what the browser writes on
    /// its fd 4; `writer`: its fd 3).
    #[cfg_attr(not(unix), allow(dead_code))]
    pub fn over_pipe(
        reader: impl std::io::Read + Send + 'static,
        writer: impl Write + Send + 'static,
    ) -> Connection {
        let conn = Connection::new(Outgoing::Pipe(Mutex::new(Box::new(writer))));
        let reading = conn.clone();
        std::thread::Builder::new()
            .name("kuroko-cdp-pipe".into())
            .spawn(move || {
                let mut input = std::io::BufReader::with_capacity(1 << 16, reader);
                let mut buffer = Vec::new();
                loop {
                    buffer.clear();
                    match std::io::Read::take(&mut input, MAX_MESSAGE as u64)
                        .read_until(0, &mut buffer)
                    {
                        Ok(0) => break reading.mark_closed("the browser closed its pipe"),
                        Ok(_) => {
                            if buffer.last() == Some(&0) {
                                buffer.pop();
                            } else if buffer.len() >= MAX_MESSAGE {
                                break reading
                                    .mark_closed("a message from the browser was too large");
                            }
                            reading.dispatch(&buffer);
                        }
                        Err(e) => break reading.mark_closed(&format!("reading its pipe: {e}")),
                    }
                }
            })
            .expect("a thread for the browser's pipe");
        conn
    }

    /// A connection to a browser's WebSocket debugging endpoint (`ws://127.0.0.1:port/…`).
    pub fn over_websocket(url: &str) -> Result<Connection, String> {
        let rest = url
            .strip_prefix("ws://")
            .ok_or_else(|| format!("{url:?} is not a ws:// address"))?;
        let host = rest.split('/').next().unwrap_or_default();
        let stream = std::net::TcpStream::connect(host)
            .map_err(|e| format!("cannot connect to the browser at {host}: {e}"))?;
        stream.set_nodelay(true).ok();
        let (socket, _) = tungstenite::client::client(url, stream)
            .map_err(|e| format!("the browser at {host} refused the DevTools connection: {e}"))?;
        let read_half = socket
            .get_ref()
            .try_clone()
            .map_err(|e| format!("cannot read from the browser at {host}: {e}"))?;
        let mut config = tungstenite::protocol::WebSocketConfig::default();
        config.max_message_size = Some(MAX_MESSAGE);
        config.max_frame_size = Some(MAX_MESSAGE);
        let mut reader = tungstenite::WebSocket::from_raw_socket(
            read_half,
            tungstenite::protocol::Role::Client,
            Some(config),
        );
        let conn = Connection::new(Outgoing::Socket(Box::new(Mutex::new(socket))));
        let reading = conn.clone();
        std::thread::Builder::new()
            .name("kuroko-cdp-socket".into())
            .spawn(move || {
                loop {
                    match reader.read() {
                        Ok(tungstenite::Message::Text(text)) => reading.dispatch(text.as_bytes()),
                        Ok(tungstenite::Message::Binary(bytes)) => reading.dispatch(&bytes),
                        Ok(tungstenite::Message::Close(_)) => {
                            break reading.mark_closed("the browser closed the connection");
                        }
                        Ok(_) => {}
                        Err(e) => break reading.mark_closed(&format!("the connection broke: {e}")),
                    }
                }
            })
            .expect("a thread for the browser's socket");
        Ok(conn)
    }

    fn new(out: Outgoing) -> Connection {
        Connection {
            inner: Arc::new(Inner {
                out,
                next_id: AtomicU64::new(1),
                pending: Mutex::default(),
                state: Mutex::default(),
                closed: AtomicBool::new(false),
                closed_reason: Mutex::default(),
            }),
        }
    }

    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::SeqCst)
    }

    pub fn closed_reason(&self) -> String {
        lock(&self.inner.closed_reason).clone()
    }

    /// The state the reader thread keeps (targets, dialogs, downloads, frames).
    pub fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.inner.state)
    }

    fn mark_closed(&self, reason: &str) {
        {
            let mut r = lock(&self.inner.closed_reason);
            if r.is_empty() {
                *r = reason.to_string();
            }
        }
        self.inner.closed.store(true, Ordering::SeqCst);
        for (_, (_, waiter)) in lock(&self.inner.pending).drain() {
            let _ = waiter.send(Err(CdpError::Closed(reason.to_string())));
        }
    }

    fn write(&self, message: &Value) -> Result<(), CdpError> {
        let text = message.to_string();
        let written = match &self.inner.out {
            Outgoing::Pipe(w) => {
                let mut w = lock(w);
                w.write_all(text.as_bytes())
                    .and_then(|_| w.write_all(&[0]))
                    .and_then(|_| w.flush())
                    .map_err(|e| e.to_string())
            }
            Outgoing::Socket(s) => lock(s)
                .send(tungstenite::Message::text(text))
                .map_err(|e| e.to_string()),
        };
        written.map_err(|e| {
            self.mark_closed(&format!("writing to it failed: {e}"));
            CdpError::Closed(self.closed_reason())
        })
    }

    /// Sends a command and does not wait for its answer (dialog answers, frame acks).
    pub fn send(&self, session: Option<&str>, method: &str, params: Value) {
        let id = self.inner.next_id.fetch_add(1, Ordering::SeqCst);
        let _ = self.write(&message(id, session, method, params));
    }

    /// Sends a command and waits for its answer until `deadline`, ending early when the run
    /// is being stopped (within 10 ms) or the browser goes away.
    pub fn call(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
        deadline: Instant,
        abort: &AbortSignal,
    ) -> Result<Value, CdpError> {
        // Registered first: a close or detach noticed after this answers the waiter.
        let id = self.inner.next_id.fetch_add(1, Ordering::SeqCst);
        let (tx, rx) = mpsc::channel();
        lock(&self.inner.pending).insert(id, (session.map(String::from), tx));
        let forget = || {
            lock(&self.inner.pending).remove(&id);
        };
        if self.is_closed() {
            forget();
            return Err(CdpError::Closed(self.closed_reason()));
        }
        if let Some(s) = session
            && self.state().sessions.get(s).is_some_and(|s| s.detached)
        {
            forget();
            return Err(CdpError::Closed("the window was closed".into()));
        }
        if let Err(e) = self.write(&message(id, session, method, params)) {
            forget();
            return Err(e);
        }
        loop {
            if abort.is_requested() {
                forget();
                return Err(CdpError::Aborted);
            }
            let now = Instant::now();
            if now >= deadline {
                forget();
                return Err(CdpError::Timeout);
            }
            match rx.recv_timeout((deadline - now).min(Duration::from_millis(10))) {
                Ok(reply) => return reply,
                Err(mpsc::RecvTimeoutError::Timeout) => continue,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(CdpError::Closed(self.closed_reason()));
                }
            }
        }
    }

    /// Handles one message from the browser: a reply, or an event.
    fn dispatch(&self, bytes: &[u8]) {
        let Ok(msg) = serde_json::from_slice::<Value>(bytes) else {
            return;
        };
        if let Some(id) = msg.get("id").and_then(Value::as_u64) {
            if let Some((_, waiter)) = lock(&self.inner.pending).remove(&id) {
                let reply = match msg.get("error") {
                    Some(e) => Err(CdpError::Protocol(
                        e.get("message")
                            .and_then(Value::as_str)
                            .unwrap_or("unknown error")
                            .to_string(),
                    )),
                    None => Ok(msg.get("result").cloned().unwrap_or(Value::Null)),
                };
                let _ = waiter.send(reply);
            }
            return;
        }
        let method = msg.get("method").and_then(Value::as_str).unwrap_or("");
        let params = msg.get("params").cloned().unwrap_or(Value::Null);
        let session = msg.get("sessionId").and_then(Value::as_str);
        self.event(method, &params, session);
    }

    fn event(&self, method: &str, params: &Value, session: Option<&str>) {
        let text =
            |v: &Value, key: &str| v.get(key).and_then(Value::as_str).unwrap_or("").to_string();
        match method {
            "Target.targetCreated" | "Target.targetInfoChanged" => {
                let info = &params["targetInfo"];
                let target = Target {
                    id: text(info, "targetId"),
                    kind: text(info, "type"),
                    opener: info
                        .get("openerId")
                        .and_then(Value::as_str)
                        .map(String::from),
                };
                let mut state = self.state();
                match state.targets.iter_mut().find(|t| t.id == target.id) {
                    Some(known) => *known = target,
                    None => state.targets.push(target),
                }
            }
            "Target.targetDestroyed" => {
                let id = text(params, "targetId");
                self.state().targets.retain(|t| t.id != id);
            }
            "Target.detachedFromTarget" => {
                // The window closed (or crashed): nothing asked of it will be answered.
                let id = text(params, "sessionId");
                self.state()
                    .sessions
                    .entry(id.clone())
                    .or_default()
                    .detached = true;
                let mut pending = lock(&self.inner.pending);
                let gone: Vec<u64> = pending
                    .iter()
                    .filter(|(_, (s, _))| s.as_deref() == Some(id.as_str()))
                    .map(|(k, _)| *k)
                    .collect();
                for k in gone {
                    if let Some((_, waiter)) = pending.remove(&k) {
                        let _ = waiter.send(Err(CdpError::Closed("the window was closed".into())));
                    }
                }
            }
            "Page.frameRequestedNavigation" | "Page.frameStartedNavigating" => {
                let (Some(session), frame) = (session, text(params, "frameId")) else {
                    return;
                };
                let disposition = text(params, "disposition");
                if !disposition.is_empty() && disposition != "currentTab" {
                    return; // a new window or a download: not this page's document
                }
                let mut state = self.state();
                let s = state.sessions.entry(session.to_string()).or_default();
                s.navigations += 1;
                s.navigating.insert(frame);
            }
            "Page.frameNavigated"
            | "Page.frameStoppedLoading"
            | "Page.navigatedWithinDocument"
            | "Page.frameDetached" => {
                let Some(session) = session else { return };
                let frame = match params.get("frame") {
                    Some(f) => text(f, "id"),
                    None => text(params, "frameId"),
                };
                if let Some(s) = self.state().sessions.get_mut(session) {
                    s.navigating.remove(&frame);
                }
            }
            "Page.javascriptDialogOpening" => {
                let Some(session) = session else { return };
                let kind = text(params, "type");
                let message_text = text(params, "message");
                let answer = {
                    let mut state = self.state();
                    let s = state.sessions.entry(session.to_string()).or_default();
                    let answer = match s.armed.take() {
                        Some(armed) => match &armed.expected {
                            Some(want) if !message_text.contains(want.as_str()) => {
                                s.dialog_errors.push(format!(
                                    "the {kind} dialog said 「{message_text}」, not 「{want}」 as \
                                     armed; it was dismissed"
                                ));
                                None
                            }
                            _ => Some(armed),
                        },
                        None => {
                            s.dialog_errors.push(format!(
                                "the page opened a {kind} dialog nobody expected: 「{message_text}」 \
                                 (it was dismissed); call on_dialog(\"accept\", \"…\") or \
                                 on_dialog(\"dismiss\", \"…\") before the step that opens it"
                            ));
                            None
                        }
                    };
                    let accept = answer.as_ref().is_some_and(|a| a.accept);
                    s.dialogs.push((kind.clone(), message_text.clone(), accept));
                    answer
                };
                let mut params = json!({ "accept": answer.as_ref().is_some_and(|a| a.accept) });
                if let Some(prompt) = answer.and_then(|a| a.prompt_text) {
                    params["promptText"] = Value::String(prompt);
                }
                self.send(Some(session), "Page.handleJavaScriptDialog", params);
            }
            "Page.screencastFrame" => {
                let Some(session) = session else { return };
                if let Some(data) = params.get("data").and_then(Value::as_str) {
                    self.state()
                        .sessions
                        .entry(session.to_string())
                        .or_default()
                        .frame = Some(Arc::new(data.to_string()));
                }
                let ack = params.get("sessionId").cloned().unwrap_or(Value::Null);
                self.send(
                    Some(session),
                    "Page.screencastFrameAck",
                    json!({ "sessionId": ack }),
                );
            }
            "Browser.downloadWillBegin" => {
                let frame = text(params, "frameId");
                let mut state = self.state();
                for s in state.sessions.values_mut() {
                    s.navigating.remove(&frame);
                }
                state.downloads.push(Download {
                    guid: text(params, "guid"),
                    suggested: text(params, "suggestedFilename"),
                    state: "inProgress".into(),
                });
            }
            "Browser.downloadProgress" => {
                let guid = text(params, "guid");
                let state_now = text(params, "state");
                if let Some(d) = self.state().downloads.iter_mut().find(|d| d.guid == guid) {
                    d.state = state_now;
                }
            }
            _ => {}
        }
    }
}

fn message(id: u64, session: Option<&str>, method: &str, params: Value) -> Value {
    let mut m = json!({ "id": id, "method": method, "params": params });
    if let Some(s) = session {
        m["sessionId"] = Value::String(s.to_string());
    }
    m
}

/// The browser-level WebSocket address of a browser listening on `127.0.0.1:port`
/// (`/json/version`'s `webSocketDebuggerUrl`).
pub fn websocket_url(port: u16) -> Result<String, String> {
    use std::io::Read;
    let address = format!("127.0.0.1:{port}");
    let mut stream = std::net::TcpStream::connect_timeout(
        &address.parse().map_err(|e| format!("{address}: {e}"))?,
        Duration::from_secs(5),
    )
    .map_err(|e| {
        format!(
            "no browser answers on port {port} ({e}); start it with --remote-debugging-port={port}"
        )
    })?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    write!(
        stream,
        "GET /json/version HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!("port {port}: {e}"))?;
    // The browser keeps the connection open: read the headers, then Content-Length bytes.
    let mut reader = std::io::BufReader::new(stream.take(1 << 20));
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader
            .read_line(&mut line)
            .map_err(|e| format!("port {port}: {e}"))?
            == 0
        {
            break;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length.min(1 << 20)];
    reader
        .read_exact(&mut body)
        .map_err(|e| format!("port {port}: {e}"))?;
    let json_part = String::from_utf8_lossy(&body);
    let version: Value = serde_json::from_str(json_part.trim())
        .map_err(|_| format!("what answers on port {port} is not a browser's DevTools endpoint"))?;
    version
        .get("webSocketDebuggerUrl")
        .and_then(Value::as_str)
        .map(String::from)
        .ok_or_else(|| format!("the browser on port {port} gave no DevTools address"))
}

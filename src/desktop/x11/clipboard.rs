//! The X11 clipboard (the CLIPBOARD selection), for typing by paste and for reading a field
//! back. An X11 clipboard is not data but a promise: its owner must answer every request for
//! as long as it owns it. So a thread on its own connection answers requests (TARGETS and the
//! text forms GTK and Qt ask for) whenever they come, and reports when a paste was taken.
//! What the clipboard held before kuroko touched it is read in every format and put back.

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use x11rb::connection::Connection;
use x11rb::protocol::Event;
use x11rb::protocol::xproto::{
    Atom, AtomEnum, ClientMessageEvent, ConnectionExt as _, CreateWindowAux, EventMask, PropMode,
    SELECTION_NOTIFY_EVENT, SelectionNotifyEvent, SelectionRequestEvent, Window, WindowClass,
};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;
use x11rb::{COPY_DEPTH_FROM_PARENT, CURRENT_TIME, NONE};

use crate::desktop::{ClipboardSnapshot, DResult, DesktopError};

/// How long another program may take to hand over its clipboard contents.
const READ_TIMEOUT: Duration = Duration::from_millis(1500);

/// The largest format kept when saving another program's clipboard (bigger ones need the
/// incremental protocol, which is not implemented; they are left out with a warning).
const MAX_SAVED_FORMAT: usize = 1 << 20;

struct Atoms {
    clipboard: Atom,
    targets: Atom,
    timestamp: Atom,
    utf8_string: Atom,
    text: Atom,
    text_plain_utf8: Atom,
    text_plain: Atom,
    incr: Atom,
    property: Atom,
    quit: Atom,
    change: Atom,
    multiple: Atom,
    save_targets: Atom,
}

impl Atoms {
    fn intern(conn: &RustConnection) -> DResult<Atoms> {
        let atom = |name: &str| -> DResult<Atom> {
            Ok(conn
                .intern_atom(false, name.as_bytes())
                .map_err(x_err)?
                .reply()
                .map_err(x_err)?
                .atom)
        };
        Ok(Atoms {
            clipboard: atom("CLIPBOARD")?,
            targets: atom("TARGETS")?,
            timestamp: atom("TIMESTAMP")?,
            utf8_string: atom("UTF8_STRING")?,
            text: atom("TEXT")?,
            text_plain_utf8: atom("text/plain;charset=utf-8")?,
            text_plain: atom("text/plain")?,
            incr: atom("INCR")?,
            property: atom("KUROKO_CLIPBOARD")?,
            quit: atom("KUROKO_CLIPBOARD_QUIT")?,
            change: atom("KUROKO_CLIPBOARD_CHANGE")?,
            multiple: atom("MULTIPLE")?,
            save_targets: atom("SAVE_TARGETS")?,
        })
    }
}

fn x_err(e: impl std::fmt::Display) -> DesktopError {
    DesktopError::new(format!("clipboard: {e}"))
}

/// What kuroko offers while it owns the clipboard: (target, type, format, bytes).
#[derive(Default)]
struct Offer {
    formats: Vec<Format>,
}

#[derive(Default)]
struct Shared {
    offer: Option<Offer>,
    /// Data requests answered (not TARGETS): a paste was taken when this moves.
    served: u64,
    /// What to offer once the serving thread takes the clipboard (`None`: let it go).
    pending: Option<Option<Offer>>,
}

pub struct X11Clipboard {
    conn: Arc<RustConnection>,
    window: Window,
    atoms: Arc<Atoms>,
    shared: Arc<Mutex<Shared>>,
    notifications: Receiver<SelectionNotifyEvent>,
    /// The serving thread's answer to a change of ownership: whether kuroko owns it now.
    changes: Receiver<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl X11Clipboard {
    pub fn connect() -> DResult<X11Clipboard> {
        let (conn, screen) = super::open()?;
        let conn = Arc::new(conn);
        let root = conn.setup().roots[screen].root;
        let window = conn.generate_id().map_err(x_err)?;
        conn.create_window(
            COPY_DEPTH_FROM_PARENT,
            window,
            root,
            0,
            0,
            1,
            1,
            0,
            WindowClass::INPUT_ONLY,
            0,
            &CreateWindowAux::new().event_mask(EventMask::PROPERTY_CHANGE),
        )
        .map_err(x_err)?;
        let atoms = Arc::new(Atoms::intern(&conn)?);
        conn.flush().map_err(x_err)?;
        let shared = Arc::new(Mutex::new(Shared::default()));
        let (tx, rx) = channel();
        let (changed_tx, changed_rx) = channel();
        let thread = {
            let (conn, atoms, shared) = (conn.clone(), atoms.clone(), shared.clone());
            std::thread::spawn(move || serve(&conn, window, &atoms, &shared, &tx, &changed_tx))
        };
        Ok(X11Clipboard {
            conn,
            window,
            atoms,
            shared,
            notifications: rx,
            changes: changed_rx,
            thread: Some(thread),
        })
    }

    fn owner(&self) -> DResult<Window> {
        Ok(self
            .conn
            .get_selection_owner(self.atoms.clipboard)
            .map_err(x_err)?
            .reply()
            .map_err(x_err)?
            .owner)
    }

    /// Asks the clipboard's owner for one format; `None` when it refuses or is too slow.
    fn request(&self, target: Atom) -> DResult<Option<(Atom, u8, Vec<u8>)>> {
        while self.notifications.try_recv().is_ok() {}
        self.conn
            .delete_property(self.window, self.atoms.property)
            .map_err(x_err)?;
        self.conn
            .convert_selection(
                self.window,
                self.atoms.clipboard,
                target,
                self.atoms.property,
                CURRENT_TIME,
            )
            .map_err(x_err)?;
        self.conn.flush().map_err(x_err)?;
        let deadline = Instant::now() + READ_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.notifications.recv_timeout(left) {
                Ok(n) if n.target != target => continue,
                Ok(n) if n.property == NONE => return Ok(None),
                Ok(_) => break,
                Err(RecvTimeoutError::Timeout) => return Ok(None),
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(DesktopError::new("clipboard: the X connection closed"));
                }
            }
        }
        let reply = self
            .conn
            .get_property(
                true,
                self.window,
                self.atoms.property,
                AtomEnum::ANY,
                0,
                (MAX_SAVED_FORMAT / 4) as u32 + 1,
            )
            .map_err(x_err)?
            .reply()
            .map_err(x_err)?;
        if reply.type_ == self.atoms.incr || reply.bytes_after > 0 {
            return Ok(None);
        }
        Ok(Some((reply.type_, reply.format, reply.value)))
    }

    fn take_ownership(&self, offer: Offer) -> DResult<()> {
        if self.change_owner(Some(offer))? {
            Ok(())
        } else {
            Err(DesktopError::new(
                "clipboard: another program kept the clipboard",
            ))
        }
    }

    /// Takes the clipboard with `offer`, or lets it go (`None`). The serving thread does it,
    /// between two events, so a "you lost the clipboard" event that was already on its way
    /// (from letting it go a moment ago, or from an application's copy) is handled before and
    /// cannot drop the new offer.
    fn change_owner(&self, offer: Option<Offer>) -> DResult<bool> {
        while self.changes.try_recv().is_ok() {}
        self.shared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pending = Some(offer);
        let change = ClientMessageEvent::new(32, self.window, self.atoms.change, [0u32; 5]);
        self.conn
            .send_event(false, self.window, EventMask::NO_EVENT, change)
            .map_err(x_err)?;
        self.conn.flush().map_err(x_err)?;
        self.changes
            .recv_timeout(READ_TIMEOUT)
            .map_err(|_| DesktopError::new("clipboard: no answer from the clipboard thread"))
    }

    fn text_offer(&self, text: &str) -> Offer {
        let a = &self.atoms;
        let bytes = text.as_bytes().to_vec();
        Offer {
            formats: [a.utf8_string, a.text_plain_utf8, a.text, a.text_plain]
                .into_iter()
                .map(|t| (t, a.utf8_string, 8, bytes.clone()))
                .collect(),
        }
    }

    fn served(&self) -> u64 {
        self.shared.lock().unwrap_or_else(|e| e.into_inner()).served
    }
}

impl crate::desktop::Clipboard for X11Clipboard {
    fn text(&mut self) -> DResult<Option<String>> {
        if self.owner()? == NONE {
            return Ok(None);
        }
        for target in [self.atoms.utf8_string, self.atoms.text_plain_utf8] {
            if let Some((_, _, bytes)) = self.request(target)? {
                return Ok(Some(String::from_utf8_lossy(&bytes).into_owned()));
            }
        }
        Ok(None)
    }

    fn offer_text(&mut self, text: &str) -> DResult<u64> {
        let before = self.served();
        self.take_ownership(self.text_offer(text))?;
        Ok(before)
    }

    fn wait_taken(&mut self, since: u64, timeout: Duration) -> DResult<bool> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.served() > since {
                return Ok(true);
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        Ok(false)
    }

    fn clear(&mut self) -> DResult<()> {
        self.take_ownership(Offer::default())
    }

    fn wait_copied(&mut self, timeout: Duration) -> DResult<Option<String>> {
        let deadline = Instant::now() + timeout;
        loop {
            let owner = self.owner()?;
            if owner != self.window && owner != NONE {
                return self.text();
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn snapshot(&mut self) -> DResult<ClipboardSnapshot> {
        let owner = self.owner()?;
        if owner == NONE {
            return Ok(ClipboardSnapshot::default());
        }
        if owner == self.window {
            let shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
            let formats = shared
                .offer
                .as_ref()
                .map(|o| {
                    o.formats
                        .iter()
                        .map(|(t, ty, f, b)| (*t, (*ty, *f, b.clone())))
                        .collect()
                })
                .unwrap_or_default();
            return Ok(ClipboardSnapshot {
                had_owner: true,
                formats,
                left_out: Vec::new(),
            });
        }
        let mut snapshot = ClipboardSnapshot {
            had_owner: true,
            ..ClipboardSnapshot::default()
        };
        let Some((_, 32, list)) = self.request(self.atoms.targets)? else {
            return Ok(snapshot);
        };
        let a = &self.atoms;
        let skip = [a.targets, a.timestamp, a.multiple, a.save_targets, a.incr];
        for target in list
            .chunks_exact(4)
            .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
            .filter(|t| *t != NONE && !skip.contains(t))
        {
            match self.request(target)? {
                Some((ty, format, bytes)) => {
                    snapshot.formats.insert(target, (ty, format, bytes));
                }
                None => snapshot.left_out.push(self.atom_name(target)),
            }
        }
        Ok(snapshot)
    }

    fn restore(&mut self, snapshot: ClipboardSnapshot) -> DResult<()> {
        if !snapshot.had_owner || snapshot.formats.is_empty() {
            // It was empty: empty it again (if kuroko still owns it).
            if self.owns() {
                self.change_owner(None)?;
            }
            return Ok(());
        }
        self.take_ownership(Offer {
            formats: snapshot
                .formats
                .into_iter()
                .map(|(t, (ty, f, b))| (t, ty, f, b))
                .collect(),
        })
    }
}

impl X11Clipboard {
    fn atom_name(&self, atom: Atom) -> String {
        self.conn
            .get_atom_name(atom)
            .ok()
            .and_then(|c| c.reply().ok())
            .map(|r| String::from_utf8_lossy(&r.name).into_owned())
            .unwrap_or_else(|| format!("atom {atom}"))
    }
}

impl X11Clipboard {
    fn owns(&self) -> bool {
        self.owner().is_ok_and(|o| o == self.window)
    }

    /// At the end of a run kuroko may own the clipboard with what it put back; that content
    /// would vanish with the process. A small keeper process (this binary, `clipboard-keeper`)
    /// takes it over and serves it until someone copies something else.
    fn hand_over(&self) {
        let formats = {
            let shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
            match &shared.offer {
                Some(offer) if !offer.formats.is_empty() => encode(&offer.formats),
                _ => return,
            }
        };
        if !self.owns() {
            return;
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        if !exe
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("kuroko"))
        {
            return;
        }
        use std::io::Write;
        use std::os::unix::process::CommandExt;
        let child = std::process::Command::new(exe)
            .arg("clipboard-keeper")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            // Its own process group: stopping the run (or the launcher) does not end it.
            .process_group(0)
            .spawn();
        if let Ok(mut child) = child
            && let Some(mut stdin) = child.stdin.take()
        {
            let _ = stdin.write_all(&formats);
            drop(stdin);
            // Wait until it owns the clipboard (it says so by closing its stdout... or we
            // simply see the owner change), so there is no moment without an owner that
            // matters to anyone: at most a second.
            let deadline = Instant::now() + Duration::from_secs(1);
            while self.owns() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
}

/// `kuroko clipboard-keeper`: reads formats from stdin, owns the clipboard with them, and
/// exits when another program takes the clipboard (or the display goes away).
pub fn keep_from_stdin() -> DResult<()> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .map_err(|e| DesktopError::new(format!("clipboard keeper: {e}")))?;
    let formats =
        decode(&bytes).ok_or_else(|| DesktopError::new("clipboard keeper: malformed input"))?;
    let clipboard = X11Clipboard::connect()?;
    clipboard.take_ownership(Offer { formats })?;
    while clipboard.owns() {
        std::thread::sleep(Duration::from_millis(200));
    }
    // Nothing to hand over: someone else owns it now.
    clipboard
        .shared
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .offer = None;
    Ok(())
}

type Format = (Atom, Atom, u8, Vec<u8>);

fn encode(formats: &[Format]) -> Vec<u8> {
    let mut out = Vec::new();
    for (target, ty, format, bytes) in formats {
        out.extend(target.to_le_bytes());
        out.extend(ty.to_le_bytes());
        out.push(*format);
        out.extend((bytes.len() as u32).to_le_bytes());
        out.extend(bytes);
    }
    out
}

fn decode(mut bytes: &[u8]) -> Option<Vec<Format>> {
    let mut formats = Vec::new();
    let u32_at = |b: &[u8], at: usize| -> Option<u32> {
        Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
    };
    while !bytes.is_empty() {
        let target = u32_at(bytes, 0)?;
        let ty = u32_at(bytes, 4)?;
        let format = *bytes.get(8)?;
        let len = u32_at(bytes, 9)? as usize;
        let data = bytes.get(13..13 + len)?.to_vec();
        formats.push((target, ty, format, data));
        bytes = &bytes[13 + len..];
    }
    Some(formats)
}

impl Drop for X11Clipboard {
    fn drop(&mut self) {
        self.hand_over();
        let quit = ClientMessageEvent::new(32, self.window, self.atoms.quit, [0u32; 5]);
        let _ = self
            .conn
            .send_event(false, self.window, EventMask::NO_EVENT, quit);
        let _ = self.conn.flush();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let _ = self.conn.destroy_window(self.window);
        let _ = self.conn.flush();
    }
}

/// The serving thread: answers requests for what is offered, passes on the answers to
/// kuroko's own requests, and ends on the quit message.
fn serve(
    conn: &RustConnection,
    window: Window,
    atoms: &Atoms,
    shared: &Mutex<Shared>,
    notifications: &Sender<SelectionNotifyEvent>,
    changes: &Sender<bool>,
) {
    loop {
        let Ok(event) = conn.wait_for_event() else {
            return;
        };
        match event {
            Event::SelectionRequest(request) => {
                let answered = answer(conn, atoms, shared, &request);
                debug(|| {
                    format!(
                        "request {} time {} -> {answered:?}",
                        request.target, request.time
                    )
                });
            }
            Event::SelectionClear(clear) if clear.owner == window => {
                debug(|| format!("lost the clipboard (time {})", clear.time));
                shared.lock().unwrap_or_else(|e| e.into_inner()).offer = None;
            }
            Event::ClientMessage(m) if m.type_ == atoms.change => {
                let pending = shared
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .pending
                    .take();
                if let Some(offer) = pending {
                    let _ = changes.send(change_owner(conn, window, atoms, shared, offer));
                }
            }
            Event::SelectionNotify(n) => {
                let _ = notifications.send(n);
            }
            Event::ClientMessage(m) if m.type_ == atoms.quit => return,
            _ => {}
        }
    }
}

/// On the serving thread: offer and take, or let go; whether kuroko owns the clipboard now.
fn change_owner(
    conn: &RustConnection,
    window: Window,
    atoms: &Atoms,
    shared: &Mutex<Shared>,
    offer: Option<Offer>,
) -> bool {
    let owner = if offer.is_some() { window } else { NONE };
    debug(|| format!("change owner to {owner}"));
    shared.lock().unwrap_or_else(|e| e.into_inner()).offer = offer;
    let set = conn
        .set_selection_owner(owner, atoms.clipboard, CURRENT_TIME)
        .ok()
        .and_then(|_| conn.get_selection_owner(atoms.clipboard).ok())
        .and_then(|c| c.reply().ok());
    set.is_some_and(|r| r.owner == window)
}

/// `KUROKO_DEBUG_CLIPBOARD=1`: every request and loss of the clipboard on stderr.
fn debug(message: impl FnOnce() -> String) {
    if std::env::var_os("KUROKO_DEBUG_CLIPBOARD").is_some() {
        eprintln!("clipboard: {}", message());
    }
}

fn answer(
    conn: &RustConnection,
    atoms: &Atoms,
    shared: &Mutex<Shared>,
    request: &SelectionRequestEvent,
) -> Result<Option<bool>, Box<dyn std::error::Error>> {
    // Obsolete clients name no property: use the target.
    let property = if request.property == NONE {
        request.target
    } else {
        request.property
    };
    let guard = shared.lock().unwrap_or_else(|e| e.into_inner());
    let answered = match &guard.offer {
        Some(offer) if request.selection == atoms.clipboard => {
            if request.target == atoms.targets {
                let mut targets = vec![atoms.targets, atoms.timestamp];
                targets.extend(offer.formats.iter().map(|f| f.0));
                conn.change_property32(
                    PropMode::REPLACE,
                    request.requestor,
                    property,
                    AtomEnum::ATOM,
                    &targets,
                )?;
                Some(false)
            } else if request.target == atoms.timestamp {
                conn.change_property32(
                    PropMode::REPLACE,
                    request.requestor,
                    property,
                    AtomEnum::INTEGER,
                    &[0],
                )?;
                Some(false)
            } else if let Some((_, ty, format, bytes)) =
                offer.formats.iter().find(|f| f.0 == request.target)
            {
                conn.change_property(
                    PropMode::REPLACE,
                    request.requestor,
                    property,
                    *ty,
                    *format,
                    (bytes.len() / (*format as usize / 8).max(1)) as u32,
                    bytes,
                )?;
                Some(true)
            } else {
                None
            }
        }
        _ => None,
    };
    drop(guard);
    let reply = SelectionNotifyEvent {
        response_type: SELECTION_NOTIFY_EVENT,
        sequence: 0,
        time: request.time,
        requestor: request.requestor,
        selection: request.selection,
        target: request.target,
        property: if answered.is_some() { property } else { NONE },
    };
    conn.send_event(false, request.requestor, EventMask::NO_EVENT, reply)?;
    if answered == Some(true) {
        // A round trip: the server has queued the answer for the requestor before kuroko's
        // next key events, so the pasted text lands before anything typed after it.
        let focus = conn.get_input_focus()?.reply()?.focus;
        // Only the focused program's request is the paste: clipboard managers (fcitx5's
        // clipboard, Klipper, GPaste) ask for every new clipboard at once, before the paste.
        if from_focused_client(conn, focus, request.requestor) {
            shared_served(shared);
        } else {
            debug(|| {
                format!(
                    "request from {} is not the focused program's",
                    request.requestor
                )
            });
        }
    } else {
        conn.flush()?;
    }
    Ok(answered)
}

/// Whether `requestor` was made by the same X client as the window with the keyboard focus
/// (the top-level window under the pointer when the focus follows it): a client's windows share
/// the bits of their ids outside the server's resource-id mask. When the focus cannot be told,
/// the request counts.
fn from_focused_client(conn: &RustConnection, focus: Window, requestor: Window) -> bool {
    const POINTER_ROOT: Window = 1;
    let focus = if focus == NONE || focus == POINTER_ROOT {
        let Some(root) = conn.setup().roots.first().map(|s| s.root) else {
            return true;
        };
        match conn.query_pointer(root).ok().and_then(|c| c.reply().ok()) {
            Some(pointer) if pointer.child != NONE => pointer.child,
            _ => return true,
        }
    } else {
        focus
    };
    let client = !conn.setup().resource_id_mask;
    focus & client == requestor & client
}

fn shared_served(shared: &Mutex<Shared>) {
    shared.lock().unwrap_or_else(|e| e.into_inner()).served += 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_survive_the_trip_to_the_keeper() {
        let formats = vec![(1, 2, 8, "課長".as_bytes().to_vec()), (3, 4, 32, vec![])];
        assert_eq!(decode(&encode(&formats)).unwrap(), formats);
        assert!(decode(&[1, 2, 3]).is_none());
    }
}

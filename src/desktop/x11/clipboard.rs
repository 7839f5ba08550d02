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
    formats: Vec<(Atom, Atom, u8, Vec<u8>)>,
}

#[derive(Default)]
struct Shared {
    offer: Option<Offer>,
    /// Data requests answered (not TARGETS): a paste was taken when this moves.
    served: u64,
}

pub struct X11Clipboard {
    conn: Arc<RustConnection>,
    window: Window,
    atoms: Arc<Atoms>,
    shared: Arc<Mutex<Shared>>,
    notifications: Receiver<SelectionNotifyEvent>,
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
        let thread = {
            let (conn, atoms, shared) = (conn.clone(), atoms.clone(), shared.clone());
            std::thread::spawn(move || serve(&conn, window, &atoms, &shared, &tx))
        };
        Ok(X11Clipboard {
            conn,
            window,
            atoms,
            shared,
            notifications: rx,
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
        {
            let mut shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
            shared.offer = Some(offer);
        }
        self.conn
            .set_selection_owner(self.window, self.atoms.clipboard, CURRENT_TIME)
            .map_err(x_err)?;
        if self.owner()? != self.window {
            return Err(DesktopError::new(
                "clipboard: another program kept the clipboard",
            ));
        }
        Ok(())
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
            if self.owner()? == self.window {
                self.conn
                    .set_selection_owner(NONE, self.atoms.clipboard, CURRENT_TIME)
                    .map_err(x_err)?;
                self.conn.flush().map_err(x_err)?;
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

impl Drop for X11Clipboard {
    fn drop(&mut self) {
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
) {
    loop {
        let Ok(event) = conn.wait_for_event() else {
            return;
        };
        match event {
            Event::SelectionRequest(request) => {
                let _ = answer(conn, atoms, shared, &request);
            }
            Event::SelectionClear(clear) if clear.owner == window => {
                shared.lock().unwrap_or_else(|e| e.into_inner()).offer = None;
            }
            Event::SelectionNotify(n) => {
                let _ = notifications.send(n);
            }
            Event::ClientMessage(m) if m.type_ == atoms.quit => return,
            _ => {}
        }
    }
}

fn answer(
    conn: &RustConnection,
    atoms: &Atoms,
    shared: &Mutex<Shared>,
    request: &SelectionRequestEvent,
) -> Result<(), Box<dyn std::error::Error>> {
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
        conn.get_input_focus()?.reply()?;
        shared_served(shared);
    } else {
        conn.flush()?;
    }
    Ok(())
}

fn shared_served(shared: &Mutex<Shared>) {
    shared.lock().unwrap_or_else(|e| e.into_inner()).served += 1;
}

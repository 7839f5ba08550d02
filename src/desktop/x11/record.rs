//! `kuroko record` on X11: every key and button press and release on the whole desktop, with
//! the moment it happened, seen through the RECORD extension — which, unlike a grab or an event
//! mask on the root window, takes nothing away from the programs being used and also sees input
//! injected through XTEST.
//!
//! Two connections, as the RECORD specification recommends: the control connection creates,
//! disables and frees the recording context; the data connection sends `EnableContext`, whose
//! replies stream the recorded events until the context is disabled. That stream is read on its
//! own thread, which only decodes and timestamps and hands each input over a channel.
//!
//! Keys are named by the keysym at level 0 of their keycode (the unshifted symbol): Shift+1 is
//! recorded as Shift, then `1` — what was typed is for the recorder to decide. Keysyms without a
//! `Key` (AltGr, media keys, non-Latin legacy keysyms) are left out, as are wheel and side
//! buttons. The keyboard map is read at start and read again when the server announces a
//! keyboard `MappingNotify`.

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use x11rb::connection::{Connection, RequestConnection};
use x11rb::protocol::Event;
use x11rb::protocol::record::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{self, ConnectionExt as _, Mapping};
use x11rb::rust_connection::RustConnection;

use crate::desktop::capture::{Captured, Input, InputCapture, join_stopped};
use crate::desktop::{Button, DResult, DesktopError, Key, NamedKey};

/// How long `start` waits for the server to begin the recording.
const START_WAIT: Duration = Duration::from_secs(5);

// Categories of an EnableContext reply (recordconst.h; x11rb has no constants for them).
const FROM_SERVER: u8 = 0;
const START_OF_DATA: u8 = 4;
const END_OF_DATA: u8 = 5;

/// The leading byte of a reply (0 is an error, 2 and up are events).
const REPLY: u8 = 1;

/// A running capture of the X display's keyboard and mouse; dropping it stops the recording.
pub struct X11Capture {
    control: Arc<RustConnection>,
    context: record::Context,
    inputs: Receiver<DResult<Captured>>,
    /// Why the capture ended, once the thread has said so; repeated on every later `next`.
    ended: Option<DesktopError>,
    thread: Option<JoinHandle<()>>,
    /// Shows that recording is on; it goes with the capture.
    _indicator: Option<super::indicator::Indicator>,
}

/// Starts recording the whole display's key and button presses and releases; returns once the
/// server is recording.
pub fn start() -> DResult<X11Capture> {
    let (control, _) = super::open()?;
    let (data, _) = super::open()?;
    let missing = || {
        DesktopError::new(
            "the X server has no RECORD extension, which `kuroko record` needs to see the \
             keyboard and mouse (Xorg and Xvfb have it unless started with `-extension RECORD`)",
        )
    };
    control
        .extension_information(record::X11_EXTENSION_NAME)
        .map_err(|e| x_error("cannot ask the X server for the RECORD extension", e))?
        .ok_or_else(missing)?;
    control
        .record_query_version(1, 13)
        .map_err(|e| x_error("cannot use the RECORD extension", e))?
        .reply()
        .map_err(|e| x_error("cannot use the RECORD extension", e))?;
    let keysyms = Keysyms::load(&control)?;

    let context = control
        .generate_id()
        .map_err(|e| x_error("cannot create the recording context", e))?;
    let none = record::Range8 { first: 0, last: 0 };
    let no_ext = record::ExtRange {
        major: none,
        minor: record::Range16 { first: 0, last: 0 },
    };
    let range = record::Range {
        core_requests: none,
        core_replies: none,
        ext_requests: no_ext,
        ext_replies: no_ext,
        delivered_events: none,
        // KeyPress, KeyRelease, ButtonPress, ButtonRelease; MotionNotify (6) is left out: it
        // is most of the volume and the recorder needs only where buttons went down and up.
        device_events: record::Range8 {
            first: xproto::KEY_PRESS_EVENT,
            last: xproto::BUTTON_RELEASE_EVENT,
        },
        errors: none,
        client_started: false,
        client_died: false,
    };
    // Element header 0: no per-element times or sequence numbers, so the reply data is the
    // bare events. `check` is a round trip (GetInputFocus) on the control connection: the
    // server has made the context before the data connection asks to enable it.
    control
        .record_create_context(context, 0, &[record::CS::ALL_CLIENTS.into()], &[range])
        .map_err(|e| x_error("cannot create the recording context", e))?
        .check()
        .map_err(|e| x_error("the X server refused the recording context", e))?;

    let control = Arc::new(control);
    let (ready_tx, ready_rx) = mpsc::sync_channel(1);
    let (inputs_tx, inputs) = mpsc::channel();
    let reader = Reader {
        control: control.clone(),
        context,
        keysyms,
        inputs: inputs_tx,
        last_at: None,
    };
    let mut capture = X11Capture {
        control,
        context,
        inputs,
        ended: None,
        thread: None,
        _indicator: None,
    };
    // From here on, dropping `capture` disables and frees the context.
    let thread = std::thread::Builder::new()
        .name("kuroko-record".into())
        .spawn(move || reader.run(&data, ready_tx))
        .map_err(|e| x_error("cannot start the input recording thread", e))?;
    capture.thread = Some(thread);
    match ready_rx.recv_timeout(START_WAIT) {
        Ok(Ok(())) => {
            capture._indicator = super::indicator::Indicator::show();
            Ok(capture)
        }
        Ok(Err(e)) => Err(e),
        Err(RecvTimeoutError::Timeout) => Err(DesktopError::new(format!(
            "the X server did not start recording the keyboard and mouse within {} s",
            START_WAIT.as_secs()
        ))),
        Err(RecvTimeoutError::Disconnected) => Err(DesktopError::new(
            "the input recording ended before it started",
        )),
    }
}

impl InputCapture for X11Capture {
    fn next(&mut self, timeout: Duration) -> DResult<Option<Captured>> {
        if let Some(e) = &self.ended {
            return Err(e.clone());
        }
        // The thread sends its error after every input it read, so the inputs come first.
        let error = match self.inputs.recv_timeout(timeout) {
            Ok(Ok(captured)) => return Ok(Some(captured)),
            Err(RecvTimeoutError::Timeout) => return Ok(None),
            Ok(Err(e)) => e,
            Err(RecvTimeoutError::Disconnected) => {
                DesktopError::new("the X server ended the recording of the keyboard and mouse")
            }
        };
        self.ended = Some(error.clone());
        Err(error)
    }
}

impl Drop for X11Capture {
    fn drop(&mut self) {
        // Disabling makes the server end the EnableContext replies with EndOfData, which ends
        // the thread. Errors are moot here: a dead connection has ended the thread already.
        if let Ok(cookie) = self.control.record_disable_context(self.context) {
            cookie.ignore_error();
        }
        let _ = self.control.flush();
        if let Some(thread) = self.thread.take() {
            join_stopped(thread, &self.inputs);
        }
        if let Ok(cookie) = self.control.record_free_context(self.context) {
            cookie.ignore_error();
        }
        // No round trip: a hung server must not hang the drop, and the server frees the
        // context anyway when the connection closes.
        let _ = self.control.flush();
    }
}

/// The capture thread's state; it reads the EnableContext replies on the data connection.
struct Reader {
    /// For reading the keyboard map again (the data connection is busy with the recording).
    control: Arc<RustConnection>,
    context: record::Context,
    keysyms: Keysyms,
    inputs: Sender<DResult<Captured>>,
    /// The last timestamp handed out, to keep them in order across replies.
    last_at: Option<Instant>,
}

impl Reader {
    fn run(mut self, data: &RustConnection, ready: SyncSender<DResult<()>>) {
        // Until StartOfData, a failure goes to `start`, which is waiting for it.
        let mut ready = Some(ready);
        let replies = match data.record_enable_context(self.context) {
            Ok(replies) => replies,
            Err(e) => return self.fail(&mut ready, x_error("cannot start the recording", e)),
        };
        // The iterator ends at the EndOfData reply, after DisableContext.
        for reply in replies {
            let read_at = Instant::now();
            let reply = match reply {
                Ok(reply) => reply,
                Err(e) => {
                    let e = x_error("the recording of the keyboard and mouse stopped", e);
                    return self.fail(&mut ready, e);
                }
            };
            match reply.category {
                START_OF_DATA => {
                    if let Some(ready) = ready.take() {
                        let _ = ready.send(Ok(()));
                    }
                }
                FROM_SERVER => {
                    self.refresh_keysyms(data);
                    let events = device_events(&reply.data, reply.client_swapped);
                    self.send(&events, read_at);
                }
                END_OF_DATA => break,
                _ => {}
            }
        }
    }

    fn fail(&self, ready: &mut Option<SyncSender<DResult<()>>>, e: DesktopError) {
        // No one listening is no loss: the capture is being dropped.
        match ready.take() {
            Some(ready) => {
                let _ = ready.send(Err(e));
            }
            None => {
                let _ = self.inputs.send(Err(e));
            }
        }
    }

    /// Reads the keyboard map again if the server announced a change. MappingNotify goes to
    /// every client; the one on the data connection was queued while reading replies, before
    /// the reply whose events were pressed with the new map.
    fn refresh_keysyms(&mut self, data: &RustConnection) {
        let mut changed = false;
        while let Ok(Some(event)) = data.poll_for_event() {
            if let Event::MappingNotify(e) = event
                && e.request == Mapping::KEYBOARD
            {
                changed = true;
            }
        }
        if changed && let Ok(keysyms) = Keysyms::load(&*self.control) {
            self.keysyms = keysyms;
        }
    }

    /// Hands the inputs of one reply over. Events that arrived together are spread back apart
    /// by their server times (milliseconds), counted back from the moment the reply was read;
    /// timestamps never go backwards.
    fn send(&mut self, events: &[DeviceEvent], read_at: Instant) {
        let Some(newest) = events.last().map(|e| e.time) else {
            return;
        };
        for event in events {
            let Some(input) = self.input(event) else {
                continue;
            };
            // Server time wraps after 49 days, which wrapping_sub absorbs; a time after the
            // newest (out of order) comes out huge and counts as the newest.
            let ago = match newest.wrapping_sub(event.time) {
                ms @ 0..=10_000 => Duration::from_millis(u64::from(ms)),
                _ => Duration::ZERO,
            };
            let mut at = read_at.checked_sub(ago).unwrap_or(read_at);
            if let Some(last) = self.last_at {
                at = at.max(last);
            }
            self.last_at = Some(at);
            // A dropped capture has no receiver; the thread ends at EndOfData all the same.
            let _ = self.inputs.send(Ok(Captured { at, input }));
        }
    }

    fn input(&self, event: &DeviceEvent) -> Option<Input> {
        let (x, y) = (i32::from(event.root_x), i32::from(event.root_y));
        let button = || match event.detail {
            1 => Some(Button::Left),
            2 => Some(Button::Middle),
            3 => Some(Button::Right),
            // 4-7 are the wheel, 8 and 9 back and forward.
            _ => None,
        };
        match event.kind {
            xproto::KEY_PRESS_EVENT => self.keysyms.key(event.detail).map(Input::KeyDown),
            xproto::KEY_RELEASE_EVENT => self.keysyms.key(event.detail).map(Input::KeyUp),
            xproto::BUTTON_PRESS_EVENT => button().map(|button| Input::ButtonDown { button, x, y }),
            xproto::BUTTON_RELEASE_EVENT => button().map(|button| Input::ButtonUp { button, x, y }),
            _ => None,
        }
    }
}

/// The fields of a core device event (KeyPress, KeyRelease, ButtonPress, ButtonRelease,
/// MotionNotify all share this layout) that the capture uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DeviceEvent {
    /// The event code without the "sent by SendEvent" bit.
    kind: u8,
    /// Keycode or button.
    detail: u8,
    /// Server time in milliseconds.
    time: u32,
    root_x: i16,
    root_y: i16,
}

/// Every core device event in the data of one FromServer reply — usually one, but as many as
/// the server buffered before flushing (a fast typist, a burst of XTEST input). Anything else
/// in the data is skipped by its length; an element cut short ends the list.
fn device_events(data: &[u8], swapped: bool) -> Vec<DeviceEvent> {
    // Device events come in the recording client's byte order (client-swapped is False for
    // them), which x11rb makes the native one; other recorded protocol may be swapped.
    let u16_at = |b: &[u8], i: usize| -> Option<u16> {
        let v = u16::from_ne_bytes([*b.get(i)?, *b.get(i + 1)?]);
        Some(if swapped { v.swap_bytes() } else { v })
    };
    let u32_at = |b: &[u8], i: usize| -> Option<u32> {
        let v = u32::from_ne_bytes([*b.get(i)?, *b.get(i + 1)?, *b.get(i + 2)?, *b.get(i + 3)?]);
        Some(if swapped { v.swap_bytes() } else { v })
    };
    let mut events = Vec::new();
    let mut rest = data;
    while rest.len() >= 32 {
        let code = rest[0];
        let kind = code & 0x7f;
        // Errors and events are 32 bytes; replies and generic events (XGE) carry a length in
        // 4-byte units after the first 32.
        let extra = match code {
            REPLY => u32_at(rest, 4),
            _ if kind == xproto::GE_GENERIC_EVENT => u32_at(rest, 4),
            _ => Some(0),
        };
        let Some(len) = extra
            .and_then(|n| usize::try_from(n).ok())
            .and_then(|n| n.checked_mul(4))
            .and_then(|n| n.checked_add(32))
        else {
            break;
        };
        let Some((element, tail)) = rest.split_at_checked(len) else {
            break;
        };
        rest = tail;
        if !(xproto::KEY_PRESS_EVENT..=xproto::MOTION_NOTIFY_EVENT).contains(&kind) {
            continue;
        }
        // X protocol encoding of KeyPress and the other core device events: code, detail,
        // sequence (2..4), time (4..8), root, event, child (8..20), root-x (20..22),
        // root-y (22..24), event-x, event-y, state, same-screen.
        if let (Some(time), Some(x), Some(y)) =
            (u32_at(element, 4), u16_at(element, 20), u16_at(element, 22))
        {
            events.push(DeviceEvent {
                kind,
                detail: element[1],
                time,
                root_x: x.cast_signed(),
                root_y: y.cast_signed(),
            });
        }
    }
    events
}

/// The level-0 keysym of every keycode, from GetKeyboardMapping.
#[derive(Debug, Default)]
struct Keysyms {
    min_keycode: u8,
    per_keycode: usize,
    keysyms: Vec<u32>,
}

impl Keysyms {
    fn load(conn: &impl Connection) -> DResult<Keysyms> {
        let setup = conn.setup();
        let (min, max) = (setup.min_keycode, setup.max_keycode);
        let reply = conn
            .get_keyboard_mapping(min, max.saturating_sub(min).saturating_add(1))
            .map_err(|e| x_error("cannot read the keyboard map", e))?
            .reply()
            .map_err(|e| x_error("cannot read the keyboard map", e))?;
        Ok(Keysyms {
            min_keycode: min,
            per_keycode: usize::from(reply.keysyms_per_keycode),
            keysyms: reply.keysyms,
        })
    }

    fn key(&self, keycode: u8) -> Option<Key> {
        let index = usize::from(keycode.checked_sub(self.min_keycode)?) * self.per_keycode;
        key_for_keysym(*self.keysyms.get(index)?)
    }
}

/// The key a keysym stands for: printable Latin-1 and Unicode keysyms are characters (letters
/// lowercase, as `Key::parse` gives them), the rest come from a table of named keys.
fn key_for_keysym(keysym: u32) -> Option<Key> {
    let char_key = |code: u32| {
        char::from_u32(code)
            .filter(|c| !c.is_control())
            .map(|c| Key::Char(c.to_lowercase().next().unwrap_or(c)))
    };
    match keysym {
        0x20 => Some(Key::Named(NamedKey::Space)),
        0x21..=0x7e | 0xa0..=0xff => char_key(keysym),
        // Unicode keysyms: 0x0100_0000 + code point (from U+0100; below, Latin-1 is used).
        0x0100_0100..=0x0110_ffff => char_key(keysym - 0x0100_0000),
        // Keypad operators and digits: 0xff80 + their ASCII code.
        0xffaa..=0xffb9 | 0xffbd => char_key(keysym - 0xff80),
        // F1-F35 are consecutive; kuroko names F1-F24.
        0xffbe..=0xffd5 => u8::try_from(keysym - 0xffbe + 1)
            .ok()
            .map(|n| Key::Named(NamedKey::F(n))),
        _ => NAMED_KEYSYMS
            .iter()
            .find(|(sym, _)| *sym == keysym)
            .map(|(_, named)| Key::Named(*named)),
    }
}

/// Keysyms of named keys (X11/keysymdef.h). Keypad keys are named by their NumLock-off
/// meaning, which is their level 0.
const NAMED_KEYSYMS: &[(u32, NamedKey)] = &[
    (0xff0d, NamedKey::Enter),            // Return
    (0xff8d, NamedKey::Enter),            // KP_Enter
    (0xff09, NamedKey::Tab),              // Tab
    (0xfe20, NamedKey::Tab),              // ISO_Left_Tab
    (0xff1b, NamedKey::Escape),           // Escape
    (0xff08, NamedKey::Backspace),        // BackSpace
    (0xffff, NamedKey::Delete),           // Delete
    (0xff9f, NamedKey::Delete),           // KP_Delete
    (0xff63, NamedKey::Insert),           // Insert
    (0xff9e, NamedKey::Insert),           // KP_Insert
    (0xff50, NamedKey::Home),             // Home
    (0xff95, NamedKey::Home),             // KP_Home
    (0xff57, NamedKey::End),              // End
    (0xff9c, NamedKey::End),              // KP_End
    (0xff55, NamedKey::PageUp),           // Prior
    (0xff9a, NamedKey::PageUp),           // KP_Prior
    (0xff56, NamedKey::PageDown),         // Next
    (0xff9b, NamedKey::PageDown),         // KP_Next
    (0xff51, NamedKey::Left),             // Left
    (0xff96, NamedKey::Left),             // KP_Left
    (0xff52, NamedKey::Up),               // Up
    (0xff97, NamedKey::Up),               // KP_Up
    (0xff53, NamedKey::Right),            // Right
    (0xff98, NamedKey::Right),            // KP_Right
    (0xff54, NamedKey::Down),             // Down
    (0xff99, NamedKey::Down),             // KP_Down
    (0xffe1, NamedKey::Shift),            // Shift_L
    (0xffe2, NamedKey::Shift),            // Shift_R
    (0xffe3, NamedKey::Ctrl),             // Control_L
    (0xffe4, NamedKey::Ctrl),             // Control_R
    (0xffe9, NamedKey::Alt),              // Alt_L
    (0xffea, NamedKey::Alt),              // Alt_R
    (0xffe7, NamedKey::Meta),             // Meta_L
    (0xffe8, NamedKey::Meta),             // Meta_R
    (0xffeb, NamedKey::Meta),             // Super_L
    (0xffec, NamedKey::Meta),             // Super_R
    (0xffe5, NamedKey::CapsLock),         // Caps_Lock
    (0xff7f, NamedKey::NumLock),          // Num_Lock
    (0xff14, NamedKey::ScrollLock),       // Scroll_Lock
    (0xff61, NamedKey::PrintScreen),      // Print
    (0xff13, NamedKey::Pause),            // Pause
    (0xff2a, NamedKey::ZenkakuHankaku),   // Zenkaku_Hankaku
    (0xff28, NamedKey::ZenkakuHankaku),   // Zenkaku (some jp maps)
    (0xff29, NamedKey::ZenkakuHankaku),   // Hankaku (some jp maps)
    (0xff23, NamedKey::Henkan),           // Henkan_Mode
    (0xff22, NamedKey::Muhenkan),         // Muhenkan
    (0xff27, NamedKey::HiraganaKatakana), // Hiragana_Katakana
];

fn x_error(what: &str, e: impl std::fmt::Display) -> DesktopError {
    DesktopError::new(format!("{what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A core device event as the server encodes it, in native or swapped byte order.
    fn event(code: u8, detail: u8, time: u32, x: i16, y: i16, swapped: bool) -> [u8; 32] {
        let order = |b: &mut [u8]| {
            if swapped {
                b.reverse();
            }
        };
        let mut e = [0u8; 32];
        e[0] = code;
        e[1] = detail;
        e[4..8].copy_from_slice(&time.to_ne_bytes());
        order(&mut e[4..8]);
        e[20..22].copy_from_slice(&x.to_ne_bytes());
        order(&mut e[20..22]);
        e[22..24].copy_from_slice(&y.to_ne_bytes());
        order(&mut e[22..24]);
        e
    }

    fn parsed(kind: u8, detail: u8, time: u32, root_x: i16, root_y: i16) -> DeviceEvent {
        DeviceEvent {
            kind,
            detail,
            time,
            root_x,
            root_y,
        }
    }

    #[test]
    fn reads_every_event_of_a_reply() {
        let mut data = Vec::new();
        data.extend(event(4, 1, 1000, 100, 200, false));
        data.extend(event(5, 1, 1001, 100, 200, false));
        data.extend(event(2 | 0x80, 38, 1002, -5, 799, false)); // sent by SendEvent
        data.extend(event(3, 38, 1003, 0, 0, false));
        assert_eq!(
            device_events(&data, false),
            vec![
                parsed(4, 1, 1000, 100, 200),
                parsed(5, 1, 1001, 100, 200),
                parsed(2, 38, 1002, -5, 799),
                parsed(3, 38, 1003, 0, 0),
            ]
        );
    }

    #[test]
    fn swapped_data_is_read_in_its_own_byte_order() {
        let data = event(4, 3, 0x0102_0304, 0x0123, -2, true);
        assert_eq!(
            device_events(&data, true),
            vec![parsed(4, 3, 0x0102_0304, 0x0123, -2)]
        );
    }

    #[test]
    fn skips_other_elements_and_stops_at_a_cut() {
        let mut data = Vec::new();
        // An error, then a generic event with 8 more bytes, then a key press.
        data.extend([0u8; 32]);
        let mut ge = [0u8; 40];
        ge[0] = xproto::GE_GENERIC_EVENT;
        ge[4..8].copy_from_slice(&2u32.to_ne_bytes());
        data.extend(ge);
        data.extend(event(2, 10, 7, 1, 2, false));
        // A cut-short event at the end.
        data.extend(&event(3, 10, 8, 1, 2, false)[..20]);
        assert_eq!(device_events(&data, false), vec![parsed(2, 10, 7, 1, 2)]);
        // A length that runs past the data.
        let mut reply = [0u8; 32];
        reply[0] = REPLY;
        reply[4..8].copy_from_slice(&u32::MAX.to_ne_bytes());
        assert_eq!(device_events(&reply, false), vec![]);
        assert_eq!(device_events(&[], false), vec![]);
    }

    #[test]
    fn keysyms_become_keys() {
        assert_eq!(key_for_keysym(0x61), Some(Key::Char('a')));
        assert_eq!(key_for_keysym(0x41), Some(Key::Char('a')));
        assert_eq!(key_for_keysym(0x31), Some(Key::Char('1')));
        assert_eq!(key_for_keysym(0xc9), Some(Key::Char('é')));
        assert_eq!(key_for_keysym(0x20), Some(Key::Named(NamedKey::Space)));
        assert_eq!(key_for_keysym(0x0100_5c71), Some(Key::Char('山')));
        assert_eq!(key_for_keysym(0xffab), Some(Key::Char('+')));
        assert_eq!(key_for_keysym(0xffbe), Some(Key::Named(NamedKey::F(1))));
        assert_eq!(key_for_keysym(0xffd5), Some(Key::Named(NamedKey::F(24))));
        assert_eq!(key_for_keysym(0xffd6), None); // F25
        assert_eq!(key_for_keysym(0xff0d), Some(Key::Named(NamedKey::Enter)));
        assert_eq!(key_for_keysym(0xffe2), Some(Key::Named(NamedKey::Shift)));
        assert_eq!(key_for_keysym(0xff23), Some(Key::Named(NamedKey::Henkan)));
        assert_eq!(key_for_keysym(0xfe03), None); // ISO_Level3_Shift (AltGr)
        assert_eq!(key_for_keysym(0), None);
        assert_eq!(key_for_keysym(0x0100_0085), None); // a control character
    }

    #[test]
    fn keycodes_are_read_at_level_0() {
        let keysyms = Keysyms {
            min_keycode: 8,
            per_keycode: 2,
            keysyms: vec![0x61, 0x41, 0xffe1, 0, 0, 0],
        };
        assert_eq!(keysyms.key(8), Some(Key::Char('a')));
        assert_eq!(keysyms.key(9), Some(Key::Named(NamedKey::Shift)));
        assert_eq!(keysyms.key(10), None);
        assert_eq!(keysyms.key(11), None);
        assert_eq!(keysyms.key(7), None);
        assert_eq!(Keysyms::default().key(8), None);
    }
}

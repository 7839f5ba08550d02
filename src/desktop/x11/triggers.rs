//! The stop triggers a person uses at the desk: a global abort hotkey (a passive key grab on
//! the root window) and the failsafe corner (the pointer pushed into a screen corner). Each
//! runs on its own thread and X connection and ends when the run finishes.

use std::sync::atomic::Ordering;
use std::time::Duration;

use x11rb::connection::Connection;
use x11rb::protocol::Event;
use x11rb::protocol::xproto::{ConnectionExt as _, GrabMode, ModMask};

use super::keymap::{Keymap, keysym_for_char};
use super::{Commanded, pack};
use crate::abort::{AbortReason, AbortSignal};
use crate::desktop::{DResult, Key, NamedKey, StopSettings, StopTriggers};

pub struct X11StopTriggers {
    commanded: Commanded,
}

impl X11StopTriggers {
    pub fn new(commanded: Commanded) -> Self {
        X11StopTriggers { commanded }
    }
}

impl StopTriggers for X11StopTriggers {
    fn start(&mut self, abort: &AbortSignal, settings: &StopSettings) -> DResult<Vec<String>> {
        let mut warnings = Vec::new();
        if !settings.hotkey.is_empty() {
            match grab_hotkey(&settings.hotkey) {
                Ok(grab) => {
                    let abort = abort.clone();
                    std::thread::spawn(move || grab.watch(abort));
                }
                Err(e) => warnings.push(format!("abort hotkey not available: {e}")),
            }
        }
        if settings.failsafe_corner {
            let (conn, screen) = super::open()?;
            let abort = abort.clone();
            let commanded = self.commanded.clone();
            std::thread::spawn(move || watch_corners(conn, screen, commanded, abort));
        }
        Ok(warnings)
    }
}

struct Grab {
    conn: x11rb::rust_connection::RustConnection,
    keycode: u8,
    modifiers: u16,
    label: String,
}

fn modifier_mask(key: NamedKey) -> Option<ModMask> {
    match key {
        NamedKey::Shift => Some(ModMask::SHIFT),
        NamedKey::Ctrl => Some(ModMask::CONTROL),
        NamedKey::Alt => Some(ModMask::M1),
        NamedKey::Meta => Some(ModMask::M4),
        _ => None,
    }
}

fn named_keysym(key: NamedKey) -> Option<u32> {
    Some(match key {
        NamedKey::Escape => 0xff1b,
        NamedKey::Pause => 0xff13,
        NamedKey::Enter => 0xff0d,
        NamedKey::Space => 0x20,
        NamedKey::Backspace => 0xff08,
        NamedKey::Delete => 0xffff,
        NamedKey::Insert => 0xff63,
        NamedKey::Home => 0xff50,
        NamedKey::End => 0xff57,
        NamedKey::ScrollLock => 0xff14,
        NamedKey::F(n) => 0xffbe + u32::from(n) - 1,
        _ => return None,
    })
}

fn grab_hotkey(keys: &[Key]) -> Result<Grab, String> {
    let label = keys
        .iter()
        .map(Key::to_string)
        .collect::<Vec<_>>()
        .join("+");
    let mut modifiers = ModMask::from(0u16);
    let mut main = None;
    for key in keys {
        match key {
            Key::Named(named) => match modifier_mask(*named) {
                Some(mask) => modifiers |= mask,
                None => main = named_keysym(*named),
            },
            Key::Char(c) => main = Some(keysym_for_char(*c)),
        }
    }
    let keysym =
        main.ok_or_else(|| format!("{label} has no non-modifier key this backend can grab"))?;
    let (conn, screen) = super::open().map_err(|e| e.to_string())?;
    let keymap = Keymap::load(&conn).map_err(|e| e.to_string())?;
    let keycode = keymap
        .position(keysym)
        .ok_or_else(|| format!("the keyboard map has no key for {label}"))?
        .keycode;
    let root = conn.setup().roots[screen].root;
    // Grab with and without Caps Lock and Num Lock, which X counts as modifiers.
    for extra in [
        0u16,
        ModMask::LOCK.into(),
        ModMask::M2.into(),
        u16::from(ModMask::LOCK) | u16::from(ModMask::M2),
    ] {
        conn.grab_key(
            false,
            root,
            ModMask::from(u16::from(modifiers) | extra),
            keycode,
            GrabMode::ASYNC,
            GrabMode::ASYNC,
        )
        .map_err(|e| e.to_string())?
        .check()
        .map_err(|e| format!("{label} is already taken by another program ({e})"))?;
    }
    Ok(Grab {
        conn,
        keycode,
        modifiers: modifiers.into(),
        label,
    })
}

impl Grab {
    fn watch(self, abort: AbortSignal) {
        let relevant = u16::from(ModMask::SHIFT)
            | u16::from(ModMask::CONTROL)
            | u16::from(ModMask::M1)
            | u16::from(ModMask::M4);
        while !abort.is_finished() {
            match self.conn.poll_for_event() {
                Ok(Some(Event::KeyPress(e)))
                    if e.detail == self.keycode
                        && (u16::from(e.state) & relevant) == self.modifiers =>
                {
                    abort.request(AbortReason::Hotkey(self.label.clone()));
                }
                Ok(Some(_)) => {}
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(_) => return,
            }
        }
    }
}

fn watch_corners(
    conn: x11rb::rust_connection::RustConnection,
    screen: usize,
    commanded: Commanded,
    abort: AbortSignal,
) {
    let root = &conn.setup().roots[screen];
    let (root, w, h) = (
        root.root,
        i32::from(root.width_in_pixels),
        i32::from(root.height_in_pixels),
    );
    let in_corner = |x: i32, y: i32| (x <= 0 || x >= w - 1) && (y <= 0 || y >= h - 1);
    // Armed only once the pointer has been seen outside a corner, so a pointer parked in a
    // corner before the run does not stop it at once.
    let mut armed = false;
    while !abort.is_finished() {
        let Ok(Ok(p)) = conn.query_pointer(root).map(|c| c.reply()) else {
            return;
        };
        let (x, y) = (i32::from(p.root_x), i32::from(p.root_y));
        if !in_corner(x, y) {
            armed = true;
        } else if armed && commanded.load(Ordering::SeqCst) != pack(x, y) {
            abort.request(AbortReason::Failsafe { x, y });
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

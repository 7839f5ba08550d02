//! Keyboard and mouse through `SendInput`. Text goes out as KEYEVENTF_UNICODE (VK_PACKET), one
//! UTF-16 unit per event, so 髙橋, 𠮷 and ｶﾞｯｺｳ arrive exactly in any program without the
//! clipboard and without the keyboard layout; named keys go out as virtual keys with their scan
//! codes. Before input, the target window is checked for UIPI and its IME is closed.

use std::sync::atomic::Ordering;

use windows_sys::Win32::Foundation::POINT;
use windows_sys::Win32::UI::Input::KeyboardAndMouse::{
    INPUT, INPUT_0, INPUT_KEYBOARD, INPUT_MOUSE, KEYBDINPUT, KEYEVENTF_EXTENDEDKEY,
    KEYEVENTF_KEYUP, KEYEVENTF_UNICODE, MAPVK_VK_TO_VSC, MOUSEEVENTF_ABSOLUTE,
    MOUSEEVENTF_LEFTDOWN, MOUSEEVENTF_LEFTUP, MOUSEEVENTF_MIDDLEDOWN, MOUSEEVENTF_MIDDLEUP,
    MOUSEEVENTF_MOVE, MOUSEEVENTF_RIGHTDOWN, MOUSEEVENTF_RIGHTUP, MOUSEEVENTF_VIRTUALDESK,
    MOUSEEVENTF_WHEEL, MOUSEINPUT, MapVirtualKeyW, SendInput, VkKeyScanW,
};
use windows_sys::Win32::UI::WindowsAndMessaging::{
    GA_ROOT, GetAncestor, GetCursorPos, GetForegroundWindow, SetCursorPos, WindowFromPoint,
};

use super::ime::ImeGuard;
use super::{Commanded, pack};
use crate::desktop::{Button, DResult, DesktopError, Key, Keyboard, Mouse, NamedKey};

/// Marks kuroko's own events (`dwExtraInfo`), "KRKO".
pub(crate) const KUROKO_EVENT: usize = 0x4B52_4B4F;

/// A key as Windows sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WinKey {
    /// A virtual key, and whether it is an extended key (arrows, Home, Insert, right-hand keys).
    Virtual(u16, bool),
    /// A UTF-16 unit as VK_PACKET.
    Unit(u16),
}

/// The virtual key of a named key, and whether it is an extended key.
pub(crate) fn virtual_key(key: NamedKey) -> (u16, bool) {
    match key {
        NamedKey::Enter => (0x0D, false),
        NamedKey::Tab => (0x09, false),
        NamedKey::Escape => (0x1B, false),
        NamedKey::Backspace => (0x08, false),
        NamedKey::Delete => (0x2E, true),
        NamedKey::Insert => (0x2D, true),
        NamedKey::Home => (0x24, true),
        NamedKey::End => (0x23, true),
        NamedKey::PageUp => (0x21, true),
        NamedKey::PageDown => (0x22, true),
        NamedKey::Up => (0x26, true),
        NamedKey::Down => (0x28, true),
        NamedKey::Left => (0x25, true),
        NamedKey::Right => (0x27, true),
        NamedKey::Space => (0x20, false),
        NamedKey::Shift => (0xA0, false),
        NamedKey::Ctrl => (0xA2, false),
        NamedKey::Alt => (0xA4, false),
        NamedKey::Meta => (0x5B, true),
        NamedKey::CapsLock => (0x14, false),
        NamedKey::NumLock => (0x90, true),
        NamedKey::ScrollLock => (0x91, false),
        NamedKey::PrintScreen => (0x2C, true),
        NamedKey::Pause => (0x13, false),
        // The Japanese keyboard's keys: VK_KANJI, VK_CONVERT, VK_NONCONVERT, VK_OEM_COPY.
        NamedKey::ZenkakuHankaku => (0x19, false),
        NamedKey::Henkan => (0x1C, false),
        NamedKey::Muhenkan => (0x1D, false),
        NamedKey::HiraganaKatakana => (0xF2, false),
        NamedKey::F(n) => (0x70 + u16::from(n.clamp(1, 24)) - 1, false),
    }
}

/// The virtual key of a character on this keyboard layout when it needs no Shift, Ctrl or Alt.
pub(crate) fn char_virtual_key(c: char) -> Option<u16> {
    let mut units = [0u16; 2];
    if c.encode_utf16(&mut units).len() != 1 {
        return None;
    }
    // SAFETY: a plain query of the current layout.
    let scan = unsafe { VkKeyScanW(units[0]) };
    if scan == -1 || (scan as u16) >> 8 != 0 {
        return None;
    }
    Some(scan as u16 & 0xFF)
}

fn win_keys(key: Key) -> Vec<WinKey> {
    match key {
        Key::Named(named) => {
            let (vk, extended) = virtual_key(named);
            vec![WinKey::Virtual(vk, extended)]
        }
        Key::Char(c) => match char_virtual_key(c) {
            Some(vk) => vec![WinKey::Virtual(vk, false)],
            None => c
                .encode_utf16(&mut [0; 2])
                .iter()
                .map(|u| WinKey::Unit(*u))
                .collect(),
        },
    }
}

pub(super) fn key_event(key: WinKey, up: bool) -> INPUT {
    let (vk, scan, mut flags) = match key {
        WinKey::Virtual(vk, extended) => {
            // SAFETY: a plain query of the current layout.
            let scan = unsafe { MapVirtualKeyW(u32::from(vk), MAPVK_VK_TO_VSC) } as u16;
            (vk, scan, if extended { KEYEVENTF_EXTENDEDKEY } else { 0 })
        }
        WinKey::Unit(unit) => (0, unit, KEYEVENTF_UNICODE),
    };
    if up {
        flags |= KEYEVENTF_KEYUP;
    }
    INPUT {
        r#type: INPUT_KEYBOARD,
        Anonymous: INPUT_0 {
            ki: KEYBDINPUT {
                wVk: vk,
                wScan: scan,
                dwFlags: flags,
                time: 0,
                dwExtraInfo: KUROKO_EVENT,
            },
        },
    }
}

fn mouse_event(dx: i32, dy: i32, data: i32, flags: u32) -> INPUT {
    INPUT {
        r#type: INPUT_MOUSE,
        Anonymous: INPUT_0 {
            mi: MOUSEINPUT {
                dx,
                dy,
                mouseData: data as u32,
                dwFlags: flags,
                time: 0,
                dwExtraInfo: KUROKO_EVENT,
            },
        },
    }
}

/// Sends events; an error when Windows took none or only some of them.
pub(super) fn send(events: &[INPUT]) -> DResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    // SAFETY: a slice of initialised INPUT structures and its true length.
    let sent = unsafe {
        SendInput(
            events.len() as u32,
            events.as_ptr(),
            std::mem::size_of::<INPUT>() as i32,
        )
    };
    if sent as usize != events.len() {
        return Err(DesktopError::new(format!(
            "Windows took {sent} of {} input events ({}): the screen may be locked, a UAC \
             prompt open, or the session disconnected (a minimised RDP window takes no input)",
            events.len(),
            super::last_error()
        )));
    }
    Ok(())
}

pub struct Win32Keyboard {
    held: Vec<Key>,
    ime: ImeGuard,
}

pub struct Win32Mouse {
    held: Vec<Button>,
    commanded: Commanded,
}

pub fn connect(commanded: Commanded) -> (Win32Keyboard, Win32Mouse) {
    (
        Win32Keyboard {
            held: Vec::new(),
            ime: ImeGuard::default(),
        },
        Win32Mouse {
            held: Vec::new(),
            commanded,
        },
    )
}

impl Win32Keyboard {
    /// Checks the window that will get the keys, and closes its IME.
    fn before_input(&mut self, doing: &str) -> DResult<()> {
        // SAFETY: a plain query.
        let foreground = unsafe { GetForegroundWindow() };
        super::uipi::check_can_drive(foreground, doing)?;
        self.ime.before_input();
        Ok(())
    }

    fn key(&mut self, key: Key, up: bool) -> DResult<()> {
        let events: Vec<INPUT> = win_keys(key)
            .into_iter()
            .map(|k| key_event(k, up))
            .collect();
        send(&events)
    }
}

impl Keyboard for Win32Keyboard {
    fn type_text(&mut self, text: &str) -> DResult<()> {
        self.before_input("type into")?;
        let mut events = Vec::with_capacity(text.len() * 2);
        for unit in text.encode_utf16() {
            events.push(key_event(WinKey::Unit(unit), false));
            events.push(key_event(WinKey::Unit(unit), true));
        }
        send(&events)
    }

    fn key_down(&mut self, key: Key) -> DResult<()> {
        self.before_input("press keys in")?;
        self.key(key, false)?;
        self.held.push(key);
        Ok(())
    }

    fn key_up(&mut self, key: Key) -> DResult<()> {
        self.key(key, true)?;
        self.held.retain(|k| *k != key);
        Ok(())
    }

    fn release_all(&mut self) -> DResult<()> {
        let mut first_error = None;
        while let Some(key) = self.held.pop() {
            if let Err(e) = self.key(key, true) {
                first_error.get_or_insert(e);
            }
        }
        self.ime.restore();
        first_error.map_or(Ok(()), Err)
    }
}

fn button_flags(button: Button) -> (u32, u32) {
    match button {
        Button::Left => (MOUSEEVENTF_LEFTDOWN, MOUSEEVENTF_LEFTUP),
        Button::Right => (MOUSEEVENTF_RIGHTDOWN, MOUSEEVENTF_RIGHTUP),
        Button::Middle => (MOUSEEVENTF_MIDDLEDOWN, MOUSEEVENTF_MIDDLEUP),
    }
}

/// A point of the virtual desktop as SendInput's 0..=65535 scale.
fn normalised(x: i32, y: i32) -> (i32, i32) {
    let (left, top, width, height) = super::virtual_screen();
    let scale = |v: i32, origin: i32, size: i32| -> i32 {
        let span = i64::from((size - 1).max(1));
        ((i64::from(v - origin) * 65535 + span / 2) / span) as i32
    };
    (scale(x, left, width), scale(y, top, height))
}

pub(super) fn cursor() -> DResult<(i32, i32)> {
    let mut p = POINT { x: 0, y: 0 };
    // SAFETY: writes the point.
    if unsafe { GetCursorPos(&mut p) } == 0 {
        return Err(DesktopError::new(format!(
            "cannot read the pointer position ({}): the screen may be locked",
            super::last_error()
        )));
    }
    Ok((p.x, p.y))
}

impl Mouse for Win32Mouse {
    fn move_to(&mut self, x: i32, y: i32) -> DResult<()> {
        let (left, top, width, height) = super::virtual_screen();
        if x < left || y < top || x >= left + width || y >= top + height {
            return Err(DesktopError::new(format!(
                "({x}, {y}) is outside the desktop ({left}, {top}) to ({}, {})",
                left + width - 1,
                top + height - 1
            )));
        }
        self.commanded.store(pack(x, y), Ordering::SeqCst);
        let (nx, ny) = normalised(x, y);
        send(&[mouse_event(
            nx,
            ny,
            0,
            MOUSEEVENTF_MOVE | MOUSEEVENTF_ABSOLUTE | MOUSEEVENTF_VIRTUALDESK,
        )])?;
        // The 0..65535 scale can land a pixel off on a wide desktop: set the last pixel exactly.
        if cursor()? != (x, y) {
            // SAFETY: a plain call.
            unsafe { SetCursorPos(x, y) };
        }
        Ok(())
    }

    fn button_down(&mut self, button: Button) -> DResult<()> {
        let (x, y) = cursor()?;
        // SAFETY: plain queries.
        let target = unsafe { GetAncestor(WindowFromPoint(POINT { x, y }), GA_ROOT) };
        super::uipi::check_can_drive(target, "click in")?;
        send(&[mouse_event(0, 0, 0, button_flags(button).0)])?;
        self.held.push(button);
        Ok(())
    }

    fn button_up(&mut self, button: Button) -> DResult<()> {
        send(&[mouse_event(0, 0, 0, button_flags(button).1)])?;
        self.held.retain(|b| *b != button);
        Ok(())
    }

    fn scroll(&mut self, notches: i32) -> DResult<()> {
        // One notch is WHEEL_DELTA (120); positive wheel data scrolls up.
        send(&[mouse_event(
            0,
            0,
            -notches.clamp(-1000, 1000) * 120,
            MOUSEEVENTF_WHEEL,
        )])
    }

    fn position(&mut self) -> DResult<(i32, i32)> {
        cursor()
    }

    fn release_all(&mut self) -> DResult<()> {
        let mut first_error = None;
        while let Some(button) = self.held.pop() {
            if let Err(e) = send(&[mouse_event(0, 0, 0, button_flags(button).1)]) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

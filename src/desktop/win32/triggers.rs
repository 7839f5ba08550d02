//! The stop triggers a person uses at the desk: the abort hotkey (`RegisterHotKey`, whose
//! WM_HOTKEY arrives on the thread that registered it) and the failsafe corner (the pointer,
//! read with `GetCursorPos`, pushed into a corner of the desktop). Each runs on its own thread
//! and ends when the run finishes.

use std::sync::atomic::Ordering;
use std::time::Duration;

use windows_sys::Win32::UI::Input::KeyboardAndMouse::{
    MOD_ALT, MOD_CONTROL, MOD_NOREPEAT, MOD_SHIFT, MOD_WIN, RegisterHotKey, UnregisterHotKey,
};
use windows_sys::Win32::UI::WindowsAndMessaging::{
    CreateWindowExW, DestroyWindow, HWND_MESSAGE, MSG, PM_REMOVE, PeekMessageW, WM_HOTKEY,
};

use super::input::{char_virtual_key, virtual_key};
use super::{Commanded, pack};
use crate::abort::{AbortReason, AbortSignal};
use crate::desktop::{DResult, Key, NamedKey, StopSettings, StopTriggers};

pub struct Win32StopTriggers {
    commanded: Commanded,
}

impl Win32StopTriggers {
    pub fn new(commanded: Commanded) -> Self {
        Win32StopTriggers { commanded }
    }
}

/// RegisterHotKey's modifiers and virtual key for a key combination.
fn hotkey_parts(keys: &[Key]) -> Result<(u32, u32), String> {
    let label = label(keys);
    let mut modifiers = MOD_NOREPEAT;
    let mut main = None;
    for key in keys {
        match key {
            Key::Named(NamedKey::Shift) => modifiers |= MOD_SHIFT,
            Key::Named(NamedKey::Ctrl) => modifiers |= MOD_CONTROL,
            Key::Named(NamedKey::Alt) => modifiers |= MOD_ALT,
            Key::Named(NamedKey::Meta) => modifiers |= MOD_WIN,
            Key::Named(named) => main = Some(u32::from(virtual_key(*named).0)),
            Key::Char(c) => {
                main = Some(u32::from(char_virtual_key(*c).ok_or_else(|| {
                    format!("the keyboard layout has no key for {c:?} in {label}")
                })?))
            }
        }
    }
    let vk = main.ok_or_else(|| format!("{label} has no key besides modifiers"))?;
    Ok((modifiers, vk))
}

fn label(keys: &[Key]) -> String {
    keys.iter()
        .map(Key::to_string)
        .collect::<Vec<_>>()
        .join("+")
}

/// Registers the hotkey on this thread and watches for it until the run finishes.
fn watch_hotkey(
    keys: Vec<Key>,
    abort: AbortSignal,
    registered: std::sync::mpsc::Sender<Result<(), String>>,
) {
    let label = label(&keys);
    let (modifiers, vk) = match hotkey_parts(&keys) {
        Ok(parts) => parts,
        Err(e) => {
            let _ = registered.send(Err(e));
            return;
        }
    };
    // The hotkey belongs to a hidden window of this thread: Windows (and Wine, which keeps a
    // window-less thread hotkey after its process has gone) frees it with the window.
    let class = super::wide("STATIC");
    // SAFETY: a message-only window of the system STATIC class; WM_HOTKEY is posted to this
    // thread's queue.
    let window = unsafe {
        CreateWindowExW(
            0,
            class.as_ptr(),
            class.as_ptr(),
            0,
            0,
            0,
            0,
            0,
            HWND_MESSAGE,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null(),
        )
    };
    if window.is_null() {
        let _ = registered.send(Err(format!(
            "cannot create the hotkey window ({})",
            super::last_error()
        )));
        return;
    }
    // SAFETY: as above.
    if unsafe { RegisterHotKey(window, 1, modifiers, vk) } == 0 {
        let _ = registered.send(Err(format!(
            "{label} is already taken by another program ({})",
            super::last_error()
        )));
        // SAFETY: the window created above.
        unsafe { DestroyWindow(window) };
        return;
    }
    let _ = registered.send(Ok(()));
    // SAFETY: reads this thread's message queue.
    let mut msg: MSG = unsafe { std::mem::zeroed() };
    while !abort.is_finished() {
        while unsafe { PeekMessageW(&mut msg, std::ptr::null_mut(), 0, 0, PM_REMOVE) } != 0 {
            if msg.message == WM_HOTKEY {
                abort.request(AbortReason::Hotkey(label.clone()));
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    // SAFETY: the registration and window made above, on this thread.
    unsafe {
        UnregisterHotKey(window, 1);
        DestroyWindow(window);
    }
}

fn watch_corners(commanded: Commanded, abort: AbortSignal) {
    // Armed only once the pointer has been seen outside a corner, so a pointer parked in a
    // corner before the run does not stop it at once.
    let mut armed = false;
    while !abort.is_finished() {
        let (left, top, width, height) = super::virtual_screen();
        let (right, bottom) = (left + width - 1, top + height - 1);
        // No position while the screen is locked, which is not a corner.
        if let Ok((x, y)) = super::input::cursor() {
            let in_corner = (x <= left || x >= right) && (y <= top || y >= bottom);
            if !in_corner {
                armed = true;
            } else if armed && commanded.load(Ordering::SeqCst) != pack(x, y) {
                abort.request(AbortReason::Failsafe { x, y });
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl StopTriggers for Win32StopTriggers {
    fn start(&mut self, abort: &AbortSignal, settings: &StopSettings) -> DResult<Vec<String>> {
        let mut warnings = Vec::new();
        if !settings.hotkey.is_empty() {
            let (tx, rx) = std::sync::mpsc::channel();
            let keys = settings.hotkey.clone();
            let watching = abort.clone();
            std::thread::Builder::new()
                .name("kuroko-hotkey".into())
                .spawn(move || watch_hotkey(keys, watching, tx))
                .map_err(|e| {
                    crate::desktop::DesktopError::new(format!(
                        "cannot start the hotkey thread: {e}"
                    ))
                })?;
            match rx.recv_timeout(Duration::from_secs(2)) {
                Ok(Ok(())) => {}
                Ok(Err(e)) => warnings.push(format!("abort hotkey not available: {e}")),
                Err(_) => {
                    warnings.push("abort hotkey not available: no answer from Windows".into())
                }
            }
        }
        if settings.failsafe_corner {
            let abort = abort.clone();
            let commanded = self.commanded.clone();
            std::thread::Builder::new()
                .name("kuroko-failsafe".into())
                .spawn(move || watch_corners(commanded, abort))
                .map_err(|e| {
                    crate::desktop::DesktopError::new(format!(
                        "cannot start the failsafe thread: {e}"
                    ))
                })?;
        }
        Ok(warnings)
    }
}

//! `kuroko record` on Windows: every button and key press and release on the desktop, seen
//! through the low-level mouse and keyboard hooks, which watch input without taking it from the
//! programs being used. While the capture runs, a small always-on-top indicator says so.
//!
//! The hooks live on a thread of their own that does nothing but pump messages: Windows calls a
//! low-level hook on the thread that installed it, and holds every program's input until the
//! hook returns (Wine gives up after about 2 s and loses the key-up). So a hook only copies the
//! event, stamps the moment, hands it over a channel and returns; the key is named later, in
//! `next`. Up or down is read from the message, not the flags (Wine leaves LLKHF_UP off the
//! key-up of a KEYEVENTF_UNICODE key). Input kuroko injected itself (SendInput with its own
//! `dwExtraInfo` tag) is dropped. Coordinates are physical pixels: kuroko is DPI aware.

use std::cell::RefCell;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use windows_sys::Win32::Foundation::{HWND, LPARAM, LRESULT, RECT, WPARAM};
use windows_sys::Win32::Graphics::Gdi::{
    BeginPaint, CreateFontW, CreateSolidBrush, DEFAULT_CHARSET, DT_CENTER, DT_SINGLELINE,
    DT_VCENTER, DeleteObject, DrawTextW, EndPaint, FillRect, GetDC, GetTextFaceW, PAINTSTRUCT,
    ReleaseDC, SelectObject, SetBkMode, SetTextColor, TRANSPARENT,
};
use windows_sys::Win32::System::LibraryLoader::GetModuleHandleW;
use windows_sys::Win32::System::Threading::GetCurrentThreadId;
use windows_sys::Win32::UI::Input::KeyboardAndMouse::{MAPVK_VK_TO_CHAR, MapVirtualKeyW};
use windows_sys::Win32::UI::WindowsAndMessaging::{
    CallNextHookEx, DefWindowProcW, DestroyWindow, DispatchMessageW, GWL_EXSTYLE, GetClientRect,
    GetMessageW, HC_ACTION, HHOOK, HWND_TOPMOST, KBDLLHOOKSTRUCT, LLKHF_INJECTED, LLMHF_INJECTED,
    LWA_ALPHA, MSG, MSLLHOOKSTRUCT, PM_NOREMOVE, PeekMessageW, PostThreadMessageW, SPI_GETWORKAREA,
    SW_SHOWNOACTIVATE, SWP_NOACTIVATE, SWP_NOMOVE, SWP_NOSIZE, SetLayeredWindowAttributes,
    SetWindowLongPtrW, SetWindowPos, SetWindowsHookExW, ShowWindow, SystemParametersInfoW,
    TranslateMessage, UnhookWindowsHookEx, WH_KEYBOARD_LL, WH_MOUSE_LL, WM_KEYDOWN, WM_KEYUP,
    WM_LBUTTONDOWN, WM_LBUTTONUP, WM_MBUTTONDOWN, WM_MBUTTONUP, WM_PAINT, WM_QUIT, WM_RBUTTONDOWN,
    WM_RBUTTONUP, WM_SYSKEYDOWN, WM_SYSKEYUP, WS_EX_LAYERED, WS_EX_NOACTIVATE, WS_EX_TOOLWINDOW,
    WS_EX_TOPMOST, WS_EX_TRANSPARENT, WS_POPUP,
};

use super::input::{KUROKO_EVENT, virtual_key};
use super::{last_error, own_window, wide};
use crate::desktop::capture::{Captured, Input, InputCapture, join_stopped};
use crate::desktop::{Button, DResult, DesktopError, Key, NamedKey};

/// How long `start` waits for the hooks to be installed.
const START_WAIT: Duration = Duration::from_secs(5);

/// What the indicator says.
const INDICATOR_TEXT: &str = "● 記録中 — Shift+Esc で終了";

/// An event as the hook saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Raw {
    Mouse { message: u32, x: i32, y: i32 },
    Key { message: u32, vk: u32, scan: u32 },
}

thread_local! {
    /// Where the hooks of this thread send their events (the hook thread's own).
    static SINK: RefCell<Option<Sender<(Instant, Raw)>>> = const { RefCell::new(None) };
}

fn hand_over(raw: Raw) {
    let at = Instant::now();
    SINK.with(|sink| {
        if let Some(sink) = &*sink.borrow() {
            // A capture being dropped has no receiver; the thread ends soon after.
            let _ = sink.send((at, raw));
        }
    });
}

unsafe extern "system" fn mouse_hook(code: i32, wparam: WPARAM, lparam: LPARAM) -> LRESULT {
    let message = wparam as u32;
    if code == HC_ACTION as i32
        && matches!(
            message,
            WM_LBUTTONDOWN
                | WM_LBUTTONUP
                | WM_RBUTTONDOWN
                | WM_RBUTTONUP
                | WM_MBUTTONDOWN
                | WM_MBUTTONUP
        )
    {
        // SAFETY: for HC_ACTION, lparam points at the event's MSLLHOOKSTRUCT.
        let info = unsafe { &*(lparam as *const MSLLHOOKSTRUCT) };
        if !(info.flags & LLMHF_INJECTED != 0 && info.dwExtraInfo == KUROKO_EVENT) {
            hand_over(Raw::Mouse {
                message,
                x: info.pt.x,
                y: info.pt.y,
            });
        }
    }
    // SAFETY: passes the event on unchanged, as every hook must.
    unsafe { CallNextHookEx(std::ptr::null_mut(), code, wparam, lparam) }
}

unsafe extern "system" fn keyboard_hook(code: i32, wparam: WPARAM, lparam: LPARAM) -> LRESULT {
    let message = wparam as u32;
    if code == HC_ACTION as i32
        && matches!(message, WM_KEYDOWN | WM_KEYUP | WM_SYSKEYDOWN | WM_SYSKEYUP)
    {
        // SAFETY: for HC_ACTION, lparam points at the event's KBDLLHOOKSTRUCT.
        let info = unsafe { &*(lparam as *const KBDLLHOOKSTRUCT) };
        if !(info.flags & LLKHF_INJECTED != 0 && info.dwExtraInfo == KUROKO_EVENT) {
            hand_over(Raw::Key {
                message,
                vk: info.vkCode,
                scan: info.scanCode,
            });
        }
    }
    // SAFETY: passes the event on unchanged, as every hook must.
    unsafe { CallNextHookEx(std::ptr::null_mut(), code, wparam, lparam) }
}

/// The key a virtual key is, as `Key::parse` names it (letters lowercase). `scan` is the
/// UTF-16 unit of a VK_PACKET. Keys kuroko has no name for (media keys, IME mode keys other
/// than the four on a Japanese keyboard) are `None`.
fn key_for(vk: u32, scan: u32) -> Option<Key> {
    let named = |k| Some(Key::Named(k));
    match vk {
        0x41..=0x5A => return char::from_u32(vk + 0x20).map(Key::Char),
        0x30..=0x39 => return char::from_u32(vk).map(Key::Char),
        // The numeric keypad's digits.
        0x60..=0x69 => return char::from_u32(vk - 0x60 + 0x30).map(Key::Char),
        // VK_PACKET: a character sent as text by another program.
        0xE7 => return char::from_u32(scan).map(Key::Char),
        // VK_SHIFT, VK_RSHIFT; VK_CONTROL, VK_RCONTROL; VK_MENU, VK_RMENU; VK_RWIN.
        0x10 | 0xA1 => return named(NamedKey::Shift),
        0x11 | 0xA3 => return named(NamedKey::Ctrl),
        0x12 | 0xA5 => return named(NamedKey::Alt),
        0x5C => return named(NamedKey::Meta),
        0x70..=0x87 => return named(NamedKey::F((vk - 0x70 + 1) as u8)),
        _ => {}
    }
    if let Some(key) = NAMED.iter().find(|k| u32::from(virtual_key(**k).0) == vk) {
        return named(*key);
    }
    // Punctuation (the OEM keys) depends on the layout: its unshifted character.
    // SAFETY: a plain query of the current layout.
    let c = unsafe { MapVirtualKeyW(vk, MAPVK_VK_TO_CHAR) } & 0x7FFF;
    char::from_u32(c)
        .filter(|c| !c.is_control() && *c != '\0')
        .map(|c| Key::Char(c.to_lowercase().next().unwrap_or(c)))
}

/// The named keys other than F1–F24, for the reverse lookup of their virtual keys.
const NAMED: &[NamedKey] = &[
    NamedKey::Enter,
    NamedKey::Tab,
    NamedKey::Escape,
    NamedKey::Backspace,
    NamedKey::Delete,
    NamedKey::Insert,
    NamedKey::Home,
    NamedKey::End,
    NamedKey::PageUp,
    NamedKey::PageDown,
    NamedKey::Up,
    NamedKey::Down,
    NamedKey::Left,
    NamedKey::Right,
    NamedKey::Space,
    NamedKey::Shift,
    NamedKey::Ctrl,
    NamedKey::Alt,
    NamedKey::Meta,
    NamedKey::CapsLock,
    NamedKey::NumLock,
    NamedKey::ScrollLock,
    NamedKey::PrintScreen,
    NamedKey::Pause,
    NamedKey::ZenkakuHankaku,
    NamedKey::Henkan,
    NamedKey::Muhenkan,
    NamedKey::HiraganaKatakana,
];

fn input_for(raw: Raw) -> Option<Input> {
    match raw {
        Raw::Mouse { message, x, y } => {
            let (button, down) = match message {
                WM_LBUTTONDOWN => (Button::Left, true),
                WM_LBUTTONUP => (Button::Left, false),
                WM_RBUTTONDOWN => (Button::Right, true),
                WM_RBUTTONUP => (Button::Right, false),
                WM_MBUTTONDOWN => (Button::Middle, true),
                WM_MBUTTONUP => (Button::Middle, false),
                _ => return None,
            };
            Some(if down {
                Input::ButtonDown { button, x, y }
            } else {
                Input::ButtonUp { button, x, y }
            })
        }
        Raw::Key { message, vk, scan } => {
            let key = key_for(vk, scan)?;
            Some(match message {
                WM_KEYUP | WM_SYSKEYUP => Input::KeyUp(key),
                _ => Input::KeyDown(key),
            })
        }
    }
}

/// A running capture of the desktop's mouse and keyboard; dropping it removes the hooks and the
/// indicator.
pub struct HookCapture {
    events: Receiver<(Instant, Raw)>,
    /// The hook thread's id, for its WM_QUIT.
    thread_id: u32,
    thread: Option<JoinHandle<()>>,
}

/// Installs the hooks and shows the indicator; returns once both are in place.
pub fn start() -> DResult<HookCapture> {
    let (events, received) = mpsc::channel();
    let (ready, started) = mpsc::sync_channel(1);
    let thread = std::thread::Builder::new()
        .name("kuroko-record-hooks".into())
        .spawn(move || hook_thread(events, ready))
        .map_err(|e| DesktopError::new(format!("cannot start the input recording: {e}")))?;
    match started.recv_timeout(START_WAIT) {
        Ok(Ok(thread_id)) => Ok(HookCapture {
            events: received,
            thread_id,
            thread: Some(thread),
        }),
        Ok(Err(e)) => {
            let _ = thread.join();
            Err(e)
        }
        Err(_) => Err(DesktopError::new(
            "the keyboard and mouse hooks were not installed within 5 s",
        )),
    }
}

/// The hook thread: installs both hooks and the indicator, pumps messages until WM_QUIT, then
/// removes them. Dropping the sender at the end tells the capture the thread is done.
fn hook_thread(events: Sender<(Instant, Raw)>, ready: mpsc::SyncSender<DResult<u32>>) {
    // SAFETY: PeekMessage gives the thread its message queue before anyone posts to it; the
    // hook procedures are 'static functions; each hook is removed on this thread below.
    unsafe {
        let mut msg: MSG = std::mem::zeroed();
        PeekMessageW(&mut msg, std::ptr::null_mut(), 0, 0, PM_NOREMOVE);
        SINK.with(|sink| *sink.borrow_mut() = Some(events));
        let module = GetModuleHandleW(std::ptr::null());
        let mouse: HHOOK = SetWindowsHookExW(WH_MOUSE_LL, Some(mouse_hook), module, 0);
        if mouse.is_null() {
            let _ = ready.send(Err(DesktopError::new(format!(
                "cannot watch the mouse (SetWindowsHookEx: {})",
                last_error()
            ))));
            return;
        }
        let keyboard: HHOOK = SetWindowsHookExW(WH_KEYBOARD_LL, Some(keyboard_hook), module, 0);
        if keyboard.is_null() {
            let e = last_error();
            UnhookWindowsHookEx(mouse);
            let _ = ready.send(Err(DesktopError::new(format!(
                "cannot watch the keyboard (SetWindowsHookEx: {e})"
            ))));
            return;
        }
        let indicator = show_indicator();
        let _ = ready.send(Ok(GetCurrentThreadId()));
        loop {
            let got = GetMessageW(&mut msg, std::ptr::null_mut(), 0, 0);
            if got == 0 || got == -1 {
                break;
            }
            TranslateMessage(&msg);
            DispatchMessageW(&msg);
        }
        UnhookWindowsHookEx(keyboard);
        UnhookWindowsHookEx(mouse);
        if !indicator.is_null() {
            DestroyWindow(indicator);
        }
        SINK.with(|sink| sink.borrow_mut().take());
    }
}

/// The indicator: a small red strip at the lower right of the work area, above every window,
/// never activated, and clicked through. Missing it is no reason to stop the recording.
fn show_indicator() -> HWND {
    let text: Vec<u16> = INDICATOR_TEXT.encode_utf16().collect();
    let (w, h) = (260, 28);
    let mut area = RECT {
        left: 0,
        top: 0,
        right: 1024,
        bottom: 768,
    };
    // SAFETY: SPI_GETWORKAREA writes one RECT; the window is created, styled and shown on this
    // thread, which pumps its messages.
    unsafe {
        SystemParametersInfoW(SPI_GETWORKAREA, 0, (&mut area as *mut RECT).cast(), 0);
        let hwnd = own_window(
            "kuroko-record-indicator",
            "kuroko 記録中",
            WS_POPUP,
            std::ptr::null_mut(),
            (area.right - w - 8, area.bottom - h - 8, w, h),
            Some(indicator_proc),
        );
        if hwnd.is_null() {
            return hwnd;
        }
        let ex =
            WS_EX_TOPMOST | WS_EX_TOOLWINDOW | WS_EX_NOACTIVATE | WS_EX_LAYERED | WS_EX_TRANSPARENT;
        SetWindowLongPtrW(hwnd, GWL_EXSTYLE, ex as isize);
        SetLayeredWindowAttributes(hwnd, 0, 230, LWA_ALPHA);
        SetWindowPos(
            hwnd,
            HWND_TOPMOST,
            0,
            0,
            0,
            0,
            SWP_NOMOVE | SWP_NOSIZE | SWP_NOACTIVATE,
        );
        INDICATOR_TEXT_UNITS.with(|t| *t.borrow_mut() = text);
        INDICATOR_FACE.with(|f| *f.borrow_mut() = japanese_face(hwnd));
        ShowWindow(hwnd, SW_SHOWNOACTIVATE);
        hwnd
    }
}

thread_local! {
    static INDICATOR_TEXT_UNITS: RefCell<Vec<u16>> = const { RefCell::new(Vec::new()) };
    /// The indicator's font face, NUL-terminated.
    static INDICATOR_FACE: RefCell<Vec<u16>> = const { RefCell::new(Vec::new()) };
}

/// The first Japanese UI font this system has: Windows 10 and later have Yu Gothic UI, older
/// ones Meiryo UI or MS UI Gothic; under Wine a Linux font stands in.
fn japanese_face(hwnd: HWND) -> Vec<u16> {
    const FACES: [&str; 5] = [
        "Yu Gothic UI",
        "Meiryo UI",
        "MS UI Gothic",
        "Noto Sans CJK JP",
        "Droid Sans Fallback",
    ];
    // SAFETY: each font is created, selected into the window's DC, asked its face and deleted.
    unsafe {
        let dc = GetDC(hwnd);
        let mut chosen = None;
        for face in FACES {
            let wanted = wide(face);
            let font = CreateFontW(
                -16,
                0,
                0,
                0,
                700,
                0,
                0,
                0,
                u32::from(DEFAULT_CHARSET),
                0,
                0,
                0,
                0,
                wanted.as_ptr(),
            );
            let old = SelectObject(dc, font);
            let mut got = [0u16; 64];
            let n = GetTextFaceW(dc, got.len() as i32, got.as_mut_ptr());
            SelectObject(dc, old);
            DeleteObject(font);
            let end = got.iter().position(|&c| c == 0).unwrap_or(got.len());
            if n > 0 && String::from_utf16_lossy(&got[..end]).eq_ignore_ascii_case(face) {
                chosen = Some(wanted);
                break;
            }
        }
        ReleaseDC(hwnd, dc);
        chosen.unwrap_or_else(|| wide(FACES[0]))
    }
}

unsafe extern "system" fn indicator_proc(
    hwnd: HWND,
    message: u32,
    wparam: WPARAM,
    lparam: LPARAM,
) -> LRESULT {
    if message != WM_PAINT {
        // SAFETY: the default handling of every other message.
        return unsafe { DefWindowProcW(hwnd, message, wparam, lparam) };
    }
    // SAFETY: one paint of this thread's own window; every GDI object made is deleted.
    unsafe {
        let mut paint: PAINTSTRUCT = std::mem::zeroed();
        let dc = BeginPaint(hwnd, &mut paint);
        let mut rect: RECT = std::mem::zeroed();
        GetClientRect(hwnd, &mut rect);
        let red = CreateSolidBrush(0x0020_20C8);
        FillRect(dc, &rect, red);
        DeleteObject(red);
        let face = INDICATOR_FACE.with(|f| f.borrow().clone());
        let font = CreateFontW(
            -16,
            0,
            0,
            0,
            700,
            0,
            0,
            0,
            u32::from(DEFAULT_CHARSET),
            0,
            0,
            0,
            0,
            face.as_ptr(),
        );
        let old = SelectObject(dc, font);
        SetBkMode(dc, TRANSPARENT as i32);
        SetTextColor(dc, 0x00FF_FFFF);
        INDICATOR_TEXT_UNITS.with(|text| {
            let mut text = text.borrow().clone();
            DrawTextW(
                dc,
                text.as_mut_ptr(),
                text.len() as i32,
                &mut rect,
                DT_CENTER | DT_VCENTER | DT_SINGLELINE,
            );
        });
        SelectObject(dc, old);
        DeleteObject(font);
        EndPaint(hwnd, &paint);
    }
    0
}

impl InputCapture for HookCapture {
    fn next(&mut self, timeout: Duration) -> DResult<Option<Captured>> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok((at, raw)) => {
                    if let Some(input) = input_for(raw) {
                        return Ok(Some(Captured { at, input }));
                    }
                }
                Err(RecvTimeoutError::Timeout) => return Ok(None),
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(DesktopError::new(
                        "the keyboard and mouse hooks stopped (their thread ended)",
                    ));
                }
            }
        }
    }
}

impl Drop for HookCapture {
    fn drop(&mut self) {
        // SAFETY: posting to a thread that may have ended already fails harmlessly.
        unsafe { PostThreadMessageW(self.thread_id, WM_QUIT, 0, 0) };
        if let Some(thread) = self.thread.take() {
            join_stopped(thread, &self.events);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_keys_are_named_as_scripts_name_them() {
        assert_eq!(key_for(0x41, 0x1e), Some(Key::Char('a')));
        assert_eq!(key_for(0x5A, 0), Some(Key::Char('z')));
        assert_eq!(key_for(0x37, 0), Some(Key::Char('7')));
        assert_eq!(key_for(0x63, 0), Some(Key::Char('3')));
        assert_eq!(key_for(0xE7, 0x9AD9), Some(Key::Char('髙')));
        assert_eq!(key_for(0xA0, 0), Some(Key::Named(NamedKey::Shift)));
        assert_eq!(key_for(0xA1, 0), Some(Key::Named(NamedKey::Shift)));
        assert_eq!(key_for(0xA3, 0), Some(Key::Named(NamedKey::Ctrl)));
        assert_eq!(key_for(0x12, 0), Some(Key::Named(NamedKey::Alt)));
        assert_eq!(key_for(0x0D, 0), Some(Key::Named(NamedKey::Enter)));
        assert_eq!(key_for(0x1B, 0), Some(Key::Named(NamedKey::Escape)));
        assert_eq!(key_for(0x27, 0), Some(Key::Named(NamedKey::Right)));
        assert_eq!(key_for(0x74, 0), Some(Key::Named(NamedKey::F(5))));
        assert_eq!(key_for(0x87, 0), Some(Key::Named(NamedKey::F(24))));
        assert_eq!(key_for(0x1C, 0), Some(Key::Named(NamedKey::Henkan)));
        // VK_VOLUME_UP has no name in kuroko.
        assert_eq!(key_for(0xAF, 0), None);
    }

    #[test]
    fn up_and_down_come_from_the_message_and_buttons_keep_their_point() {
        assert_eq!(
            input_for(Raw::Key {
                message: WM_SYSKEYUP,
                vk: 0x58,
                scan: 0
            }),
            Some(Input::KeyUp(Key::Char('x')))
        );
        assert_eq!(
            input_for(Raw::Key {
                message: WM_SYSKEYDOWN,
                vk: 0xA4,
                scan: 0
            }),
            Some(Input::KeyDown(Key::Named(NamedKey::Alt)))
        );
        assert_eq!(
            input_for(Raw::Mouse {
                message: WM_RBUTTONUP,
                x: -1200,
                y: 40
            }),
            Some(Input::ButtonUp {
                button: Button::Right,
                x: -1200,
                y: 40
            })
        );
    }

    #[test]
    fn a_capture_starts_and_stops_with_its_hooks_and_indicator() {
        let capture = start().expect("hooks");
        let mut capture: Box<dyn InputCapture> = Box::new(capture);
        assert_eq!(capture.next(Duration::from_millis(50)).unwrap(), None);
        drop(capture);
        // A second capture after the first is gone.
        let again = start().expect("hooks again");
        drop(again);
    }
}

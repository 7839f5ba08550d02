//! The real desktop on Windows: input through `SendInput` (text as VK_PACKET, so Japanese
//! arrives exactly whether the IME is on or off), capture through GDI, windows through
//! `EnumWindows`, the clipboard with delayed rendering (so kuroko knows when a paste was read),
//! and the stop triggers on their own threads. Every Win32 call of the desktop lives here.

mod capture;
mod clipboard;
mod controls;
pub(crate) mod doctor;
mod ime;
mod input;
pub(crate) mod record;
mod triggers;
mod uipi;
mod windows;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use windows_sys::Win32::Foundation::{GetLastError, HWND};
use windows_sys::Win32::System::LibraryLoader::GetModuleHandleW;
use windows_sys::Win32::UI::HiDpi::{
    DPI_AWARENESS_CONTEXT_PER_MONITOR_AWARE_V2, SetProcessDpiAwarenessContext,
};
use windows_sys::Win32::UI::WindowsAndMessaging::{
    CreateWindowExW, GetSystemMetrics, GetWindowTextLengthW, GetWindowTextW, RegisterClassW,
    SM_CXVIRTUALSCREEN, SM_CYVIRTUALSCREEN, SM_XVIRTUALSCREEN, SM_YVIRTUALSCREEN,
    SetProcessDPIAware, WNDCLASSW, WNDPROC,
};

use super::{DResult, Desktop};

pub use capture::GdiScreen;

/// The pointer position the script itself last moved to, packed as (x << 32 | y); the failsafe
/// ignores a corner the script put the pointer in.
pub(crate) type Commanded = Arc<AtomicU64>;

pub(crate) fn pack(x: i32, y: i32) -> u64 {
    ((x as u32 as u64) << 32) | (y as u32 as u64)
}

/// The last Win32 error, as "Windows error N".
pub(crate) fn last_error() -> String {
    // SAFETY: reads the calling thread's last-error value.
    let code = unsafe { GetLastError() };
    format!("Windows error {code}")
}

/// `s` as a NUL-terminated UTF-16 string.
pub(crate) fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

/// A window's title ("" when it has none or is gone).
pub(crate) fn window_title(hwnd: HWND) -> String {
    // SAFETY: hwnd may be stale; both calls then return 0 and nothing is written.
    unsafe {
        let len = GetWindowTextLengthW(hwnd);
        if len <= 0 {
            return String::new();
        }
        let mut buf = vec![0u16; len as usize + 1];
        let got = GetWindowTextW(hwnd, buf.as_mut_ptr(), buf.len() as i32);
        String::from_utf16_lossy(&buf[..got.max(0) as usize])
    }
}

/// Creates a window of a class of kuroko's own (registered here; registering it again is
/// harmless) with `proc` as its window procedure: message-only with `HWND_MESSAGE` as parent.
pub(crate) fn own_window(
    class: &str,
    title: &str,
    style: u32,
    parent: HWND,
    (x, y, w, h): (i32, i32, i32, i32),
    proc: WNDPROC,
) -> HWND {
    let class = wide(class);
    // SAFETY: the class and title strings outlive both calls; a failed creation returns null.
    unsafe {
        let instance = GetModuleHandleW(std::ptr::null());
        let wc = WNDCLASSW {
            lpfnWndProc: proc,
            hInstance: instance,
            lpszClassName: class.as_ptr(),
            ..std::mem::zeroed()
        };
        RegisterClassW(&wc);
        CreateWindowExW(
            0,
            class.as_ptr(),
            wide(title).as_ptr(),
            style,
            x,
            y,
            w,
            h,
            parent,
            std::ptr::null_mut(),
            instance,
            std::ptr::null(),
        )
    }
}

/// The virtual desktop (every monitor): left, top, width, height in physical pixels.
pub(crate) fn virtual_screen() -> (i32, i32, i32, i32) {
    // SAFETY: plain queries.
    unsafe {
        (
            GetSystemMetrics(SM_XVIRTUALSCREEN),
            GetSystemMetrics(SM_YVIRTUALSCREEN),
            GetSystemMetrics(SM_CXVIRTUALSCREEN).max(1),
            GetSystemMetrics(SM_CYVIRTUALSCREEN).max(1),
        )
    }
}

/// Declares kuroko aware of each monitor's scale (per-monitor v2; the exe's manifest says the
/// same), so coordinates, captures and pictures are physical pixels on 125 % and 150 % displays.
/// Falls back to system awareness where v2 does not exist (older Windows, Wine).
pub(crate) fn declare_dpi_awareness() {
    // SAFETY: process-wide settings, called before any window of ours exists.
    unsafe {
        if SetProcessDpiAwarenessContext(DPI_AWARENESS_CONTEXT_PER_MONITOR_AWARE_V2) == 0 {
            SetProcessDPIAware();
        }
    }
}

/// Connects every part of the Windows backend.
pub fn connect() -> DResult<Desktop> {
    declare_dpi_awareness();
    let commanded: Commanded = Arc::new(AtomicU64::new(u64::MAX));
    let (keyboard, mouse) = input::connect(commanded.clone());
    Ok(Desktop {
        keyboard: Box::new(keyboard),
        mouse: Box::new(mouse),
        screen: Box::new(GdiScreen),
        windows: Box::new(windows::Win32Windows),
        clipboard: Box::new(clipboard::Win32Clipboard::connect()?),
        controls: Box::new(controls::Win32Controls),
        stop_triggers: Box::new(triggers::Win32StopTriggers::new(commanded)),
        backend: crate::desktop::Backend::Windows,
    })
}

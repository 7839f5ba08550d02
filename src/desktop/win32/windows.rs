//! Top-level windows: listed through `EnumWindows`, activated despite the foreground lock
//! (Windows lets a process take the foreground only when it made the last input, so kuroko
//! makes one, then asks again with its input attached to the foreground thread).

use std::time::{Duration, Instant};

use windows_sys::Win32::Foundation::{HWND, LPARAM, RECT};
use windows_sys::Win32::System::Threading::{AttachThreadInput, GetCurrentThreadId};
use windows_sys::Win32::UI::WindowsAndMessaging::{
    BringWindowToTop, EnumWindows, GWL_EXSTYLE, GetForegroundWindow, GetWindowLongPtrW,
    GetWindowRect, GetWindowThreadProcessId, IsIconic, IsWindow, IsWindowVisible, SW_RESTORE,
    SetForegroundWindow, ShowWindow, WS_EX_TOOLWINDOW,
};

use super::input::{WinKey, key_event, send};
use crate::desktop::{DResult, DesktopError, WindowInfo, Windows};

pub struct Win32Windows;

unsafe extern "system" fn collect(hwnd: HWND, out: LPARAM) -> windows_sys::core::BOOL {
    // SAFETY: `out` is the Vec passed by `list`, alive for the whole EnumWindows call.
    let out = unsafe { &mut *(out as *mut Vec<HWND>) };
    out.push(hwnd);
    1
}

fn info(hwnd: HWND) -> Option<WindowInfo> {
    // SAFETY: queries on a window that may have closed meanwhile; they then fail harmlessly.
    unsafe {
        if IsWindowVisible(hwnd) == 0 {
            return None;
        }
        if GetWindowLongPtrW(hwnd, GWL_EXSTYLE) as u32 & WS_EX_TOOLWINDOW != 0 {
            return None;
        }
        let title = super::window_title(hwnd);
        if title.is_empty() {
            return None;
        }
        let mut r = RECT {
            left: 0,
            top: 0,
            right: 0,
            bottom: 0,
        };
        if GetWindowRect(hwnd, &mut r) == 0 {
            return None;
        }
        Some(WindowInfo {
            id: hwnd as usize as u64,
            title,
            x: r.left,
            y: r.top,
            width: (r.right - r.left).max(0) as u32,
            height: (r.bottom - r.top).max(0) as u32,
        })
    }
}

/// An Alt press and release: input from kuroko, so Windows lets it set the foreground window.
fn tap_alt() {
    let alt = WinKey::Virtual(0xA4, false);
    // Only a key for the foreground rule: if Windows refuses it, the next attempt tries another way.
    let _ = send(&[key_event(alt, false), key_event(alt, true)]);
}

impl Windows for Win32Windows {
    fn list(&mut self) -> DResult<Vec<WindowInfo>> {
        let mut handles: Vec<HWND> = Vec::new();
        // SAFETY: the callback only pushes into `handles`, which outlives the call.
        let ok = unsafe { EnumWindows(Some(collect), &mut handles as *mut Vec<HWND> as LPARAM) };
        if ok == 0 {
            return Err(DesktopError::new(format!(
                "cannot list the windows ({})",
                super::last_error()
            )));
        }
        // EnumWindows goes from the top of the Z order down; the trait wants topmost last.
        Ok(handles.into_iter().rev().filter_map(info).collect())
    }

    fn activate(&mut self, window: &WindowInfo) -> DResult<()> {
        let hwnd = window.id as usize as HWND;
        // SAFETY: calls on a window handle that may be stale (then IsWindow says so).
        unsafe {
            if IsWindow(hwnd) == 0 {
                return Err(DesktopError::new(format!(
                    "the window {:?} has closed",
                    window.title
                )));
            }
            if IsIconic(hwnd) != 0 {
                ShowWindow(hwnd, SW_RESTORE);
            }
            let deadline = Instant::now() + Duration::from_secs(2);
            let mut attempt = 0;
            loop {
                if GetForegroundWindow() == hwnd {
                    return Ok(());
                }
                match attempt % 3 {
                    0 => {
                        SetForegroundWindow(hwnd);
                    }
                    1 => {
                        tap_alt();
                        SetForegroundWindow(hwnd);
                    }
                    _ => {
                        let foreground = GetForegroundWindow();
                        let theirs = GetWindowThreadProcessId(foreground, std::ptr::null_mut());
                        let ours = GetCurrentThreadId();
                        let attached = theirs != 0
                            && theirs != ours
                            && AttachThreadInput(ours, theirs, 1) != 0;
                        BringWindowToTop(hwnd);
                        SetForegroundWindow(hwnd);
                        if attached {
                            AttachThreadInput(ours, theirs, 0);
                        }
                    }
                }
                attempt += 1;
                std::thread::sleep(Duration::from_millis(30));
                if Instant::now() >= deadline {
                    break;
                }
            }
            Err(DesktopError::new(format!(
                "Windows did not bring the window {:?} to the front within 2 s (another \
                 program holds the foreground, or the screen is locked)",
                window.title
            )))
        }
    }
}

//! The IME of the window kuroko types into. Japanese offices keep it on; text goes out as
//! VK_PACKET, but a Japanese IME that is open can still take ASCII letters and the Enter key
//! into a composition. So while kuroko types into a window, that window's IME is closed, and
//! its earlier state is put back when kuroko moves to another window or the run ends.

use std::time::Duration;

use windows_sys::Win32::Foundation::HWND;
use windows_sys::Win32::UI::Input::Ime::ImmGetDefaultIMEWnd;
use windows_sys::Win32::UI::WindowsAndMessaging::{
    GetForegroundWindow, SMTO_ABORTIFHUNG, SendMessageTimeoutW, WM_IME_CONTROL,
};

const IMC_GETOPENSTATUS: usize = 0x0005;
const IMC_SETOPENSTATUS: usize = 0x0006;
/// A hung target must not hang the run.
const TIMEOUT: Duration = Duration::from_millis(300);

fn control(hwnd: HWND, command: usize, value: isize) -> Option<isize> {
    // SAFETY: messages to the IME window of another thread, with a timeout.
    unsafe {
        let ime = ImmGetDefaultIMEWnd(hwnd);
        if ime.is_null() {
            return None;
        }
        let mut result = 0usize;
        let ok = SendMessageTimeoutW(
            ime,
            WM_IME_CONTROL,
            command,
            value,
            SMTO_ABORTIFHUNG,
            TIMEOUT.as_millis() as u32,
            &mut result,
        );
        (ok != 0).then_some(result as isize)
    }
}

/// Whether the IME of `hwnd` (the foreground window when None) is open: None when the window
/// has no IME or does not answer.
pub fn open_status(hwnd: Option<HWND>) -> Option<bool> {
    // SAFETY: a plain query.
    let hwnd = hwnd.unwrap_or_else(|| unsafe { GetForegroundWindow() });
    if hwnd.is_null() {
        return None;
    }
    control(hwnd, IMC_GETOPENSTATUS, 0).map(|v| v != 0)
}

/// Opens or closes the IME of `hwnd`; false when the window did not answer.
pub fn set_open(hwnd: HWND, open: bool) -> bool {
    control(hwnd, IMC_SETOPENSTATUS, isize::from(open)).is_some()
}

/// Keeps the IME of the window being typed into closed, and puts it back afterwards.
#[derive(Default)]
pub struct ImeGuard {
    /// The window whose IME kuroko closed (as an address, so the guard is Send).
    closed: Option<usize>,
}

impl ImeGuard {
    /// Called before input goes to the foreground window.
    pub fn before_input(&mut self) {
        // SAFETY: a plain query.
        let hwnd = unsafe { GetForegroundWindow() };
        if hwnd.is_null() {
            return;
        }
        if self.closed == Some(hwnd as usize) {
            return;
        }
        self.restore();
        if open_status(Some(hwnd)) == Some(true) && set_open(hwnd, false) {
            self.closed = Some(hwnd as usize);
        }
    }

    /// Reopens the IME kuroko closed, if its window still exists.
    pub fn restore(&mut self) {
        if let Some(hwnd) = self.closed.take() {
            set_open(hwnd as HWND, true);
        }
    }
}

impl Drop for ImeGuard {
    fn drop(&mut self) {
        self.restore();
    }
}

#[cfg(test)]
mod tests {
    use windows_sys::Win32::UI::Input::Ime::{
        ImmGetContext, ImmGetOpenStatus, ImmReleaseContext, ImmSetOpenStatus,
    };
    use windows_sys::Win32::UI::WindowsAndMessaging::{
        CreateWindowExW, DestroyWindow, WS_OVERLAPPED,
    };

    use super::*;

    fn is_open(hwnd: HWND) -> bool {
        // SAFETY: the input context of a window of this thread, released after the query.
        unsafe {
            let ctx = ImmGetContext(hwnd);
            let open = ImmGetOpenStatus(ctx) != 0;
            ImmReleaseContext(hwnd, ctx);
            open
        }
    }

    fn set_open_directly(hwnd: HWND, open: bool) {
        // SAFETY: the input context of a window of this thread, released after the change.
        unsafe {
            let ctx = ImmGetContext(hwnd);
            assert!(!ctx.is_null(), "no input context");
            ImmSetOpenStatus(ctx, i32::from(open));
            ImmReleaseContext(hwnd, ctx);
        }
    }

    /// What the IME guard reads through the window's default IME window (WM_IME_CONTROL, the
    /// way that works across processes) agrees with the input context, open and closed.
    /// (Closing through IMC_SETOPENSTATUS is answered but not applied by Wine 8.0; that part
    /// is for a real PC, see docs/windows.md.)
    #[test]
    fn the_ime_open_status_is_read_through_the_ime_window() {
        let class = crate::desktop::win32::wide("STATIC");
        // SAFETY: a window of this thread, destroyed at the end.
        let hwnd = unsafe {
            CreateWindowExW(
                0,
                class.as_ptr(),
                class.as_ptr(),
                WS_OVERLAPPED,
                0,
                0,
                100,
                100,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null(),
            )
        };
        assert!(!hwnd.is_null());
        set_open_directly(hwnd, true);
        assert!(is_open(hwnd));
        assert_eq!(open_status(Some(hwnd)), Some(true));
        set_open_directly(hwnd, false);
        assert!(!is_open(hwnd));
        assert_eq!(open_status(Some(hwnd)), Some(false));
        // The guard's request is answered (the window is there and not hung).
        assert!(set_open(hwnd, false));
        // SAFETY: the window made above.
        unsafe { DestroyWindow(hwnd) };
    }
}

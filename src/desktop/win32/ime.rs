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

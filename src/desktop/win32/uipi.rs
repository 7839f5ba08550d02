//! UIPI: Windows silently drops input a process sends to a window of a higher integrity level
//! (an elevated program, when kuroko is not). Before input goes out, the target window's level
//! is compared with kuroko's, so a scenario fails naming the window instead of doing nothing.

use windows_sys::Win32::Foundation::{CloseHandle, HANDLE, HWND};
use windows_sys::Win32::Security::{
    GetSidSubAuthority, GetSidSubAuthorityCount, GetTokenInformation, TOKEN_MANDATORY_LABEL,
    TOKEN_QUERY, TokenIntegrityLevel,
};
use windows_sys::Win32::System::Threading::{
    GetCurrentProcess, OpenProcess, OpenProcessToken, PROCESS_QUERY_LIMITED_INFORMATION,
};
use windows_sys::Win32::UI::WindowsAndMessaging::GetWindowThreadProcessId;

use crate::desktop::{DResult, DesktopError};

/// The integrity level of a process (0x2000 medium, 0x3000 high), or None when its token cannot
/// be read (which, for a process of the same user, means it is more privileged than kuroko).
fn integrity(process: HANDLE) -> Option<u32> {
    // SAFETY: the token handle is closed here; the buffer outlives the reads of the label.
    unsafe {
        let mut token: HANDLE = std::ptr::null_mut();
        if OpenProcessToken(process, TOKEN_QUERY, &mut token) == 0 {
            return None;
        }
        let mut buf = [0u64; 64];
        let mut len = 0u32;
        let ok = GetTokenInformation(
            token,
            TokenIntegrityLevel,
            buf.as_mut_ptr().cast(),
            std::mem::size_of_val(&buf) as u32,
            &mut len,
        );
        CloseHandle(token);
        if ok == 0 {
            return None;
        }
        let label = &*(buf.as_ptr() as *const TOKEN_MANDATORY_LABEL);
        let sid = label.Label.Sid;
        let count = *GetSidSubAuthorityCount(sid);
        if count == 0 {
            return None;
        }
        Some(*GetSidSubAuthority(sid, u32::from(count) - 1))
    }
}

/// kuroko's own integrity level.
pub(crate) fn own_level() -> Option<u32> {
    // SAFETY: the pseudo-handle of this process needs no closing.
    integrity(unsafe { GetCurrentProcess() })
}

/// The integrity level of the process that owns `hwnd`: Ok(None) when it cannot be read.
pub(crate) fn window_level(hwnd: HWND) -> Option<u32> {
    // SAFETY: a stale hwnd gives pid 0 and OpenProcess fails; the handle is closed here.
    unsafe {
        let mut pid = 0u32;
        GetWindowThreadProcessId(hwnd, &mut pid);
        if pid == 0 {
            return None;
        }
        let process = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid);
        if process.is_null() {
            return Some(u32::MAX);
        }
        let level = integrity(process);
        CloseHandle(process);
        Some(level.unwrap_or(u32::MAX))
    }
}

/// Fails when `hwnd` belongs to a program running at a higher integrity level than kuroko
/// (elevated, "run as administrator"): Windows would drop the input without a word.
pub(crate) fn check_can_drive(hwnd: HWND, doing: &str) -> DResult<()> {
    if hwnd.is_null() {
        return Ok(());
    }
    let (Some(ours), Some(theirs)) = (own_level(), window_level(hwnd)) else {
        return Ok(());
    };
    if theirs > ours {
        let title = super::window_title(hwnd);
        return Err(DesktopError::new(format!(
            "cannot {doing} the window {title:?}: it runs as administrator (elevated) and kuroko \
             does not, so Windows blocks input to it (UIPI); start kuroko as administrator too, \
             or start that program without elevation"
        )));
    }
    Ok(())
}

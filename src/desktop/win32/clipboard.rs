//! The Windows clipboard. Text kuroko pastes is offered with delayed rendering: the clipboard
//! holds a promise, and when the program pastes, Windows asks kuroko's hidden window for the
//! text (WM_RENDERFORMAT). So kuroko knows the paste was read before it puts the clerk's own
//! clipboard back — every format it held that is plain memory; bitmaps and metafiles as GDI
//! handles are named in a warning instead.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use windows_sys::Win32::Foundation::{GlobalFree, HANDLE, HWND, LPARAM, LRESULT, WPARAM};
use windows_sys::Win32::System::DataExchange::{
    CloseClipboard, EmptyClipboard, EnumClipboardFormats, GetClipboardData,
    GetClipboardFormatNameW, GetClipboardOwner, GetClipboardSequenceNumber,
    IsClipboardFormatAvailable, OpenClipboard, SetClipboardData,
};
use windows_sys::Win32::System::Memory::{
    GMEM_MOVEABLE, GlobalAlloc, GlobalLock, GlobalSize, GlobalUnlock,
};
use windows_sys::Win32::System::Ole::CF_UNICODETEXT;
use windows_sys::Win32::UI::WindowsAndMessaging::{
    DefWindowProcW, DispatchMessageW, GWLP_USERDATA, GetMessageW, GetWindowLongPtrW, HWND_MESSAGE,
    MSG, PostMessageW, PostQuitMessage, SetWindowLongPtrW, WM_CLOSE, WM_DESTROY,
    WM_DESTROYCLIPBOARD, WM_RENDERALLFORMATS, WM_RENDERFORMAT,
};

use crate::desktop::{Clipboard, ClipboardSnapshot, DResult, DesktopError};

const TEXT: u32 = CF_UNICODETEXT as u32;

#[derive(Default)]
struct State {
    /// The text kuroko offers (UTF-16 with its NUL) and its mark, while kuroko owns the clipboard.
    offer: Option<(u64, Vec<u16>)>,
    /// The mark of the last offer a program read.
    taken: u64,
    next_mark: u64,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub struct Win32Clipboard {
    shared: Arc<Shared>,
    /// kuroko's hidden clipboard window (its address: HWND is not Send).
    window: usize,
    /// The clipboard's sequence number after `clear`.
    cleared_at: u32,
}

/// Memory holding `bytes`, for SetClipboardData (which then owns it).
fn global(bytes: &[u8]) -> Option<HANDLE> {
    // SAFETY: a fresh block of the right size, filled while locked.
    unsafe {
        let h = GlobalAlloc(GMEM_MOVEABLE, bytes.len().max(1));
        if h.is_null() {
            return None;
        }
        let p = GlobalLock(h) as *mut u8;
        if p.is_null() {
            GlobalFree(h);
            return None;
        }
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len());
        GlobalUnlock(h);
        Some(h)
    }
}

/// A copy of the memory behind a clipboard handle (None for handles that are not memory).
fn read_global(h: HANDLE) -> Option<Vec<u8>> {
    // SAFETY: the clipboard is open; the block is read within its size while locked.
    unsafe {
        let size = GlobalSize(h);
        if size == 0 {
            return None;
        }
        let p = GlobalLock(h) as *const u8;
        if p.is_null() {
            return None;
        }
        let bytes = std::slice::from_raw_parts(p, size).to_vec();
        GlobalUnlock(h);
        Some(bytes)
    }
}

fn units_to_bytes(units: &[u16]) -> Vec<u8> {
    units.iter().flat_map(|u| u.to_le_bytes()).collect()
}

fn text_of(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .take_while(|u| *u != 0)
        .collect();
    String::from_utf16_lossy(&units)
}

/// Formats whose data is a GDI handle or other non-memory object: not saved.
fn is_handle_format(format: u32) -> bool {
    matches!(format, 2 | 3 | 9 | 14 | 0x80 | 0x82 | 0x83 | 0x8E)
        || (0x0200..=0x03FF).contains(&format)
}

fn format_name(format: u32) -> String {
    let standard = match format {
        2 => "CF_BITMAP",
        3 => "CF_METAFILEPICT",
        9 => "CF_PALETTE",
        14 => "CF_ENHMETAFILE",
        0x80 => "CF_OWNERDISPLAY",
        _ => "",
    };
    if !standard.is_empty() {
        return standard.into();
    }
    let mut buf = [0u16; 128];
    // SAFETY: writes at most buf.len() units.
    let n = unsafe { GetClipboardFormatNameW(format, buf.as_mut_ptr(), buf.len() as i32) };
    if n > 0 {
        String::from_utf16_lossy(&buf[..n as usize])
    } else {
        format!("format {format}")
    }
}

unsafe extern "system" fn window_proc(
    hwnd: HWND,
    msg: u32,
    wparam: WPARAM,
    lparam: LPARAM,
) -> LRESULT {
    // SAFETY: GWLP_USERDATA holds the Arc<Shared> leaked for this window in `connect`, freed
    // on WM_DESTROY after which no message reads it.
    unsafe {
        let shared = GetWindowLongPtrW(hwnd, GWLP_USERDATA) as *const Shared;
        if shared.is_null() {
            return DefWindowProcW(hwnd, msg, wparam, lparam);
        }
        match msg {
            WM_RENDERFORMAT if wparam as u32 == TEXT => {
                let mut state = (*shared).lock();
                if let Some((mark, units)) = state.offer.clone()
                    && let Some(h) = global(&units_to_bytes(&units))
                {
                    if SetClipboardData(TEXT, h).is_null() {
                        GlobalFree(h);
                    } else {
                        state.taken = state.taken.max(mark);
                        (*shared).changed.notify_all();
                    }
                }
                0
            }
            WM_RENDERALLFORMATS => {
                // kuroko is closing while its offer is on the clipboard: leave the text there.
                if OpenClipboard(hwnd) != 0 {
                    if GetClipboardOwner() == hwnd
                        && let Some((_, units)) = (*shared).lock().offer.clone()
                        && let Some(h) = global(&units_to_bytes(&units))
                        && SetClipboardData(TEXT, h).is_null()
                    {
                        GlobalFree(h);
                    }
                    CloseClipboard();
                }
                0
            }
            WM_DESTROYCLIPBOARD => {
                (*shared).lock().offer = None;
                0
            }
            WM_DESTROY => {
                SetWindowLongPtrW(hwnd, GWLP_USERDATA, 0);
                drop(Arc::from_raw(shared));
                PostQuitMessage(0);
                0
            }
            _ => DefWindowProcW(hwnd, msg, wparam, lparam),
        }
    }
}

/// Runs `f` with the clipboard open, retrying while another program holds it (up to 1 s).
fn with_open<T>(owner: HWND, f: impl FnOnce() -> T) -> DResult<T> {
    let deadline = Instant::now() + Duration::from_secs(1);
    // SAFETY: OpenClipboard/CloseClipboard pair around f.
    unsafe {
        while OpenClipboard(owner) == 0 {
            if Instant::now() >= deadline {
                return Err(DesktopError::new(format!(
                    "the clipboard stayed busy for 1 s: another program keeps it open ({})",
                    super::last_error()
                )));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let result = f();
        CloseClipboard();
        Ok(result)
    }
}

impl Win32Clipboard {
    /// Starts the hidden window that owns kuroko's offers, on its own thread.
    pub fn connect() -> DResult<Self> {
        let shared = Arc::new(Shared::default());
        let for_window = Arc::clone(&shared);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("kuroko-clipboard".into())
            .spawn(move || {
                let hwnd = super::own_window(
                    "kuroko-clipboard",
                    "kuroko-clipboard",
                    0,
                    HWND_MESSAGE,
                    (0, 0, 0, 0),
                    Some(window_proc),
                );
                // SAFETY: the message loop of the window created above, until WM_QUIT.
                unsafe {
                    if hwnd.is_null() {
                        let _ = tx.send(Err(super::last_error()));
                        return;
                    }
                    SetWindowLongPtrW(hwnd, GWLP_USERDATA, Arc::into_raw(for_window) as isize);
                    let _ = tx.send(Ok(hwnd as usize));
                    let mut msg: MSG = std::mem::zeroed();
                    while GetMessageW(&mut msg, std::ptr::null_mut(), 0, 0) > 0 {
                        DispatchMessageW(&msg);
                    }
                }
            })
            .map_err(|e| DesktopError::new(format!("cannot start the clipboard thread: {e}")))?;
        let window = rx
            .recv()
            .map_err(|_| DesktopError::new("the clipboard thread ended at once"))?
            .map_err(|e| DesktopError::new(format!("cannot create the clipboard window ({e})")))?;
        Ok(Win32Clipboard {
            shared,
            window,
            cleared_at: 0,
        })
    }

    fn hwnd(&self) -> HWND {
        self.window as HWND
    }

    fn owned(&self) -> bool {
        // SAFETY: a plain query.
        unsafe { GetClipboardOwner() == self.hwnd() }
    }
}

impl Drop for Win32Clipboard {
    fn drop(&mut self) {
        // SAFETY: asks the window's own thread to close it.
        unsafe { PostMessageW(self.hwnd(), WM_CLOSE, 0, 0) };
    }
}

impl Clipboard for Win32Clipboard {
    fn text(&mut self) -> DResult<Option<String>> {
        if self.owned()
            && let Some((_, units)) = self.shared.lock().offer.clone()
        {
            return Ok(Some(text_of(&units_to_bytes(&units))));
        }
        // SAFETY: plain queries.
        if unsafe { IsClipboardFormatAvailable(TEXT) } == 0 {
            return Ok(None);
        }
        with_open(std::ptr::null_mut(), || {
            // SAFETY: the clipboard is open.
            let h = unsafe { GetClipboardData(TEXT) };
            if h.is_null() {
                None
            } else {
                read_global(h).map(|b| text_of(&b))
            }
        })
    }

    fn offer_text(&mut self, text: &str) -> DResult<u64> {
        let units: Vec<u16> = text.encode_utf16().chain(std::iter::once(0)).collect();
        let hwnd = self.hwnd();
        let shared = Arc::clone(&self.shared);
        with_open(hwnd, move || {
            // SAFETY: the clipboard is open with kuroko's window as its owner-to-be.
            unsafe {
                // WM_DESTROYCLIPBOARD (clearing an older offer) is handled before this returns.
                if EmptyClipboard() == 0 {
                    return Err(DesktopError::new(format!(
                        "cannot empty the clipboard ({})",
                        super::last_error()
                    )));
                }
                let mark = {
                    let mut state = shared.lock();
                    state.next_mark += 1;
                    let mark = state.next_mark;
                    state.offer = Some((mark, units));
                    mark
                };
                // A NULL handle: the text is rendered when a program asks for it.
                SetClipboardData(TEXT, std::ptr::null_mut());
                Ok(mark)
            }
        })?
    }

    fn wait_taken(&mut self, mark: u64, timeout: Duration) -> DResult<bool> {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        while state.taken < mark {
            let now = Instant::now();
            if now >= deadline {
                return Ok(false);
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        Ok(true)
    }

    fn clear(&mut self) -> DResult<()> {
        // SAFETY: the clipboard is open.
        with_open(self.hwnd(), || unsafe { EmptyClipboard() })?;
        // SAFETY: a plain query.
        self.cleared_at = unsafe { GetClipboardSequenceNumber() };
        Ok(())
    }

    fn wait_copied(&mut self, timeout: Duration) -> DResult<Option<String>> {
        let deadline = Instant::now() + timeout;
        loop {
            // SAFETY: plain queries.
            let (seq, has_text) = unsafe {
                (
                    GetClipboardSequenceNumber(),
                    IsClipboardFormatAvailable(TEXT) != 0,
                )
            };
            if seq != self.cleared_at && has_text && !self.owned() {
                return self.text();
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn snapshot(&mut self) -> DResult<ClipboardSnapshot> {
        if self.owned()
            && let Some((_, units)) = self.shared.lock().offer.clone()
        {
            let mut snapshot = ClipboardSnapshot {
                had_owner: true,
                ..Default::default()
            };
            snapshot
                .formats
                .insert(TEXT, (0, 8, units_to_bytes(&units)));
            return Ok(snapshot);
        }
        with_open(std::ptr::null_mut(), || {
            let mut snapshot = ClipboardSnapshot::default();
            let mut format = 0u32;
            loop {
                // SAFETY: the clipboard is open; handles are only read.
                format = unsafe { EnumClipboardFormats(format) };
                if format == 0 {
                    break;
                }
                snapshot.had_owner = true;
                if is_handle_format(format) {
                    // A bitmap also offered as a DIB is saved as the DIB (Windows makes one
                    // from the other).
                    if format != 2 {
                        snapshot.left_out.push(format_name(format));
                    }
                    continue;
                }
                // SAFETY: as above.
                let h = unsafe { GetClipboardData(format) };
                match (!h.is_null()).then(|| read_global(h)).flatten() {
                    Some(bytes) => {
                        snapshot.formats.insert(format, (0, 8, bytes));
                    }
                    None => snapshot.left_out.push(format_name(format)),
                }
            }
            snapshot
        })
    }

    fn restore(&mut self, snapshot: ClipboardSnapshot) -> DResult<()> {
        with_open(self.hwnd(), move || {
            // SAFETY: the clipboard is open; SetClipboardData owns each block it accepts.
            unsafe {
                EmptyClipboard();
                for (format, (_, _, bytes)) in &snapshot.formats {
                    if let Some(h) = global(bytes)
                        && SetClipboardData(*format, h).is_null()
                    {
                        GlobalFree(h);
                    }
                }
            }
        })
    }
}

//! The real desktop on Linux/X11: input through enigo (its x11rb backend, XTEST), windows
//! through EWMH (or plain X focus when no window manager runs), capture on a persistent
//! connection, and the stop triggers (global hotkey, failsafe corner) on their own connections.

mod atspi;
mod capture;
mod clipboard;
mod ime;
mod indicator;

pub use clipboard::keep_from_stdin as keep_clipboard;
mod input;
mod keymap;
pub mod record;
mod triggers;
mod windows;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use x11rb::rust_connection::RustConnection;

use super::{DResult, Desktop, DesktopError};

/// Opens a connection to `$DISPLAY` with a message a clerk can act on.
pub(crate) fn open() -> DResult<(RustConnection, usize)> {
    let display = std::env::var("DISPLAY").unwrap_or_default();
    if display.is_empty() {
        return Err(DesktopError::new(
            "no X display: DISPLAY is not set (start one, e.g. `Xvfb :99 &` and `export DISPLAY=:99`, or use --dry-run)",
        ));
    }
    retry(|| x11rb::connect(None))
        .map_err(|e| DesktopError::new(format!("cannot connect to the X display {display:?}: {e}")))
}

/// Retries a connection attempt: an X server busy accepting another client (e.g. a GTK
/// application starting) sometimes drops a new connection (broken pipe, reset by peer).
pub(crate) fn retry<T, E>(mut attempt: impl FnMut() -> Result<T, E>) -> Result<T, E> {
    let mut delay = Duration::from_millis(20);
    for _ in 0..7 {
        if let Ok(v) = attempt() {
            return Ok(v);
        }
        std::thread::sleep(delay);
        delay *= 2;
    }
    attempt()
}

/// The pointer position the script itself last moved to, packed as (x << 32 | y); the failsafe
/// ignores a corner the script put the pointer in.
pub(crate) type Commanded = Arc<AtomicU64>;

pub(crate) fn pack(x: i32, y: i32) -> u64 {
    ((x as u32 as u64) << 32) | (y as u32 as u64)
}

/// Connects every part of the X11 backend.
pub fn connect() -> DResult<Desktop> {
    let commanded: Commanded = Arc::new(AtomicU64::new(u64::MAX));
    let (keyboard, mouse) = input::connect(commanded.clone())?;
    Ok(Desktop {
        keyboard: Box::new(keyboard),
        mouse: Box::new(mouse),
        screen: match std::env::var("KUROKO_CAPTURE").as_deref() {
            Ok("xcap") => Box::new(crate::desktop::xcap_screen::XcapScreen),
            _ => Box::new(capture::X11Screen::connect()?),
        },
        windows: Box::new(windows::X11Windows::connect()?),
        clipboard: Box::new(clipboard::X11Clipboard::connect()?),
        controls: Box::new(crate::desktop::ui::Lazy::new("AT-SPI", || {
            Ok(Box::new(atspi::connect()?))
        })),
        stop_triggers: Box::new(triggers::X11StopTriggers::new(commanded)),
        backend: crate::desktop::Backend::X11,
    })
}

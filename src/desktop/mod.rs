//! The desktop as the engine sees it: small traits for keyboard, mouse, screen and windows,
//! bundled in one `Desktop`. The engine and the script API import nothing OS-specific; each
//! backend (X11, Win32; the fake one for dry runs and fast tests) lives behind `cfg`.

pub mod capture;
pub mod doctor;
pub mod fake;
pub mod keys;
pub mod lock;
pub mod typing;
pub mod ui;
#[cfg(windows)]
pub mod win32;
#[cfg(target_os = "linux")]
pub mod x11;
#[cfg(target_os = "linux")]
pub mod xcap_screen;

use std::collections::HashMap;
use std::time::Duration;

use image::RgbaImage;

use crate::abort::AbortSignal;
pub use crate::geometry::Rect;
pub use keys::{Key, NamedKey};

/// What went wrong talking to the desktop; the message is shown to the script author.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct DesktopError(pub String);

impl DesktopError {
    pub fn new(message: impl Into<String>) -> Self {
        DesktopError(message.into())
    }
}

pub type DResult<T> = Result<T, DesktopError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Button {
    Left,
    Right,
    Middle,
}

/// A top-level window as the script sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowInfo {
    pub id: u64,
    pub title: String,
    pub x: i32,
    pub y: i32,
    pub width: u32,
    pub height: u32,
}

pub trait Keyboard {
    /// Types `text` exactly into the focused window. Callers pass short chunks so an abort
    /// can land between them.
    fn type_text(&mut self, text: &str) -> DResult<()>;
    fn key_down(&mut self, key: Key) -> DResult<()>;
    fn key_up(&mut self, key: Key) -> DResult<()>;
    /// Releases every key this backend pressed and has not released (abort, end of run).
    fn release_all(&mut self) -> DResult<()>;
    /// Whether `c` can be typed as key events without changing the keyboard layout (the
    /// typing method `"auto"` pastes text that has other characters).
    fn has_key_for(&mut self, _c: char) -> bool {
        true
    }
}

/// What the clipboard held, in every format it offered, to be put back after kuroko used it.
#[derive(Debug, Clone, Default)]
pub struct ClipboardSnapshot {
    /// Whether anything was on the clipboard.
    pub had_owner: bool,
    /// Format (backend's id) → (type, bits per unit, bytes).
    pub formats: HashMap<u32, (u32, u8, Vec<u8>)>,
    /// Formats that could not be saved, by name (for a warning).
    pub left_out: Vec<String>,
}

/// The clipboard, for typing by paste and reading a field back.
pub trait Clipboard {
    /// The text on the clipboard, if any.
    fn text(&mut self) -> DResult<Option<String>>;
    /// Puts `text` on the clipboard; returns a mark for `wait_taken`.
    fn offer_text(&mut self, text: &str) -> DResult<u64>;
    /// Waits until a program has read what was offered after `mark`; false on timeout.
    fn wait_taken(&mut self, mark: u64, timeout: Duration) -> DResult<bool>;
    /// Empties the clipboard so that a copy by the application can be seen.
    fn clear(&mut self) -> DResult<()>;
    /// Waits until another program has put something on the clipboard, and returns its text.
    fn wait_copied(&mut self, timeout: Duration) -> DResult<Option<String>>;
    /// Everything on the clipboard now.
    fn snapshot(&mut self) -> DResult<ClipboardSnapshot>;
    /// Puts a snapshot back (an empty one empties the clipboard).
    fn restore(&mut self, snapshot: ClipboardSnapshot) -> DResult<()>;
}

pub trait Mouse {
    fn move_to(&mut self, x: i32, y: i32) -> DResult<()>;
    fn button_down(&mut self, button: Button) -> DResult<()>;
    fn button_up(&mut self, button: Button) -> DResult<()>;
    /// Positive scrolls down, negative up, in wheel notches.
    fn scroll(&mut self, notches: i32) -> DResult<()>;
    fn position(&mut self) -> DResult<(i32, i32)>;
    /// Releases every button this backend pressed and has not released.
    fn release_all(&mut self) -> DResult<()>;
}

pub trait Screen {
    fn size(&mut self) -> DResult<(u32, u32)>;
    fn capture(&mut self) -> DResult<RgbaImage>;
    /// Part of the screen (inside it; callers check).
    fn capture_region(&mut self, region: Rect) -> DResult<RgbaImage> {
        let full = self.capture()?;
        Ok(image::imageops::crop_imm(&full, region.x, region.y, region.w, region.h).to_image())
    }
}

pub trait Windows {
    /// Visible top-level windows that have a title, topmost last.
    fn list(&mut self) -> DResult<Vec<WindowInfo>>;
    /// Raises the window and gives it the keyboard focus.
    fn activate(&mut self, window: &WindowInfo) -> DResult<()>;
    /// The topmost window whose title contains `title_part`.
    fn find(&mut self, title_part: &str) -> DResult<Option<WindowInfo>> {
        Ok(self
            .list()?
            .into_iter()
            .rev()
            .find(|w| w.title.contains(title_part)))
    }
}

/// Stop triggers that only the desktop can see: a global hotkey, the pointer in a corner.
pub trait StopTriggers {
    /// Starts watching; each trigger calls `abort.request`. Returns warnings (e.g. the
    /// hotkey is taken by another program) that do not prevent the run.
    fn start(&mut self, abort: &AbortSignal, settings: &StopSettings) -> DResult<Vec<String>>;
}

/// How a person can stop a run from the desktop.
#[derive(Debug, Clone)]
pub struct StopSettings {
    /// Keys held together, e.g. [Shift, Escape]; empty disables the hotkey.
    pub hotkey: Vec<Key>,
    /// Stop when the pointer is moved into a screen corner (by a person, not by the script).
    pub failsafe_corner: bool,
}

/// The one bundle the engine is given.
pub struct Desktop {
    pub keyboard: Box<dyn Keyboard>,
    pub mouse: Box<dyn Mouse>,
    pub screen: Box<dyn Screen>,
    pub windows: Box<dyn Windows>,
    pub clipboard: Box<dyn Clipboard>,
    /// Controls by role and name, through the system's accessibility tree.
    pub controls: Box<dyn ui::Controls>,
    pub stop_triggers: Box<dyn StopTriggers>,
    pub backend: Backend,
}

/// Which desktop a run drives; shown in the run log and its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// In memory (`--dry-run`, fast tests): nothing on a display is touched.
    Fake,
    /// Linux/X11.
    X11,
    /// Windows 10/11 (Win32: SendInput, GDI).
    Windows,
}

impl Backend {
    /// This machine's real desktop, if this build has a backend for it.
    pub fn native() -> Option<Backend> {
        if cfg!(target_os = "linux") {
            Some(Backend::X11)
        } else if cfg!(windows) {
            Some(Backend::Windows)
        } else {
            None
        }
    }

    /// Whether it drives a real display (and so has a hotkey and screen corners).
    pub fn is_real(self) -> bool {
        self != Backend::Fake
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Fake => "fake",
            Backend::X11 => "x11",
            Backend::Windows => "windows",
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Desktop {
    /// Releases held keys and buttons; used on abort and at the end of every run.
    pub fn release_all(&mut self) -> Vec<DesktopError> {
        let mut errors = Vec::new();
        if let Err(e) = self.keyboard.release_all() {
            errors.push(e);
        }
        if let Err(e) = self.mouse.release_all() {
            errors.push(e);
        }
        errors
    }
}

/// Connects to the real desktop of this machine.
#[cfg(target_os = "linux")]
pub fn connect_real() -> DResult<Desktop> {
    x11::connect()
}

/// Connects to the real desktop of this machine.
#[cfg(windows)]
pub fn connect_real() -> DResult<Desktop> {
    win32::connect()
}

#[cfg(not(any(target_os = "linux", windows)))]
pub fn connect_real() -> DResult<Desktop> {
    Err(DesktopError::new(
        "this build of kuroko has no desktop backend for this operating system yet",
    ))
}

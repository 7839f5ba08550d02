//! What a person does with the mouse and keyboard, as `kuroko record` sees it: each press and
//! release with the moment it happened, nothing more. The capture backends (X11 RECORD,
//! Windows low-level hooks) only timestamp; what an input means is decided by the recorder.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{Button, DResult, Key};

/// One input.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    ButtonDown { button: Button, x: i32, y: i32 },
    ButtonUp { button: Button, x: i32, y: i32 },
    KeyDown(Key),
    KeyUp(Key),
}

/// An input and when it happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Captured {
    pub at: Instant,
    pub input: Input,
}

/// A running capture of the whole desktop's input, shown by a small always-on-top indicator
/// while it runs; it stops, and the indicator goes, when dropped.
pub trait InputCapture {
    /// The next input, waiting up to `timeout`; `None` when nothing came meanwhile.
    fn next(&mut self, timeout: Duration) -> DResult<Option<Captured>>;
}

/// How long a stopping capture waits for its thread before leaving it behind.
const STOP_WAIT: Duration = Duration::from_secs(2);

/// Ends a capture's thread that has been told to stop: drains `inputs` (whose only sender the
/// thread holds, so it disconnects when the thread returns) for up to [`STOP_WAIT`], then joins
/// the thread. A thread stuck in a call to the system is left behind rather than hanging the
/// caller.
pub(crate) fn join_stopped<T>(thread: JoinHandle<()>, inputs: &Receiver<T>) {
    let deadline = Instant::now() + STOP_WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match inputs.recv_timeout(left) {
            Ok(_) => {}
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => return,
        }
    }
    let _ = thread.join();
}

/// Starts capturing this desktop's input.
#[cfg(target_os = "linux")]
pub fn start() -> DResult<Box<dyn InputCapture>> {
    Ok(Box::new(super::x11::record::start()?))
}

/// Starts capturing this desktop's input.
#[cfg(windows)]
pub fn start() -> DResult<Box<dyn InputCapture>> {
    Ok(Box::new(super::win32::record::start()?))
}

/// Starts capturing this desktop's input.
#[cfg(not(any(target_os = "linux", windows)))]
pub fn start() -> DResult<Box<dyn InputCapture>> {
    Err(super::DesktopError::new(
        "kuroko record captures input on Linux/X11 and Windows; on this system, write the \
         scenario with `kuroko inspect` and the scripting reference",
    ))
}

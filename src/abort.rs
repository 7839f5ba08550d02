//! The one way a run is stopped from outside the script: Ctrl+C, SIGTERM and the stop file (the
//! launcher), the abort hotkey, the failsafe corner, the run timeout, the memory limit. Each trigger calls `request`; the engine
//! and every waiting API call poll `is_requested` and end the run within milliseconds.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Why a run was asked to stop.
#[derive(Debug, Clone, PartialEq)]
pub enum AbortReason {
    /// Ctrl+C in the terminal, or SIGTERM/SIGHUP from the launcher.
    Signal,
    /// The abort hotkey, e.g. "Shift+Escape".
    Hotkey(String),
    /// The pointer was moved into a screen corner.
    Failsafe { x: i32, y: i32 },
    /// The scenario's `timeout_minutes` passed.
    Timeout { minutes: f64 },
    /// 停止 in the launcher (its stop file appeared).
    Launcher,
    /// The script held more memory than its limit.
    Memory { limit_mb: u64 },
}

impl AbortReason {
    /// A timeout is the scenario's failure, not a person's decision to stop.
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            AbortReason::Timeout { .. } | AbortReason::Memory { .. }
        )
    }

    pub fn describe(&self) -> String {
        match self {
            AbortReason::Signal => "stopped by Ctrl+C / termination signal".into(),
            AbortReason::Launcher => "stopped from the launcher (停止)".into(),
            AbortReason::Hotkey(k) => format!("stopped by the abort hotkey {k}"),
            AbortReason::Failsafe { x, y } => {
                format!(
                    "stopped by the failsafe: the pointer was moved into a screen corner ({x}, {y})"
                )
            }
            AbortReason::Timeout { minutes } => {
                format!("the run took longer than its timeout of {minutes} minute(s)")
            }
            AbortReason::Memory { limit_mb } => format!(
                "the script held more than {limit_mb} MB of memory (a string or table that keeps \
                 growing?) and was stopped; raise `max_memory_mb` in scenario.toml if it really \
                 needs more"
            ),
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    requested: AtomicBool,
    /// Set by the run when it is over, so watcher threads end.
    finished: AtomicBool,
    reason: Mutex<Option<(AbortReason, Instant)>>,
}

/// Cheap to clone; all clones see the same request.
#[derive(Debug, Clone, Default)]
pub struct AbortSignal {
    inner: Arc<Inner>,
}

/// The error an interruptible wait returns when the run is being stopped.
#[derive(Debug, Clone, PartialEq)]
pub struct Aborted;

impl AbortSignal {
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the run to stop. The first reason wins.
    pub fn request(&self, reason: AbortReason) {
        let mut slot = self.inner.reason.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some((reason, Instant::now()));
        }
        self.inner.requested.store(true, Ordering::SeqCst);
    }

    pub fn is_requested(&self) -> bool {
        self.inner.requested.load(Ordering::Relaxed)
    }

    /// The reason and when it was requested.
    pub fn reason(&self) -> Option<(AbortReason, Instant)> {
        self.inner
            .reason
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn check(&self) -> Result<(), Aborted> {
        if self.is_requested() {
            Err(Aborted)
        } else {
            Ok(())
        }
    }

    /// Sleeps, waking every 10 ms to see whether the run is being stopped.
    pub fn sleep(&self, duration: Duration) -> Result<(), Aborted> {
        let deadline = Instant::now() + duration;
        loop {
            self.check()?;
            let now = Instant::now();
            if now >= deadline {
                return Ok(());
            }
            std::thread::sleep((deadline - now).min(Duration::from_millis(10)));
        }
    }

    /// Marks the run as over; watcher threads poll this and exit.
    pub fn finish(&self) {
        self.inner.finished.store(true, Ordering::SeqCst);
    }

    pub fn is_finished(&self) -> bool {
        self.inner.finished.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_reason_wins_and_sleep_is_cut_short() {
        let abort = AbortSignal::new();
        let other = abort.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            other.request(AbortReason::Signal);
            other.request(AbortReason::Hotkey("x".into()));
        });
        let started = Instant::now();
        assert_eq!(abort.sleep(Duration::from_secs(10)), Err(Aborted));
        assert!(started.elapsed() < Duration::from_secs(2));
        t.join().unwrap();
        assert_eq!(abort.reason().unwrap().0, AbortReason::Signal);
    }
}

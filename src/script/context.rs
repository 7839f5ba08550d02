//! What every script function can reach during a run: the desktop (connected the first time a
//! function needs it, so a script that only converts data runs with no display at all), the
//! sandbox, the abort signal, the event stream, the item counts. Bound functions find it in the
//! engine's tag.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use image::RgbaImage;
use rhai::{Dynamic, EvalAltResult, NativeCallContext, Position};

use crate::abort::AbortSignal;
use crate::desktop::lock::DesktopLock;
use crate::desktop::{DResult, Desktop, DesktopError, StopSettings};
use crate::events::{EventBus, Level, RunEvent};
use crate::sandbox::Sandbox;

pub type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// Items counted by `task::item_done` / `task::item_failed`.
#[derive(Debug, Default, Clone)]
pub struct Items {
    pub done: Vec<String>,
    pub failed: Vec<(String, String)>,
}

/// Connects the run's desktop: waits for other runs to leave it (the lock is held until the run
/// ends), then connects the backend.
pub type Connect = Box<dyn FnOnce(&AbortSignal) -> DResult<(Desktop, Option<DesktopLock>)>>;

/// The run's desktop: not yet asked for, connected, or failed to connect (the same message is
/// given to every later call).
pub enum DesktopSlot {
    Unconnected(Connect),
    Connected {
        desktop: Box<Desktop>,
        _lock: Option<DesktopLock>,
    },
    Unavailable(String),
}

impl DesktopSlot {
    pub fn new(connect: Connect) -> RefCell<DesktopSlot> {
        RefCell::new(DesktopSlot::Unconnected(connect))
    }
}

pub struct RunContext {
    /// Use `with_desktop` (connects on first use) or `connected_desktop`.
    pub desktop: RefCell<DesktopSlot>,
    /// How a person stops the run from the desktop, armed when the desktop connects.
    pub stop: StopSettings,
    /// The run folder (evidence: screenshots of failed image waits).
    pub run_dir: PathBuf,
    /// Decoded template images by resolved path.
    pub templates: RefCell<HashMap<PathBuf, Rc<RgbaImage>>>,
    /// Files read by `sheet::` functions (writing over them is refused).
    pub files_read: RefCell<std::collections::HashSet<PathBuf>>,
    /// Column orders of the tables read, so rows written back keep them.
    pub column_orders: RefCell<Vec<Vec<String>>>,
    /// Row-by-row writers opened by the script (a writer never closed writes nothing).
    pub open_writers: RefCell<Vec<crate::script::sheet::SheetWriter>>,
    /// A dry run without a screen picture: image searches "find" their template at the centre.
    pub pretend_images: bool,
    pub sandbox: Sandbox,
    pub abort: AbortSignal,
    pub events: EventBus,
    pub items: RefCell<Items>,
    /// The ledger: items are recorded there as they are reported.
    pub recorder: crate::ledger::Recorder,
    pub vars: rhai::Map,
    pub dry_run: bool,
    /// The run's browsers and its last web steps (`web::`).
    pub web: RefCell<crate::script::WebState>,
    /// The work queue of the scenario (`[queue]` in scenario.toml).
    pub queue: Option<String>,
    /// Once this file exists, `queue::next()` gives no more items (the agent is stopping).
    pub drain_file: Option<PathBuf>,
    /// Queue items this run claimed and has not ended, by key.
    pub claimed: RefCell<HashMap<String, crate::ledger::QueueItem>>,
}

/// A script error; rhai adds the call site's position.
pub fn script_error(message: impl Into<String>) -> Box<EvalAltResult> {
    EvalAltResult::ErrorRuntime(Dynamic::from(message.into()), Position::NONE).into()
}

/// The error that unwinds the script when the run is being stopped.
pub fn aborted() -> Box<EvalAltResult> {
    EvalAltResult::ErrorTerminated(Dynamic::from("aborted"), Position::NONE).into()
}

/// Runs a bound function's body and gives its error the script position of the call (Rhai
/// leaves it unset for namespaced calls such as `keyboard::press`).
pub fn located<T>(ctx: &NativeCallContext, body: impl FnOnce() -> RhaiResult<T>) -> RhaiResult<T> {
    body().map_err(|mut e| {
        if e.position().is_none() {
            e.set_position(ctx.call_position());
        }
        e
    })
}

/// The running scenario's context, from inside a bound function.
pub fn run_context(ctx: &NativeCallContext) -> RhaiResult<Rc<RunContext>> {
    ctx.tag()
        .and_then(|tag| tag.clone().try_cast::<Rc<RunContext>>())
        .ok_or_else(|| script_error("this function can only be called while a scenario runs"))
}

impl RunContext {
    pub fn action(&self, action: impl Into<String>) {
        self.events.action(action);
    }

    pub fn log(&self, level: Level, message: impl Into<String>) {
        self.events.log(level, message);
    }

    pub fn check_abort(&self) -> RhaiResult<()> {
        self.abort.check().map_err(|_| aborted())
    }

    /// Waits, but ends at once when the run is stopped. A dry run does not wait.
    pub fn sleep(&self, duration: Duration) -> RhaiResult<()> {
        if self.dry_run {
            return self.check_abort();
        }
        self.abort.sleep(duration).map_err(|_| aborted())
    }

    /// Runs `f` on the desktop, connecting it first if this is the run's first desktop call,
    /// and turns its error into a script error (or an abort, when the failure happened because
    /// the run is being stopped).
    pub fn with_desktop<T>(&self, f: impl FnOnce(&mut Desktop) -> DResult<T>) -> RhaiResult<T> {
        self.check_abort()?;
        self.connect_desktop()?;
        let result = match &mut *self.desktop.borrow_mut() {
            DesktopSlot::Connected { desktop, .. } => f(desktop),
            _ => Err(DesktopError::new("desktop unavailable")),
        };
        result.map_err(|e| {
            if self.abort.is_requested() {
                aborted()
            } else {
                script_error(e.0)
            }
        })
    }

    /// Runs `f` on the desktop only if the run has connected it (releasing keys and buttons,
    /// the failure screenshot, putting the clipboard back); no abort check.
    pub fn connected_desktop<T>(&self, f: impl FnOnce(&mut Desktop) -> T) -> Option<T> {
        match &mut *self.desktop.borrow_mut() {
            DesktopSlot::Connected { desktop, .. } => Some(f(desktop)),
            _ => None,
        }
    }

    /// Connects the desktop on first use and arms its stop triggers (hotkey, screen corner).
    fn connect_desktop(&self) -> RhaiResult<()> {
        let connect = {
            let mut slot = self.desktop.borrow_mut();
            match std::mem::replace(&mut *slot, DesktopSlot::Unavailable(String::new())) {
                DesktopSlot::Unconnected(connect) => connect,
                already => {
                    let answer = match &already {
                        DesktopSlot::Unavailable(message) => {
                            Err(script_error(format!("desktop unavailable: {message}")))
                        }
                        _ => Ok(()),
                    };
                    *slot = already;
                    return answer;
                }
            }
        };
        match connect(&self.abort) {
            Ok((mut desktop, lock)) => {
                let ways = self.arm_stop_triggers(&mut desktop);
                self.log(
                    Level::Info,
                    format!(
                        "desktop connected ({}); to stop the run: {ways}",
                        desktop.backend
                    ),
                );
                *self.desktop.borrow_mut() = DesktopSlot::Connected {
                    desktop: Box::new(desktop),
                    _lock: lock,
                };
                Ok(())
            }
            Err(e) => {
                *self.desktop.borrow_mut() = DesktopSlot::Unavailable(e.0.clone());
                if self.abort.is_requested() {
                    self.log(Level::Warn, e.0);
                    return Err(aborted());
                }
                Err(script_error(format!("desktop unavailable: {}", e.0)))
            }
        }
    }

    /// Starts the desktop's stop triggers; says every way the run can now be stopped.
    fn arm_stop_triggers(&self, desktop: &mut Desktop) -> String {
        match desktop.stop_triggers.start(&self.abort, &self.stop) {
            Ok(warnings) => {
                for w in warnings {
                    self.log(Level::Warn, w);
                }
            }
            Err(e) => self.log(
                Level::Warn,
                format!("desktop stop triggers not available: {e}"),
            ),
        }
        let mut ways = vec!["Ctrl+C".to_string()];
        let real = desktop.backend.is_real();
        if real && !self.stop.hotkey.is_empty() {
            ways.push(
                self.stop
                    .hotkey
                    .iter()
                    .map(|k| k.to_string())
                    .collect::<Vec<_>>()
                    .join("+"),
            );
        }
        if real && self.stop.failsafe_corner {
            ways.push("the pointer in a screen corner".into());
        }
        ways.join(", ")
    }

    /// A template image from the scenario's folders, decoded once per run.
    pub fn template(&self, path: &str) -> RhaiResult<Rc<RgbaImage>> {
        let resolved = self.sandbox.readable(path).map_err(script_error)?;
        if let Some(t) = self.templates.borrow().get(&resolved) {
            return Ok(t.clone());
        }
        let image = image::open(&resolved)
            .map_err(|e| script_error(format!("cannot read the image {path:?}: {e}")))?
            .to_rgba8();
        if image.width() == 0 || image.height() == 0 {
            return Err(script_error(format!("the image {path:?} is empty")));
        }
        let image = Rc::new(image);
        self.templates.borrow_mut().insert(resolved, image.clone());
        Ok(image)
    }

    /// Says how many items the run has in all (for progress and the time left).
    pub fn set_total(&self, items: u64) {
        self.events.emit(RunEvent::Total { items });
    }

    /// Counts an item done and records it in the ledger before the script goes on.
    pub fn item_done(&self, key: String) -> RhaiResult<u64> {
        self.recorder
            .item(&key, crate::ledger::ItemState::Done)
            .map_err(|e| script_error(format!("item {key:?} could not be recorded: {e}")))?;
        Ok(self.count_done(key))
    }

    pub fn item_failed(&self, key: String, reason: String) -> RhaiResult<u64> {
        self.recorder
            .item(&key, crate::ledger::ItemState::Failed(reason.clone()))
            .map_err(|e| script_error(format!("item {key:?} could not be recorded: {e}")))?;
        Ok(self.count_failed(key, reason))
    }

    /// Claims the next item of the scenario's queue (`None`: the queue has no more work).
    pub fn queue_next(&self) -> RhaiResult<Option<crate::ledger::QueueItem>> {
        let Some(queue) = &self.queue else {
            return Err(script_error(
                "this scenario takes items from no queue: add [queue] name = \"…\" to its \
                 scenario.toml (the name given to kuroko queue add)",
            ));
        };
        self.check_abort()?;
        if self.drain_file.as_ref().is_some_and(|f| f.exists()) {
            self.log(
                Level::Info,
                format!("queue {queue}: the robot is stopping, so no more items are taken"),
            );
            return Ok(None);
        }
        let item = self
            .recorder
            .queue_next(queue)
            .map_err(|e| script_error(format!("cannot take an item from queue {queue:?}: {e}")))?;
        if let Some(item) = &item {
            self.claimed
                .borrow_mut()
                .insert(item.key.clone(), item.clone());
            self.action(format!("queue {queue}: took item {}", item.key));
        }
        Ok(item)
    }

    /// Ends a claimed queue item as done or failed, recorded as the run's item.
    pub fn queue_end(&self, key: &str, end: crate::ledger::ItemEnd) -> RhaiResult<u64> {
        let item = self.claimed.borrow().get(key).cloned().ok_or_else(|| {
            script_error(format!(
                "item {key:?} is not one this run took with queue::next() (or it was already \
                 ended)"
            ))
        })?;
        let held = self
            .recorder
            .queue_end(&item, &end)
            .map_err(|e| script_error(format!("item {key:?} could not be recorded: {e}")))?;
        if !held {
            return Err(script_error(format!(
                "item {key:?} is no longer this run's: its lease ran out (the run did not \
                 heartbeat in time) and it was set aside for a person to check; nothing was \
                 recorded for it"
            )));
        }
        self.claimed.borrow_mut().remove(key);
        Ok(match end {
            crate::ledger::ItemEnd::Done => self.count_done(key.to_string()),
            crate::ledger::ItemEnd::Failed { reason, .. } => {
                self.count_failed(key.to_string(), reason)
            }
        })
    }

    fn count_done(&self, key: String) -> u64 {
        let done = {
            let mut items = self.items.borrow_mut();
            items.done.push(key.clone());
            items.done.len() as u64
        };
        self.events.emit(RunEvent::ItemDone { key, done });
        done
    }

    fn count_failed(&self, key: String, reason: String) -> u64 {
        let failed = {
            let mut items = self.items.borrow_mut();
            items.failed.push((key.clone(), reason.clone()));
            items.failed.len() as u64
        };
        self.events.emit(RunEvent::ItemFailed {
            key,
            reason,
            failed,
        });
        failed
    }
}

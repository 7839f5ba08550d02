//! A run is a stream of events: started, log lines, actions, items, finished. The terminal,
//! the run folder's `events.jsonl` and the human-readable `run.log` are its listeners; the
//! launcher follows `events.jsonl` from another process and reads it back as the same types.
//! (The ledger is not a listener: a run calls it directly, because a failed write must stop the
//! script.) At the bottom of the layers, with the other types every layer shares: what started
//! a run, how it ended.

use std::cell::RefCell;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::desktop::Backend;
use crate::timesaved::TimeSaved;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Succeeded,
    /// A script error, `fail(...)`, a timeout, or the desktop failing under the script.
    Failed,
    /// Stopped by a person or the launcher.
    Aborted,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::Aborted => "aborted",
        }
    }

    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Succeeded => crate::exit::SUCCEEDED,
            Outcome::Failed => crate::exit::FAILED,
            Outcome::Aborted => crate::exit::ABORTED,
        }
    }
}

/// What started a run; the ledger records it and the launcher shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// A command line (`kuroko run`).
    Manual,
    /// A clerk's 実行 on the launcher page.
    Launcher,
    /// A schedule fired.
    Scheduled,
    /// A robot PC's agent (`kuroko agent`): its scenario's queue had work.
    Agent,
}

impl Trigger {
    pub const ALL: [Trigger; 4] = [
        Trigger::Manual,
        Trigger::Launcher,
        Trigger::Scheduled,
        Trigger::Agent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Manual => "manual",
            Trigger::Launcher => "launcher",
            Trigger::Scheduled => "scheduled",
            Trigger::Agent => "agent",
        }
    }

    /// The stored text back; unknown text (a newer kuroko's) reads as `Manual`.
    pub fn parse(text: &str) -> Trigger {
        Trigger::ALL
            .into_iter()
            .find(|t| t.as_str() == text)
            .unwrap_or(Trigger::Manual)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RunEvent {
    Started {
        run_id: String,
        scenario_id: String,
        scenario_name: String,
        department: String,
        task: String,
        dry_run: bool,
        /// The desktop the run will drive when its script first needs one (`None`: this build
        /// has no desktop backend for this system, so only data-only scripts can run).
        backend: Option<Backend>,
        run_dir: String,
    },
    Log {
        level: Level,
        message: String,
    },
    /// Something done to the desktop, e.g. `type "abc"`, `click 10 20`.
    Action {
        action: String,
    },
    /// How many items this run has in all (`task::set_total`), for progress and time left.
    Total {
        items: u64,
    },
    /// The step that cannot be undone is about to happen for this item (`task::item_started`).
    ItemStarted {
        key: String,
    },
    ItemDone {
        key: String,
        done: u64,
    },
    ItemFailed {
        key: String,
        reason: String,
        failed: u64,
    },
    Finished {
        outcome: Outcome,
        message: Option<String>,
        /// `file:line:column` of the failure.
        location: Option<String>,
        items_done: u64,
        items_failed: u64,
        duration_ms: u64,
        /// Milliseconds from the abort request to the engine stopping, when aborted.
        stop_latency_ms: Option<u64>,
        screenshot: Option<String>,
        time_saved: TimeSaved,
    },
}

/// An event with when it happened.
#[derive(Debug, Clone, Serialize)]
pub struct Stamped<'a> {
    pub at: String,
    pub elapsed_ms: u64,
    #[serde(flatten)]
    pub event: &'a RunEvent,
}

pub trait EventSink {
    fn emit(&mut self, event: &Stamped<'_>);
}

/// Hands each event to every listener.
pub struct EventBus {
    sinks: RefCell<Vec<Box<dyn EventSink>>>,
    started: Instant,
}

impl EventBus {
    pub fn new(sinks: Vec<Box<dyn EventSink>>) -> Self {
        EventBus {
            sinks: RefCell::new(sinks),
            started: Instant::now(),
        }
    }

    /// Hands the event to every listener, with the values of secrets the run has read replaced
    /// by `***` in every text it carries (see `crate::redact`).
    pub fn emit(&self, event: RunEvent) {
        let event = if crate::redact::active() {
            crate::redact::value(&event).unwrap_or_else(|| RunEvent::Log {
                level: Level::Warn,
                message: "an event was left out: it could not be checked for secrets".into(),
            })
        } else {
            event
        };
        let stamped = Stamped {
            at: chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, false),
            elapsed_ms: self.started.elapsed().as_millis() as u64,
            event: &event,
        };
        for sink in self.sinks.borrow_mut().iter_mut() {
            sink.emit(&stamped);
        }
    }

    pub fn log(&self, level: Level, message: impl Into<String>) {
        self.emit(RunEvent::Log {
            level,
            message: message.into(),
        });
    }

    pub fn action(&self, action: impl Into<String>) {
        self.emit(RunEvent::Action {
            action: action.into(),
        });
    }
}

/// One JSON object per line, flushed per event so a follower sees it at once.
pub struct JsonLines(pub File);

impl EventSink for JsonLines {
    fn emit(&mut self, event: &Stamped<'_>) {
        if let Ok(line) = serde_json::to_string(event) {
            let _ = writeln!(self.0, "{line}");
        }
    }
}

/// Human-readable lines: `run.log` in the run folder, and the terminal.
pub struct TextLog<W: Write> {
    out: W,
    /// Whether `Action` events are shown (always in run.log; in the terminal for dry runs
    /// and `--verbose`).
    actions: bool,
}

impl<W: Write> TextLog<W> {
    pub fn new(out: W, actions: bool) -> Self {
        TextLog { out, actions }
    }
}

impl TextLog<BufWriter<File>> {
    pub fn file(file: File) -> Self {
        TextLog::new(BufWriter::new(file), true)
    }
}

pub fn format_line(event: &Stamped<'_>) -> Option<String> {
    let t = event.elapsed_ms;
    let clock = format!("[{:02}:{:02}.{:03}]", t / 60_000, (t / 1000) % 60, t % 1000);
    let text = match event.event {
        RunEvent::Started {
            run_id,
            scenario_name,
            dry_run,
            backend,
            run_dir,
            ..
        } => format!(
            "start {scenario_name} (run {run_id}{}, desktop: {}) — evidence in {run_dir}",
            if *dry_run { ", dry run" } else { "" },
            match backend {
                Some(b) if b.is_real() => format!("{b}, connected on first use"),
                Some(b) => b.to_string(),
                None => "none on this system".into(),
            }
        ),
        RunEvent::Log { level, message } => match level {
            Level::Info => message.clone(),
            Level::Warn => format!("warning: {message}"),
            Level::Error => format!("error: {message}"),
        },
        RunEvent::Action { action } => format!("  {action}"),
        RunEvent::Total { items } => format!("{items} item(s) to do"),
        RunEvent::ItemStarted { key } => format!("item started: {key}"),
        RunEvent::ItemDone { key, done } => format!("item done: {key} ({done} done)"),
        RunEvent::ItemFailed {
            key,
            reason,
            failed,
        } => {
            format!("item failed: {key}: {reason} ({failed} failed)")
        }
        RunEvent::Finished {
            outcome,
            message,
            location,
            items_done,
            items_failed,
            duration_ms,
            screenshot,
            time_saved,
            ..
        } => {
            // No "-0.0" for a run that saved nothing.
            let m = |v: f64| if v.abs() < 0.05 { 0.0 } else { v };
            let mut s = format!(
                "{} — {items_done} item(s) done, {items_failed} failed, in {:.1} s; time saved {:.1} min (before {:.1} min, after {:.1} min)",
                outcome.as_str(),
                *duration_ms as f64 / 1000.0,
                m(time_saved.saved_minutes),
                m(time_saved.before_minutes),
                m(time_saved.after_minutes)
            );
            if let Some(m) = message {
                s.push_str(&format!(
                    "\n  {}{m}",
                    location
                        .as_ref()
                        .map(|l| format!("{l}: "))
                        .unwrap_or_default()
                ));
            }
            if let Some(shot) = screenshot {
                s.push_str(&format!("\n  screenshot: {shot}"));
            }
            s
        }
    };
    Some(format!("{clock} {text}"))
}

impl<W: Write> EventSink for TextLog<W> {
    fn emit(&mut self, event: &Stamped<'_>) {
        if !self.actions && matches!(event.event, RunEvent::Action { .. }) {
            return;
        }
        if let Some(line) = format_line(event) {
            let _ = writeln!(self.out, "{line}");
            let _ = self.out.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    /// Keeps what it is given.
    struct Kept(Rc<RefCell<Vec<String>>>);

    impl EventSink for Kept {
        fn emit(&mut self, event: &Stamped<'_>) {
            self.0
                .borrow_mut()
                .push(serde_json::to_string(event).unwrap());
        }
    }

    #[test]
    fn listeners_never_see_a_secret_the_run_has_read() {
        // A value no other test uses: the redactor is process-wide.
        let secret = "bus-unit-秘密-\"Qx9";
        let kept = Rc::new(RefCell::new(Vec::new()));
        let bus = EventBus::new(vec![Box::new(Kept(kept.clone()))]);
        bus.action(format!("type {secret:?}"));
        crate::redact::add(secret);
        bus.action(format!("type {secret:?}"));
        bus.emit(RunEvent::ItemFailed {
            key: format!("k-{secret}"),
            reason: format!("rejected {secret}"),
            failed: 1,
        });
        let kept = kept.borrow();
        assert!(kept[0].contains("Qx9"), "before it was read: {}", kept[0]);
        for line in &kept[1..] {
            assert!(!line.contains("Qx9") && !line.contains("秘密"), "{line}");
        }
        assert!(
            kept[1].contains(r#""action":"type \"***\"""#),
            "{}",
            kept[1]
        );
        assert!(kept[2].contains(r#""key":"k-***""#), "{}", kept[2]);
        assert!(
            kept[2].contains(r#""reason":"rejected ***""#),
            "{}",
            kept[2]
        );
    }
}

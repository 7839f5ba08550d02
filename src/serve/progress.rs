//! A run's progress as the launcher shows it, read from the `events.jsonl` the run writes in
//! its folder (the run's event stream; another process follows it line by line). Only whole
//! lines are read, from where the last look stopped, so a long run costs nothing extra.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::events::{Outcome, RunEvent};

/// What the page shows of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Progress {
    pub run_id: Option<String>,
    pub items_done: u64,
    pub items_failed: u64,
    /// How many items the run has in all, when it said so (`task::set_total`).
    pub items_total: Option<u64>,
    /// The last log line (the step the script is at).
    pub step: Option<String>,
    /// The key of the item the run last started, finished or failed.
    pub last_item: Option<String>,
    pub elapsed_ms: u64,
    /// Once the run has said how it ended.
    pub outcome: Option<Outcome>,
    pub message: Option<String>,
    pub location: Option<String>,
    pub saved_minutes: Option<f64>,
    /// The failure screenshot's file name in the run folder.
    pub screenshot: Option<String>,
}

/// Follows one request's run folder.
#[derive(Debug)]
pub struct Follower {
    /// The request's folder; the run's own folder appears inside it once the run starts.
    request_dir: PathBuf,
    events: Option<PathBuf>,
    offset: u64,
    pub progress: Progress,
}

impl Follower {
    pub fn new(request_dir: &Path) -> Follower {
        Follower {
            request_dir: request_dir.to_path_buf(),
            events: None,
            offset: 0,
            progress: Progress::default(),
        }
    }

    /// The run's folder, once it exists.
    pub fn run_dir(&self) -> Option<&Path> {
        self.events.as_deref().and_then(Path::parent)
    }

    /// Reads what the run wrote since the last look.
    pub fn update(&mut self) {
        if self.events.is_none() {
            self.events = find_events(&self.request_dir);
        }
        let Some(path) = &self.events else { return };
        let Ok(mut file) = std::fs::File::open(path) else {
            return;
        };
        if file.seek(SeekFrom::Start(self.offset)).is_err() {
            return;
        }
        let mut bytes = Vec::new();
        if file.read_to_end(&mut bytes).is_err() {
            return;
        }
        // Only whole lines: the run may be writing the next one.
        let Some(end) = bytes.iter().rposition(|b| *b == b'\n') else {
            return;
        };
        for line in bytes[..end].split(|b| *b == b'\n') {
            // A line that does not read (another kuroko's event) is passed over.
            if let Ok(line) = serde_json::from_slice::<Line>(line) {
                apply(&mut self.progress, line);
            }
        }
        self.offset += end as u64 + 1;
    }
}

fn find_events(request_dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(request_dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("events.jsonl"))
        .find(|p| p.is_file())
}

/// One line of `events.jsonl`, read back as the run wrote it.
#[derive(Deserialize)]
struct Line {
    elapsed_ms: u64,
    #[serde(flatten)]
    event: RunEvent,
}

fn apply(p: &mut Progress, line: Line) {
    p.elapsed_ms = line.elapsed_ms;
    match line.event {
        RunEvent::Started { run_id, .. } => p.run_id = Some(run_id),
        RunEvent::Total { items } => p.items_total = Some(items),
        RunEvent::Log { message, .. } => p.step = Some(message),
        RunEvent::Action { .. } => {}
        RunEvent::ItemStarted { key } => p.last_item = Some(key),
        RunEvent::ItemDone { key, done } => {
            p.items_done = done;
            p.last_item = Some(key);
        }
        RunEvent::ItemFailed { key, failed, .. } => {
            p.items_failed = failed;
            p.last_item = Some(key);
        }
        RunEvent::Finished {
            outcome,
            message,
            location,
            items_done: done,
            items_failed: failed,
            screenshot,
            time_saved,
            ..
        } => {
            p.outcome = Some(outcome);
            p.message = message;
            p.location = location;
            p.items_done = done;
            p.items_failed = failed;
            p.saved_minutes = Some(time_saved.saved_minutes);
            p.screenshot = screenshot.and_then(|s| {
                Path::new(&s)
                    .file_name()
                    .and_then(|n| n.to_str())
                    .map(String::from)
            });
        }
    }
}

/// What an estimate of the time left goes on.
#[derive(Debug, Clone, Default)]
pub struct Pace {
    /// This scenario's earlier successful runs: (duration ms, items done).
    pub past_runs: Vec<(u64, u64)>,
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    Some(values[values.len() / 2])
}

impl Pace {
    /// The time left. When the run said how many items it has, the items still to do at this
    /// run's own pace (once it has done a few) or the past runs' time per item; otherwise the
    /// past runs' median duration less the time taken so far.
    pub fn left_ms(&self, progress: &Progress, elapsed_ms: u64) -> Option<u64> {
        let handled = progress.items_done + progress.items_failed;
        if let Some(total) = progress.items_total {
            let left = total.saturating_sub(handled) as f64;
            let per_item = if handled >= 3 {
                Some(elapsed_ms as f64 / handled as f64)
            } else {
                median(
                    self.past_runs
                        .iter()
                        .filter(|(_, items)| *items > 0)
                        .map(|(ms, items)| *ms as f64 / *items as f64)
                        .collect(),
                )
            };
            return per_item.map(|p| (p * left) as u64);
        }
        let typical = median(self.past_runs.iter().map(|(ms, _)| *ms as f64).collect())?;
        Some((typical as u64).saturating_sub(elapsed_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One line of `events.jsonl`, written the way a run writes it.
    fn line(elapsed_ms: u64, event: RunEvent) -> String {
        let stamped = crate::events::Stamped {
            at: "t".into(),
            elapsed_ms,
            event: &event,
        };
        serde_json::to_string(&stamped).unwrap() + "\n"
    }

    #[test]
    fn follows_whole_lines_as_they_are_written() {
        let dir = std::env::temp_dir().join(format!("kuroko-progress-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut f = Follower::new(&dir);
        f.update();
        assert_eq!(f.progress, Progress::default(), "no folder yet");
        let run = dir.join("20240401-x");
        std::fs::create_dir_all(&run).unwrap();
        let events = run.join("events.jsonl");
        let started = line(
            1,
            RunEvent::Started {
                run_id: "r1".into(),
                scenario_id: "s".into(),
                scenario_name: "住民票".into(),
                department: "市民課".into(),
                task: "入力".into(),
                dry_run: false,
                backend: Some(crate::desktop::Backend::X11),
                run_dir: run.display().to_string(),
            },
        );
        let second = line(
            12,
            RunEvent::ItemDone {
                key: "2".into(),
                done: 2,
            },
        );
        let (half, rest) = second.split_at(20);
        let log = line(
            5,
            RunEvent::Log {
                level: crate::events::Level::Info,
                message: "一件目".into(),
            },
        );
        let first = line(
            9,
            RunEvent::ItemDone {
                key: "1".into(),
                done: 1,
            },
        );
        let text = format!("{started}{log}{first}{half}");
        std::fs::write(&events, &text).unwrap();
        f.update();
        assert_eq!(f.progress.run_id.as_deref(), Some("r1"));
        assert_eq!(f.progress.step.as_deref(), Some("一件目"));
        assert_eq!((f.progress.items_done, f.progress.elapsed_ms), (1, 9));
        assert_eq!(f.progress.last_item.as_deref(), Some("1"));
        assert_eq!(f.run_dir(), Some(run.as_path()));
        // The half-written line is finished, then the run ends.
        let finished = line(
            20,
            RunEvent::Finished {
                outcome: Outcome::Failed,
                message: Some("boom".into()),
                location: Some("main.rhai:3:1".into()),
                items_done: 2,
                items_failed: 0,
                duration_ms: 20,
                stop_latency_ms: None,
                screenshot: Some("/x/y/failure.png".into()),
                time_saved: crate::timesaved::TimeSaved {
                    before_minutes: 10.0,
                    after_minutes: 2.5,
                    saved_minutes: 7.5,
                },
            },
        );
        std::fs::write(&events, format!("{text}{rest}{finished}")).unwrap();
        f.update();
        assert_eq!(f.progress.items_done, 2);
        assert_eq!(f.progress.outcome, Some(Outcome::Failed));
        assert_eq!(f.progress.location.as_deref(), Some("main.rhai:3:1"));
        assert_eq!(f.progress.screenshot.as_deref(), Some("failure.png"));
        assert_eq!(f.progress.saved_minutes, Some(7.5));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_time_left_comes_from_the_items_left_or_the_past_runs() {
        let none = Pace::default();
        let past = Pace {
            past_runs: vec![(60_000, 30), (10_000, 10), (50_000, 50)],
        };
        let at = |done, total| Progress {
            items_done: done,
            items_total: total,
            ..Progress::default()
        };
        // No total: the median past run (50 s) less the time spent.
        assert_eq!(none.left_ms(&at(0, None), 10), None);
        assert_eq!(past.left_ms(&at(5, None), 20_000), Some(30_000));
        assert_eq!(past.left_ms(&at(5, None), 90_000), Some(0));
        // A total, few items done yet: the past runs' time per item (median 1 s) × items left.
        assert_eq!(past.left_ms(&at(1, Some(11)), 5_000), Some(10_000));
        assert_eq!(none.left_ms(&at(1, Some(11)), 5_000), None);
        // A total and a pace of its own: 4 items in 8 s, 6 left.
        assert_eq!(none.left_ms(&at(4, Some(10)), 8_000), Some(12_000));
    }
}

//! A robot PC's agent (`kuroko agent`): waits for work in the queues its scenarios declare and
//! runs those scenarios, one at a time, through the launcher's child-process path (each run its
//! own `kuroko run`, dying with the agent), so several robot PCs drain one queue on a shared
//! ledger. Stopping (Ctrl+C) lets the run finish the item in hand and take no more.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::events::Trigger;
use crate::ledger::{self, Address, QueueState};
use crate::scenario::{self, Scenario};
use crate::serve::launcher::{Launcher, LauncherConfig, RequestState};

/// What an agent works from.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// The robot's name in the ledger (the host name unless given).
    pub name: String,
    pub scenarios_dir: PathBuf,
    pub ledger: Address,
    pub runs_dir: PathBuf,
    /// The kuroko binary that runs scenarios.
    pub exe: PathBuf,
    /// How often the queues are looked at while there is no work.
    pub poll: Duration,
    /// How long a stopping agent waits for the item in hand before it stops the run.
    pub drain_timeout: Duration,
}

/// What an agent did, for its last line.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct AgentSummary {
    pub runs: u64,
    pub failed_runs: u64,
}

/// The scenarios under the folder that take items from a queue: (queue, scenario folder).
fn queued_scenarios(dir: &std::path::Path) -> Vec<(String, PathBuf)> {
    scenario::list(dir)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|s| s.ok())
        .filter_map(|s: Scenario| {
            let queue = s.manifest.queue.as_ref()?.name.trim().to_string();
            Some((queue, s.dir.clone()))
        })
        .collect()
}

/// Runs the agent until `stop` is set. Progress goes to standard output, one line each.
pub fn run(config: &AgentConfig, stop: Arc<AtomicBool>) -> Result<AgentSummary, String> {
    let launcher = Launcher::start(LauncherConfig {
        exe: config.exe.clone(),
        ledger: config.ledger.clone(),
        runs_dir: config.runs_dir.clone(),
        env: vec![("KUROKO_MACHINE".into(), config.name.clone())],
        grace: Duration::from_secs(60),
        stop_grace: Duration::from_secs(30),
        die_with_parent: true,
    });
    let scenarios = queued_scenarios(&config.scenarios_dir);
    if scenarios.is_empty() {
        return Err(format!(
            "{}: no scenario declares a queue ([queue] name = \"…\" in scenario.toml)",
            config.scenarios_dir.display()
        ));
    }
    let mut queues: Vec<&str> = scenarios.iter().map(|(q, _)| q.as_str()).collect();
    queues.dedup();
    println!(
        "kuroko agent {}: waiting for work in {} (ledger {}); stop with Ctrl+C",
        config.name,
        queues.join(", "),
        config.ledger
    );
    let mut summary = AgentSummary::default();
    let mut store = None;
    let mut next = 0usize;
    while !stop.load(Ordering::SeqCst) {
        if store.is_none() {
            match ledger::open(&config.ledger) {
                Ok(s) => store = Some(s),
                Err(e) => {
                    eprintln!("kuroko agent {}: {e}; trying again", config.name);
                    sleep_unless(&stop, config.poll.max(Duration::from_secs(5)));
                    continue;
                }
            }
        }
        let waiting = match store.as_ref().map(|s| s.queue_counts()) {
            Some(Ok(counts)) => counts,
            Some(Err(e)) => {
                eprintln!("kuroko agent {}: {e}; trying again", config.name);
                store = None;
                sleep_unless(&stop, config.poll.max(Duration::from_secs(5)));
                continue;
            }
            None => continue,
        };
        let has_work = |queue: &str| {
            waiting
                .iter()
                .any(|c| c.queue == queue && c.state == QueueState::New && c.items > 0)
        };
        // Round robin over the scenarios with work, so one busy queue does not starve another.
        let pick = (0..scenarios.len())
            .map(|i| (next + i) % scenarios.len())
            .find(|&i| has_work(&scenarios[i].0));
        let Some(i) = pick else {
            sleep_unless(&stop, config.poll);
            continue;
        };
        next = i + 1;
        let (queue, dir) = &scenarios[i];
        let id = launcher.submit(dir, vec![], Trigger::Agent);
        println!(
            "kuroko agent {}: {} has work; running {}",
            config.name,
            queue,
            dir.display()
        );
        let state = wait_for(&launcher, id, &stop, config.drain_timeout);
        summary.runs += 1;
        let ok = matches!(
            state,
            RequestState::Finished {
                exit_code: Some(0),
                ..
            }
        );
        if !ok {
            summary.failed_runs += 1;
        }
        println!(
            "kuroko agent {}: run of {} ended ({})",
            config.name,
            dir.display(),
            match state {
                RequestState::Finished {
                    exit_code: Some(c), ..
                } => format!("exit code {c}"),
                RequestState::Finished { .. } => "killed".into(),
                other => format!("{other:?}"),
            }
        );
        if !ok && !stop.load(Ordering::SeqCst) {
            // A failing scenario is not started again at once and again: give people a moment.
            sleep_unless(&stop, config.poll.max(Duration::from_secs(5)));
        }
    }
    launcher.shut_down(config.drain_timeout);
    println!(
        "kuroko agent {}: stopped after {} run(s), {} not succeeded",
        config.name, summary.runs, summary.failed_runs
    );
    Ok(summary)
}

/// Waits for a request to end. When the agent is asked to stop, the run takes no more items
/// and ends after the one in hand; if that takes longer than `drain_timeout`, it is stopped.
fn wait_for(
    launcher: &Launcher,
    id: u64,
    stop: &AtomicBool,
    drain_timeout: Duration,
) -> RequestState {
    let mut draining: Option<Instant> = None;
    loop {
        let state = launcher
            .request(id)
            .map(|r| r.state)
            .unwrap_or(RequestState::Cancelled);
        if matches!(
            state,
            RequestState::Finished { .. } | RequestState::Cancelled
        ) {
            return state;
        }
        if stop.load(Ordering::SeqCst) {
            if matches!(state, RequestState::Queued) {
                // Not started yet: it need not start at all.
                launcher.cancel(id);
            } else {
                // Asked again on every pass until the run has the drain file.
                if draining.is_none() && launcher.drain(id) {
                    draining = Some(Instant::now());
                }
                if draining.is_some_and(|at| at.elapsed() > drain_timeout) {
                    launcher.stop(id);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn sleep_unless(stop: &AtomicBool, duration: Duration) {
    let until = Instant::now() + duration;
    while Instant::now() < until && !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(20));
    }
}

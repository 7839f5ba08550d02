//! A robot PC's agent (`kuroko agent`): registers the machine in the ledger and heartbeats, runs
//! the runs people send to it (from the launcher) and waits for work in the queues its scenarios
//! declare, running one scenario at a time through the launcher's child-process path (each run
//! its own `kuroko run`, dying with the agent), so several robot PCs drain one queue on a shared
//! ledger. Stopping (Ctrl+C) lets the run finish the item in hand and take no more.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::events::Trigger;
use crate::ledger::{self, Address, MachineScenario, MachineStart, QueueState, RunRequestRecord};
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

/// Every scenario under the folder: what the robot registers, with its folder.
fn all_scenarios(dir: &std::path::Path) -> Vec<(MachineScenario, PathBuf)> {
    scenario::list(dir)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|s| s.ok())
        .map(|s: Scenario| {
            let queue = s
                .manifest
                .queue
                .as_ref()
                .map(|q| q.name.trim().to_string())
                .filter(|q| !q.is_empty());
            (
                MachineScenario {
                    id: s.manifest.id.clone(),
                    name: s.manifest.name.clone(),
                    queue,
                },
                s.dir.clone(),
            )
        })
        .collect()
}

/// The thread that registers the robot PC and says it is there, on its own connection, until
/// it is dropped; then it records the agent as stopped.
struct Presence {
    stop: std::sync::mpsc::Sender<()>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Presence {
    fn start(ledger: &Address, machine: MachineStart) -> Presence {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let ledger = ledger.clone();
        let limit = ledger::liveness_limit();
        let thread = std::thread::spawn(move || {
            let mut store: Option<Box<dyn ledger::Store>> = None;
            let mut wait = Duration::ZERO;
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(wait) {
                wait = limit / 4;
                let beat = match store.as_mut() {
                    // A new connection registers again (the robot may have been removed).
                    None => ledger::open(&ledger).and_then(|mut s| {
                        s.machine_register(&machine, &ledger::now(), limit.as_secs_f64())?;
                        store = Some(s);
                        Ok(())
                    }),
                    Some(s) => {
                        s.machine_heartbeat(&machine.name, &ledger::now(), limit.as_secs_f64())
                    }
                };
                if let Err(e) = beat {
                    eprintln!("kuroko agent {}: {e}; trying again", machine.name);
                    store = None;
                }
            }
            if let Some(s) = store.as_mut() {
                let _ = s.machine_stopped(&machine.name, &ledger::now());
            }
        });
        Presence {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Presence {
    fn drop(&mut self) {
        let _ = self.stop.send(());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
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
    let all = all_scenarios(&config.scenarios_dir);
    if all.is_empty() {
        return Err(format!(
            "{}: no scenario here (each is a folder with scenario.toml and main.rhai)",
            config.scenarios_dir.display()
        ));
    }
    let scenarios: Vec<(String, PathBuf)> = all
        .iter()
        .filter_map(|(s, dir)| Some((s.queue.clone()?, dir.clone())))
        .collect();
    let mut queues: Vec<&str> = scenarios.iter().map(|(q, _)| q.as_str()).collect();
    queues.sort();
    queues.dedup();
    let _presence = Presence::start(
        &config.ledger,
        MachineStart {
            name: config.name.clone(),
            os_user: ledger::process::os_user(),
            os: std::env::consts::OS.to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            scenarios: all.iter().map(|(s, _)| s.clone()).collect(),
            at: ledger::now(),
        },
    );
    println!(
        "kuroko agent {}: waiting for runs sent to it{} (ledger {}); stop with Ctrl+C",
        config.name,
        if queues.is_empty() {
            String::new()
        } else {
            format!(" and for work in {}", queues.join(", "))
        },
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
        // A run a person sent to this robot comes before queue work.
        let asked = store
            .as_mut()
            .map(|s| s.run_request_take(&config.name, &ledger::now()));
        match asked {
            Some(Ok(Some(request))) => {
                let ok = run_requested(config, &launcher, &stop, &all, &request, &mut store);
                summary.runs += 1;
                if !ok {
                    summary.failed_runs += 1;
                }
                continue;
            }
            Some(Err(e)) => {
                eprintln!("kuroko agent {}: {e}; trying again", config.name);
                store = None;
                sleep_unless(&stop, config.poll.max(Duration::from_secs(5)));
                continue;
            }
            _ => {}
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
        let ok = succeeded(&state);
        if !ok {
            summary.failed_runs += 1;
        }
        println!(
            "kuroko agent {}: run of {} ended ({})",
            config.name,
            dir.display(),
            ended(&state)
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

fn succeeded(state: &RequestState) -> bool {
    matches!(
        state,
        RequestState::Finished {
            exit_code: Some(0),
            ..
        }
    )
}

fn ended(state: &RequestState) -> String {
    match state {
        RequestState::Finished {
            exit_code: Some(c), ..
        } => format!("exit code {c}"),
        RequestState::Finished { .. } => "killed".into(),
        RequestState::Cancelled => "not started: the agent stopped".into(),
        other => format!("{other:?}"),
    }
}

/// Runs what a person sent to this robot and records how it ended in the request. Whether the
/// run succeeded.
fn run_requested(
    config: &AgentConfig,
    launcher: &Launcher,
    stop: &AtomicBool,
    all: &[(MachineScenario, PathBuf)],
    request: &RunRequestRecord,
    store: &mut Option<Box<dyn ledger::Store>>,
) -> bool {
    let (ok, message) = match all.iter().find(|(s, _)| s.id == request.scenario_id) {
        None => (
            false,
            format!(
                "robot PC {} has no scenario {:?} any more",
                config.name, request.scenario_id
            ),
        ),
        Some((scenario, dir)) => {
            println!(
                "kuroko agent {}: {} sent {}; running {}",
                config.name,
                request.requested_by,
                scenario.name,
                dir.display()
            );
            let id = launcher.submit(dir, vec![], Trigger::Agent);
            let state = wait_for(launcher, id, stop, config.drain_timeout);
            let message = ended(&state);
            println!(
                "kuroko agent {}: run of {} ended ({message})",
                config.name,
                dir.display()
            );
            (succeeded(&state), message)
        }
    };
    let state = if ok { "done" } else { "failed" };
    // The request is ended on the agent's connection, or a fresh one if that went away.
    let end = |s: &mut Box<dyn ledger::Store>| {
        s.run_request_end(&request.id, state, &message, &ledger::now())
    };
    let result = match store.as_mut() {
        Some(s) => end(s),
        None => ledger::open(&config.ledger).and_then(|mut s| end(&mut s)),
    };
    if let Err(e) = result {
        eprintln!("kuroko agent {}: {e}", config.name);
        *store = None;
    }
    ok
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

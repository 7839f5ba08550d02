//! Runs scenarios for the clerk launcher (`kuroko serve`) and for schedules: one at a time,
//! each as its own `kuroko run` process, so a crash, hang or panic in a run cannot take the
//! launcher down. A second request waits in a queue (and can be cancelled); Stop writes the
//! run's stop file and sends it SIGTERM (both the same abort path as Ctrl+C); a run that
//! outlives its timeout is killed and recorded as interrupted, and the next one starts. It
//! lives under `serve` because only the server has a queue.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::events::Trigger;
use crate::scenario::Scenario;

/// Where runs go and how they are started.
#[derive(Debug, Clone)]
pub struct LauncherConfig {
    /// The kuroko binary that runs scenarios.
    pub exe: PathBuf,
    pub ledger: crate::ledger::Address,
    /// Each request's run folder goes under `<runs_dir>/request-<id>/`, what the process printed
    /// in `<runs_dir>/request-<id>.log`.
    pub runs_dir: PathBuf,
    /// Extra environment for runs (e.g. DISPLAY).
    pub env: Vec<(String, String)>,
    /// How long past a scenario's `timeout_minutes` a run may take to end before it is killed.
    pub grace: Duration,
    /// How long a run may take to stop after Stop before it is killed (a hung process).
    pub stop_grace: Duration,
    /// Runs die with this process (an agent: a robot whose agent was killed must not go on
    /// taking queue items), in their own process group (Ctrl+C reaches the agent only): on
    /// Linux `PR_SET_PDEATHSIG`, on Windows a kill-on-close job object.
    pub die_with_parent: bool,
}

/// One request's state.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RequestState {
    Queued,
    Running {
        pid: u32,
    },
    /// The `kuroko run` exit code (0 succeeded, 1 failed, 3 aborted, ...); `None` when the
    /// process was killed.
    Finished {
        exit_code: Option<i32>,
        killed_after_timeout: bool,
        /// Stop was asked and the process did not end within `stop_grace`.
        killed_after_stop: bool,
    },
    Cancelled,
}

#[derive(Debug, Clone, Serialize)]
pub struct RequestView {
    pub id: u64,
    pub scenario: PathBuf,
    pub trigger: Trigger,
    pub state: RequestState,
    /// The request's folder of run evidence.
    pub runs_dir: PathBuf,
    /// When its process started and ended.
    #[serde(skip)]
    pub started: Option<Instant>,
    #[serde(skip)]
    pub ended: Option<Instant>,
}

impl RequestView {
    /// How long the run has taken so far (or took), also while it sleeps or waits.
    pub fn running_for(&self) -> Duration {
        match (self.started, self.ended) {
            (Some(s), Some(e)) => e.saturating_duration_since(s),
            (Some(s), None) => s.elapsed(),
            _ => Duration::ZERO,
        }
    }
}

struct Request {
    view: RequestView,
    vars: Vec<(String, String)>,
}

#[derive(Default)]
struct State {
    next_id: u64,
    requests: Vec<Request>,
    queue: VecDeque<u64>,
    running: Option<(u64, u32)>,
    /// When Stop was asked of the running request.
    stop_asked: Option<(u64, Instant)>,
    shutting_down: bool,
}

struct Inner {
    config: LauncherConfig,
    state: Mutex<State>,
    changed: Condvar,
}

/// The launcher's run queue. Dropping it lets the current run finish and cancels the queue.
pub struct Launcher {
    inner: Arc<Inner>,
    worker: Option<std::thread::JoinHandle<()>>,
}

impl Launcher {
    pub fn start(config: LauncherConfig) -> Launcher {
        let inner = Arc::new(Inner {
            config,
            state: Mutex::default(),
            changed: Condvar::new(),
        });
        let worker = {
            let inner = inner.clone();
            std::thread::spawn(move || work(&inner))
        };
        Launcher {
            inner,
            worker: Some(worker),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.inner)
    }

    /// Queues a run of the scenario folder; returns its request id. Only the newest 200 ended
    /// requests are remembered.
    pub fn submit(&self, scenario: &Path, vars: Vec<(String, String)>, trigger: Trigger) -> u64 {
        let mut state = self.state();
        state.next_id += 1;
        let id = state.next_id;
        state.requests.push(Request {
            view: RequestView {
                id,
                scenario: scenario.to_path_buf(),
                trigger,
                state: RequestState::Queued,
                runs_dir: self.inner.config.runs_dir.join(format!("request-{id}")),
                started: None,
                ended: None,
            },
            vars,
        });
        state.queue.push_back(id);
        forget_old(&mut state);
        self.inner.changed.notify_all();
        id
    }

    /// Takes a queued request out of the queue; false when it is not waiting.
    pub fn cancel(&self, id: u64) -> bool {
        let mut state = self.state();
        let Some(at) = state.queue.iter().position(|q| *q == id) else {
            return false;
        };
        state.queue.remove(at);
        set_state(&mut state, id, RequestState::Cancelled);
        self.inner.changed.notify_all();
        true
    }

    /// Stops the running request through the run's abort path: its stop file (any system)
    /// and SIGTERM (Unix); a process that has not ended `stop_grace` later is killed. False
    /// when it is not running.
    pub fn stop(&self, id: u64) -> bool {
        let mut state = self.state();
        match state.running {
            Some((running, pid)) if running == id && pid != 0 => {
                if state.stop_asked.is_none_or(|(asked, _)| asked != id) {
                    state.stop_asked = Some((id, Instant::now()));
                }
                let runs_dir = state
                    .requests
                    .iter()
                    .find(|r| r.view.id == id)
                    .map(|r| r.view.runs_dir.clone());
                let filed =
                    runs_dir.is_some_and(|d| std::fs::write(stop_file(&d), b"stop").is_ok());
                let signalled = terminate(pid);
                filed || signalled
            }
            _ => false,
        }
    }

    /// Asks a running request to take no more queue items: it ends after the item in hand.
    /// Whether it was running.
    pub fn drain(&self, id: u64) -> bool {
        let Some(view) = self.request(id) else {
            return false;
        };
        matches!(view.state, RequestState::Running { .. })
            && std::fs::write(drain_file(&view.runs_dir), "drain").is_ok()
    }

    pub fn requests(&self) -> Vec<RequestView> {
        self.state()
            .requests
            .iter()
            .map(|r| r.view.clone())
            .collect()
    }

    pub fn request(&self, id: u64) -> Option<RequestView> {
        self.state()
            .requests
            .iter()
            .find(|r| r.view.id == id)
            .map(|r| r.view.clone())
    }

    /// For the launcher's own end: cancels what waits, stops what runs (killed if it does not
    /// end within `stop_grace`) and waits for it, at most `timeout`.
    pub fn shut_down(&self, timeout: Duration) -> bool {
        let running = {
            let mut state = self.state();
            let queued: Vec<u64> = state.queue.drain(..).collect();
            for id in queued {
                set_state(&mut state, id, RequestState::Cancelled);
            }
            state.running.map(|(id, _)| id)
        };
        self.inner.changed.notify_all();
        if let Some(id) = running {
            self.stop(id);
        }
        self.wait_idle(timeout)
    }

    /// Waits until nothing runs or waits, or `timeout`; whether it became idle.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.state();
        while state.running.is_some() || !state.queue.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = self
                .inner
                .changed
                .wait_timeout(state, left)
                .map(|(s, _)| s)
                .unwrap_or_else(|e| e.into_inner().0);
        }
        true
    }
}

impl Drop for Launcher {
    fn drop(&mut self) {
        {
            let mut state = self.state();
            state.shutting_down = true;
            let queued: Vec<u64> = state.queue.drain(..).collect();
            for id in queued {
                set_state(&mut state, id, RequestState::Cancelled);
            }
        }
        self.inner.changed.notify_all();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

/// How many ended requests the launcher remembers (the ledger keeps every run for good).
const ENDED_KEPT: usize = 200;

/// Forgets the oldest ended requests beyond `ENDED_KEPT`, so a launcher that runs for months
/// does not grow.
fn forget_old(state: &mut State) {
    let ended = |r: &Request| {
        matches!(
            r.view.state,
            RequestState::Finished { .. } | RequestState::Cancelled
        )
    };
    let mut excess = state
        .requests
        .iter()
        .filter(|r| ended(r))
        .count()
        .saturating_sub(ENDED_KEPT);
    state.requests.retain(|r| {
        if excess > 0 && ended(r) {
            excess -= 1;
            false
        } else {
            true
        }
    });
}

fn lock(inner: &Inner) -> MutexGuard<'_, State> {
    inner.state.lock().unwrap_or_else(|e| e.into_inner())
}

fn set_state(state: &mut State, id: u64, new: RequestState) {
    if let Some(r) = state.requests.iter_mut().find(|r| r.view.id == id) {
        match new {
            RequestState::Running { .. } => r.view.started = Some(Instant::now()),
            RequestState::Finished { .. } => r.view.ended = Some(Instant::now()),
            _ => {}
        }
        r.view.state = new;
    }
}

/// The file whose appearance stops a request's run.
fn stop_file(runs_dir: &Path) -> PathBuf {
    runs_dir.with_extension("stop")
}

fn drain_file(runs_dir: &Path) -> PathBuf {
    runs_dir.with_extension("drain")
}

#[cfg(unix)]
fn terminate(pid: u32) -> bool {
    // SAFETY: kill(2) with a pid this launcher started and has not reaped yet.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) == 0 }
}

/// Windows has no SIGTERM: the stop file asks the run to stop (it then releases held keys and
/// records `aborted`), and `watch` ends it with TerminateProcess (`Child::kill`) after the grace.
#[cfg(not(unix))]
fn terminate(_pid: u32) -> bool {
    false
}

/// The worker: takes requests one by one and runs each to its end.
fn work(inner: &Inner) {
    loop {
        let (id, scenario, vars, trigger, runs_dir) = {
            let mut state = lock(inner);
            loop {
                if state.shutting_down {
                    return;
                }
                if let Some(id) = state.queue.pop_front()
                    && let Some(r) = state.requests.iter().find(|r| r.view.id == id)
                {
                    let taken = (
                        id,
                        r.view.scenario.clone(),
                        r.vars.clone(),
                        r.view.trigger,
                        r.view.runs_dir.clone(),
                    );
                    // Busy from here on (pid 0 until the process exists), so nobody sees a
                    // moment with nothing queued and nothing running.
                    state.running = Some((id, 0));
                    break taken;
                }
                if !state.queue.is_empty() {
                    continue;
                }
                state = inner.changed.wait(state).unwrap_or_else(|e| e.into_inner());
            }
        };
        let finished = match spawn(&inner.config, &scenario, &vars, trigger, &runs_dir) {
            Ok(child) => {
                // Windows: an agent's run ends with the agent even when the agent is killed
                // (the job closes with the agent's last handle to it).
                #[cfg(windows)]
                let _job = if inner.config.die_with_parent {
                    crate::job::contain(&child)
                        .map_err(|e| eprintln!("kuroko: the run may outlive its agent: {e}"))
                        .ok()
                } else {
                    None
                };
                {
                    let mut state = lock(inner);
                    state.running = Some((id, child.id()));
                    set_state(&mut state, id, RequestState::Running { pid: child.id() });
                }
                inner.changed.notify_all();
                watch(inner, id, child, &scenario)
            }
            Err(_) => RequestState::Finished {
                exit_code: Some(crate::exit::ENVIRONMENT),
                killed_after_timeout: false,
                killed_after_stop: false,
            },
        };
        // A run whose process died is found and marked interrupted when the ledger is opened
        // (under this PC's name); an agent's runs carry the robot's name.
        if let Ok(mut store) = crate::ledger::open(&inner.config.ledger)
            && let Some((_, robot)) = inner.config.env.iter().find(|(k, _)| k == "KUROKO_MACHINE")
        {
            let _ =
                store.recover_interrupted(robot, crate::ledger::alive_rule(&inner.config.ledger));
        }
        let mut state = lock(inner);
        state.running = None;
        state.stop_asked = None;
        set_state(&mut state, id, finished);
        drop(state);
        inner.changed.notify_all();
    }
}

fn spawn(
    config: &LauncherConfig,
    scenario: &Path,
    vars: &[(String, String)],
    trigger: Trigger,
    runs_dir: &Path,
) -> std::io::Result<Child> {
    std::fs::create_dir_all(runs_dir)?;
    // A stop or drain file left by an earlier session with the same request number.
    let _ = std::fs::remove_file(stop_file(runs_dir));
    let _ = std::fs::remove_file(drain_file(runs_dir));
    // The process's own output (what it printed), beside the request's run folder.
    let log = std::fs::File::create(runs_dir.with_extension("log"))?;
    let mut cmd = Command::new(&config.exe);
    cmd.arg("run")
        .arg(scenario)
        .arg("--runs-dir")
        .arg(runs_dir)
        // A shared ledger's address (it may hold a password) goes in the environment, where
        // other users' process lists do not show it.
        .env("KUROKO_LEDGER", config.ledger.as_os_str())
        .args(["--trigger", trigger.as_str()])
        .arg("--stop-file")
        .arg(stop_file(runs_dir))
        .arg("--drain-file")
        .arg(drain_file(runs_dir))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    for (name, value) in vars {
        cmd.arg("--var").arg(format!("{name}={value}"));
    }
    for (k, v) in &config.env {
        cmd.env(k, v);
    }
    #[cfg(target_os = "linux")]
    if config.die_with_parent {
        use std::os::unix::process::CommandExt;
        // Its own process group: Ctrl+C in the agent's terminal reaches the agent only, which
        // lets the run finish the item in hand.
        cmd.process_group(0);
        // SAFETY: only prctl, which is async-signal-safe, runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
    }
    #[cfg(windows)]
    if config.die_with_parent {
        use std::os::windows::process::CommandExt;
        // Its own process group: Ctrl+C in the agent's console reaches the agent only, which
        // lets the run finish the item in hand.
        const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;
        cmd.creation_flags(CREATE_NEW_PROCESS_GROUP);
    }
    cmd.spawn()
}

/// Waits for the run to end; kills it when it outlives its scenario's timeout, or when it has
/// not stopped `stop_grace` after Stop.
fn watch(inner: &Inner, id: u64, mut child: Child, scenario: &Path) -> RequestState {
    let limit = Scenario::load(scenario)
        .ok()
        .and_then(|s| s.manifest.timeout_minutes)
        // A limit too large to represent is no limit.
        .and_then(|m| Duration::try_from_secs_f64(m * 60.0).ok())
        .and_then(|d| d.checked_add(inner.config.grace));
    let started = Instant::now();
    let finished = |exit_code, killed_after_timeout, killed_after_stop| RequestState::Finished {
        exit_code,
        killed_after_timeout,
        killed_after_stop,
    };
    loop {
        {
            // The child is reaped under the lock and its pid forgotten at once, so a Stop never
            // signals a pid the system may already have given to another process.
            let mut state = lock(inner);
            let reaped = match child.try_wait() {
                Ok(Some(status)) => Some(finished(status.code(), false, false)),
                Ok(None) => None,
                Err(_) => Some(finished(None, false, false)),
            };
            let stop_overdue = state
                .stop_asked
                .is_some_and(|(asked, at)| asked == id && at.elapsed() > inner.config.stop_grace);
            let timed_out = limit.is_some_and(|l| started.elapsed() > l);
            let ended = reaped.or_else(|| {
                (stop_overdue || timed_out).then(|| {
                    let _ = child.kill();
                    let _ = child.wait();
                    finished(None, timed_out && !stop_overdue, stop_overdue)
                })
            });
            if let Some(ended) = ended {
                // Still busy (the ledger is looked at next), but with no process to signal.
                state.running = Some((id, 0));
                return ended;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

//! One run of a scenario, start to finish: compile, connect the desktop, open the run folder,
//! arm the stop triggers, evaluate the script, release whatever is held, keep the evidence and
//! report the outcome. The run only emits events; listeners record them.

pub mod events;
pub mod evidence;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use rhai::Dynamic;

use crate::abort::{AbortReason, AbortSignal};
use crate::api::{Items, RunContext};
use crate::desktop::{self, StopSettings};
use crate::engine::{self, Failure, Limits, Sandbox};
use crate::error::{Error, Result};
use crate::ledger::{self, Recorder, RunEnd, RunStart, RunState, process};
use crate::scenario::Scenario;
use crate::timesaved::{self, Baselines, TimeSaved};
use events::{EventBus, EventSink, JsonLines, Level, Outcome, RunEvent, TextLog};

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Use the fake desktop: nothing on the display is touched; actions are printed.
    pub dry_run: bool,
    /// `--var name=value` pairs, readable with `task::get_var`.
    pub vars: Vec<(String, String)>,
    /// Parent of the run folders.
    pub runs_dir: PathBuf,
    /// Print every action in the terminal (always in run.log).
    pub verbose: bool,
    pub stop: StopSettings,
    /// For a dry run: a PNG served as the screen.
    pub fake_screen: Option<PathBuf>,
    /// The ledger file (a dry run only reads it, for `task::is_done`).
    pub ledger: PathBuf,
    /// What started the run, as the ledger records it: "manual", "launcher", "scheduled".
    pub trigger: String,
    /// The launcher's way to stop the run on any operating system: the run stops when this
    /// file appears.
    pub stop_file: Option<PathBuf>,
}

/// What a finished run reports back.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub run_id: String,
    pub run_dir: PathBuf,
    pub outcome: Outcome,
    pub message: Option<String>,
    pub location: Option<String>,
    pub items: Items,
    pub elapsed: Duration,
    pub time_saved: TimeSaved,
}

/// The process-wide abort signal that Ctrl+C and SIGTERM trigger. A second Ctrl+C exits at once.
pub fn process_abort_signal() -> AbortSignal {
    static SIGNAL: OnceLock<AbortSignal> = OnceLock::new();
    SIGNAL
        .get_or_init(|| {
            let signal = AbortSignal::new();
            let handler_signal = signal.clone();
            let _ = ctrlc::set_handler(move || {
                if handler_signal.is_requested() {
                    eprintln!("kuroko: stopped again — exiting now");
                    std::process::exit(crate::exit::ABORTED);
                }
                handler_signal.request(AbortReason::Signal);
            });
            signal
        })
        .clone()
}

/// Stops the run when the launcher's stop file appears (checked every 50 ms).
fn watch_stop_file(path: PathBuf, abort: AbortSignal) {
    std::thread::spawn(move || {
        while !abort.is_finished() {
            if path.exists() {
                abort.request(AbortReason::Launcher);
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    });
}

/// Waits until no other kuroko run drives this desktop (a Stop while waiting ends the wait).
fn wait_for_desktop(manifest: &crate::scenario::Manifest) -> Result<desktop::lock::DesktopLock> {
    let path = desktop::lock::path(&evidence::data_dir());
    let holder = format!("pid {} ({})", std::process::id(), manifest.name);
    let abort = process_abort_signal();
    let mut told = false;
    loop {
        match desktop::lock::try_take(&path, &holder).map_err(|e| Error::io(&path, e))? {
            Ok(lock) => return Ok(lock),
            Err(other) => {
                if !told {
                    eprintln!("waiting for the desktop: another kuroko run is using it ({other})");
                    told = true;
                }
                if abort.is_requested() {
                    return Err(Error::Desktop {
                        message: "stopped while waiting for another run to leave the desktop"
                            .into(),
                    });
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// How scripts are named in messages: relative to the working folder when possible.
pub fn display_path(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

fn limits(scenario: &Scenario) -> Limits {
    Limits {
        max_operations: scenario
            .manifest
            .max_operations
            .unwrap_or(engine::DEFAULT_MAX_OPERATIONS),
    }
}

pub fn run(scenario: &Scenario, options: &RunOptions) -> Result<RunReport> {
    let label = display_path(&scenario.script_path);
    let source = scenario.script()?;
    let ast = engine::compile(&engine::build(None, limits(scenario)), &label, &source)
        .map_err(Error::Script)?;

    let manifest = &scenario.manifest;
    if let Some(path) = &options.stop_file {
        watch_stop_file(path.clone(), process_abort_signal());
    }
    // Held until the run ends: nobody else drives this desktop meanwhile.
    let _desktop_lock = if options.dry_run {
        None
    } else {
        Some(wait_for_desktop(manifest)?)
    };
    let run_id = evidence::new_run_id(&manifest.id);
    let run_dir = options.runs_dir.join(&run_id);
    let recorder = if options.dry_run {
        Recorder::read_only(&options.ledger, &manifest.id)?
    } else {
        Recorder::start(
            &options.ledger,
            &run_start(scenario, &source, &run_id, &run_dir, &options.trigger)?,
        )?
    };

    let desktop = if options.dry_run {
        let screen = match &options.fake_screen {
            Some(path) => Some(
                image::open(path)
                    .map_err(|e| Error::usage(format!("--screen {}: {e}", path.display())))?
                    .to_rgba8(),
            ),
            None => None,
        };
        desktop::fake::desktop(screen, true).0
    } else {
        match desktop::connect_real() {
            Ok(desktop) => desktop,
            Err(e) => {
                let message = format!("desktop unavailable: {}", e.0);
                recorder.finish(&not_started(&message, &Baselines::of(manifest)))?;
                return Err(Error::Desktop { message: e.0 });
            }
        }
    };

    let inputs: Vec<PathBuf> = manifest.inputs.iter().map(|f| scenario.folder(f)).collect();
    let outputs: Vec<PathBuf> = manifest
        .outputs
        .iter()
        .map(|f| scenario.folder(f))
        .collect();
    let sandbox = Sandbox::new(&scenario.dir, &inputs, &outputs).map_err(Error::usage)?;

    std::fs::create_dir_all(&run_dir).map_err(|e| Error::io(&run_dir, e))?;
    let open = |name: &str| {
        let path = run_dir.join(name);
        std::fs::File::create(&path).map_err(|e| Error::io(&path, e))
    };
    let sinks: Vec<Box<dyn EventSink>> = vec![
        Box::new(TextLog::new(
            std::io::stderr(),
            options.dry_run || options.verbose,
        )),
        Box::new(TextLog::file(open("run.log")?)),
        Box::new(JsonLines(open("events.jsonl")?)),
    ];

    let abort = process_abort_signal();
    let backend = desktop.backend;
    let context = Rc::new(RunContext {
        desktop: RefCell::new(desktop),
        run_dir: run_dir.clone(),
        templates: RefCell::default(),
        files_read: RefCell::default(),
        column_orders: RefCell::default(),
        open_writers: RefCell::default(),
        pretend_images: options.dry_run && options.fake_screen.is_none(),
        sandbox,
        abort: abort.clone(),
        events: EventBus::new(sinks),
        items: RefCell::default(),
        recorder,
        vars: options
            .vars
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().into(),
                    Dynamic::from(rhai::ImmutableString::from(v.as_str())),
                )
            })
            .collect(),
        dry_run: options.dry_run,
    });
    context.events.emit(RunEvent::Started {
        run_id: run_id.clone(),
        scenario_id: manifest.id.clone(),
        scenario_name: manifest.name.clone(),
        department: manifest.department.clone(),
        task: manifest.task.clone(),
        dry_run: options.dry_run,
        backend: backend.to_string(),
        run_dir: run_dir.display().to_string(),
    });

    arm_stop_triggers(&context, &options.stop, manifest.timeout_minutes);

    let started = Instant::now();
    let engine = engine::build(Some(context.clone()), limits(scenario));
    let mut scope = engine::scope(context.vars.clone());
    let result = engine.eval_ast_with_scope::<Dynamic>(&mut scope, &ast);
    let stopped_at = Instant::now();
    for label in context
        .open_writers
        .borrow()
        .iter()
        .filter_map(|w| w.unclosed())
    {
        context.log(
            Level::Warn,
            format!("{label} was never closed with sheet::close: nothing was written"),
        );
    }
    for e in context.desktop.borrow_mut().release_all() {
        context.log(Level::Warn, format!("releasing held keys/buttons: {e}"));
    }
    let elapsed = started.elapsed();

    let (outcome, failure, stop_latency) = match result {
        Ok(_) => (Outcome::Succeeded, None, None),
        Err(e) => match engine::from_eval(&label, &e, &crate::docs::signatures()) {
            Failure::Failed(err) => (Outcome::Failed, Some(err), None),
            Failure::Aborted { mut at } => {
                let (reason, requested) =
                    abort.reason().unwrap_or((AbortReason::Signal, stopped_at));
                at.message = reason.describe();
                let latency = stopped_at.saturating_duration_since(requested);
                if reason.is_failure() {
                    (Outcome::Failed, Some(at), None)
                } else {
                    (Outcome::Aborted, Some(at), Some(latency))
                }
            }
        },
    };

    let screenshot = if outcome == Outcome::Failed && !options.dry_run {
        let path = run_dir.join("failure.png");
        let captured = context.desktop.borrow_mut().screen.capture();
        match captured
            .map_err(|e| e.0)
            .and_then(|img| evidence::write_png(&img, &path))
        {
            Ok(()) => Some(path.display().to_string()),
            Err(e) => {
                context.log(Level::Warn, format!("no failure screenshot: {e}"));
                None
            }
        }
    } else {
        None
    };

    let items = context.items.borrow().clone();
    let time_saved = timesaved::for_run(
        &Baselines::of(manifest),
        items.done.len() as u64,
        elapsed.as_secs_f64() / 60.0,
    );
    let recorded = context.recorder.finish(&RunEnd {
        state: outcome.into(),
        ended_at: ledger::now(),
        robot_minutes: elapsed.as_secs_f64() / 60.0,
        items_done: items.done.len() as u64,
        items_failed: items.failed.len() as u64,
        time: time_saved,
        message: failure.as_ref().map(|f| f.message.clone()),
        location: failure
            .as_ref()
            .filter(|f| f.line > 0)
            .map(|f| f.location()),
    });
    if let Err(e) = &recorded {
        context.log(Level::Error, format!("the run could not be recorded: {e}"));
    }
    if recorded.is_ok() && context.recorder.writes() {
        context.log(
            Level::Info,
            format!("recorded in the ledger {}", context.recorder.location()),
        );
    }

    context.events.emit(RunEvent::Finished {
        outcome,
        message: failure.as_ref().map(|f| f.message.clone()),
        location: failure
            .as_ref()
            .filter(|f| f.line > 0)
            .map(|f| f.location()),
        items_done: items.done.len() as u64,
        items_failed: items.failed.len() as u64,
        duration_ms: elapsed.as_millis() as u64,
        stop_latency_ms: stop_latency.map(|d| d.as_millis() as u64),
        screenshot,
        time_saved,
    });
    abort.finish();
    recorded?;

    Ok(RunReport {
        run_id,
        run_dir,
        outcome,
        message: failure.as_ref().map(|f| f.message.clone()),
        location: failure.as_ref().map(|f| f.location()),
        items,
        elapsed,
        time_saved,
    })
}

/// The ledger's record of a run about to start.
fn run_start(
    scenario: &Scenario,
    source: &str,
    run_id: &str,
    run_dir: &Path,
    trigger: &str,
) -> Result<RunStart> {
    let manifest_text = match &scenario.manifest_path {
        Some(path) => std::fs::read(path).map_err(|e| Error::io(path, e))?,
        None => Vec::new(),
    };
    let m = &scenario.manifest;
    Ok(RunStart {
        run_id: run_id.to_string(),
        scenario_id: m.id.clone(),
        scenario_name: m.name.clone(),
        script_hash: ledger::sha256_hex(&[&manifest_text, source.as_bytes()]),
        department: m.department.clone(),
        task: m.task.clone(),
        machine: process::machine_name(),
        os_user: process::os_user(),
        process: process::current(),
        started_at: ledger::now(),
        baselines: Baselines::of(m),
        run_dir: run_dir.display().to_string(),
        trigger: trigger.to_string(),
    })
}

/// A run that never got going (no desktop): failed, nothing done.
fn not_started(message: &str, baselines: &Baselines) -> RunEnd {
    RunEnd {
        state: RunState::Failed,
        ended_at: ledger::now(),
        robot_minutes: 0.0,
        items_done: 0,
        items_failed: 0,
        time: timesaved::for_run(baselines, 0, 0.0),
        message: Some(message.to_string()),
        location: None,
    }
}

fn arm_stop_triggers(context: &RunContext, stop: &StopSettings, timeout_minutes: Option<f64>) {
    let started = context
        .desktop
        .borrow_mut()
        .stop_triggers
        .start(&context.abort, stop);
    match started {
        Ok(warnings) => {
            for w in warnings {
                context.log(Level::Warn, w);
            }
        }
        Err(e) => context.log(
            Level::Warn,
            format!("desktop stop triggers not available: {e}"),
        ),
    }
    let mut ways = vec!["Ctrl+C".to_string()];
    let real = context.desktop.borrow().backend != "fake";
    if real && !stop.hotkey.is_empty() {
        ways.push(
            stop.hotkey
                .iter()
                .map(|k| k.to_string())
                .collect::<Vec<_>>()
                .join("+"),
        );
    }
    if real && stop.failsafe_corner {
        ways.push("the pointer in a screen corner".into());
    }
    context.log(Level::Info, format!("to stop the run: {}", ways.join(", ")));

    if let Some(minutes) = timeout_minutes {
        let abort = context.abort.clone();
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs_f64(minutes * 60.0);
            while Instant::now() < deadline {
                if abort.is_finished() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            abort.request(AbortReason::Timeout { minutes });
        });
    }
}

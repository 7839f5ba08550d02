//! One run of a scenario, start to finish: compile, open the run folder and the ledger record,
//! evaluate the script (the desktop is connected, waited for and its stop triggers armed only
//! when the script first needs it), release whatever is held, keep the evidence and report the
//! outcome. The run emits events for its listeners and records items in the ledger directly.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use rhai::Dynamic;

use crate::abort::{AbortReason, AbortSignal};
use crate::desktop::{self, DResult, DesktopError, StopSettings};
use crate::engine::{self, Failure, Limits};
use crate::error::{Error, Result};
use crate::events::{EventBus, EventSink, JsonLines, Level, Outcome, RunEvent, TextLog, Trigger};
use crate::ledger::{self, Recorder, RunEnd, RunStart, process};
use crate::sandbox::Sandbox;
use crate::scenario::Scenario;
use crate::script::context::{Connect, DesktopSlot};
use crate::script::{Items, RunContext};
use crate::timesaved::{self, TimeSaved};

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
    /// The ledger (a dry run only reads it, for `task::is_done`).
    pub ledger: ledger::Address,
    /// What started the run, as the ledger records it.
    pub trigger: Trigger,
    /// The launcher's way to stop the run on any operating system: the run stops when this
    /// file appears.
    pub stop_file: Option<PathBuf>,
    /// Once this file exists, `queue::next()` gives no more items.
    pub drain_file: Option<PathBuf>,
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
            // Only a second signal exits at once: the launcher's Stop writes the stop file and
            // sends SIGTERM, and the file seen first must not make that signal a second stop
            // (the run would end without recording how it ended).
            let signalled = std::sync::atomic::AtomicBool::new(false);
            let _ = ctrlc::set_handler(move || {
                if signalled.swap(true, std::sync::atomic::Ordering::SeqCst) {
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
fn wait_for_desktop(holder: &str, abort: &AbortSignal) -> DResult<desktop::lock::DesktopLock> {
    let path = desktop::lock::path(&crate::files::data_dir());
    let mut told = false;
    loop {
        let taken = desktop::lock::try_take(&path, holder)
            .map_err(|e| DesktopError::new(format!("{}: {e}", path.display())))?;
        match taken {
            Ok(lock) => return Ok(lock),
            Err(other) => {
                if !told {
                    eprintln!("waiting for the desktop: another kuroko run is using it ({other})");
                    told = true;
                }
                if abort.is_requested() {
                    return Err(DesktopError::new(
                        "stopped while waiting for another run to leave the desktop",
                    ));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// How the run gets its desktop the first time the script needs one: the fake desktop for a dry
/// run; otherwise this machine's, once no other run drives it.
fn desktop_connector(options: &RunOptions, holder: String) -> Result<Connect> {
    if options.dry_run {
        let screen = match &options.fake_screen {
            Some(path) => Some(
                image::open(path)
                    .map_err(|e| Error::usage(format!("--screen {}: {e}", path.display())))?
                    .to_rgba8(),
            ),
            None => None,
        };
        return Ok(Box::new(move |_| {
            Ok((desktop::fake::desktop(screen, true).0, None))
        }));
    }
    Ok(Box::new(move |abort| {
        // Held until the run ends: nobody else drives this desktop meanwhile.
        let lock = wait_for_desktop(&holder, abort)?;
        Ok((desktop::connect_real()?, Some(lock)))
    }))
}

/// A new, unique run id: local time, scenario id, process id.
pub fn new_run_id(scenario_id: &str) -> String {
    format!(
        "{}-{scenario_id}-{}",
        chrono::Local::now().format("%Y%m%d-%H%M%S%.3f"),
        std::process::id()
    )
    .replace('.', "")
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
        max_memory_mb: scenario
            .manifest
            .max_memory_mb
            .unwrap_or(engine::DEFAULT_MAX_MEMORY_MB),
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
    let connect = desktop_connector(
        options,
        format!("pid {} ({})", std::process::id(), manifest.name),
    )?;
    let run_id = new_run_id(&manifest.id);
    let run_dir = options.runs_dir.join(&run_id);
    let recorder = if options.dry_run {
        Recorder::read_only(&options.ledger, &manifest.id)?
    } else {
        Recorder::start(
            &options.ledger,
            &run_start(scenario, &source, &run_id, &run_dir, options.trigger)?,
        )?
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
    let backend = if options.dry_run {
        Some(desktop::Backend::Fake)
    } else {
        desktop::Backend::native()
    };
    let context = Rc::new(RunContext {
        desktop: DesktopSlot::new(connect),
        stop: options.stop.clone(),
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
        web: RefCell::default(),
        queue: manifest.queue.as_ref().map(|q| q.name.trim().to_string()),
        drain_file: options.drain_file.clone(),
        claimed: RefCell::default(),
    });
    context.events.emit(RunEvent::Started {
        run_id: run_id.clone(),
        scenario_id: manifest.id.clone(),
        scenario_name: manifest.name.clone(),
        department: manifest.department.clone(),
        task: manifest.task.clone(),
        dry_run: options.dry_run,
        backend,
        run_dir: run_dir.display().to_string(),
    });

    context.log(
        Level::Info,
        "to stop the run: Ctrl+C (and, once the script uses the desktop, its stop triggers)",
    );
    arm_timeout(&context.abort, manifest.timeout_minutes);

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
    for e in context
        .connected_desktop(|d| d.release_all())
        .unwrap_or_default()
    {
        context.log(Level::Warn, format!("releasing held keys/buttons: {e}"));
    }
    let elapsed = started.elapsed();

    let (outcome, failure, stop_latency) = match result {
        Ok(_) => (Outcome::Succeeded, None, None),
        Err(e) => match engine::from_eval(&label, &e, &engine::reference::signatures()) {
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
        // Only a run that used the desktop has a screen worth keeping.
        match context.connected_desktop(|d| d.screen.capture()) {
            None => None,
            Some(captured) => match captured
                .map_err(|e| e.0)
                .and_then(|img| crate::files::write_png(&img, &path))
            {
                Ok(()) => Some(path.display().to_string()),
                Err(e) => {
                    context.log(Level::Warn, format!("no failure screenshot: {e}"));
                    None
                }
            },
        }
    } else {
        None
    };

    // After the failure screenshot: a browser window on the screen belongs in it.
    for problem in context.web.borrow_mut().finish(&run_dir) {
        context.log(Level::Warn, problem);
    }

    let items = context.items.borrow().clone();
    let time_saved = timesaved::for_run(
        &manifest.baselines(),
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
    trigger: Trigger,
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
        baselines: m.baselines(),
        run_dir: run_dir.display().to_string(),
        trigger,
    })
}

/// Stops the run when its manifest's `timeout_minutes` have passed.
fn arm_timeout(abort: &AbortSignal, timeout_minutes: Option<f64>) {
    if let Some(minutes) = timeout_minutes {
        let abort = abort.clone();
        std::thread::spawn(move || {
            // A limit too large to represent is no limit (it would outlast the machine).
            let Some(deadline) = Duration::try_from_secs_f64(minutes * 60.0)
                .ok()
                .and_then(|d| Instant::now().checked_add(d))
            else {
                return;
            };
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

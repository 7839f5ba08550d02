//! `kuroko serve`: the clerk launcher, a local web page served by the kuroko binary itself
//! (every asset embedded, nothing from the internet). Clerks pick a saved scenario, press 実行,
//! watch it, press 停止, and see what it saved. The server only listens on 127.0.0.1 and
//! answers only the browser that opened the printed URL (see `access`). Runs are child
//! processes driven by `launcher::Launcher` (one at a time, a queue); schedules fire through
//! the same queue (`scheduler`). The launcher's queue lives here because only the server has
//! one: `kuroko run` is a single run and needs no queue. `routes` are the HTTP endpoints.

pub(crate) mod access;
mod assets;
mod catalog;
mod evidence;
mod inputs;
pub mod launcher;
mod progress;
mod routes;
mod scheduler;

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::serve::launcher::{Launcher, LauncherConfig};

pub use access::Access;

/// How the launcher is set up.
#[derive(Debug, Clone)]
pub struct Config {
    pub scenarios_dir: PathBuf,
    pub ledger: crate::ledger::Address,
    /// Run folders go under here (one folder per server start, one per request inside).
    pub runs_root: PathBuf,
    /// 0: any free port.
    pub port: u16,
    /// The kuroko binary that runs scenarios.
    pub exe: PathBuf,
    /// How often schedules are looked at.
    pub schedule_every: Duration,
    pub open_browser: bool,
    /// Added to the local time for schedules (tests walk the calendar with it; 0 otherwise).
    pub clock_offset: chrono::TimeDelta,
}

impl Config {
    /// The local time as the launcher's schedules see it.
    pub fn now(&self) -> chrono::NaiveDateTime {
        chrono::Local::now().naive_local() + self.clock_offset
    }
}

/// Writes the folders the launcher knows as their names in texts for the page (`scenarios/…`,
/// `runs/…`, the ledger's file name, `~/…`), so no response shows where this PC keeps things.
/// Made once per server: it is applied to every status the page polls.
pub(crate) struct Shown {
    /// (absolute path, name), the longest first: the runs folder may lie inside the home folder.
    roots: Vec<(String, String)>,
}

impl Shown {
    fn new(config: &Config) -> Shown {
        let ledger_name = config
            .ledger
            .file()
            .and_then(|f| f.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "ledger".into());
        let mut roots: Vec<(String, String)> = [
            (Some(config.scenarios_dir.clone()), "scenarios".to_string()),
            (Some(config.runs_root.clone()), "runs".to_string()),
            (Some(PathBuf::from(config.ledger.to_string())), ledger_name),
            (std::env::var_os("HOME").map(PathBuf::from), "~".to_string()),
        ]
        .into_iter()
        .filter_map(|(path, name)| path.map(|p| (p.display().to_string(), name)))
        .filter(|(path, _)| path.len() > 1)
        .collect();
        roots.sort_by_key(|(path, _)| std::cmp::Reverse(path.len()));
        Shown { roots }
    }

    pub fn text(&self, text: &str) -> String {
        self.roots.iter().fold(text.to_string(), |t, (path, name)| {
            t.replace(path.as_str(), name)
        })
    }
}

/// What every handler shares.
pub(crate) struct App {
    pub access: Access,
    pub config: Config,
    pub launcher: Launcher,
    pub followers: Mutex<HashMap<u64, routes::Tracked>>,
    pub shown: Shown,
}

/// Serves until the process is stopped (Ctrl+C / SIGTERM: the run in progress is stopped
/// first, see `stop_runs_on_exit`).
pub fn serve(config: Config) -> Result<()> {
    let env_error = |what: &str, e: &dyn std::fmt::Display| Error::Server {
        message: format!("{what}: {e}"),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| env_error("cannot start the web server", &e))?;
    runtime.block_on(async move {
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, config.port)))
                .await
                .map_err(|e| {
                    env_error(&format!("cannot listen on 127.0.0.1:{}", config.port), &e)
                })?;
        let port = listener
            .local_addr()
            .map_err(|e| env_error("no local address", &e))?
            .port();
        let access = Access::new(port).map_err(|e| env_error("no random token", &e))?;
        let app = Arc::new(start(config, access)?);
        // Stopping is caught before the address is printed: a script that reads it and stops the
        // launcher at once gets a clean stop.
        stop_runs_on_exit(app.clone());
        let url = app.access.url();
        // The first line is the address, for the clerk and for scripts that start the server.
        println!("{url}");
        eprintln!(
            "kuroko serve: scenarios in {}, ledger {}; stop with Ctrl+C",
            app.config.scenarios_dir.display(),
            app.config.ledger
        );
        if app.config.open_browser {
            open_browser(&url);
        }
        scheduler::spawn(app.clone());
        serve_connections(listener, routes::router(app)).await;
        Ok(())
    })
}

/// How long a client may take to send a request's head. A browser on this PC sends it at
/// once; a connection that dribbles it in (to hold the server open without a token) is closed.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Accepts connections for ever, each served on its own task with `HEADER_READ_TIMEOUT`
/// (axum's own `serve` has no header timeout).
async fn serve_connections(listener: tokio::net::TcpListener, router: axum::Router) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: wait a little rather than spin.
                eprintln!("kuroko serve: cannot accept a connection: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT);
            // A connection that ends badly (a timeout, a client gone) concerns only itself.
            let _ = http
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

fn start(config: Config, access: Access) -> Result<App> {
    // The ledger is made (or migrated) now, so a broken one is reported before the page opens.
    crate::ledger::open(&config.ledger)?;
    // Earlier versions wrote every downloaded report here and never removed them; reports are
    // now built in memory per download.
    let _ = std::fs::remove_dir_all(config.runs_root.join("reports"));
    let session = format!(
        "launcher-{}-{}",
        chrono::Local::now().format("%Y%m%d-%H%M%S"),
        std::process::id()
    );
    let launcher = Launcher::start(LauncherConfig {
        exe: config.exe.clone(),
        ledger: config.ledger.clone(),
        runs_dir: config.runs_root.join(session),
        env: Vec::new(),
        grace: Duration::from_secs(30),
        stop_grace: Duration::from_secs(5),
        die_with_parent: false,
    });
    Ok(App {
        access,
        shown: Shown::new(&config),
        config,
        launcher,
        followers: Mutex::default(),
    })
}

/// How long the launcher waits for a run to stop when it is itself stopped.
const STOP_WAIT: Duration = Duration::from_secs(10);

/// Ctrl+C or SIGTERM ends the launcher, and with it the run going on (through the run's own
/// stop path, so keys are released and the ledger says `aborted`); waiting requests are dropped.
fn stop_runs_on_exit(app: Arc<App>) {
    let result = ctrlc::set_handler(move || {
        eprintln!("kuroko serve: stopping");
        app.launcher.shut_down(STOP_WAIT);
        std::process::exit(crate::exit::SUCCEEDED);
    });
    if let Err(e) = result {
        eprintln!("kuroko serve: Ctrl+C will not stop runs first: {e}");
    }
}

fn open_browser(url: &str) {
    #[cfg(target_os = "linux")]
    let opener = "xdg-open";
    #[cfg(target_os = "macos")]
    let opener = "open";
    #[cfg(windows)]
    let opener = "explorer";
    if let Err(e) = std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        eprintln!("kuroko serve: could not open a browser ({opener}: {e}); open {url}");
    }
}

//! `kuroko agent`: one on each robot PC; registers it, runs what people send to it and the
//! scenarios whose queues have work (see `crate::agent`).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::agent::{self, AgentConfig};
use crate::error::{Error, Result};
use crate::files;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The folder of scenarios: any of them can be sent to this robot from the launcher, and
    /// those with a [queue] are run while their queue has work [default: scenarios].
    #[arg(long, value_name = "DIR")]
    scenarios: Option<PathBuf>,
    /// The robot's name in the ledger [default: this PC's host name].
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    #[command(flatten)]
    ledger: super::LedgerArg,
    /// Where run folders go [default: $KUROKO_RUNS_DIR or ~/.local/share/kuroko/runs].
    #[arg(long, value_name = "DIR")]
    runs_dir: Option<PathBuf>,
    /// How often the queues are looked at while there is no work, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
    poll: f64,
    /// When stopping, how long the run may take to finish the item in hand, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 120.0)]
    drain_timeout: f64,
}

pub fn execute(args: Args) -> Result<i32> {
    let scenarios_dir = args.scenarios.unwrap_or_else(super::default_scenarios_dir);
    if !scenarios_dir.is_dir() {
        return Err(Error::usage(format!(
            "{}: no such folder of scenarios (give one with --scenarios DIR)",
            scenarios_dir.display()
        )));
    }
    let seconds = |flag: &str, v: f64| {
        if v > 0.0 && v.is_finite() && v <= 86_400.0 {
            Ok(Duration::from_secs_f64(v))
        } else {
            Err(Error::usage(format!(
                "{flag} must be a number of seconds above 0"
            )))
        }
    };
    let name = match args.name {
        Some(n) if n.trim().is_empty() || n.chars().any(char::is_control) => {
            return Err(Error::usage("--name must not be empty"));
        }
        Some(n) => n.trim().to_string(),
        None => crate::ledger::process::machine_name(),
    };
    let runs_dir = args.runs_dir.unwrap_or_else(files::default_runs_dir);
    std::fs::create_dir_all(&runs_dir).map_err(|e| Error::io(&runs_dir, e))?;
    let exe = std::env::current_exe().map_err(|e| Error::Server {
        message: format!("cannot find the kuroko binary to run scenarios with: {e}"),
    })?;
    let config = AgentConfig {
        name,
        scenarios_dir: dunce::canonicalize(&scenarios_dir).unwrap_or(scenarios_dir),
        ledger: args.ledger.address(),
        runs_dir,
        exe,
        poll: seconds("--poll", args.poll)?,
        drain_timeout: seconds("--drain-timeout", args.drain_timeout)?,
    };
    // Ctrl+C is caught before anything is printed: whoever reads the first line and stops the
    // agent gets a clean stop, not a killed process.
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            eprintln!("kuroko agent: stopping; the run finishes the item in hand");
        }
    })
    .map_err(|e| Error::Server {
        message: format!("cannot catch Ctrl+C: {e}"),
    })?;
    // The ledger is checked now, so a wrong address is reported at once; the robot's key for
    // secrets is made on its first start and registered under its name.
    let mut store = crate::ledger::open(&config.ledger)?;
    if let Some(line) = super::secret::register_this_pc(&mut *store, &config.name)? {
        println!("kuroko agent {}: {line}", config.name);
    }
    drop(store);
    agent::run(&config, stop)
        .map(|_| crate::exit::SUCCEEDED)
        .map_err(|message| Error::Refused { message })
}

//! `kuroko serve`: the clerk launcher, a local web page to run saved scenarios, watch and stop
//! them, and see the hours saved (see `crate::serve`).

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::files;
use crate::serve::{self, Config};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The folder of saved scenarios the page offers [default: scenarios].
    #[arg(long, value_name = "DIR")]
    scenarios: Option<PathBuf>,
    /// The port on 127.0.0.1 [default: any free port].
    #[arg(long, value_name = "N")]
    port: Option<u16>,
    #[command(flatten)]
    ledger: super::LedgerArg,
    /// Where run folders go [default: $KUROKO_RUNS_DIR or ~/.local/share/kuroko/runs].
    #[arg(long, value_name = "DIR")]
    runs_dir: Option<PathBuf>,
    /// Open the page in the default browser.
    #[arg(long)]
    open: bool,
    /// Start the launcher (with --open, on these scenarios) whenever this user logs on, then
    /// exit. For the current user only; no administrator rights.
    #[arg(long, conflicts_with = "no_start_at_logon")]
    start_at_logon: bool,
    /// Stop starting the launcher at logon, then exit.
    #[arg(long)]
    no_start_at_logon: bool,
    /// How often schedules are looked at, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 20.0, hide = true)]
    schedule_every: f64,
    /// (tests) The launcher's clock starts at this local time, YYYY-MM-DDTHH:MM, and runs on.
    #[arg(long, value_name = "TIME", hide = true)]
    pretend_now: Option<String>,
}

pub fn execute(args: Args) -> Result<i32> {
    let scenarios_dir = args.scenarios.unwrap_or_else(super::default_scenarios_dir);
    if !scenarios_dir.is_dir() {
        return Err(Error::usage(format!(
            "{}: no such folder of scenarios (give one with --scenarios DIR)",
            scenarios_dir.display()
        )));
    }
    if args.no_start_at_logon {
        return match crate::autostart::disable() {
            Ok(true) => {
                println!(
                    "ログオン時の起動をやめました（kuroko serve is no longer started at logon）"
                );
                Ok(crate::exit::SUCCEEDED)
            }
            Ok(false) => {
                println!("ログオン時の起動は登録されていません（nothing was registered）");
                Ok(crate::exit::SUCCEEDED)
            }
            Err(message) => Err(Error::Server { message }),
        };
    }
    if args.start_at_logon {
        let exe = std::env::current_exe()
            .and_then(dunce::canonicalize)
            .map_err(|e| Error::Server {
                message: format!("cannot find the kuroko binary to start at logon: {e}"),
            })?;
        let scenarios =
            dunce::canonicalize(&scenarios_dir).map_err(|e| Error::io(&scenarios_dir, e))?;
        let at = crate::autostart::enable(&exe, &scenarios)
            .map_err(|message| Error::Server { message })?;
        println!(
            "ログオン時に起動画面を開きます（{at}）。やめるときは kuroko serve --no-start-at-logon"
        );
        return Ok(crate::exit::SUCCEEDED);
    }
    let runs_root = args.runs_dir.unwrap_or_else(files::default_runs_dir);
    std::fs::create_dir_all(&runs_root).map_err(|e| Error::io(&runs_root, e))?;
    let exe = std::env::current_exe().map_err(|e| Error::Server {
        message: format!("cannot find the kuroko binary to run scenarios with: {e}"),
    })?;
    if !(args.schedule_every > 0.0 && args.schedule_every.is_finite()) {
        return Err(Error::usage(
            "--schedule-every must be a positive number of seconds",
        ));
    }
    let clock_offset = match &args.pretend_now {
        None => chrono::TimeDelta::zero(),
        Some(t) => {
            let at = chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M").map_err(|_| {
                Error::usage(format!("--pretend-now {t:?}: expected YYYY-MM-DDTHH:MM"))
            })?;
            at - chrono::Local::now().naive_local()
        }
    };
    serve::serve(Config {
        scenarios_dir: dunce::canonicalize(&scenarios_dir).unwrap_or(scenarios_dir),
        ledger: args.ledger.address(),
        runs_root,
        port: args.port.unwrap_or(0),
        exe,
        schedule_every: Duration::from_secs_f64(args.schedule_every),
        open_browser: args.open,
        clock_offset,
    })?;
    Ok(crate::exit::SUCCEEDED)
}

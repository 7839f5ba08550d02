//! The command line: one file per subcommand; this file parses arguments and maps every
//! error to its exit code (see `exit`).

mod agent;
mod check;
mod docs;
mod doctor;
mod inspect;
mod ledger;
mod list;
mod locate;
mod queue;
mod record;
mod report;
mod run;
mod schedule;
mod secret;
mod serve;

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::exit;

/// `--ledger`, the same on every command that reads or writes the ledger.
#[derive(clap::Args, Debug, Clone)]
pub struct LedgerArg {
    /// The ledger: a file, or a PostgreSQL database several PCs share
    /// (postgres://user@host:port/database; the password from $PGPASSWORD)
    /// [default: $KUROKO_LEDGER or ~/.local/share/kuroko/ledger.sqlite3].
    #[arg(long = "ledger", value_name = "FILE|URL", global = true)]
    given: Option<OsString>,
}

impl LedgerArg {
    /// The ledger given, else the default one.
    pub fn address(self) -> crate::ledger::Address {
        match self.given {
            Some(given) => crate::ledger::Address::parse(given),
            None => crate::ledger::Address::default_for_user(),
        }
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "kuroko",
    version,
    about = "Runs saved RPA scenarios (Rhai scripts) on the desktop and counts the time they save."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a scenario folder or an ad-hoc .rhai script.
    Run(run::Args),
    /// Validate a scenario's manifest and script without touching the desktop.
    Check(check::Args),
    /// List the saved scenarios in a folder.
    List(list::Args),
    /// Find a template on a screenshot or the screen, with scores (exit 0 found, 1 not found).
    Locate(locate::Args),
    /// The control under the pointer (or at --at X,Y, or every control of --window) with the
    /// ui:: selector that finds it.
    Inspect(inspect::Args),
    /// Record a task done once on this desktop as a scenario (Shift+Esc ends the recording).
    Record(record::Args),
    /// Look at the ledger of runs, import history from before kuroko, export it.
    Ledger(ledger::Args),
    /// The time-saved report for a month, a fiscal year or a range of days (xlsx, csv, table).
    Report(report::Args),
    /// The clerk launcher: a local web page to run scenarios, watch and stop them, see hours saved.
    Serve(serve::Args),
    /// Scenarios that run by themselves on office days, and the office's closure days.
    Schedule(schedule::Args),
    /// Work queues: add a file's rows as items for robots to take, see them, retry or abandon.
    Queue(queue::Args),
    /// A robot PC's agent: runs the scenarios whose queues have work, one at a time.
    Agent(agent::Args),
    /// Passwords for scenarios (secret::get): set without echo, kept encrypted, listed by name.
    Secret(secret::Args),
    /// (internal) Keeps what a run put back on the clipboard after kuroko exits.
    #[command(hide = true)]
    ClipboardKeeper,
    /// Write the scripting reference (Markdown) generated from the API's doc comments.
    Docs(docs::Args),
    /// Check this PC for scenarios: screen and scale, capture, IME, and a typing self-test.
    Doctor(doctor::Args),
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::SUCCEEDED
            };
            let _ = e.print();
            return code;
        }
    };
    let result = match cli.command {
        Command::Run(args) => run::execute(args),
        Command::Check(args) => check::execute(args),
        Command::List(args) => list::execute(args),
        Command::Docs(args) => docs::execute(args),
        Command::Doctor(args) => doctor::execute(args),
        Command::Locate(args) => locate::execute(args),
        Command::Inspect(args) => inspect::execute(args),
        Command::Record(args) => record::execute(args),
        Command::Ledger(args) => ledger::execute(args),
        Command::Report(args) => report::execute(args),
        Command::Schedule(args) => schedule::execute(args),
        Command::Queue(args) => queue::execute(args),
        Command::Agent(args) => agent::execute(args),
        Command::Secret(args) => secret::execute(args),
        Command::Serve(args) => serve::execute(args),
        Command::ClipboardKeeper => keep_clipboard(),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kuroko: {}", crate::redact::text(&e.to_string()));
            e.code()
        }
    }
}

#[cfg(target_os = "linux")]
fn keep_clipboard() -> crate::error::Result<i32> {
    crate::desktop::x11::keep_clipboard()
        .map(|_| exit::SUCCEEDED)
        .map_err(|e| crate::error::Error::Desktop { message: e.0 })
}

#[cfg(not(target_os = "linux"))]
fn keep_clipboard() -> crate::error::Result<i32> {
    Ok(exit::SUCCEEDED)
}

pub(crate) fn default_scenarios_dir() -> PathBuf {
    PathBuf::from("scenarios")
}

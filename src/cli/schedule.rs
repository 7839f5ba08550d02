//! `kuroko schedule`: scenarios that run by themselves (on office days only), and the office's
//! closure days. Schedules are kept in the ledger; the launcher (`kuroko serve`) runs them.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::Subcommand;

use crate::error::{Error, Result};
use crate::exit;
use crate::ledger;
use crate::scenario::Scenario;
use crate::schedule::{calendar, next_run_text};
use crate::text_table::table;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    ledger: super::LedgerArg,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a scenario by itself: "daily 09:00", "weekly mon 09:00", "monthly 5 09:00" (moved to
    /// the next office day when closed), "monthly office-day 3 08:30", "cron 30 8 * * 1-5" (on
    /// office days only); add "skip-missed" to skip
    /// runs missed while the launcher was not running (default: made up once).
    Add { scenario: PathBuf, when: String },
    /// The schedules, with their next run.
    List,
    /// Stop a schedule.
    Remove { id: String },
    /// Mark a day the office is closed (besides weekends, holidays and 12/29–1/3).
    Close {
        /// YYYY-MM-DD
        day: String,
        #[arg(long, default_value = "閉庁日")]
        reason: String,
    },
    /// Open a day marked closed again.
    Open { day: String },
}

fn day(text: &str) -> Result<String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|d| d.to_string())
        .map_err(|_| Error::usage(format!("{text:?}: expected a day as YYYY-MM-DD")))
}

pub fn execute(args: Args) -> Result<i32> {
    let mut store = ledger::open(&args.ledger.address())?;
    let now = chrono::Local::now().naive_local();
    match args.command {
        Command::Add { scenario, when } => {
            let loaded = Scenario::load(&scenario)?;
            let record = crate::schedule::add(&mut *store, &loaded, &when)?;
            let next = next_run_text(&record.spec, now, &calendar(&*store)?);
            println!(
                "schedule {}: {} {}; next run {}",
                record.id,
                loaded.manifest.name,
                record.spec,
                next.unwrap_or_else(|| "never".into())
            );
        }
        Command::List => {
            let cal = calendar(&*store)?;
            let rows: Vec<Vec<String>> = store
                .schedules()?
                .into_iter()
                .map(|s| {
                    let next = next_run_text(&s.spec, now, &cal).unwrap_or_else(|| "-".into());
                    vec![s.id, s.spec, next, s.scenario_path]
                })
                .collect();
            if rows.is_empty() {
                eprintln!("no schedules in {}", store.location());
            } else {
                let header = ["id", "when", "next run", "scenario"].map(String::from);
                print!("{}", table(&header, &rows, &[]));
            }
        }
        Command::Remove { id } => {
            if !store.remove_schedule(&id)? {
                let known: Vec<String> = store.schedules()?.into_iter().map(|s| s.id).collect();
                return Err(Error::usage(format!(
                    "no schedule {id:?}{}; schedules: {}",
                    crate::suggest::hint(&id, known.iter().map(String::as_str)),
                    if known.is_empty() {
                        "none".into()
                    } else {
                        known.join(", ")
                    }
                )));
            }
            println!("schedule {id} removed");
        }
        Command::Close { day: d, reason } => {
            let d = day(&d)?;
            store.set_closed_day(&d, Some(&reason))?;
            println!("{d}: closed ({reason})");
        }
        Command::Open { day: d } => {
            let d = day(&d)?;
            if !store.set_closed_day(&d, None)? {
                return Err(Error::usage(format!("{d} was not marked closed")));
            }
            println!("{d}: open again");
        }
    }
    Ok(exit::SUCCEEDED)
}

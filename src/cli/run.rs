//! `kuroko run`: run a scenario and exit with its outcome's code.

use std::path::PathBuf;

use crate::desktop::{Key, StopSettings};
use crate::error::{Error, Result};
use crate::events::Trigger;
use crate::files;
use crate::run::{self, RunOptions};
use crate::scenario::Scenario;

/// The abort hotkey when none is configured: easy to hit in a hurry, rare in business systems.
pub const DEFAULT_ABORT_HOTKEY: &str = "Shift+Escape";

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A scenario folder (with scenario.toml and main.rhai) or a .rhai file.
    path: PathBuf,
    /// Run against a fake desktop: print the actions, touch no display.
    #[arg(long)]
    dry_run: bool,
    /// A run variable, readable with task::get_var("name"); repeatable.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,
    /// Where run folders (log, events, screenshots) go [default: $KUROKO_RUNS_DIR or ~/.local/share/kuroko/runs].
    #[arg(long, value_name = "DIR")]
    runs_dir: Option<PathBuf>,
    /// The abort hotkey, keys joined by '+' [default: $KUROKO_ABORT_HOTKEY or Shift+Escape]; "none" disables it.
    #[arg(long, value_name = "KEYS")]
    abort_hotkey: Option<String>,
    /// Do not stop the run when the pointer is pushed into a screen corner.
    #[arg(long)]
    no_failsafe: bool,
    /// For --dry-run: a PNG that stands in for the screen.
    #[arg(long, value_name = "PNG", requires = "dry_run")]
    screen: Option<PathBuf>,
    #[command(flatten)]
    ledger: super::LedgerArg,
    /// What started the run, for the ledger: manual, launcher or scheduled (set by the launcher).
    #[arg(long, value_enum, default_value_t = Trigger::Manual, hide = true)]
    trigger: Trigger,
    /// The run stops when this file appears (how the launcher stops runs on any system).
    #[arg(long, value_name = "FILE", hide = true)]
    stop_file: Option<PathBuf>,
    /// Once this file appears, queue::next() gives no more items, so the run ends after the
    /// item in hand (how an agent stops cleanly).
    #[arg(long, value_name = "FILE", hide = true)]
    drain_file: Option<PathBuf>,
    /// Print every action in the terminal (run.log always has them).
    #[arg(long, short)]
    verbose: bool,
}

fn parse_vars(vars: &[String]) -> Result<Vec<(String, String)>> {
    vars.iter()
        .map(|v| match v.split_once('=') {
            Some((name, value)) if !name.trim().is_empty() => {
                Ok((name.trim().to_string(), value.to_string()))
            }
            _ => Err(Error::usage(format!(
                "--var {v:?}: expected NAME=VALUE, e.g. --var month=2024-04"
            ))),
        })
        .collect()
}

/// Parses "Shift+Escape" style hotkeys; "none" or "" disables.
pub fn parse_hotkey(text: &str) -> Result<Vec<Key>> {
    if text.trim().is_empty() || text.trim().eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    text.split('+')
        .map(|part| {
            Key::parse(part.trim()).map_err(|e| Error::usage(format!("abort hotkey {text:?}: {e}")))
        })
        .collect()
}

pub fn execute(args: Args) -> Result<i32> {
    let scenario = Scenario::load(&args.path)?;
    let hotkey_text = args
        .abort_hotkey
        .clone()
        .or_else(|| std::env::var("KUROKO_ABORT_HOTKEY").ok())
        .unwrap_or_else(|| DEFAULT_ABORT_HOTKEY.to_string());
    let options = RunOptions {
        dry_run: args.dry_run,
        vars: parse_vars(&args.vars)?,
        runs_dir: args.runs_dir.unwrap_or_else(files::default_runs_dir),
        verbose: args.verbose,
        stop: StopSettings {
            hotkey: parse_hotkey(&hotkey_text)?,
            failsafe_corner: !args.no_failsafe,
        },
        fake_screen: args.screen,
        ledger: args.ledger.address(),
        trigger: args.trigger,
        stop_file: args.stop_file,
        drain_file: args.drain_file,
    };
    let report = run::run(&scenario, &options)?;
    Ok(report.outcome.exit_code())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vars_and_hotkeys_parse_or_explain() {
        assert_eq!(
            parse_vars(&["a=b=c".into()]).unwrap(),
            vec![("a".into(), "b=c".into())]
        );
        assert!(parse_vars(&["novalue".into()]).is_err());
        assert_eq!(parse_hotkey("Shift+Escape").unwrap().len(), 2);
        assert!(parse_hotkey("none").unwrap().is_empty());
        assert!(
            parse_hotkey("Shift+Escap")
                .unwrap_err()
                .to_string()
                .contains("Escape")
        );
    }
}

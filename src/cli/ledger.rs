//! `kuroko ledger list | import | export`: look at the runs recorded, bring in history from
//! before kuroko, and take everything out as CSV (or JSON lines) for other tools.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Subcommand, ValueEnum};

use crate::error::{Error, Result};
use crate::exit;
use crate::ledger::{self, Address, Filter, RunRecord, import};
use crate::text_table::{Align, table};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    ledger: super::LedgerArg,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// The latest runs, newest first (interrupted runs are found and marked first).
    List {
        /// How many runs to show.
        #[arg(long, default_value_t = 20)]
        limit: u64,
        /// Only this scenario's runs.
        #[arg(long, value_name = "ID")]
        scenario: Option<String>,
    },
    /// Add history from before kuroko: a CSV with the header
    /// date,department,task,runs,items,before_minutes,after_minutes,robot_minutes
    /// (UTF-8 or Shift_JIS). All rows or none.
    Import { file: PathBuf },
    /// Every run as CSV (UTF-8 with BOM) or JSON lines, to a file or standard output.
    Export {
        #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
        format: ExportFormat,
        /// Write here (whole or not at all) instead of standard output.
        #[arg(long, value_name = "PATH")]
        out: Option<PathBuf>,
        /// First day, YYYY-MM-DD.
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// Last day, YYYY-MM-DD.
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum ExportFormat {
    Csv,
    Jsonl,
}

/// Opens a ledger that must already exist (reading a mistyped path should not create an
/// empty ledger and report nothing).
pub fn open_for_reading(ledger: &Address) -> Result<Box<dyn ledger::Reports>> {
    let store: Box<dyn ledger::Reports> = ledger::open_existing(ledger)?.ok_or_else(|| {
        Error::usage(format!(
            "no ledger at {ledger}: runs are recorded there once a scenario has run (check --ledger or $KUROKO_LEDGER)"
        ))
    })?;
    Ok(store)
}

pub fn execute(args: Args) -> Result<i32> {
    let ledger = args.ledger.address();
    match args.command {
        Command::List { limit, scenario } => list(&ledger, limit, scenario),
        Command::Import { file } => import_file(&ledger, &file),
        Command::Export {
            format,
            out,
            from,
            to,
        } => export(&ledger, format, out.as_deref(), from, to),
    }
}

fn list(path: &Address, limit: u64, scenario: Option<String>) -> Result<i32> {
    let store = open_for_reading(path)?;
    let filter = Filter {
        scenario_id: scenario,
        newest_first: true,
        limit: Some(limit),
        ..Filter::default()
    };
    let mut rows = Vec::new();
    store.for_each_run(&filter, &mut |r| {
        rows.push(vec![
            r.started_at
                .get(..19)
                .unwrap_or(&r.started_at)
                .replace('T', " "),
            r.state.as_str().to_string(),
            if r.kind == ledger::Kind::Import {
                format!("(import x{})", r.runs)
            } else {
                r.scenario_id.clone()
            },
            r.department.clone(),
            r.task.clone(),
            r.items_done.to_string(),
            r.items_failed.to_string(),
            format!("{:.1}", r.time.saved_minutes),
            r.machine.clone(),
            r.os_user.clone(),
            r.run_id.clone(),
        ]);
        Ok(())
    })?;
    let header = [
        "started",
        "outcome",
        "scenario",
        "department",
        "task",
        "done",
        "failed",
        "saved min",
        "machine",
        "user",
        "run",
    ]
    .map(String::from);
    let align = [
        Align::Left,
        Align::Left,
        Align::Left,
        Align::Left,
        Align::Left,
        Align::Right,
        Align::Right,
        Align::Right,
        Align::Left,
        Align::Left,
        Align::Left,
    ];
    if rows.is_empty() {
        eprintln!("no runs recorded in {path}");
    } else {
        print!("{}", table(&header, &rows, &align));
    }
    Ok(exit::SUCCEEDED)
}

fn import_file(path: &Address, file: &Path) -> Result<i32> {
    let batch = import::read(file).map_err(|problems| Error::Refused {
        message: format!("{}\nnothing was imported", problems.join("\n")),
    })?;
    let mut store = ledger::open(path)?;
    let n = store
        .import(&batch)
        .map_err(|e| Error::Refused { message: e.0 })?;
    let runs: u64 = batch.rows.iter().map(|r| r.runs).sum();
    let before: f64 = batch.rows.iter().map(|r| r.before_minutes).sum();
    let after: f64 = batch.rows.iter().map(|r| r.after_minutes).sum();
    println!(
        "imported {n} row(s) ({runs} run(s); before {:.1} h, after {:.1} h) from {} into {}",
        before / 60.0,
        after / 60.0,
        file.display(),
        store.location()
    );
    Ok(exit::SUCCEEDED)
}

const EXPORT_COLUMNS: [&str; 27] = [
    "run_id",
    "kind",
    "scenario_id",
    "scenario_name",
    "script_hash",
    "department",
    "task",
    "machine",
    "os_user",
    "started_at",
    "ended_at",
    "outcome",
    "runs",
    "items_done",
    "items_failed",
    "robot_minutes",
    "manual_minutes_per_item",
    "human_minutes_per_item",
    "human_minutes_per_run",
    "attended",
    "before_minutes",
    "after_minutes",
    "saved_minutes",
    "message",
    "location",
    "run_dir",
    "trigger",
];

fn export_fields(r: &RunRecord) -> [String; 27] {
    let b = &r.baselines;
    [
        r.run_id.clone(),
        r.kind.as_str().into(),
        r.scenario_id.clone(),
        r.scenario_name.clone(),
        r.script_hash.clone(),
        r.department.clone(),
        r.task.clone(),
        r.machine.clone(),
        r.os_user.clone(),
        r.started_at.clone(),
        r.ended_at.clone().unwrap_or_default(),
        r.state.as_str().into(),
        r.runs.to_string(),
        r.items_done.to_string(),
        r.items_failed.to_string(),
        r.robot_minutes.to_string(),
        b.manual_minutes_per_item.to_string(),
        b.human_minutes_per_item.to_string(),
        b.human_minutes_per_run.to_string(),
        b.attended.to_string(),
        r.time.before_minutes.to_string(),
        r.time.after_minutes.to_string(),
        r.time.saved_minutes.to_string(),
        r.message.clone().unwrap_or_default(),
        r.location.clone().unwrap_or_default(),
        r.run_dir.clone().unwrap_or_default(),
        r.trigger.as_str().to_string(),
    ]
}

fn export(
    path: &Address,
    format: ExportFormat,
    out: Option<&Path>,
    from: Option<String>,
    to: Option<String>,
) -> Result<i32> {
    let day = |flag: &str, d: Option<String>, next: bool| -> Result<Option<String>> {
        d.map(|d| {
            chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                .map(|x| if next { x.succ_opt().unwrap_or(x) } else { x }.to_string())
                .map_err(|_| Error::usage(format!("{flag} {d:?}: expected YYYY-MM-DD")))
        })
        .transpose()
    };
    let filter = Filter {
        from: day("--from", from, false)?,
        to: day("--to", to, true)?,
        ..Filter::default()
    };
    let store = open_for_reading(path)?;
    let export = |sink: Box<dyn Write>| -> Result<u64> {
        let mut sink = std::io::BufWriter::new(sink);
        let n = write_export(&*store, &filter, format, &mut sink)?;
        sink.flush().map_err(|e| Error::Ledger {
            message: format!("cannot write the export: {e}"),
        })?;
        Ok(n)
    };
    match out {
        None => {
            export(Box::new(std::io::stdout().lock()))?;
        }
        Some(target) => {
            // Whole or not at all; the command's own error (and its exit code) is kept.
            let mut failure = None;
            let written = crate::files::replace_file(target, |temp| {
                let file = std::fs::File::create(temp)
                    .map_err(|e| format!("cannot write {}: {e}", temp.display()))?;
                export(Box::new(file)).map_err(|e| {
                    let text = e.to_string();
                    failure = Some(e);
                    text
                })
            });
            match (written, failure) {
                (Ok(n), _) => eprintln!("exported {n} record(s) to {}", target.display()),
                (Err(_), Some(e)) => return Err(e),
                (Err(message), None) => return Err(Error::Ledger { message }),
            }
        }
    }
    Ok(exit::SUCCEEDED)
}

fn write_export(
    store: &dyn ledger::Reports,
    filter: &Filter,
    format: ExportFormat,
    sink: &mut dyn Write,
) -> Result<u64> {
    let failed = |e: String| Error::Ledger {
        message: format!("cannot write the export: {e}"),
    };
    let mut n = 0;
    match format {
        ExportFormat::Csv => {
            sink.write_all(b"\xEF\xBB\xBF")
                .map_err(|e| failed(e.to_string()))?;
            let mut w = csv::Writer::from_writer(sink);
            w.write_record(EXPORT_COLUMNS)
                .map_err(|e| failed(e.to_string()))?;
            store.for_each_run(filter, &mut |r| {
                n += 1;
                w.write_record(export_fields(&r).iter().map(|f| excel_safe(f).into_owned()))
                    .map_err(|e| ledger::LedgerError(format!("cannot write the export: {e}")))
            })?;
            w.flush().map_err(|e| failed(e.to_string()))?;
        }
        ExportFormat::Jsonl => {
            store.for_each_run(filter, &mut |r| {
                n += 1;
                let line = serde_json::to_string(&r).unwrap_or_default();
                writeln!(sink, "{line}")
                    .map_err(|e| ledger::LedgerError(format!("cannot write the export: {e}")))
            })?;
        }
    }
    Ok(n)
}

/// A CSV cell Excel would take for a formula (`=`, `+`, `-`, `@`, or a tab or carriage return
/// first) gets a leading `'`, so opening the export never runs what a script or an imported row
/// wrote there. Numbers (a negative saving) are left as they are.
fn excel_safe(field: &str) -> std::borrow::Cow<'_, str> {
    let risky = field.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && field.parse::<f64>().is_err() {
        format!("'{field}").into()
    } else {
        field.into()
    }
}

#[cfg(test)]
mod tests {
    use super::excel_safe;

    #[test]
    fn formula_like_cells_are_quoted_and_numbers_are_not() {
        assert_eq!(excel_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(excel_safe("+81-48"), "'+81-48");
        assert_eq!(excel_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(excel_safe("-cmd"), "'-cmd");
        assert_eq!(excel_safe("-12.5"), "-12.5");
        assert_eq!(excel_safe("市民課"), "市民課");
    }
}

//! `kuroko report`: the time-saved report for a month, a fiscal year or a range of days, as
//! an xlsx workbook with charts, a CSV, or a table in the terminal.

use std::path::PathBuf;

use clap::ValueEnum;

use crate::error::{Error, Result};
use crate::exit;
use crate::files::write_atomic;
use crate::report::{Period, Report, text, xlsx};

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("period").required(true).args(["month", "fiscal_year", "from"])))]
pub struct Args {
    /// A month, YYYY-MM.
    #[arg(long, value_name = "YYYY-MM")]
    month: Option<String>,
    /// A Japanese fiscal year (April to March), by the year it starts: 2021 = 令和3年度.
    #[arg(long, value_name = "YYYY")]
    fiscal_year: Option<String>,
    /// First day, YYYY-MM-DD (with --to).
    #[arg(long, value_name = "DATE", requires = "to")]
    from: Option<String>,
    /// Last day, YYYY-MM-DD (with --from).
    #[arg(long, value_name = "DATE", requires = "from")]
    to: Option<String>,
    /// Only this department (課).
    #[arg(long, value_name = "NAME")]
    department: Option<String>,
    /// xlsx (with charts), csv, or a table in the terminal [default: from --out's extension, else table].
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Where to write the xlsx or csv [default: kuroko-report-<period>.<format> here].
    #[arg(long, value_name = "PATH")]
    out: Option<PathBuf>,
    /// At most this many runs in the xlsx's 実行一覧 sheet, newest first (`kuroko ledger export` has them all).
    #[arg(long, value_name = "N", default_value_t = xlsx::DEFAULT_MAX_RUNS)]
    max_runs: u64,
    #[command(flatten)]
    ledger: super::LedgerArg,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Xlsx,
    Csv,
    Table,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Xlsx => "xlsx",
            Format::Csv => "csv",
            Format::Table => "txt",
        }
    }
}

fn period(args: &Args) -> std::result::Result<Period, String> {
    match (&args.month, &args.fiscal_year, &args.from, &args.to) {
        (Some(m), _, _, _) => Period::month(m),
        (_, Some(fy), _, _) => Period::fiscal_year(fy),
        (_, _, Some(from), Some(to)) => Period::days(from, to),
        _ => Err("give --month, --fiscal-year, or --from and --to".into()),
    }
}

pub fn execute(args: Args) -> Result<i32> {
    let period = period(&args).map_err(Error::usage)?;
    let format = match (args.format, &args.out) {
        (Some(f), _) => f,
        (None, Some(out)) => match out.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("csv") => Format::Csv,
            Some(e) if e.eq_ignore_ascii_case("xlsx") => Format::Xlsx,
            _ => Format::Table,
        },
        (None, None) => Format::Table,
    };
    let default_out = || {
        PathBuf::from(format!(
            "kuroko-report-{}.{}",
            period.slug,
            format.extension()
        ))
    };
    let out = args.out.clone();
    let store = super::ledger::open_for_reading(&args.ledger.address())?;
    let report = Report::build(&*store, period.clone(), args.department)?;
    let written = |out: &PathBuf, bytes: &[u8]| {
        write_atomic(out, bytes).map_err(|e| Error::Ledger {
            message: format!("{}: {e}", out.display()),
        })
    };
    match format {
        Format::Table => match out {
            None => print!("{}", text::table_text(&report)),
            Some(out) => written(&out, text::table_text(&report).as_bytes())?,
        },
        Format::Csv => {
            let out = out.unwrap_or_else(default_out);
            let bytes = text::csv_bytes(&report).map_err(|e| Error::Ledger { message: e })?;
            written(&out, &bytes)?;
            eprintln!("report written to {}", out.display());
        }
        Format::Xlsx => {
            let out = out.unwrap_or_else(default_out);
            let runs = xlsx::write(&report, &*store, &out, args.max_runs)?;
            eprintln!("report written to {} ({runs} run record(s))", out.display());
        }
    }
    Ok(exit::SUCCEEDED)
}

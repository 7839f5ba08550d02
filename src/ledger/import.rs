//! `kuroko ledger import`: history from before kuroko, one CSV row per day and task (a row may
//! stand for many runs). Every row is checked first; one bad row and nothing is imported.

use std::path::Path;

use chrono::NaiveDate;

use super::{ImportBatch, ImportRow, sha256_hex};
use crate::sheets::csv::decode;

/// The columns an import file must have (in any order; other columns are ignored).
pub const COLUMNS: [&str; 8] = [
    "date",
    "department",
    "task",
    "runs",
    "items",
    "before_minutes",
    "after_minutes",
    "robot_minutes",
];

/// How many problems are listed before "and N more".
const SHOWN_PROBLEMS: usize = 20;
/// The largest import file (ten years of 100 tasks a day is about 40 MB).
pub const MAX_IMPORT_BYTES: u64 = 64 * 1024 * 1024;
/// The longest line of an import file.
pub const MAX_LINE_CHARS: usize = 4096;
/// The longest 課 or 業務 (the same as a scenario's `department` and `task`).
pub const MAX_LABEL_CHARS: usize = crate::scenario::MAX_LABEL_CHARS;

/// Reads and checks an import file. On any problem: every problem found (line and column),
/// and nothing to import. At most `MAX_IMPORT_BYTES` are read, so a device or an endless file
/// (`/dev/zero`) is refused instead of filling the memory.
pub fn read(path: &Path) -> Result<ImportBatch, Vec<String>> {
    use std::io::Read;
    let label = path.display().to_string();
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_IMPORT_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| vec![format!("{label}: {e}")])?;
    if bytes.len() as u64 > MAX_IMPORT_BYTES {
        return Err(vec![format!(
            "{label}: larger than {} MB; split the history into files of at most that size (e.g. one per fiscal year)",
            MAX_IMPORT_BYTES >> 20
        )]);
    }
    if let Some((n, _)) = bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .find(|(_, line)| line.len() > MAX_LINE_CHARS * 4)
    {
        return Err(vec![format!(
            "{label}: line {}: longer than {MAX_LINE_CHARS} characters; is it a history CSV?",
            n + 1
        )]);
    }
    let (text, _encoding) = decode(&bytes, &label, None).map_err(|e| vec![e.0])?;
    let rows = parse(&text, &label)?;
    Ok(ImportBatch {
        file_hash: sha256_hex(&[&bytes]),
        file_name: label,
        rows,
    })
}

/// Checks the text of an import file.
pub fn parse(text: &str, label: &str) -> Result<Vec<ImportRow>, Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => return Err(vec![format!("{label}: line 1: {e}")]),
        None => return Err(vec![format!("{label}: the file is empty")]),
    };
    let names: Vec<String> = header.iter().map(|h| h.to_ascii_lowercase()).collect();
    let missing: Vec<&str> = COLUMNS
        .iter()
        .copied()
        .filter(|c| !names.iter().any(|n| n == c))
        .collect();
    if !missing.is_empty() {
        return Err(vec![format!(
            "{label}: line 1: missing column(s) {}; the header must name {}",
            missing.join(", "),
            COLUMNS.join(",")
        )]);
    }
    let at = |column: &str| names.iter().position(|n| n == column).unwrap_or(0);
    let index: [usize; 8] = COLUMNS.map(at);

    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                problems.push(format!("{label}: line {line}: {e}"));
                continue;
            }
        };
        let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
        if record.iter().all(str::is_empty) {
            continue;
        }
        let mut row_problems = Vec::new();
        let mut check = |i: usize, parse: &dyn Fn(&str) -> Result<(), String>| {
            let column = COLUMNS[i];
            match record.get(index[i]) {
                None => row_problems.push(format!(
                    "{label}: line {line}, column {column}: missing (the row has {} field(s))",
                    record.len()
                )),
                Some(text) => {
                    if let Err(why) = parse(text) {
                        row_problems.push(format!(
                            "{label}: line {line}, column {column}: {text:?} {why}"
                        ));
                    }
                }
            }
        };
        let field = |i: usize| record.get(index[i]).unwrap_or("");
        check(0, &|t| {
            parse_date(t)
                .map(|_| ())
                .ok_or("is not a date (expected YYYY-MM-DD)".into())
        });
        for i in [1, 2] {
            check(i, &|t| {
                if t.is_empty() {
                    Err("is empty".into())
                } else if t.chars().count() > MAX_LABEL_CHARS {
                    Err(format!("is longer than {MAX_LABEL_CHARS} characters"))
                } else if let Some(c) = t.chars().find(|c| crate::scenario::is_hidden_control(*c)) {
                    Err(format!("contains the control character U+{:04X}", c as u32))
                } else {
                    Ok(())
                }
            });
        }
        check(3, &|t| whole(t, 1).map(|_| ()));
        check(4, &|t| whole(t, 0).map(|_| ()));
        for i in 5..8 {
            check(i, &|t| minutes(t).map(|_| ()));
        }
        if row_problems.is_empty() {
            rows.push(ImportRow {
                line,
                date: parse_date(field(0))
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                department: field(1).to_string(),
                task: field(2).to_string(),
                runs: whole(field(3), 1).unwrap_or(0),
                items: whole(field(4), 0).unwrap_or(0),
                before_minutes: minutes(field(5)).unwrap_or(0.0),
                after_minutes: minutes(field(6)).unwrap_or(0.0),
                robot_minutes: minutes(field(7)).unwrap_or(0.0),
            });
        } else {
            problems.append(&mut row_problems);
        }
    }
    if problems.is_empty() && rows.is_empty() {
        problems.push(format!("{label}: no rows under the header"));
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        let more = problems.len().saturating_sub(SHOWN_PROBLEMS);
        problems.truncate(SHOWN_PROBLEMS);
        if more > 0 {
            problems.push(format!("... and {more} more problem(s)"));
        }
        Err(problems)
    }
}

/// `2021-04-01`, or `2021/4/1` as Japanese Excel writes it.
fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%Y/%m/%d"))
        .ok()
        .filter(|_| text.len() >= 8)
}

/// A count: a whole number, at least `least`.
fn whole(text: &str, least: u64) -> Result<u64, String> {
    match parse_number(text) {
        None => Err("is not a number".into()),
        Some(n) if n < 0.0 => Err("is negative".into()),
        Some(n) if n.fract() != 0.0 => Err("is not a whole number".into()),
        Some(n) if n < least as f64 => Err(format!("must be at least {least}")),
        Some(n) => Ok(n as u64),
    }
}

/// Minutes: a number, not negative.
fn minutes(text: &str) -> Result<f64, String> {
    match parse_number(text) {
        None => Err("is not a number".into()),
        Some(n) if n < 0.0 => Err("is negative".into()),
        Some(n) => Ok(n),
    }
}

/// A plain decimal number, thousands separators allowed ("1,234.5").
fn parse_number(text: &str) -> Option<f64> {
    let plain = text.replace(',', "");
    if plain.is_empty()
        || !plain
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return None;
    }
    plain.parse::<f64>().ok().filter(|n| n.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "date,department,task,runs,items,before_minutes,after_minutes,robot_minutes\n";

    #[test]
    fn reads_rows_in_any_column_order_with_excel_dates() {
        let rows = parse(
            "task,date,department,runs,items,before_minutes,after_minutes,robot_minutes,備考\n\
             住民票,2021/4/1,市民課,3,120,\"1,200\",40.5,12,x\n",
            "h.csv",
        )
        .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].date, "2021-04-01");
        assert_eq!(rows[0].line, 2);
        assert_eq!((rows[0].runs, rows[0].items), (3, 120));
        assert_eq!(rows[0].before_minutes, 1200.0);
    }

    #[test]
    fn bad_rows_are_named_by_line_and_column() {
        let text = format!(
            "{HEADER}2021-04-01,市民課,住民票,1,10,100,10,5\n\
             2021-02-30,市民課,住民票,1,10,100,10,5\n\
             2021-04-02,市民課,住民票,1,-4,100,10,5\n\
             2021-04-03,市民課,住民票,1,10,abc,10\n"
        );
        let problems = parse(&text, "h.csv").unwrap_err();
        assert!(problems[0].contains("line 3, column date"), "{problems:?}");
        assert!(problems[1].contains("line 4, column items: \"-4\" is negative"));
        let line5 = problems[2..].join("\n");
        assert!(line5.contains("line 5, column before_minutes: \"abc\" is not a number"));
        assert!(line5.contains("line 5, column robot_minutes: missing"));
        assert_eq!(problems.len(), 4);
    }

    #[test]
    fn a_missing_column_is_named() {
        let problems = parse(
            "date,department,task,runs,items,before_minutes,after_minutes\n",
            "h.csv",
        )
        .unwrap_err();
        assert!(problems[0].contains("line 1: missing column(s) robot_minutes"));
    }

    #[test]
    fn runs_must_be_whole_and_positive() {
        let text = format!("{HEADER}2021-04-01,a,b,0,1,1,1,1\n2021-04-01,a,b,1.5,1,1,1,1\n");
        let problems = parse(&text, "h.csv").unwrap_err();
        assert!(problems[0].contains("must be at least 1"), "{problems:?}");
        assert!(problems[1].contains("not a whole number"));
    }
}

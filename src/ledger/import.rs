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

/// Reads and checks an import file. On any problem: every problem found (line and column),
/// and nothing to import.
pub fn read(path: &Path) -> Result<ImportBatch, Vec<String>> {
    let label = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| vec![format!("{label}: {e}")])?;
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
        let mut field = |i: usize| -> (&'static str, String) {
            let column = COLUMNS[i];
            match record.get(index[i]) {
                Some(v) => (column, v.to_string()),
                None => {
                    row_problems.push(format!(
                        "{label}: line {line}, column {column}: missing (the row has {} field(s))",
                        record.len()
                    ));
                    (column, String::new())
                }
            }
        };
        let values: Vec<(&str, String)> = (0..8).map(&mut field).collect();
        let mut problem = |column: &str, text: &str, why: &str| {
            row_problems.push(format!(
                "{label}: line {line}, column {column}: {text:?} {why}"
            ));
        };
        let date = parse_date(&values[0].1);
        if date.is_none() && !values[0].1.is_empty() {
            problem("date", &values[0].1, "is not a date (expected YYYY-MM-DD)");
        }
        for (column, value) in &values[1..3] {
            if value.is_empty() {
                problem(column, value, "is empty");
            }
        }
        let missing = record.len();
        let present = |i: usize| index[i] < missing;
        let mut count = |(column, text): &(&str, String), least: u64| -> u64 {
            if text.is_empty() && !present(COLUMNS.iter().position(|c| c == column).unwrap_or(0)) {
                return 0;
            }
            match parse_number(text) {
                Some(n) if n.fract() == 0.0 && n >= least as f64 => n as u64,
                Some(n) if n < 0.0 => {
                    problem(column, text, "is negative");
                    0
                }
                Some(n) if n.fract() != 0.0 => {
                    problem(column, text, "is not a whole number");
                    0
                }
                Some(_) => {
                    problem(column, text, &format!("must be at least {least}"));
                    0
                }
                None => {
                    problem(column, text, "is not a number");
                    0
                }
            }
        };
        let runs = count(&values[3], 1);
        let items = count(&values[4], 0);
        let mut minutes = |(column, text): &(&str, String)| -> f64 {
            if text.is_empty() && !present(COLUMNS.iter().position(|c| c == column).unwrap_or(0)) {
                return 0.0;
            }
            match parse_number(text) {
                Some(n) if n >= 0.0 => n,
                Some(_) => {
                    problem(column, text, "is negative");
                    0.0
                }
                None => {
                    problem(column, text, "is not a number");
                    0.0
                }
            }
        };
        let before = minutes(&values[5]);
        let after = minutes(&values[6]);
        let robot = minutes(&values[7]);
        if row_problems.is_empty() {
            rows.push(ImportRow {
                line,
                date: date.map(|d| d.to_string()).unwrap_or_default(),
                department: values[1].1.clone(),
                task: values[2].1.clone(),
                runs,
                items,
                before_minutes: before,
                after_minutes: after,
                robot_minutes: robot,
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

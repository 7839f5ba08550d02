//! Spreadsheets for scenarios: reading xlsx/xlsm/xls/ods (calamine) and CSV (UTF-8 or
//! Shift_JIS, detected) into a header and typed rows, and writing xlsx (rust_xlsxwriter) and CSV,
//! atomically. Pure file work: the script API (`script/sheet.rs`) adds the sandbox and Rhai values.

pub mod csv;
pub mod read;
pub mod value;
pub mod write;

pub use read::{ReadOptions, SheetRef};
pub use value::{SheetDate, Value};

/// The years a script's dates may fall in: from 明治 (1868) to the last year an xlsx date can
/// hold. Date arithmetic beyond them is an error that says so.
pub const DATE_YEARS: std::ops::RangeInclusive<i32> = 1868..=9999;

/// What went wrong, already naming the file, sheet or cell.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct SheetError(pub String);

/// A cell position, 0-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    pub row: u32,
    pub col: u32,
}

impl Cell {
    /// Parses "B3" (column letters, then a 1-based row).
    pub fn parse(text: &str) -> Option<Cell> {
        let t = text.trim().to_ascii_uppercase();
        let letters: String = t.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
        let digits = &t[letters.len()..];
        if letters.is_empty()
            || letters.len() > 3
            || digits.is_empty()
            || !digits.chars().all(|c| c.is_ascii_digit())
        {
            return None;
        }
        let col = letters
            .chars()
            .fold(0u32, |acc, c| acc * 26 + (c as u32 - 'A' as u32 + 1))
            - 1;
        let row: u32 = digits.parse().ok()?;
        (row >= 1).then(|| Cell { row: row - 1, col })
    }

    /// "A1:F200"
    pub fn parse_range(text: &str) -> Option<(Cell, Cell)> {
        let (a, b) = text.split_once(':')?;
        let (a, b) = (Cell::parse(a)?, Cell::parse(b)?);
        (a.row <= b.row && a.col <= b.col).then_some((a, b))
    }

    pub fn column_name(col: u32) -> String {
        let mut n = col + 1;
        let mut s = Vec::new();
        while n > 0 {
            let r = (n - 1) % 26;
            s.push((b'A' + r as u8) as char);
            n = (n - 1) / 26;
        }
        s.iter().rev().collect()
    }
}

/// A sheet read: its column names and typed rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub sheet: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Value>>,
    /// For CSV: the encoding used.
    pub encoding: Option<&'static str>,
    /// 1-based sheet row of the first data row, and the first column (for messages).
    pub first_row: u32,
    pub first_col: u32,
}

/// Builds a table from a grid whose first row (of `header_row`) names the columns.
pub fn table_from_grid(
    label: &str,
    sheet: &str,
    grid: Vec<Vec<Value>>,
    opts: &ReadOptions,
    encoding: Option<&'static str>,
) -> Result<Table, SheetError> {
    let header_index = opts.header_row.saturating_sub(1) as usize;
    let (headers, data_start) = match &opts.columns {
        Some(cols) => (cols.clone(), header_index),
        None => {
            let Some(row) = grid.get(header_index) else {
                return Ok(Table {
                    sheet: sheet.into(),
                    headers: Vec::new(),
                    rows: Vec::new(),
                    encoding,
                    first_row: opts.header_row + 1,
                    first_col: 0,
                });
            };
            let mut names: Vec<String> = row
                .iter()
                .map(|v| match v {
                    Value::Empty => String::new(),
                    Value::Text(t) => t.trim().to_string(),
                    Value::Date(d) => d.to_string(),
                    Value::Int(i) => i.to_string(),
                    Value::Float(f) => f.to_string(),
                    Value::Bool(b) => b.to_string(),
                })
                .collect();
            // Trailing unnamed columns with no data are not columns (one pass over the data).
            let last_named = names
                .iter()
                .rposition(|n| !n.is_empty())
                .map_or(0, |i| i + 1);
            let last_used = grid[header_index + 1..]
                .iter()
                .filter_map(|r| r.iter().rposition(|v| !v.is_empty()))
                .max()
                .map_or(0, |i| i + 1);
            names.truncate(last_named.max(last_used.min(names.len())));
            let where_ = format!("{label}, sheet {sheet:?}, header row {}", opts.header_row);
            if let Some(i) = names.iter().position(|n| n.is_empty()) {
                return Err(SheetError(format!(
                    "{where_}: column {} has no name; name it in the file or give the names with `columns: [...]`",
                    Cell::column_name(i as u32)
                )));
            }
            let mut seen = std::collections::HashMap::with_capacity(names.len());
            for (i, n) in names.iter().enumerate() {
                if let Some(j) = seen.insert(n.as_str(), i) {
                    return Err(SheetError(format!(
                        "{where_}: the name {n:?} is used twice (columns {} and {}); rename one or give the names with `columns: [...]`",
                        Cell::column_name(j as u32),
                        Cell::column_name(i as u32)
                    )));
                }
            }
            (names, header_index + 1)
        }
    };
    let width = headers.len();
    let mut rows = Vec::with_capacity(grid.len().saturating_sub(data_start));
    for mut row in grid.into_iter().skip(data_start) {
        row.resize(width, Value::Empty);
        if opts.skip_empty_rows && row.iter().all(Value::is_empty) {
            continue;
        }
        rows.push(row);
    }
    Ok(Table {
        sheet: sheet.into(),
        headers,
        rows,
        encoding,
        first_row: data_start as u32 + 1,
        first_col: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_references_parse_and_print() {
        assert_eq!(Cell::parse("B3"), Some(Cell { row: 2, col: 1 }));
        assert_eq!(Cell::parse("aa10"), Some(Cell { row: 9, col: 26 }));
        assert_eq!(Cell::parse("3B"), None);
        assert_eq!(Cell::parse("A0"), None);
        assert_eq!(Cell::column_name(0), "A");
        assert_eq!(Cell::column_name(27), "AB");
        assert!(Cell::parse_range("A1:F200").is_some());
        assert!(Cell::parse_range("F1:A200").is_none());
    }

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn headers_are_checked_and_trailing_blank_columns_dropped() {
        let grid = vec![
            vec![text("番号"), text("氏名"), Value::Empty],
            vec![Value::Int(1), text("山田"), Value::Empty],
            vec![Value::Empty, Value::Empty, Value::Empty],
        ];
        let t = table_from_grid("a.xlsx", "S", grid, &ReadOptions::default(), None).unwrap();
        assert_eq!(t.headers, vec!["番号", "氏名"]);
        assert_eq!(t.rows.len(), 1);

        let dup = vec![vec![text("a"), text("b"), text("a")]];
        let e = table_from_grid("a.xlsx", "S", dup, &ReadOptions::default(), None).unwrap_err();
        assert!(
            e.0.contains("\"a\" is used twice (columns A and C)") && e.0.contains("columns:"),
            "{e}"
        );

        let blank = vec![vec![text("a"), Value::Empty, text("c")]];
        let e = table_from_grid("a.xlsx", "S", blank, &ReadOptions::default(), None).unwrap_err();
        assert!(e.0.contains("column B has no name"), "{e}");
    }
}

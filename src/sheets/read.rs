//! Reading spreadsheets (xlsx, xlsm, xls, ods through calamine) into a header and typed rows,
//! with every problem named by file, sheet and cell. Workbooks are untrusted input (a clerk's
//! upload): before calamine reads one, its archive is unpacked into nothing to count what it
//! really holds, and an xlsx sheet's used block is measured, so a zip bomb or a sheet spanning
//! A1:XFD1048576 is refused with a message instead of taking the PC's memory.

use std::io::Read;
use std::path::Path;

use calamine::{Data, DataRef, Reader, Sheets, open_workbook_auto};

/// What a workbook's parts may unpack to in all (xlsx and ods are zip archives).
pub const MAX_UNPACKED_BYTES: u64 = 128 * 1024 * 1024;
/// How many cells (rows × columns from A1 to the last used cell) of one sheet are read at most.
pub const MAX_SHEET_CELLS: u64 = 2_000_000;

type Workbook = Sheets<std::io::BufReader<std::fs::File>>;

/// Opens a workbook after checking what its archive unpacks to.
fn open(path: &Path, label: &str) -> Result<Workbook, SheetError> {
    check_archive(path, label)?;
    open_workbook_auto(path).map_err(|e| open_error(label, e))
}

/// Unpacks every part of a zip-based workbook into nothing, counting, and stops past
/// `MAX_UNPACKED_BYTES` (the sizes an archive declares can lie). A file that is not a zip
/// archive (xls, a protected workbook, a broken file) is left to calamine to name.
fn check_archive(path: &Path, label: &str) -> Result<(), SheetError> {
    let file = std::fs::File::open(path).map_err(|e| SheetError(format!("{label}: {e}")))?;
    let Ok(mut zip) = zip::ZipArchive::new(std::io::BufReader::new(file)) else {
        return Ok(());
    };
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let mut part = zip
            .by_index(i)
            .map_err(|e| SheetError(format!("{label}: cannot read the workbook ({e})")))?;
        let name = part
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| format!("part {i}"));
        let left = MAX_UNPACKED_BYTES - total;
        let unpacked = std::io::copy(&mut (&mut part).take(left + 1), &mut std::io::sink())
            .map_err(|e| SheetError(format!("{label}: cannot read the workbook ({name}: {e})")))?;
        total += unpacked;
        if total > MAX_UNPACKED_BYTES {
            return Err(SheetError(format!(
                "{label}: the workbook unpacks to more than {} MB (its part {name} alone to {}+ MB); \
                 kuroko reads workbooks up to {} MB unpacked — split it, or save the sheet as CSV",
                MAX_UNPACKED_BYTES >> 20,
                unpacked >> 20,
                MAX_UNPACKED_BYTES >> 20
            )));
        }
    }
    Ok(())
}

/// Refuses an xlsx sheet whose block from A1 to its last used cell has more than
/// `MAX_SHEET_CELLS` cells (calamine and the table both hold that block whole). The cells are
/// streamed, nothing is kept.
fn check_extent(wb: &mut Workbook, name: &str, label: &str) -> Result<(), SheetError> {
    let Sheets::Xlsx(xlsx) = wb else {
        return Ok(());
    };
    let mut cells = xlsx
        .worksheet_cells_reader(name)
        .map_err(|e| SheetError(format!("{label}, sheet {name:?}: cannot read it ({e})")))?;
    let (mut rows, mut cols) = (0u64, 0u64);
    while let Some(cell) = cells
        .next_cell()
        .map_err(|e| SheetError(format!("{label}, sheet {name:?}: cannot read it ({e})")))?
    {
        if matches!(cell.get_value(), DataRef::Empty) {
            continue;
        }
        let (r, c) = cell.get_position();
        rows = rows.max(u64::from(r) + 1);
        cols = cols.max(u64::from(c) + 1);
        if rows.saturating_mul(cols) > MAX_SHEET_CELLS {
            return Err(SheetError(format!(
                "{label}, sheet {name:?}: it is used down to row {rows} and across to column {} \
                 — more than {MAX_SHEET_CELLS} cells from A1; kuroko reads sheets up to that \
                 size: delete the stray cells far out, or split the sheet",
                Cell::column_name(c)
            )));
        }
    }
    Ok(())
}

use super::{Cell, SheetError, Table, csv, value::SheetDate, value::Value};

/// Which sheet: by name or by 0-based position.
#[derive(Debug, Clone, PartialEq)]
pub enum SheetRef {
    Name(String),
    Index(usize),
}

#[derive(Debug, Clone)]
pub struct ReadOptions {
    pub sheet: Option<SheetRef>,
    /// 1-based row of the column names.
    pub header_row: u32,
    /// Only this block, e.g. "A1:F200" (its first row is then the header row).
    pub range: Option<(Cell, Cell)>,
    pub skip_empty_rows: bool,
    /// Column names to use instead of the header row (the data then starts at `header_row`).
    pub columns: Option<Vec<String>>,
    /// For CSV: "utf-8" or "shift_jis"; detected when `None`.
    pub encoding: Option<String>,
    /// For CSV: accept rows whose field count differs from the header's (padded or cut).
    pub lenient: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            sheet: None,
            header_row: 1,
            range: None,
            skip_empty_rows: true,
            columns: None,
            encoding: None,
            lenient: false,
        }
    }
}

/// The file's sheet names.
pub fn sheet_names(path: &Path, label: &str) -> Result<Vec<String>, SheetError> {
    if is_csv(path) {
        return Ok(vec!["csv".into()]);
    }
    let wb = open(path, label)?;
    Ok(wb.sheet_names())
}

pub fn is_csv(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("csv") || e.eq_ignore_ascii_case("txt"))
}

fn open_error(label: &str, e: calamine::Error) -> SheetError {
    let text = e.to_string();
    if text.to_lowercase().contains("password") {
        SheetError(format!(
            "{label}: the workbook is password-protected; save an unprotected copy for the scenario"
        ))
    } else {
        SheetError(format!(
            "{label}: cannot read the workbook ({text}); is it a complete xlsx, xls or ods file?"
        ))
    }
}

pub fn convert(d: &Data) -> Value {
    match d {
        Data::Empty => Value::Empty,
        Data::Int(i) => Value::Int(*i),
        Data::Float(f) => Value::number(*f),
        Data::String(s) => Value::Text(s.clone()),
        Data::Bool(b) => Value::Bool(*b),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(v) if dt.is_datetime() => Value::Date(SheetDate::from_datetime(v)),
            _ => Value::number(dt.as_f64()),
        },
        Data::DateTimeIso(s) => SheetDate::parse(s)
            .map(Value::Date)
            .unwrap_or_else(|| Value::Text(s.clone())),
        Data::DurationIso(s) => Value::Text(s.clone()),
        Data::Error(e) => Value::Text(format!("{e}")),
    }
}

/// One cell of a sheet, by reference like "B3".
pub fn cell(path: &Path, label: &str, sheet: &SheetRef, at: Cell) -> Result<Value, SheetError> {
    if is_csv(path) {
        let (grid, _) = csv::read_grid(path, label, None)?;
        return Ok(grid
            .get(at.row as usize)
            .and_then(|r| r.get(at.col as usize))
            .cloned()
            .unwrap_or(Value::Empty));
    }
    let mut wb = open(path, label)?;
    let name = resolve_sheet(&wb.sheet_names(), sheet, label)?;
    check_extent(&mut wb, &name, label)?;
    let range = wb
        .worksheet_range(&name)
        .map_err(|e| SheetError(format!("{label}, sheet {name:?}: {e}")))?;
    Ok(range
        .get_value((at.row, at.col))
        .map(convert)
        .unwrap_or(Value::Empty))
}

fn resolve_sheet(names: &[String], sheet: &SheetRef, label: &str) -> Result<String, SheetError> {
    match sheet {
        SheetRef::Name(n) => names.iter().find(|s| *s == n).cloned().ok_or_else(|| {
            SheetError(format!(
                "{label}: no sheet named {n:?}{}; its sheets are {}",
                crate::suggest::hint(n, names.iter().map(String::as_str)),
                names
                    .iter()
                    .map(|s| format!("{s:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }),
        SheetRef::Index(i) => names.get(*i).cloned().ok_or_else(|| {
            SheetError(format!(
                "{label}: there is no sheet {i} (sheets are numbered from 0; it has {})",
                names.len()
            ))
        }),
    }
}

pub fn read(path: &Path, label: &str, opts: &ReadOptions) -> Result<Table, SheetError> {
    if is_csv(path) {
        let (grid, encoding) = csv::read_grid(path, label, opts.encoding.as_deref())?;
        if !opts.lenient && opts.columns.is_none() {
            csv::check_widths(&grid, opts.header_row, label)?;
        }
        return super::table_from_grid(label, "csv", grid, opts, Some(encoding));
    }
    let mut wb = open(path, label)?;
    let names = wb.sheet_names();
    let name = resolve_sheet(
        &names,
        opts.sheet.as_ref().unwrap_or(&SheetRef::Index(0)),
        label,
    )?;
    check_extent(&mut wb, &name, label)?;
    let range = wb
        .worksheet_range(&name)
        .map_err(|e| SheetError(format!("{label}, sheet {name:?}: cannot read it ({e})")))?;
    let Some((end_row, end_col)) = range.end() else {
        return super::table_from_grid(label, &name, Vec::new(), opts, None);
    };
    let (r0, c0, r1, c1) = match opts.range {
        Some((a, b)) => (a.row, a.col, b.row.min(end_row), b.col.min(end_col)),
        None => (0, 0, end_row, end_col),
    };
    let mut grid = Vec::with_capacity((r1.saturating_sub(r0) + 1) as usize);
    for row in r0..=r1 {
        grid.push(
            (c0..=c1)
                .map(|col| {
                    range
                        .get_value((row, col))
                        .map(convert)
                        .unwrap_or(Value::Empty)
                })
                .collect::<Vec<_>>(),
        );
    }
    let opts = ReadOptions {
        header_row: if opts.range.is_some() {
            1
        } else {
            opts.header_row
        },
        ..opts.clone()
    };
    let mut table = super::table_from_grid(label, &name, grid, &opts, None)?;
    table.first_row = r0 + opts.header_row;
    table.first_col = c0;
    Ok(table)
}

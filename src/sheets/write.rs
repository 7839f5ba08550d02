//! Writing xlsx (rust_xlsxwriter, constant-memory mode) and CSV: header row bold and frozen,
//! dates as real Excel dates, columns sized to their contents, and the file replaced only
//! when it is complete (written beside it, then renamed).

use std::path::Path;

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};

use super::{SheetError, value::Value};

/// One sheet to write.
#[derive(Debug, Clone)]
pub struct SheetData {
    pub name: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

/// Terminal-style width: wide (Japanese) characters count two.
fn width(text: &str) -> usize {
    text.chars()
        .map(|c| {
            if (c as u32) >= 0x1100 && !(0xFF61..=0xFF9F).contains(&(c as u32)) {
                2
            } else {
                1
            }
        })
        .sum()
}

fn shown(v: &Value) -> usize {
    match v {
        Value::Empty => 0,
        Value::Int(i) => i.to_string().len(),
        Value::Float(f) => format!("{f}").len().min(12),
        Value::Text(t) => width(t),
        Value::Bool(_) => 5,
        Value::Date(d) => {
            if d.time.is_some() {
                19
            } else {
                10
            }
        }
    }
}

fn xlsx_err(label: &str, sheet: &str, e: XlsxError) -> SheetError {
    SheetError(format!("{label}, sheet {sheet:?}: {e}"))
}

struct Formats {
    date: Format,
    datetime: Format,
}

impl Formats {
    fn new() -> Formats {
        Formats {
            date: Format::new().set_num_format("yyyy-mm-dd"),
            datetime: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
        }
    }
}

fn write_cell(
    ws: &mut rust_xlsxwriter::Worksheet,
    r: u32,
    c: u16,
    v: &Value,
    f: &Formats,
) -> Result<(), XlsxError> {
    use chrono::{Datelike, Timelike};
    match v {
        Value::Empty => {}
        Value::Int(i) => {
            ws.write_number(r, c, *i as f64)?;
        }
        Value::Float(x) => {
            ws.write_number(r, c, *x)?;
        }
        Value::Text(t) => {
            ws.write_string(r, c, t)?;
        }
        Value::Bool(b) => {
            ws.write_boolean(r, c, *b)?;
        }
        Value::Date(d) => {
            let excel = ExcelDateTime::from_ymd(
                d.date.year() as u16,
                d.date.month() as u8,
                d.date.day() as u8,
            )?;
            match d.time {
                None => ws.write_datetime_with_format(r, c, &excel, &f.date)?,
                Some(t) => ws.write_datetime_with_format(
                    r,
                    c,
                    &excel.and_hms(t.hour() as u16, t.minute() as u8, t.second() as f64)?,
                    &f.datetime,
                )?,
            };
        }
    }
    Ok(())
}

/// An xlsx file written row by row, in constant memory (for a million rows and more); it
/// appears at `finish`, complete, or not at all.
pub struct XlsxStream {
    workbook: Workbook,
    label: String,
    sheet: String,
    columns: usize,
    next_row: u32,
    widths: Vec<usize>,
    formats: Formats,
}

impl XlsxStream {
    pub fn new(label: &str, sheet: &str, headers: &[String]) -> Result<XlsxStream, SheetError> {
        let err = |e| xlsx_err(label, sheet, e);
        if headers.is_empty() || headers.len() > 16_384 {
            return Err(SheetError(format!(
                "{label}: a sheet needs 1 to 16,384 columns, not {}",
                headers.len()
            )));
        }
        let mut workbook = Workbook::new();
        let ws = workbook.add_worksheet_with_constant_memory().map_err(err)?;
        ws.set_name(sheet).map_err(err)?;
        let bold = Format::new().set_bold();
        for (c, h) in headers.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, h, &bold)
                .map_err(err)?;
        }
        ws.set_freeze_panes(1, 0).map_err(err)?;
        Ok(XlsxStream {
            workbook,
            label: label.into(),
            sheet: sheet.into(),
            columns: headers.len(),
            next_row: 1,
            widths: headers.iter().map(|h| width(h)).collect(),
            formats: Formats::new(),
        })
    }

    pub fn rows_written(&self) -> u32 {
        self.next_row - 1
    }

    pub fn push(&mut self, row: &[Value]) -> Result<(), SheetError> {
        if self.next_row >= 1_048_576 {
            return Err(SheetError(format!(
                "{}, sheet {:?}: Excel holds at most 1,048,575 rows below the header",
                self.label, self.sheet
            )));
        }
        if row.len() > self.columns {
            return Err(SheetError(format!(
                "{}: row {} has {} values for {} columns",
                self.label,
                self.next_row,
                row.len(),
                self.columns
            )));
        }
        let (label, sheet) = (self.label.clone(), self.sheet.clone());
        let ws = self
            .workbook
            .worksheet_from_index(0)
            .map_err(|e| xlsx_err(&label, &sheet, e))?;
        for (c, v) in row.iter().enumerate() {
            write_cell(ws, self.next_row, c as u16, v, &self.formats)
                .map_err(|e| xlsx_err(&label, &sheet, e))?;
        }
        if self.next_row <= 2000 {
            for (w, v) in self.widths.iter_mut().zip(row) {
                *w = (*w).max(shown(v));
            }
        }
        self.next_row += 1;
        Ok(())
    }

    pub fn finish(mut self, target: &Path) -> Result<(), SheetError> {
        let (label, sheet) = (self.label.clone(), self.sheet.clone());
        let ws = self
            .workbook
            .worksheet_from_index(0)
            .map_err(|e| xlsx_err(&label, &sheet, e))?;
        for (c, w) in self.widths.iter().enumerate() {
            ws.set_column_width(c as u16, (*w as f64 + 2.0).clamp(6.0, 60.0))
                .map_err(|e| xlsx_err(&label, &sheet, e))?;
        }
        save_atomically(&mut self.workbook, target, &label)
    }
}

/// Writes the sheets to `target` (xlsx), atomically.
pub fn write_xlsx(target: &Path, label: &str, sheets: &[SheetData]) -> Result<(), SheetError> {
    if sheets.is_empty() {
        return Err(SheetError(format!("{label}: nothing to write (no sheets)")));
    }
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let Formats { date, datetime } = Formats::new();
    for sheet in sheets {
        let name = sheet.name.as_str();
        let err = |e| xlsx_err(label, name, e);
        if sheet.headers.len() > 16_384 {
            return Err(SheetError(format!(
                "{label}, sheet {name:?}: {} columns is more than Excel's 16,384",
                sheet.headers.len()
            )));
        }
        if sheet.rows.len() >= 1_048_576 {
            return Err(SheetError(format!(
                "{label}, sheet {name:?}: {} rows is more than Excel's 1,048,575 below the header",
                sheet.rows.len()
            )));
        }
        let ws = workbook.add_worksheet_with_constant_memory().map_err(err)?;
        ws.set_name(name).map_err(err)?;
        let mut widths: Vec<usize> = sheet.headers.iter().map(|h| width(h)).collect();
        for row in sheet.rows.iter().take(2000) {
            for (w, v) in widths.iter_mut().zip(row) {
                *w = (*w).max(shown(v));
            }
        }
        for (c, w) in widths.iter().enumerate() {
            ws.set_column_width(c as u16, (*w as f64 + 2.0).clamp(6.0, 60.0))
                .map_err(err)?;
        }
        for (c, h) in sheet.headers.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, h, &bold)
                .map_err(err)?;
        }
        ws.set_freeze_panes(1, 0).map_err(err)?;
        let formats = Formats {
            date: date.clone(),
            datetime: datetime.clone(),
        };
        for (r, row) in sheet.rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate().take(sheet.headers.len()) {
                write_cell(ws, r as u32 + 1, c as u16, v, &formats).map_err(err)?;
            }
        }
    }
    save_atomically(&mut workbook, target, label)
}

/// Writes CSV (header, then rows) to `target`, atomically; dates in ISO form.
pub fn write_csv(
    target: &Path,
    label: &str,
    sheet: &SheetData,
    encoding: Option<&str>,
) -> Result<(), SheetError> {
    let mut out = ::csv::Writer::from_writer(Vec::new());
    let io = |e: ::csv::Error| SheetError(format!("{label}: {e}"));
    out.write_record(&sheet.headers).map_err(io)?;
    for row in &sheet.rows {
        let fields: Vec<String> = (0..sheet.headers.len())
            .map(|i| match row.get(i).unwrap_or(&Value::Empty) {
                Value::Empty => String::new(),
                Value::Int(i) => i.to_string(),
                Value::Float(f) => f.to_string(),
                Value::Text(t) => t.clone(),
                Value::Bool(b) => b.to_string(),
                Value::Date(d) => d.to_string(),
            })
            .collect();
        out.write_record(&fields).map_err(io)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| SheetError(format!("{label}: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| SheetError(format!("{label}: {e}")))?;
    let encoded = super::csv::encode(&text, label, encoding)?;
    crate::files::write_atomic(target, &encoded).map_err(SheetError)
}

/// Saves a workbook to `target` whole or not at all (`files::replace_file`: written beside,
/// synced to disk, renamed over it).
pub fn save_atomically(
    workbook: &mut Workbook,
    target: &Path,
    label: &str,
) -> Result<(), SheetError> {
    crate::files::replace_file(target, |temp| {
        workbook
            .save(temp)
            .map_err(|e| format!("{label}: cannot write it ({e})"))
    })
    .map_err(SheetError)
}

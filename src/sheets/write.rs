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

/// Writes the sheets to `target` (xlsx), atomically.
pub fn write_xlsx(target: &Path, label: &str, sheets: &[SheetData]) -> Result<(), SheetError> {
    if sheets.is_empty() {
        return Err(SheetError(format!("{label}: nothing to write (no sheets)")));
    }
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let datetime = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
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
        for (r, row) in sheet.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, v) in row.iter().enumerate().take(sheet.headers.len()) {
                let c = c as u16;
                match v {
                    Value::Empty => {}
                    Value::Int(i) => {
                        ws.write_number(r, c, *i as f64).map_err(err)?;
                    }
                    Value::Float(f) => {
                        ws.write_number(r, c, *f).map_err(err)?;
                    }
                    Value::Text(t) => {
                        ws.write_string(r, c, t).map_err(err)?;
                    }
                    Value::Bool(b) => {
                        ws.write_boolean(r, c, *b).map_err(err)?;
                    }
                    Value::Date(d) => {
                        use chrono::{Datelike, Timelike};
                        let excel = ExcelDateTime::from_ymd(
                            d.date.year() as u16,
                            d.date.month() as u8,
                            d.date.day() as u8,
                        )
                        .map_err(err)?;
                        match d.time {
                            None => ws
                                .write_datetime_with_format(r, c, &excel, &date)
                                .map_err(err)?,
                            Some(t) => {
                                let excel = excel
                                    .and_hms(t.hour() as u16, t.minute() as u8, t.second() as f64)
                                    .map_err(err)?;
                                ws.write_datetime_with_format(r, c, &excel, &datetime)
                                    .map_err(err)?
                            }
                        };
                    }
                }
            }
        }
    }
    let temp = temp_path(target);
    let saved = workbook
        .save(&temp)
        .map_err(|e| SheetError(format!("{label}: cannot write it ({e})")));
    finish(saved, &temp, target, label)
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
    crate::run::evidence::write_atomic(target, &encoded).map_err(SheetError)
}

fn temp_path(target: &Path) -> std::path::PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.{}.tmp.xlsx", std::process::id()))
}

fn finish(
    saved: Result<(), SheetError>,
    temp: &Path,
    target: &Path,
    label: &str,
) -> Result<(), SheetError> {
    let renamed = saved.and_then(|_| {
        std::fs::rename(temp, target)
            .map_err(|e| SheetError(format!("{label}: cannot replace it ({e})")))
    });
    if renamed.is_err() {
        let _ = std::fs::remove_file(temp);
    }
    renamed
}

//! `sheet::` — spreadsheets and CSV in scenarios: rows as maps keyed by the header, typed values
//! (dates are `Date` values), writing xlsx and CSV atomically, all inside the sandbox.

use std::path::PathBuf;

use rhai::plugin::*;
use rhai::{Array, FLOAT, INT, Map};

use crate::events::Level;
use crate::script::context::{RhaiResult, RunContext, located, run_context, script_error};
use crate::sheets::{self, Cell, ReadOptions, SheetDate, SheetRef, Value, write::SheetData};
use chrono::{Datelike, Timelike};

const READ_KEYS: &[&str] = &[
    "sheet",
    "header_row",
    "range",
    "skip_empty_rows",
    "columns",
    "encoding",
    "lenient",
];
const WRITE_KEYS: &[&str] = &["sheet", "columns", "sheets", "encoding"];

fn unknown(key: &str, known: &[&str]) -> Box<EvalAltResult> {
    script_error(format!(
        "unknown option `{key}`{}; options are {}",
        crate::suggest::hint(key, known.iter().copied()),
        known.join(", ")
    ))
}

fn names(v: &Dynamic, what: &str) -> RhaiResult<Vec<String>> {
    let arr = v.clone().into_array().map_err(|t| {
        script_error(format!(
            "option {what}: expected an array of names, got {t}"
        ))
    })?;
    Ok(arr.iter().map(|d| d.to_string()).collect())
}

fn sheet_ref(v: &Dynamic) -> RhaiResult<SheetRef> {
    if let Ok(i) = v.as_int() {
        return usize::try_from(i)
            .map(SheetRef::Index)
            .map_err(|_| script_error(format!("sheet {i}: sheets are numbered from 0")));
    }
    if v.is_string() {
        return Ok(SheetRef::Name(v.to_string()));
    }
    Err(script_error(format!(
        "sheet: expected a name or a number, got {}",
        v.type_name()
    )))
}

fn read_options(opts: &Map) -> RhaiResult<ReadOptions> {
    let mut o = ReadOptions::default();
    for (k, v) in opts {
        match k.as_str() {
            "sheet" => o.sheet = Some(sheet_ref(v)?),
            "header_row" => {
                o.header_row = v
                    .as_int()
                    .ok()
                    .and_then(|i| u32::try_from(i).ok())
                    .filter(|i| *i >= 1)
                    .ok_or_else(|| {
                        script_error("option header_row: expected a row number from 1")
                    })?
            }
            "range" => {
                let text = v.to_string();
                o.range = Some(Cell::parse_range(&text).ok_or_else(|| {
                    script_error(format!(
                        "option range: {text:?} is not a range like \"A1:F200\""
                    ))
                })?);
            }
            "skip_empty_rows" => {
                o.skip_empty_rows = v.as_bool().map_err(|t| {
                    script_error(format!(
                        "option skip_empty_rows: expected true or false, got {t}"
                    ))
                })?
            }
            "columns" => o.columns = Some(names(v, "columns")?),
            "encoding" => o.encoding = Some(v.to_string()),
            "lenient" => {
                o.lenient = v.as_bool().map_err(|t| {
                    script_error(format!("option lenient: expected true or false, got {t}"))
                })?
            }
            other => return Err(unknown(other, READ_KEYS)),
        }
    }
    Ok(o)
}

pub fn to_dynamic(v: &Value) -> Dynamic {
    match v {
        Value::Empty => Dynamic::UNIT,
        Value::Int(i) => (*i as INT).into(),
        Value::Float(f) => (*f as FLOAT).into(),
        Value::Text(t) => t.clone().into(),
        Value::Bool(b) => (*b).into(),
        Value::Date(d) => Dynamic::from(*d),
    }
}

fn to_value(d: &Dynamic, row: usize, column: &str) -> RhaiResult<Value> {
    if d.is_unit() {
        return Ok(Value::Empty);
    }
    if let Ok(i) = d.as_int() {
        return Ok(Value::Int(i));
    }
    if let Ok(f) = d.as_float() {
        return Ok(Value::Float(f));
    }
    if let Ok(b) = d.as_bool() {
        return Ok(Value::Bool(b));
    }
    if d.is_string() {
        return Ok(Value::Text(d.to_string()));
    }
    if let Some(date) = d.clone().try_cast::<SheetDate>() {
        return Ok(Value::Date(date));
    }
    Err(script_error(format!(
        "row {row}, column {column:?}: a {} cannot be written to a cell",
        d.type_name()
    )))
}

fn readable(run: &RunContext, path: &str) -> RhaiResult<PathBuf> {
    let p = run.sandbox.readable(path).map_err(script_error)?;
    run.files_read.borrow_mut().insert(p.clone());
    Ok(p)
}

fn writable(run: &RunContext, path: &str) -> RhaiResult<PathBuf> {
    let p = run.sandbox.writable(path).map_err(script_error)?;
    let resolved = dunce::canonicalize(&p).unwrap_or_else(|_| p.clone());
    if run.files_read.borrow().contains(&resolved) {
        return Err(script_error(format!(
            "{path:?} was read in this run; writing over an input is refused (write to an output file instead)"
        )));
    }
    Ok(p)
}

/// Rows (maps or arrays) to a sheet; column order: `columns`, else the order the columns had
/// when read in this run, else first seen.
fn sheet_data(
    run: &RunContext,
    name: String,
    rows: &Array,
    columns: Option<Vec<String>>,
) -> RhaiResult<SheetData> {
    let maps = rows.iter().all(|r| r.is_map());
    let arrays = rows.iter().all(|r| r.is_array());
    if !rows.is_empty() && !maps && !arrays {
        return Err(script_error(
            "rows must all be maps (#{...}) or all be arrays ([...])",
        ));
    }
    if arrays && !rows.is_empty() {
        let mut data = Vec::with_capacity(rows.len());
        let mut iter = rows.iter();
        let headers = match columns {
            Some(c) => c,
            None => iter
                .next()
                .map(|r| {
                    r.clone()
                        .into_array()
                        .unwrap_or_default()
                        .iter()
                        .map(|d| d.to_string())
                        .collect()
                })
                .unwrap_or_default(),
        };
        for (i, r) in iter.enumerate() {
            let arr = r
                .read_lock::<Array>()
                .ok_or_else(|| script_error("rows must be arrays"))?;
            data.push(
                arr.iter()
                    .enumerate()
                    .map(|(c, d)| to_value(d, i + 1, headers.get(c).map_or("?", |s| s.as_str())))
                    .collect::<RhaiResult<Vec<_>>>()?,
            );
        }
        return Ok(SheetData {
            name,
            headers,
            rows: data,
        });
    }
    let headers = match columns {
        Some(c) => c,
        None => {
            let mut seen: Vec<String> = Vec::new();
            for r in rows {
                if let Some(m) = r.read_lock::<Map>() {
                    for k in m.keys() {
                        if !seen.iter().any(|s| s == k.as_str()) {
                            seen.push(k.to_string());
                        }
                    }
                }
            }
            let orders = run.column_orders.borrow();
            let best = orders
                .iter()
                .max_by_key(|o| o.iter().filter(|c| seen.contains(c)).count());
            match best {
                Some(order) if order.iter().any(|c| seen.contains(c)) => {
                    let mut h: Vec<String> =
                        order.iter().filter(|c| seen.contains(c)).cloned().collect();
                    h.extend(seen.iter().filter(|s| !order.contains(s)).cloned());
                    h
                }
                _ => seen,
            }
        }
    };
    let mut data = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let m = r
            .read_lock::<Map>()
            .ok_or_else(|| script_error("rows must be maps"))?;
        data.push(
            headers
                .iter()
                .map(|h| {
                    m.get(h.as_str())
                        .map_or(Ok(Value::Empty), |d| to_value(d, i + 1, h))
                })
                .collect::<RhaiResult<Vec<_>>>()?,
        );
    }
    Ok(SheetData {
        name,
        headers,
        rows: data,
    })
}

fn read_impl(ctx: &NativeCallContext, path: &str, opts: &Map) -> RhaiResult<Array> {
    let run = run_context(ctx)?;
    let options = read_options(opts)?;
    let file = readable(&run, path)?;
    run.action(format!("read {path}"));
    let table = sheets::read::read(&file, path, &options).map_err(|e| script_error(e.0))?;
    if let Some(enc) = table.encoding {
        run.log(
            Level::Info,
            format!(
                "{path}: read as {}",
                if enc == "shift_jis" {
                    "Shift_JIS"
                } else {
                    "UTF-8"
                }
            ),
        );
    }
    let keys: Vec<rhai::ImmutableString> =
        table.headers.iter().map(|h| h.as_str().into()).collect();
    run.column_orders.borrow_mut().push(table.headers.clone());
    Ok(table
        .rows
        .iter()
        .map(|row| {
            let map: Map = keys
                .iter()
                .zip(row)
                .map(|(k, v)| (k.as_str().into(), to_dynamic(v)))
                .collect();
            Dynamic::from_map(map)
        })
        .collect())
}

fn write_impl(ctx: &NativeCallContext, path: &str, rows: &Array, opts: &Map) -> RhaiResult<()> {
    let run = run_context(ctx)?;
    let mut sheet_name = "Sheet1".to_string();
    let mut columns = None;
    for (k, v) in opts {
        match k.as_str() {
            "sheet" => sheet_name = v.to_string(),
            "columns" => columns = Some(names(v, "columns")?),
            "sheets" | "encoding" => {
                return Err(script_error(format!(
                    "option `{k}` does not go with rows here; see the reference for sheet::write"
                )));
            }
            other => return Err(unknown(other, WRITE_KEYS)),
        }
    }
    let data = sheet_data(&run, sheet_name, rows, columns)?;
    write_sheets(&run, path, vec![data])
}

fn write_sheets(run: &RunContext, path: &str, data: Vec<SheetData>) -> RhaiResult<()> {
    let target = writable(run, path)?;
    run.action(format!(
        "write {path} ({})",
        data.iter()
            .map(|d| format!("{}: {} rows", d.name, d.rows.len()))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    if sheets::read::is_csv(&target) {
        return Err(script_error(format!(
            "{path}: use sheet::write_csv for CSV files"
        )));
    }
    sheets::write::write_xlsx(&target, path, &data).map_err(|e| script_error(e.0))
}

/// A workbook being written row by row (`sheet::writer`); shared by clones, closed once.
#[derive(Clone)]
pub struct SheetWriter(std::rc::Rc<std::cell::RefCell<Option<WriterState>>>);

pub struct WriterState {
    stream: sheets::write::XlsxStream,
    target: PathBuf,
    label: String,
    headers: Vec<String>,
}

impl SheetWriter {
    /// The file of a writer never closed (its contents are dropped, nothing is written).
    pub fn unclosed(&self) -> Option<String> {
        self.0.borrow().as_ref().map(|s| s.label.clone())
    }
}

fn writer_impl(
    ctx: &NativeCallContext,
    path: &str,
    columns: &Array,
    opts: &Map,
) -> RhaiResult<SheetWriter> {
    let run = run_context(ctx)?;
    let mut sheet_name = "Sheet1".to_string();
    for (k, v) in opts {
        match k.as_str() {
            "sheet" => sheet_name = v.to_string(),
            other => return Err(unknown(other, &["sheet"])),
        }
    }
    let headers: Vec<String> = columns.iter().map(|d| d.to_string()).collect();
    let target = writable(&run, path)?;
    if sheets::read::is_csv(&target) {
        return Err(script_error(format!(
            "{path}: sheet::writer writes xlsx; use sheet::write_csv for CSV"
        )));
    }
    let stream = sheets::write::XlsxStream::new(path, &sheet_name, &headers)
        .map_err(|e| script_error(e.0))?;
    run.action(format!(
        "open {path} for writing ({} columns)",
        headers.len()
    ));
    let w = SheetWriter(std::rc::Rc::new(std::cell::RefCell::new(Some(
        WriterState {
            stream,
            target,
            label: path.to_string(),
            headers,
        },
    ))));
    run.open_writers.borrow_mut().push(w.clone());
    Ok(w)
}

/// Registers the `Date` type: getters, ISO text, comparisons.
pub fn register_types(engine: &mut rhai::Engine) {
    engine.register_type_with_name::<SheetWriter>("SheetWriter");
    engine
        .register_type_with_name::<SheetDate>("Date")
        .register_get("year", |d: &mut SheetDate| d.year())
        .register_get("month", |d: &mut SheetDate| d.month())
        .register_get("day", |d: &mut SheetDate| d.day())
        .register_get("hour", |d: &mut SheetDate| d.hour())
        .register_get("minute", |d: &mut SheetDate| d.minute())
        .register_get("second", |d: &mut SheetDate| d.second())
        .register_fn("to_string", |d: &mut SheetDate| d.to_string())
        .register_fn("to_debug", |d: &mut SheetDate| d.to_string())
        .register_fn("==", |a: SheetDate, b: SheetDate| a == b)
        .register_fn("!=", |a: SheetDate, b: SheetDate| a != b)
        .register_fn("<", |a: SheetDate, b: SheetDate| a < b)
        .register_fn(">", |a: SheetDate, b: SheetDate| a > b)
        .register_fn("<=", |a: SheetDate, b: SheetDate| a <= b)
        .register_fn(">=", |a: SheetDate, b: SheetDate| a >= b);
}

/// "years 1868 to 9999", for messages.
fn years() -> String {
    format!(
        "years {} to {}",
        sheets::DATE_YEARS.start(),
        sheets::DATE_YEARS.end()
    )
}

#[export_module]
pub mod sheet_api {
    use super::*;

    /// Reads a spreadsheet (xlsx, xlsm, xls, ods) or CSV into an array of maps keyed by the
    /// header row. Integers stay integers, decimals floats, empty cells `()`, dates become
    /// `Date` values (printed ISO, e.g. `2024-04-01`, with `.year`, `.month`, `.day`); formula
    /// cells give their last computed value. The first sheet unless `sheet` is given.
    ///
    /// ```rhai
    /// let rows = sheet::read("input/申請一覧.xlsx");
    /// for row in rows { log::info(`${row["受付番号"]}: ${row["氏名"]}`); }
    /// ```
    #[rhai_fn(name = "read", return_raw)]
    pub fn read(ctx: NativeCallContext, path: &str) -> RhaiResult<Array> {
        located(&ctx, || read_impl(&ctx, path, &Map::new()))
    }

    /// `sheet::read` with options: `sheet` (name, or number from 0), `header_row` (from 1),
    /// `range` (`"A1:F200"`; its first row is the header), `skip_empty_rows` (default true),
    /// `columns` (names to use when the file has no usable header row; data then starts at
    /// `header_row`), `encoding` for CSV (`"utf-8"` or `"shift_jis"`; detected when not given,
    /// and the run log says which was used), `lenient` for CSV (default false: a row with more
    /// or fewer fields than the header, or a quote that is never closed, is an error naming
    /// its line; with true, short rows are padded and extra fields dropped).
    ///
    /// ```rhai
    /// let april = sheet::read("input/申請一覧.xlsx", #{ sheet: "4月", range: "A3:H500" });
    /// let csv = sheet::read("input/export.csv", #{ encoding: "shift_jis" });
    /// ```
    #[rhai_fn(name = "read", return_raw)]
    pub fn read_with(ctx: NativeCallContext, path: &str, opts: Map) -> RhaiResult<Array> {
        located(&ctx, || read_impl(&ctx, path, &opts))
    }

    /// The names of a workbook's sheets.
    ///
    /// ```rhai
    /// for name in sheet::sheets("input/集計.xlsx") { log::info(name); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn sheets(ctx: NativeCallContext, path: &str) -> RhaiResult<Array> {
        located(&ctx, || {
            let run = run_context(&ctx)?;
            let file = readable(&run, path)?;
            let names = sheets::read::sheet_names(&file, path).map_err(|e| script_error(e.0))?;
            Ok(names.into_iter().map(Dynamic::from).collect())
        })
    }

    /// One cell's value, by sheet (name or number from 0) and reference like `"B3"`.
    ///
    /// ```rhai
    /// let total = sheet::cell("input/集計.xlsx", "合計", "C12");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn cell(
        ctx: NativeCallContext,
        path: &str,
        sheet: Dynamic,
        at: &str,
    ) -> RhaiResult<Dynamic> {
        located(&ctx, || {
            let run = run_context(&ctx)?;
            let file = readable(&run, path)?;
            let which = sheet_ref(&sheet)?;
            let c = Cell::parse(at).ok_or_else(|| {
                script_error(format!("{at:?} is not a cell reference like \"B3\""))
            })?;
            let v = sheets::read::cell(&file, path, &which, c).map_err(|e| script_error(e.0))?;
            Ok(to_dynamic(&v))
        })
    }

    /// Writes rows to an xlsx file: maps (the header is their keys — in the order the columns
    /// had when read in this run, new keys after them; Rhai maps keep no order of their own, so
    /// other keys come in sorted order: give `columns` to choose) or arrays (the first array is
    /// the header). `Date` values become real Excel dates; the header is bold and frozen, columns
    /// are sized to fit. The file appears complete or not at all; writing over a file this run
    /// has read is refused. Only inside the scenario's `outputs`.
    ///
    /// ```rhai
    /// let results = [#{ "受付番号": "R6-0001", "結果": "登録済" }];
    /// sheet::write("output/結果.xlsx", results);
    /// ```
    #[rhai_fn(name = "write", return_raw)]
    pub fn write(ctx: NativeCallContext, path: &str, rows: Dynamic) -> RhaiResult<()> {
        located(&ctx, || {
            if let Some(m) = rows.read_lock::<Map>() {
                // #{ sheets: #{ "結果": rows, "エラー": errors } }
                let run = run_context(&ctx)?;
                let Some(all) = m
                    .get("sheets")
                    .and_then(|s| s.read_lock::<Map>().map(|s| s.clone()))
                else {
                    return Err(script_error(
                        "sheet::write(path, #{ sheets: #{ name: rows, ... } }) needs `sheets`; or pass an array of rows",
                    ));
                };
                let mut data = Vec::new();
                for (name, sheet_rows) in all {
                    let arr = sheet_rows.into_array().map_err(|t| {
                        script_error(format!(
                            "sheet {name:?}: expected an array of rows, got {t}"
                        ))
                    })?;
                    data.push(sheet_data(&run, name.to_string(), &arr, None)?);
                }
                return write_sheets(&run, path, data);
            }
            let arr = rows
                .clone()
                .into_array()
                .map_err(|t| script_error(format!("expected an array of rows, got {t}")))?;
            write_impl(&ctx, path, &arr, &Map::new())
        })
    }

    /// `sheet::write` with options: `sheet` (its name, default `"Sheet1"`), `columns` (which
    /// keys, in which order). For several sheets at once pass `#{ sheets: #{ name: rows } }`
    /// instead of rows.
    ///
    /// ```rhai
    /// let ok = [#{ "番号": 1, "氏名": "山田" }];
    /// let errors = [#{ "番号": 2, "理由": "住所不明" }];
    /// sheet::write("output/結果.xlsx", ok, #{ sheet: "結果", columns: ["番号", "氏名"] });
    /// sheet::write("output/両方.xlsx", #{ sheets: #{ "結果": ok, "エラー": errors } });
    /// ```
    #[rhai_fn(name = "write", return_raw)]
    pub fn write_with(
        ctx: NativeCallContext,
        path: &str,
        rows: Array,
        opts: Map,
    ) -> RhaiResult<()> {
        located(&ctx, || write_impl(&ctx, path, &rows, &opts))
    }

    /// Writes rows (maps or arrays, as `sheet::write`) to a CSV file, UTF-8 by default or
    /// `#{ encoding: "shift_jis" }` for business systems that need it (a character Shift_JIS
    /// cannot hold, such as 𠮷, is an error naming it). Dates are written ISO.
    ///
    /// ```rhai
    /// let rows = [#{ "番号": 1, "氏名": "髙橋" }];
    /// sheet::write_csv("output/取込用.csv", rows, #{ encoding: "shift_jis" });
    /// ```
    #[rhai_fn(name = "write_csv", return_raw)]
    pub fn write_csv_with(
        ctx: NativeCallContext,
        path: &str,
        rows: Array,
        opts: Map,
    ) -> RhaiResult<()> {
        located(&ctx, || {
            let run = run_context(&ctx)?;
            let mut encoding = None;
            let mut columns = None;
            for (k, v) in &opts {
                match k.as_str() {
                    "encoding" => encoding = Some(v.to_string()),
                    "columns" => columns = Some(names(v, "columns")?),
                    other => return Err(unknown(other, &["encoding", "columns"])),
                }
            }
            let data = sheet_data(&run, "csv".into(), &rows, columns)?;
            let target = writable(&run, path)?;
            run.action(format!("write {path} ({} rows)", data.rows.len()));
            sheets::write::write_csv(&target, path, &data, encoding.as_deref())
                .map_err(|e| script_error(e.0))
        })
    }

    /// `sheet::write_csv` in UTF-8.
    ///
    /// ```rhai
    /// sheet::write_csv("output/一覧.csv", [#{ "番号": 1 }]);
    /// ```
    #[rhai_fn(name = "write_csv", return_raw)]
    pub fn write_csv(ctx: NativeCallContext, path: &str, rows: Array) -> RhaiResult<()> {
        write_csv_with(ctx, path, rows, Map::new())
    }

    /// Opens an xlsx file to be written row by row, for tables too large to hold in memory
    /// (a million rows in well under 200 MB): `columns` is the header. Add rows with
    /// `sheet::append`, then `sheet::close`; until then nothing appears, and a run that fails
    /// or forgets to close writes nothing (the run log says so).
    ///
    /// ```rhai
    /// let w = sheet::writer("output/全件.xlsx", ["番号", "氏名"]);
    /// for i in 0..3 { sheet::append(w, [i, `氏名${i}`]); }
    /// sheet::close(w);
    /// ```
    #[rhai_fn(name = "writer", return_raw)]
    pub fn writer(ctx: NativeCallContext, path: &str, columns: Array) -> RhaiResult<SheetWriter> {
        located(&ctx, || writer_impl(&ctx, path, &columns, &Map::new()))
    }

    /// `sheet::writer` with options: `sheet` (the sheet's name, default `"Sheet1"`).
    ///
    /// ```rhai
    /// let w = sheet::writer("output/結果.xlsx", ["番号", "結果"], #{ sheet: "結果" });
    /// sheet::close(w);
    /// ```
    #[rhai_fn(name = "writer", return_raw)]
    pub fn writer_with(
        ctx: NativeCallContext,
        path: &str,
        columns: Array,
        opts: Map,
    ) -> RhaiResult<SheetWriter> {
        located(&ctx, || writer_impl(&ctx, path, &columns, &opts))
    }

    /// Adds one row to a `sheet::writer`: an array in column order, or a map keyed by the
    /// column names (missing keys leave the cell empty).
    ///
    /// ```rhai
    /// let w = sheet::writer("output/x.xlsx", ["番号", "氏名"]);
    /// sheet::append(w, [1, "山田"]);
    /// sheet::append(w, #{ "番号": 2, "氏名": "佐藤" });
    /// sheet::close(w);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn append(ctx: NativeCallContext, w: SheetWriter, row: Dynamic) -> RhaiResult<()> {
        located(&ctx, || {
            let mut guard = w.0.borrow_mut();
            let state = guard
                .as_mut()
                .ok_or_else(|| script_error("this sheet::writer is already closed"))?;
            let n = state.stream.rows_written() as usize + 1;
            let values = if let Some(m) = row.read_lock::<Map>() {
                for k in m.keys() {
                    if !state.headers.iter().any(|h| h == k.as_str()) {
                        return Err(script_error(format!(
                            "{}: row {n} has {:?}, which is not one of its columns",
                            state.label,
                            k.as_str()
                        )));
                    }
                }
                state
                    .headers
                    .iter()
                    .map(|h| {
                        m.get(h.as_str())
                            .map_or(Ok(Value::Empty), |d| to_value(d, n, h))
                    })
                    .collect::<RhaiResult<Vec<_>>>()?
            } else {
                let arr = row.read_lock::<Array>().ok_or_else(|| {
                    script_error(format!(
                        "sheet::append: expected an array or a map, got {}",
                        row.type_name()
                    ))
                })?;
                arr.iter()
                    .enumerate()
                    .map(|(c, d)| to_value(d, n, state.headers.get(c).map_or("?", |s| s.as_str())))
                    .collect::<RhaiResult<Vec<_>>>()?
            };
            state.stream.push(&values).map_err(|e| script_error(e.0))
        })
    }

    /// Finishes a `sheet::writer`: the file appears, complete. Returns the number of rows.
    ///
    /// ```rhai
    /// let w = sheet::writer("output/x.xlsx", ["番号"]);
    /// sheet::append(w, [1]);
    /// let n = sheet::close(w);   // 1
    /// ```
    #[rhai_fn(return_raw)]
    pub fn close(ctx: NativeCallContext, w: SheetWriter) -> RhaiResult<INT> {
        located(&ctx, || {
            let run = run_context(&ctx)?;
            let state =
                w.0.borrow_mut()
                    .take()
                    .ok_or_else(|| script_error("this sheet::writer is already closed"))?;
            let rows = state.stream.rows_written() as INT;
            run.action(format!("close {} ({rows} rows)", state.label));
            state
                .stream
                .finish(&state.target)
                .map_err(|e| script_error(e.0))?;
            Ok(rows)
        })
    }

    /// The date `days` days later (earlier when negative), e.g. a deadline. Dates stay within the
    /// years 1868 to 9999; a result outside them is an error.
    ///
    /// ```rhai
    /// let due = sheet::add_days(sheet::date("2024-04-01"), 14);   // 2024-04-15
    /// ```
    #[rhai_fn(return_raw)]
    pub fn add_days(ctx: NativeCallContext, date: SheetDate, days: INT) -> RhaiResult<SheetDate> {
        located(&ctx, || {
            chrono::Duration::try_days(days)
                .and_then(|d| date.date.checked_add_signed(d))
                .filter(|d| sheets::DATE_YEARS.contains(&d.year()))
                .map(|d| SheetDate {
                    date: d,
                    time: date.time,
                })
                .ok_or_else(|| {
                    script_error(format!(
                        "{date} plus {days} days is outside the dates kuroko handles ({})",
                        years()
                    ))
                })
        })
    }

    /// A `Date` from text: `"2024-04-01"`, `"2024/04/01"`, `"2024-04-01 09:30"`.
    ///
    /// ```rhai
    /// let d = sheet::date("2024-04-01");
    /// if d.month == 4 { log::info("April"); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn date(ctx: NativeCallContext, text: &str) -> RhaiResult<SheetDate> {
        located(&ctx, || {
            let date = SheetDate::parse(text).ok_or_else(|| {
                script_error(format!("{text:?} is not a date like \"2024-04-01\""))
            })?;
            if !sheets::DATE_YEARS.contains(&date.date.year()) {
                return Err(script_error(format!(
                    "{text:?} is outside the dates kuroko handles ({})",
                    years()
                )));
            }
            Ok(date)
        })
    }

    /// The date and time now (local, to the second), e.g. for a "registered at" column.
    ///
    /// ```rhai
    /// let at = sheet::now();
    /// log::info(`started at ${at}`);   // 2024-04-01 09:30:15
    /// ```
    pub fn now() -> SheetDate {
        let now = chrono::Local::now().naive_local();
        SheetDate::from_datetime(now.with_nanosecond(0).unwrap_or(now))
    }
}

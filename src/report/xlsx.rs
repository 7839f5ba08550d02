//! The report as an xlsx workbook for the council: a summary sheet with the totals, a column
//! chart of hours saved per month and a bar chart per department; then 業務別, 課別, the runs
//! and the failures. Japanese headers, numbers stored as numbers with display formats, and
//! the file written beside its target and renamed (whole or not at all).

use std::path::Path;

use rust_xlsxwriter::{
    Chart, ChartType, ExcelDateTime, Format, FormatAlign, Workbook, Worksheet, XlsxError,
};

use super::{COLUMNS, MODEL_NOTE, Report, Totals};
use crate::ledger::{Filter, Kind, LResult, LedgerError, Reports, RunRecord};
use crate::sheets::write::save_atomically;

/// Excel's last row below a header.
const MAX_ROWS: u32 = 1_048_575;

struct Formats {
    title: Format,
    header: Format,
    bold: Format,
    count: Format,
    hours: Format,
    minutes: Format,
    rate: Format,
    datetime: Format,
    note: Format,
    total_label: Format,
    total_count: Format,
    total_hours: Format,
    total_rate: Format,
}

impl Formats {
    fn new() -> Formats {
        let header = Format::new()
            .set_bold()
            .set_background_color("#DDEBF7")
            .set_align(FormatAlign::Center);
        let total = Format::new()
            .set_bold()
            .set_border_top(rust_xlsxwriter::FormatBorder::Thin);
        Formats {
            title: Format::new().set_bold().set_font_size(14),
            header,
            bold: Format::new().set_bold(),
            count: Format::new().set_num_format("#,##0"),
            hours: Format::new().set_num_format("#,##0.0"),
            minutes: Format::new().set_num_format("#,##0.0"),
            rate: Format::new().set_num_format("0.0%"),
            datetime: Format::new().set_num_format("yyyy-mm-dd hh:mm"),
            note: Format::new().set_text_wrap().set_font_size(9),
            total_label: total.clone(),
            total_count: total.clone().set_num_format("#,##0"),
            total_hours: total.clone().set_num_format("#,##0.0"),
            total_rate: total.set_num_format("0.0%"),
        }
    }
}

fn x(label: &str) -> impl Fn(XlsxError) -> LedgerError + '_ {
    move |e| LedgerError(format!("{label}: {e}"))
}

fn write_headers(
    ws: &mut Worksheet,
    row: u32,
    first_col: u16,
    headers: &[&str],
    f: &Formats,
) -> Result<(), XlsxError> {
    for (i, h) in headers.iter().enumerate() {
        ws.write_string_with_format(row, first_col + i as u16, *h, &f.header)?;
    }
    Ok(())
}

fn write_totals(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    t: &Totals,
    f: &Formats,
    bold: bool,
) -> Result<(), XlsxError> {
    let (count, hours, rate) = if bold {
        (&f.total_count, &f.total_hours, &f.total_rate)
    } else {
        (&f.count, &f.hours, &f.rate)
    };
    let counts = [
        t.runs,
        t.succeeded,
        t.failed,
        t.aborted,
        t.interrupted,
        t.items_done,
        t.items_failed,
    ];
    for (i, v) in counts.iter().enumerate() {
        ws.write_number_with_format(row, col + i as u16, *v as f64, count)?;
    }
    let c = col + counts.len() as u16;
    ws.write_number_with_format(row, c, t.before_hours(), hours)?;
    ws.write_number_with_format(row, c + 1, t.after_hours(), hours)?;
    ws.write_number_with_format(row, c + 2, t.saved_hours(), hours)?;
    match t.saved_rate() {
        Some(r) => ws.write_number_with_format(row, c + 3, r, rate)?,
        None => ws.write_string_with_format(row, c + 3, "-", rate)?,
    };
    ws.write_number_with_format(row, c + 4, t.robot_hours(), hours)?;
    Ok(())
}

fn datetime(text: &str) -> Option<ExcelDateTime> {
    // Stored as local RFC 3339 (runs) or `YYYY-MM-DDT00:00:00` (imports): the local wall time.
    let wall = text.get(..19)?;
    let date = chrono::NaiveDateTime::parse_from_str(wall, "%Y-%m-%dT%H:%M:%S").ok()?;
    use chrono::{Datelike, Timelike};
    ExcelDateTime::from_ymd(date.year() as u16, date.month() as u8, date.day() as u8)
        .ok()?
        .and_hms(
            date.hour() as u16,
            date.minute() as u8,
            date.second() as f64,
        )
        .ok()
}

/// A stored time as an Excel date-time (or as the text itself if it does not read as one).
fn write_time(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    text: &str,
    f: &Formats,
) -> Result<(), XlsxError> {
    match datetime(text) {
        Some(d) => ws.write_datetime_with_format(row, col, &d, &f.datetime)?,
        None => ws.write_string(row, col, text)?,
    };
    Ok(())
}

fn summary_sheet(
    wb: &mut Workbook,
    report: &Report,
    f: &Formats,
    generated: &str,
) -> Result<(), XlsxError> {
    let name = "概要";
    let ws = wb.add_worksheet();
    ws.set_name(name)?;
    ws.write_string_with_format(
        0,
        0,
        format!("削減時間レポート {}", report.period.label),
        &f.title,
    )?;
    ws.write_string(
        1,
        0,
        format!("課: {}", report.department.as_deref().unwrap_or("全課")),
    )?;
    ws.write_string(
        2,
        0,
        format!("作成: {generated} (kuroko {})", env!("CARGO_PKG_VERSION")),
    )?;
    write_headers(ws, 4, 0, &COLUMNS, f)?;
    write_totals(ws, 5, 0, &report.total, f, false)?;
    ws.merge_range(6, 0, 8, 11, MODEL_NOTE, &f.note)?;
    ws.set_row_height(6, 15)?;
    for c in 0..12u16 {
        ws.set_column_width(c, if c >= 7 { 13 } else { 10 })?;
    }

    // Per month: the data for the column chart.
    let top = 10;
    ws.write_string_with_format(top, 0, "月別", &f.bold)?;
    write_headers(
        ws,
        top + 1,
        0,
        &["月", "導入前(h)", "導入後(h)", "削減時間(h)"],
        f,
    )?;
    for (i, (month, t)) in report.by_month.iter().enumerate() {
        let r = top + 2 + i as u32;
        ws.write_string(r, 0, month)?;
        ws.write_number_with_format(r, 1, t.before_hours(), &f.hours)?;
        ws.write_number_with_format(r, 2, t.after_hours(), &f.hours)?;
        ws.write_number_with_format(r, 3, t.saved_hours(), &f.hours)?;
    }
    let months = report.by_month.len().max(1) as u32;
    let last = top + 1 + months;
    let mut chart = Chart::new(ChartType::Column);
    chart
        .add_series()
        .set_name("削減時間(h)")
        .set_categories((name, top + 2, 0, last, 0))
        .set_values((name, top + 2, 3, last, 3));
    chart.title().set_name("月別 削減時間");
    chart.y_axis().set_name("時間");
    chart.legend().set_hidden();
    chart.set_width(640).set_height(300);
    ws.insert_chart(top, 5, &chart)?;

    // Per department: the data for the bar chart.
    let top = last + 3;
    ws.write_string_with_format(top, 0, "課別", &f.bold)?;
    write_headers(ws, top + 1, 0, &["課", "削減時間(h)"], f)?;
    for (i, (dept, t)) in report.by_department.iter().enumerate() {
        let r = top + 2 + i as u32;
        ws.write_string(r, 0, dept)?;
        ws.write_number_with_format(r, 1, t.saved_hours(), &f.hours)?;
    }
    let departments = report.by_department.len().max(1) as u32;
    let last = top + 1 + departments;
    let mut chart = Chart::new(ChartType::Bar);
    chart
        .add_series()
        .set_name("削減時間(h)")
        .set_categories((name, top + 2, 0, last, 0))
        .set_values((name, top + 2, 1, last, 1));
    chart.title().set_name("課別 削減時間");
    chart.x_axis().set_name("時間");
    chart.legend().set_hidden();
    chart
        .set_width(640)
        .set_height((120 + 22 * departments).clamp(240, 900));
    ws.insert_chart(top, 5, &chart)?;
    Ok(())
}

fn breakdown_sheet<K>(
    wb: &mut Workbook,
    name: &str,
    keys: &[&str],
    lines: &[(K, Totals)],
    key_cells: impl Fn(&K) -> Vec<String>,
    total: &Totals,
    f: &Formats,
) -> Result<(), XlsxError> {
    let ws = wb.add_worksheet();
    ws.set_name(name)?;
    let mut headers: Vec<&str> = keys.to_vec();
    headers.extend(COLUMNS);
    write_headers(ws, 0, 0, &headers, f)?;
    let first = keys.len() as u16;
    for (i, (key, t)) in lines.iter().enumerate() {
        let r = 1 + i as u32;
        for (c, k) in key_cells(key).iter().enumerate() {
            ws.write_string(r, c as u16, k)?;
        }
        write_totals(ws, r, first, t, f, false)?;
    }
    let r = 1 + lines.len() as u32;
    ws.write_string_with_format(r, 0, "合計", &f.total_label)?;
    for c in 1..first {
        ws.write_string_with_format(r, c, "", &f.total_label)?;
    }
    write_totals(ws, r, first, total, f, true)?;
    ws.set_freeze_panes(1, first)?;
    for c in 0..first {
        ws.set_column_width(c, 16)?;
    }
    for c in first..first + 12 {
        ws.set_column_width(c, 11)?;
    }
    Ok(())
}

const RUN_HEADERS: [&str; 18] = [
    "開始",
    "終了",
    "課",
    "業務",
    "シナリオ",
    "結果",
    "実行回数",
    "処理件数",
    "失敗件数",
    "導入前(分)",
    "導入後(分)",
    "削減時間(分)",
    "ロボット稼働(分)",
    "有人/無人",
    "端末",
    "利用者",
    "種別",
    "実行ID",
];

fn write_run(ws: &mut Worksheet, r: u32, run: &RunRecord, f: &Formats) -> Result<(), XlsxError> {
    write_time(ws, r, 0, &run.started_at, f)?;
    if let Some(end) = &run.ended_at {
        write_time(ws, r, 1, end, f)?;
    }
    ws.write_string(r, 2, &run.department)?;
    ws.write_string(r, 3, &run.task)?;
    ws.write_string(r, 4, &run.scenario_name)?;
    ws.write_string(r, 5, run.state.label_ja())?;
    ws.write_number_with_format(r, 6, run.runs as f64, &f.count)?;
    ws.write_number_with_format(r, 7, run.items_done as f64, &f.count)?;
    ws.write_number_with_format(r, 8, run.items_failed as f64, &f.count)?;
    ws.write_number_with_format(r, 9, run.time.before_minutes, &f.minutes)?;
    ws.write_number_with_format(r, 10, run.time.after_minutes, &f.minutes)?;
    ws.write_number_with_format(r, 11, run.time.saved_minutes, &f.minutes)?;
    ws.write_number_with_format(r, 12, run.robot_minutes, &f.minutes)?;
    ws.write_string(
        r,
        13,
        if run.baselines.attended {
            "有人"
        } else {
            "無人"
        },
    )?;
    ws.write_string(r, 14, &run.machine)?;
    ws.write_string(r, 15, &run.os_user)?;
    ws.write_string(
        r,
        16,
        if run.kind == Kind::Import {
            "取込"
        } else {
            "実行"
        },
    )?;
    ws.write_string(r, 17, &run.run_id)?;
    Ok(())
}

fn runs_sheet(
    wb: &mut Workbook,
    store: &dyn Reports,
    filter: &Filter,
    max_runs: u64,
    label: &str,
    f: &Formats,
) -> LResult<u64> {
    let ws = wb.add_worksheet_with_constant_memory().map_err(x(label))?;
    ws.set_name("実行一覧").map_err(x(label))?;
    write_headers(ws, 0, 0, &RUN_HEADERS, f).map_err(x(label))?;
    for (c, w) in [
        16, 16, 14, 18, 18, 6, 8, 8, 8, 10, 10, 11, 12, 8, 12, 10, 6, 34,
    ]
    .iter()
    .enumerate()
    {
        ws.set_column_width(c as u16, *w).map_err(x(label))?;
    }
    ws.set_freeze_panes(1, 0).map_err(x(label))?;
    let limit = max_runs.min(MAX_ROWS as u64 - 2);
    let newest = Filter {
        newest_first: true,
        limit: Some(limit + 1),
        ..filter.clone()
    };
    let mut row = 0u32;
    let mut more = false;
    store.for_each_run(&newest, &mut |run| {
        if row as u64 >= limit {
            more = true;
            return Ok(());
        }
        row += 1;
        write_run(ws, row, &run, f).map_err(x(label))
    })?;
    if more {
        let to = filter
            .to
            .as_deref()
            .and_then(|t| chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
            .and_then(|d| d.pred_opt())
            .map(|d| format!(" --to {d}"))
            .unwrap_or_default();
        let from = filter
            .from
            .as_deref()
            .map(|d| format!(" --from {d}"))
            .unwrap_or_default();
        ws.write_string_with_format(
            row + 1,
            0,
            format!(
                "新しい順に {limit} 件まで表示しています。全件は kuroko ledger export{from}{to} で出力できます。"
            ),
            &f.bold,
        )
        .map_err(x(label))?;
    }
    Ok(row as u64)
}

fn failures_sheet(
    wb: &mut Workbook,
    store: &dyn Reports,
    filter: &Filter,
    label: &str,
    f: &Formats,
) -> LResult<()> {
    let ws = wb.add_worksheet();
    ws.set_name("失敗一覧").map_err(x(label))?;
    let headers = [
        "開始",
        "課",
        "業務",
        "シナリオ",
        "結果",
        "処理件数",
        "失敗件数",
        "エラー",
        "場所",
        "実行ID",
    ];
    write_headers(ws, 0, 0, &headers, f).map_err(x(label))?;
    let problems = Filter {
        problems_only: true,
        ..filter.clone()
    };
    let mut row = 0u32;
    store.for_each_run(&problems, &mut |run| {
        if row >= 100_000 {
            return Ok(());
        }
        row += 1;
        let r = row;
        let w = |e| x(label)(e);
        write_time(ws, r, 0, &run.started_at, f).map_err(w)?;
        ws.write_string(r, 1, &run.department).map_err(w)?;
        ws.write_string(r, 2, &run.task).map_err(w)?;
        ws.write_string(r, 3, &run.scenario_name).map_err(w)?;
        ws.write_string(r, 4, run.state.label_ja()).map_err(w)?;
        ws.write_number_with_format(r, 5, run.items_done as f64, &f.count)
            .map_err(w)?;
        ws.write_number_with_format(r, 6, run.items_failed as f64, &f.count)
            .map_err(w)?;
        ws.write_string(r, 7, run.message.as_deref().unwrap_or(""))
            .map_err(w)?;
        ws.write_string(r, 8, run.location.as_deref().unwrap_or(""))
            .map_err(w)?;
        ws.write_string(r, 9, &run.run_id).map_err(w)?;
        Ok(())
    })?;

    let items = store.failed_items(filter)?;
    let top = row + 3;
    ws.write_string_with_format(top, 0, "失敗した項目", &f.bold)
        .map_err(x(label))?;
    write_headers(
        ws,
        top + 1,
        0,
        &["日時", "課", "業務", "項目", "理由", "実行ID"],
        f,
    )
    .map_err(x(label))?;
    for (i, item) in items.iter().take(100_000).enumerate() {
        let r = top + 2 + i as u32;
        let w = |e| x(label)(e);
        write_time(ws, r, 0, &item.at, f).map_err(w)?;
        ws.write_string(r, 1, &item.department).map_err(w)?;
        ws.write_string(r, 2, &item.task).map_err(w)?;
        ws.write_string(r, 3, &item.key).map_err(w)?;
        ws.write_string(r, 4, &item.reason).map_err(w)?;
        ws.write_string(r, 5, &item.run_id).map_err(w)?;
    }
    for (c, w) in [16, 14, 18, 18, 8, 8, 8, 60, 24, 34].iter().enumerate() {
        ws.set_column_width(c as u16, *w).map_err(x(label))?;
    }
    ws.set_freeze_panes(1, 0).map_err(x(label))?;
    Ok(())
}

/// How many runs the 実行一覧 sheet lists by default, newest first (the ledger export has all).
pub const DEFAULT_MAX_RUNS: u64 = 50_000;

/// Writes the workbook to `target`. Returns how many runs it lists.
pub fn write(report: &Report, store: &dyn Reports, target: &Path, max_runs: u64) -> LResult<u64> {
    let label = target.display().to_string();
    let (mut wb, runs) = workbook(report, store, max_runs, &label)?;
    save_atomically(&mut wb, target, &label).map_err(|e| LedgerError(e.0))?;
    Ok(runs)
}

/// The report's xlsx file in memory, for the launcher to send (no file, so two downloads at
/// once never meet, and nothing is left behind).
pub fn to_bytes(report: &Report, store: &dyn Reports, max_runs: u64) -> LResult<Vec<u8>> {
    let label = format!("the report for {}", report.period.label);
    let (mut wb, _) = workbook(report, store, max_runs, &label)?;
    wb.save_to_buffer()
        .map_err(|e| LedgerError(format!("{label}: cannot write it ({e})")))
}

/// Every sheet of the report; the number of runs listed.
fn workbook(
    report: &Report,
    store: &dyn Reports,
    max_runs: u64,
    label: &str,
) -> LResult<(Workbook, u64)> {
    let label = label.to_string();
    let f = Formats::new();
    let mut wb = Workbook::new();
    let generated = chrono::Local::now().format("%Y-%m-%d %H:%M").to_string();
    summary_sheet(&mut wb, report, &f, &generated).map_err(x(&label))?;
    breakdown_sheet(
        &mut wb,
        "業務別",
        &["課", "業務"],
        &report.by_task,
        |(d, t)| vec![d.clone(), t.clone()],
        &report.total,
        &f,
    )
    .map_err(x(&label))?;
    breakdown_sheet(
        &mut wb,
        "課別",
        &["課"],
        &report.by_department,
        |d| vec![d.clone()],
        &report.total,
        &f,
    )
    .map_err(x(&label))?;
    let filter = report.period.filter(report.department.as_deref());
    let runs = runs_sheet(&mut wb, store, &filter, max_runs, &label, &f)?;
    failures_sheet(&mut wb, store, &filter, &label, &f)?;
    Ok((wb, runs))
}

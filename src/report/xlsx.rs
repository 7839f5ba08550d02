//! The report as an xlsx workbook for the council, printed as it is shown: 概要 on one A4
//! landscape page (the headline 導入前 → 導入後, 削減時間, 削減率 first, then the counts, the
//! months with a column chart, the 課 with a bar chart and the fiscal year before); then 業務別,
//! 課別, the runs and the failures, each one page wide with its header row repeated and the
//! period in the footer. Charts start at zero and label every category. Japanese headers,
//! numbers stored as numbers with display formats, page setup through rust_xlsxwriter, and the
//! file written beside its target and renamed (whole or not at all).

use std::path::Path;

use rust_xlsxwriter::{
    Chart, ChartAxisCrossing, ChartDataLabel, ChartDataLabelPosition, ChartFont, ChartType,
    ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError,
};

use super::{COLUMNS, MODEL_SENTENCE, NOTHING_RAN, Report, Totals};
use crate::japanese::wareki;
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
    card_label: Format,
    card_hours: Format,
    card_saved: Format,
    card_rate: Format,
}

impl Formats {
    fn new() -> Formats {
        let header = Format::new()
            .set_bold()
            .set_background_color("#DDEBF7")
            .set_align(FormatAlign::Center);
        let total = Format::new().set_bold().set_border_top(FormatBorder::Thin);
        let card = Format::new()
            .set_bold()
            .set_font_size(22)
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter)
            .set_border(FormatBorder::Thin);
        Formats {
            title: Format::new().set_bold().set_font_size(14),
            header,
            bold: Format::new().set_bold(),
            count: Format::new().set_num_format("#,##0"),
            hours: Format::new().set_num_format("#,##0.0"),
            minutes: Format::new().set_num_format("#,##0.0"),
            rate: Format::new().set_num_format("0.0%"),
            datetime: Format::new().set_num_format("yyyy-mm-dd hh:mm"),
            note: Format::new()
                .set_text_wrap()
                .set_font_size(10)
                .set_align(FormatAlign::VerticalCenter),
            total_label: total.clone(),
            total_count: total.clone().set_num_format("#,##0"),
            total_hours: total.clone().set_num_format("#,##0.0"),
            total_rate: total.set_num_format("0.0%"),
            card_label: Format::new()
                .set_bold()
                .set_font_size(12)
                .set_background_color("#DDEBF7")
                .set_align(FormatAlign::Center)
                .set_border(FormatBorder::Thin),
            card_hours: card.clone().set_num_format("#,##0.0\" 時間\""),
            card_saved: card
                .clone()
                .set_num_format("#,##0.0\" 時間\"")
                .set_font_color("#006100")
                .set_background_color("#E2EFDA"),
            card_rate: card.set_num_format("0.0%"),
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

/// 概要's columns in pixels: the tables at the left (A–E), the charts at the right (G–M), the
/// headline across both: 1,064 px, narrow enough that its tables print at 7.7 points on A4.
const OVERVIEW_WIDTHS: [u16; 13] = [112, 88, 96, 96, 96, 16, 80, 80, 80, 80, 80, 80, 80];
const OVERVIEW_LAST_COL: u16 = OVERVIEW_WIDTHS.len() as u16 - 1;
/// Where the charts start: column G.
const CHART_COL: u16 = 6;
/// Excel's default row height in pixels (15 points), which rows not set otherwise keep.
const ROW_PX: u32 = 20;
/// A bar per 課 this tall, so every 課 gets its label: at 22 px LibreOffice labelled every
/// other 課 of 14, at 24 px all of them (9-point labels).
const BAR_PX: u32 = 28;

/// The width of columns `first..=last` of 概要, in pixels.
fn span(first: u16, last: u16) -> u32 {
    OVERVIEW_WIDTHS[first as usize..=last as usize]
        .iter()
        .map(|w| u32::from(*w))
        .sum()
}

/// Where a value axis starts: at zero, or below it when something is negative (a run that
/// did nothing costs its per-run time), so bars are never cut short.
fn axis_min(values: impl Iterator<Item = f64>) -> f64 {
    values.fold(0.0, |low: f64, v| low.min(v.floor()))
}

fn chart_font(size: u8) -> ChartFont {
    let mut font = ChartFont::new();
    font.set_size(size);
    font
}

fn value_labels() -> ChartDataLabel {
    let mut label = ChartDataLabel::new();
    label
        .show_value()
        .set_num_format("#,##0.0")
        .set_position(ChartDataLabelPosition::OutsideEnd)
        .set_font(&chart_font(8));
    label
}

/// The headline's cards, a quarter of the page each: label, first and last column, the
/// figure (`None` for the rate of nothing), its format.
fn headline_cards<'a>(
    t: &Totals,
    f: &'a Formats,
) -> [(&'static str, u16, u16, Option<f64>, &'a Format); 4] {
    [
        ("導入前", 0, 2, Some(t.before_hours()), &f.card_hours),
        ("導入後", 3, 6, Some(t.after_hours()), &f.card_hours),
        ("削減時間", 7, 9, Some(t.saved_hours()), &f.card_saved),
        ("削減率", 10, 12, t.saved_rate(), &f.card_rate),
    ]
}

/// 概要, one A4 landscape page: the headline (導入前, 導入後, 削減時間, 削減率) large at the top,
/// the counts, the model in one sentence; the month table with its column chart; the 課
/// table, for a fiscal year with the year before beside it, with its bar chart.
fn summary_sheet(
    wb: &mut Workbook,
    report: &Report,
    f: &Formats,
    generated: &str,
    footer: &str,
) -> Result<(), XlsxError> {
    let name = "概要";
    let ws = wb.add_worksheet();
    ws.set_name(name)?;
    for (c, w) in OVERVIEW_WIDTHS.iter().enumerate() {
        ws.set_column_width_pixels(c as u16, u32::from(*w))?;
    }
    let t = &report.total;
    ws.write_string_with_format(
        0,
        0,
        format!("削減時間レポート {}", report.period.label),
        &f.title,
    )?;
    ws.set_row_height(0, 22)?;
    ws.write_string(
        1,
        0,
        format!(
            "課: {}　作成: {generated} (kuroko {})",
            report.department.as_deref().unwrap_or("全課"),
            env!("CARGO_PKG_VERSION")
        ),
    )?;
    ws.set_row_height_pixels(2, 8)?;

    // The headline, as large as the page allows.
    for (label, first, last, value, format) in headline_cards(t, f) {
        ws.merge_range(3, first, 3, last, label, &f.card_label)?;
        ws.merge_range(4, first, 4, last, "", format)?;
        match value {
            Some(v) => ws.write_number_with_format(4, first, v, format)?,
            None => ws.write_string_with_format(4, first, "-", format)?,
        };
    }
    ws.set_row_height(3, 18)?;
    ws.set_row_height(4, 36)?;
    ws.set_row_height_pixels(5, 8)?;

    // Then what they come from: runs and items.
    let counts: [(&str, u16, u16, f64, &Format); 8] = [
        ("実行回数", 0, 0, t.runs as f64, &f.count),
        ("成功", 1, 1, t.succeeded as f64, &f.count),
        ("失敗", 2, 2, t.failed as f64, &f.count),
        ("中止", 3, 3, t.aborted as f64, &f.count),
        ("中断", 4, 4, t.interrupted as f64, &f.count),
        ("処理件数", 5, 6, t.items_done as f64, &f.count),
        ("失敗件数", 7, 7, t.items_failed as f64, &f.count),
        ("ロボット稼働(h)", 8, 9, t.robot_hours(), &f.hours),
    ];
    for (label, first, last, value, format) in counts {
        if first == last {
            ws.write_string_with_format(6, first, label, &f.header)?;
        } else {
            ws.merge_range(6, first, 6, last, label, &f.header)?;
            ws.merge_range(7, first, 7, last, "", format)?;
        }
        ws.write_number_with_format(7, first, value, format)?;
    }
    ws.merge_range(8, 0, 8, OVERVIEW_LAST_COL, MODEL_SENTENCE, &f.note)?;
    ws.set_row_height_pixels(8, 30)?;

    // Per month: the table, and its column chart beside it.
    let top = 10;
    ws.write_string_with_format(top, 0, "月別", &f.bold)?;
    write_headers(
        ws,
        top + 1,
        0,
        &["月", "導入前(h)", "導入後(h)", "削減時間(h)"],
        f,
    )?;
    for (i, (month, m)) in report.by_month.iter().enumerate() {
        let r = top + 2 + i as u32;
        ws.write_string(r, 0, month)?;
        ws.write_number_with_format(r, 1, m.before_hours(), &f.hours)?;
        ws.write_number_with_format(r, 2, m.after_hours(), &f.hours)?;
        ws.write_number_with_format(r, 3, m.saved_hours(), &f.hours)?;
    }
    let months = report.by_month.len().max(1) as u32;
    let last_month = top + 1 + months;
    let nothing = t.runs == 0;
    // The month chart is 14 rows tall at least; with nothing to chart, the table alone.
    let band = if nothing {
        months + 2
    } else {
        (months + 2).max(14)
    };
    if nothing {
        ws.write_string_with_format(top, CHART_COL - 2, NOTHING_RAN, &f.title)?;
    } else {
        // From column E, a little apart from the month table.
        let gap = 12;
        let width = span(CHART_COL - 2, OVERVIEW_LAST_COL) - gap;
        let mut chart = Chart::new(ChartType::Column);
        let series = chart
            .add_series()
            .set_name("削減時間(h)")
            .set_categories((name, top + 2, 0, last_month, 0))
            .set_values((name, top + 2, 3, last_month, 3))
            .set_gap(60);
        // A value above each column where they fit (a year of months does; years do not).
        if width / months >= 44 {
            series.set_data_label(&value_labels());
        }
        chart
            .title()
            .set_name("月別 削減時間")
            .set_font(&chart_font(11));
        chart
            .x_axis()
            .set_label_interval(1)
            .set_font(&chart_font(8));
        chart
            .y_axis()
            .set_name("削減時間（時間）")
            .set_name_font(&chart_font(9))
            .set_min(axis_min(
                report.by_month.iter().map(|(_, m)| m.saved_hours()),
            ))
            .set_num_format("#,##0")
            .set_font(&chart_font(9));
        chart.legend().set_hidden();
        chart.set_width(width).set_height(band * ROW_PX);
        ws.insert_chart_with_offset(top, CHART_COL - 2, &chart, gap, 0)?;
    }

    // Per 課, most hours saved first: the table (for a fiscal year, the one before beside it)
    // and its bar chart.
    let top = top + band + 1;
    let rows = report.comparison();
    ws.write_string_with_format(top, 0, "課別", &f.bold)?;
    if let (Some(fy), Some(_)) = (report.period.fiscal_year, &report.previous) {
        let name = |y: i32| wareki::fiscal_year_name(y).unwrap_or_else(|| y.to_string());
        ws.merge_range(top, 1, top, 2, &name(fy), &f.header)?;
        ws.merge_range(
            top,
            3,
            top,
            4,
            &format!("{}（前年度）", name(fy - 1)),
            &f.header,
        )?;
        write_headers(
            ws,
            top + 1,
            0,
            &["課", "処理件数", "削減時間(h)", "処理件数", "削減時間(h)"],
            f,
        )?;
    } else {
        write_headers(ws, top + 1, 0, &["課", "処理件数", "削減時間(h)"], f)?;
    }
    let last_columns = report.previous.is_some();
    for (i, (dept, now, last)) in rows.iter().enumerate() {
        let r = top + 2 + i as u32;
        ws.write_string(r, 0, dept)?;
        ws.write_number_with_format(r, 1, now.items_done as f64, &f.count)?;
        ws.write_number_with_format(r, 2, now.saved_hours(), &f.hours)?;
        if last_columns {
            ws.write_number_with_format(r, 3, last.items_done as f64, &f.count)?;
            ws.write_number_with_format(r, 4, last.saved_hours(), &f.hours)?;
        }
    }
    let total_row = top + 2 + rows.len() as u32;
    ws.write_string_with_format(total_row, 0, "合計", &f.total_label)?;
    ws.write_number_with_format(total_row, 1, t.items_done as f64, &f.total_count)?;
    ws.write_number_with_format(total_row, 2, t.saved_hours(), &f.total_hours)?;
    if let Some(previous) = &report.previous {
        let last = &previous.total;
        ws.write_number_with_format(total_row, 3, last.items_done as f64, &f.total_count)?;
        ws.write_number_with_format(total_row, 4, last.saved_hours(), &f.total_hours)?;
    }
    let mut last_row = total_row;
    if let (Some(fy), None) = (report.period.fiscal_year, &report.previous) {
        let name = wareki::fiscal_year_name(fy - 1)
            .map(|n| format!("（{n}）"))
            .unwrap_or_default();
        last_row += 1;
        ws.write_string(
            last_row,
            0,
            format!("前年度{name}の記録は台帳にありません。"),
        )?;
    }
    if !rows.is_empty() && !nothing {
        let count = rows.len() as u32;
        let height = (60 + BAR_PX * count).max(200);
        let mut chart = Chart::new(ChartType::Bar);
        chart
            .add_series()
            .set_name("削減時間(h)")
            .set_categories((name, top + 2, 0, top + 1 + count, 0))
            .set_values((name, top + 2, 2, top + 1 + count, 2))
            .set_gap(50)
            .set_data_label(&value_labels());
        chart
            .title()
            .set_name("課別 削減時間")
            .set_font(&chart_font(11));
        // The table's order, top down (a bar chart draws its first category at the bottom).
        chart
            .y_axis()
            .set_reverse()
            .set_crossing(ChartAxisCrossing::Max)
            .set_label_interval(1)
            .set_font(&chart_font(9));
        chart
            .x_axis()
            .set_name("削減時間（時間）")
            .set_name_font(&chart_font(9))
            .set_min(axis_min(rows.iter().map(|(_, d, _)| d.saved_hours())))
            .set_num_format("#,##0")
            .set_font(&chart_font(9));
        chart.legend().set_hidden();
        chart
            .set_width(span(CHART_COL, OVERVIEW_LAST_COL))
            .set_height(height);
        ws.insert_chart(top, CHART_COL, &chart)?;
        last_row = last_row.max(top + height.div_ceil(ROW_PX) - 1);
    }

    ws.set_landscape()
        .set_paper_size(9)
        .set_print_fit_to_pages(1, 1)
        .set_margins(0.4, 0.4, 0.5, 0.5, 0.3, 0.3)
        .set_print_center_horizontally(true)
        .set_footer(footer_text(footer, name));
    ws.set_print_area(0, 0, last_row, OVERVIEW_LAST_COL)?;
    Ok(())
}

/// The footer of every printed page: the period (and 課) at the left, the sheet in the
/// middle, the page number of how many at the right.
fn footer_text(footer: &str, sheet: &str) -> String {
    // `&` starts a code in a footer; `&&` is the character.
    format!("&L{}&C{sheet}&R&P / &N", footer.replace('&', "&&"))
}

/// A4 landscape, one page wide and as many long as needed, the header rows on every page,
/// the footer, and the print area: how 業務別, 課別, 実行一覧 and 失敗一覧 print.
fn print_wide(
    ws: &mut Worksheet,
    footer: &str,
    sheet: &str,
    header_rows: u32,
    last_row: u32,
    last_col: u16,
) -> Result<(), XlsxError> {
    ws.set_landscape()
        .set_paper_size(9)
        .set_print_fit_to_pages(1, 0)
        .set_margins(0.4, 0.4, 0.6, 0.6, 0.3, 0.3)
        .set_footer(footer_text(footer, sheet));
    ws.set_repeat_rows(0, header_rows - 1)?;
    ws.set_print_area(0, 0, last_row, last_col)?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn breakdown_sheet<K>(
    wb: &mut Workbook,
    name: &str,
    keys: &[&str],
    lines: &[(K, Totals)],
    key_cells: impl Fn(&K) -> Vec<String>,
    total: &Totals,
    f: &Formats,
    footer: &str,
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
    print_wide(ws, footer, name, 1, r, first + 11)?;
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
    footer: &str,
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
        ws.write_string_with_format(row + 1, 0, only_newest(limit, filter), &f.bold)
            .map_err(x(label))?;
    }
    let last = if more { row + 1 } else { row };
    print_wide(
        ws,
        footer,
        "実行一覧",
        1,
        last,
        RUN_HEADERS.len() as u16 - 1,
    )
    .map_err(x(label))?;
    Ok(row as u64)
}

/// The line under a list cut at `limit`: where the whole list is.
fn only_newest(limit: u64, filter: &Filter) -> String {
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
    format!(
        "新しい順に {limit} 件まで表示しています。全件は kuroko ledger export{from}{to} で出力できます。"
    )
}

/// How many problem runs, and how many failed items, 失敗一覧 lists (newest first; the ledger
/// export has all): a year of a busy fleet can have hundreds of thousands.
const FAILURES_SHOWN: u64 = 10_000;

fn failures_sheet(
    wb: &mut Workbook,
    store: &dyn Reports,
    filter: &Filter,
    label: &str,
    f: &Formats,
    footer: &str,
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
    // One more than shown is read, to know whether there are more.
    let problems = Filter {
        problems_only: true,
        newest_first: true,
        limit: Some(FAILURES_SHOWN + 1),
        ..filter.clone()
    };
    let mut row = 0u32;
    let mut more_runs = false;
    store.for_each_run(&problems, &mut |run| {
        if u64::from(row) >= FAILURES_SHOWN {
            more_runs = true;
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

    if more_runs {
        row += 1;
        ws.write_string_with_format(row, 0, only_newest(FAILURES_SHOWN, filter), &f.bold)
            .map_err(x(label))?;
    }
    let mut items = store.failed_items(&Filter {
        newest_first: true,
        limit: Some(FAILURES_SHOWN + 1),
        ..filter.clone()
    })?;
    let more_items = items.len() as u64 > FAILURES_SHOWN;
    items.truncate(FAILURES_SHOWN as usize);
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
    for (i, item) in items.iter().enumerate() {
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
    let mut last = top + 1 + items.len() as u32;
    if more_items {
        last += 1;
        ws.write_string_with_format(
            last,
            0,
            format!(
                "新しい順に {FAILURES_SHOWN} 件まで表示しています。残りは期間を短くして出力してください。"
            ),
            &f.bold,
        )
        .map_err(x(label))?;
    }
    print_wide(ws, footer, "失敗一覧", 1, last, headers.len() as u16 - 1).map_err(x(label))?;
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
    let footer = match &report.department {
        Some(d) => format!("{}　{d}", report.period.label),
        None => report.period.label.clone(),
    };
    summary_sheet(&mut wb, report, &f, &generated, &footer).map_err(x(&label))?;
    breakdown_sheet(
        &mut wb,
        "業務別",
        &["課", "業務"],
        &report.by_task,
        |(d, t)| vec![d.clone(), t.clone()],
        &report.total,
        &f,
        &footer,
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
        &footer,
    )
    .map_err(x(&label))?;
    let filter = report.period.filter(report.department.as_deref());
    // Per machine from the runs themselves (the per-day sums have no machine): only here, not
    // in every summary.
    let by_machine: Vec<((String, String), Totals)> = store
        .machine_totals(&filter)?
        .into_iter()
        .map(|m| ((m.machine, m.department), m.sums))
        .collect();
    let machines_total = by_machine.iter().fold(Totals::default(), |mut t, (_, m)| {
        t.add(m);
        t
    });
    breakdown_sheet(
        &mut wb,
        "PC別",
        &["端末", "課"],
        &by_machine,
        |(m, d)| vec![m.clone(), d.clone()],
        &machines_total,
        &f,
        &footer,
    )
    .map_err(x(&label))?;
    let runs = runs_sheet(&mut wb, store, &filter, max_runs, &label, &f, &footer)?;
    failures_sheet(&mut wb, store, &filter, &label, &f, &footer)?;
    Ok((wb, runs))
}

//! The report as text: an aligned table for the terminal (full-width characters count two
//! columns) and a CSV (UTF-8 with BOM, so Excel opens the Japanese headers correctly).

use super::{COLUMNS, MODEL_NOTE, NOTHING_RAN, Report, Totals};
use crate::japanese::wareki;
use crate::text_table::{Align, table};

/// `1234567.891` with 1 decimal → "1,234,567.9".
pub fn grouped(value: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, value.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    let negative = value < 0.0 && out.chars().any(|c| c.is_ascii_digit() && c != '0');
    if negative { format!("-{out}") } else { out }
}

/// The report's first line, as a manager reads it out: 導入前 → 導入後, 削減時間 and 削減率,
/// then the runs and items behind them (the xlsx's 概要 and the launcher show the same).
pub fn headline(t: &Totals) -> String {
    format!(
        "導入前 {} 時間 → 導入後 {} 時間　削減時間 {} 時間（削減率 {}）　実行回数 {} 回・処理件数 {} 件",
        grouped(t.before_hours(), 1),
        grouped(t.after_hours(), 1),
        grouped(t.saved_hours(), 1),
        t.saved_rate()
            .map(|r| format!("{:.1}%", r * 100.0))
            .unwrap_or_else(|| "-".into()),
        grouped(t.runs as f64, 0),
        grouped(t.items_done as f64, 0),
    )
}

fn rate_text(t: &Totals) -> String {
    t.saved_rate()
        .map(|r| format!("{:.1}", r * 100.0))
        .unwrap_or_else(|| "-".into())
}

fn numbers(t: &Totals, format: impl Fn(f64, usize) -> String) -> Vec<String> {
    vec![
        format(t.runs as f64, 0),
        format(t.succeeded as f64, 0),
        format(t.failed as f64, 0),
        format(t.aborted as f64, 0),
        format(t.interrupted as f64, 0),
        format(t.items_done as f64, 0),
        format(t.items_failed as f64, 0),
        format(t.before_hours(), 1),
        format(t.after_hours(), 1),
        format(t.saved_hours(), 1),
        rate_text(t),
        format(t.robot_hours(), 1),
    ]
}

fn department_label(report: &Report) -> String {
    report.department.clone().unwrap_or_else(|| "全課".into())
}

/// The terminal report.
pub fn table_text(report: &Report) -> String {
    let t = &report.total;
    let mut out = format!(
        "kuroko 削減時間レポート — {}  [課: {}]\n\n",
        report.period.label,
        department_label(report)
    );
    out.push_str(&headline(t));
    out.push_str("\n\n");
    if t.runs == 0 {
        out.push_str(NOTHING_RAN);
        out.push_str("\n\n");
    }
    let summary_header: Vec<String> = [
        "導入前(h)",
        "導入後(h)",
        "削減時間(h)",
        "削減率(%)",
        "実行回数",
        "処理件数",
        "失敗・中止・中断",
        "ロボット稼働(h)",
    ]
    .map(String::from)
    .to_vec();
    let summary = vec![vec![
        grouped(t.before_hours(), 1),
        grouped(t.after_hours(), 1),
        grouped(t.saved_hours(), 1),
        rate_text(t),
        grouped(t.runs as f64, 0),
        grouped(t.items_done as f64, 0),
        grouped(t.unsuccessful() as f64, 0),
        grouped(t.robot_hours(), 1),
    ]];
    out.push_str(&table(&summary_header, &summary, &[Align::Right; 8]));

    let mut header = vec!["課".to_string()];
    header.extend(COLUMNS.map(String::from));
    let mut align = vec![Align::Left];
    align.extend([Align::Right; 12]);
    let rows: Vec<Vec<String>> = report
        .by_department
        .iter()
        .map(|(d, t)| {
            let mut row = vec![d.clone()];
            row.extend(numbers(t, grouped));
            row
        })
        .collect();
    out.push_str("\n課別\n");
    out.push_str(&table(&header, &rows, &align));

    header.insert(1, "業務".into());
    align.insert(1, Align::Left);
    let mut rows: Vec<Vec<String>> = report
        .by_task
        .iter()
        .map(|((d, task), t)| {
            let mut row = vec![d.clone(), task.clone()];
            row.extend(numbers(t, grouped));
            row
        })
        .collect();
    let mut total_row = vec!["合計".to_string(), String::new()];
    total_row.extend(numbers(t, grouped));
    rows.push(total_row);
    out.push_str("\n業務別\n");
    out.push_str(&table(&header, &rows, &align));
    out.push_str(&comparison_text(report));
    out.push('\n');
    out.push_str(MODEL_NOTE);
    out.push('\n');
    out
}

/// For a fiscal year, this year beside the last per 課 (削減時間 and 処理件数), or why not.
fn comparison_text(report: &Report) -> String {
    let Some(fy) = report.period.fiscal_year else {
        return String::new();
    };
    let Some(previous) = &report.previous else {
        let last = wareki::fiscal_year_name(fy - 1)
            .map(|n| format!("（{n}）"))
            .unwrap_or_default();
        return format!("\n前年度{last}の記録は台帳にありません。\n");
    };
    let header: Vec<String> = [
        "課",
        "削減時間(h) 今年度",
        "削減時間(h) 前年度",
        "処理件数 今年度",
        "処理件数 前年度",
    ]
    .map(String::from)
    .to_vec();
    let mut rows: Vec<Vec<String>> = report
        .comparison()
        .iter()
        .map(|(d, now, last)| comparison_row(d, now, last))
        .collect();
    rows.push(comparison_row("合計", &report.total, &previous.total));
    let mut align = vec![Align::Left];
    align.extend([Align::Right; 4]);
    format!(
        "\n前年度との比較（{}）\n{}",
        previous.period.label,
        table(&header, &rows, &align)
    )
}

fn comparison_row(department: &str, now: &Totals, last: &Totals) -> Vec<String> {
    vec![
        department.to_string(),
        grouped(now.saved_hours(), 1),
        grouped(last.saved_hours(), 1),
        grouped(now.items_done as f64, 0),
        grouped(last.items_done as f64, 0),
    ]
}

/// The per-task table as CSV, with a 合計 row; numbers without separators.
pub fn csv_bytes(report: &Report) -> Result<Vec<u8>, String> {
    let plain = |v: f64, decimals: usize| format!("{v:.decimals$}");
    let mut writer = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let mut header = vec!["期間", "課", "業務"];
    header.extend(COLUMNS);
    let err = |e: csv::Error| format!("cannot write the CSV: {e}");
    writer.write_record(&header).map_err(err)?;
    let period = &report.period.label;
    for ((d, task), t) in &report.by_task {
        let mut row = vec![period.clone(), d.clone(), task.clone()];
        row.extend(numbers(t, plain));
        writer.write_record(&row).map_err(err)?;
    }
    let mut total = vec![period.clone(), "合計".into(), department_label(report)];
    total.extend(numbers(&report.total, plain));
    writer.write_record(&total).map_err(err)?;
    writer
        .into_inner()
        .map_err(|e| format!("cannot write the CSV: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_thousands() {
        assert_eq!(grouped(6629.0, 1), "6,629.0");
        assert_eq!(grouped(1234567.891, 1), "1,234,567.9");
        assert_eq!(grouped(-1234.0, 0), "-1,234");
        assert_eq!(grouped(-0.01, 1), "0.0");
        assert_eq!(grouped(999.0, 0), "999");
    }

    #[test]
    fn the_headline_reads_before_after_saved_rate_then_runs_and_items() {
        let t = Totals {
            runs: 2301,
            items_done: 22528,
            before_minutes: 6629.0 * 60.0,
            after_minutes: 407.0 * 60.0,
            saved_minutes: 6222.0 * 60.0,
            ..Totals::default()
        };
        assert_eq!(
            headline(&t),
            concat!(
                "導入前 6,629.0 時間 → 導入後 407.0 時間　削減時間 6,222.0 時間（削減率 93.9%）",
                "　実行回数 2,301 回・処理件数 22,528 件"
            )
        );
        assert_eq!(
            headline(&Totals::default()),
            concat!(
                "導入前 0.0 時間 → 導入後 0.0 時間　削減時間 0.0 時間（削減率 -）",
                "　実行回数 0 回・処理件数 0 件"
            )
        );
    }

    #[test]
    fn an_empty_period_says_so_and_a_fiscal_year_says_whether_the_year_before_is_there() {
        let fy = Report::from_groups(
            crate::report::Period::fiscal_year("2030").unwrap(),
            None,
            &[],
        );
        let text = table_text(&fy);
        assert!(text.contains(NOTHING_RAN), "{text}");
        assert!(
            text.contains("前年度（令和11年度）の記録は台帳にありません。"),
            "{text}"
        );
        let month =
            Report::from_groups(crate::report::Period::month("2030-01").unwrap(), None, &[]);
        let text = table_text(&month);
        assert!(
            text.contains(NOTHING_RAN) && !text.contains("前年度"),
            "{text}"
        );
    }
}

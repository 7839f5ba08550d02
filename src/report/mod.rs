//! The time-saved report managers take to the council: for a month, a Japanese fiscal year
//! (April–March) or any range of days, per task (業務別), per department (課別) and per month —
//! runs, items, 導入前, 導入後, 削減時間, 削減率, robot runtime, failures — summed from the ledger.

pub mod text;
pub mod xlsx;

use std::collections::BTreeMap;

use chrono::{Datelike, Months, NaiveDate};

use crate::japanese::wareki;
pub use crate::ledger::Totals;
use crate::ledger::{Filter, GroupTotals, LResult, Reports};

/// The days a report covers: `from` up to, not including, `to`.
#[derive(Debug, Clone, PartialEq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// e.g. "令和3年度 (2021-04-01〜2022-03-31)".
    pub label: String,
    /// A short name for files: "FY2021", "2024-04", "2024-04-01_2024-06-30".
    pub slug: String,
    /// The fiscal year, when the period is one (2021 for 令和3年度).
    pub fiscal_year: Option<i32>,
}

/// Report periods lie in the years 1900–9998 (the fiscal years' range; an xlsx date cannot be
/// earlier than 1900).
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=9998;

fn supported(flag: &str, d: NaiveDate) -> Result<NaiveDate, String> {
    if YEARS.contains(&d.year()) {
        Ok(d)
    } else {
        Err(format!(
            "{flag} {d}: reports cover the years {} to {}",
            YEARS.start(),
            YEARS.end()
        ))
    }
}

impl Period {
    /// `YYYY-MM`.
    pub fn month(text: &str) -> Result<Period, String> {
        let from = NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d")
            .map_err(|_| format!("--month {text:?}: expected YYYY-MM, e.g. 2024-04"))
            .and_then(|d| supported("--month", d))?;
        let to = from + Months::new(1);
        let era = wareki::era_of(from)
            .map(|(e, y)| format!("{}{}年{}月", e.name, wareki::year_text(y), from.month()))
            .unwrap_or_default();
        Ok(Period {
            label: format!("{}年{}月 ({era})", from.year(), from.month()),
            slug: from.format("%Y-%m").to_string(),
            fiscal_year: None,
            from,
            to,
        })
    }

    /// A Japanese fiscal year: `2021` is 令和3年度, 2021-04-01 to 2022-03-31.
    pub fn fiscal_year(text: &str) -> Result<Period, String> {
        let fy: i32 = text
            .trim()
            .parse()
            .ok()
            .filter(|y| YEARS.contains(y))
            .ok_or_else(|| {
                format!("--fiscal-year {text:?}: expected a year such as 2021 (令和3年度)")
            })?;
        let (from, to) = wareki::fiscal_year_bounds(fy).ok_or("bad fiscal year")?;
        let name = wareki::fiscal_year_name(fy).unwrap_or_default();
        Ok(Period {
            label: format!("{name} ({from}〜{})", to.pred_opt().unwrap_or(to)),
            slug: format!("FY{fy}"),
            fiscal_year: Some(fy),
            from,
            to,
        })
    }

    /// `from` and `to` inclusive, `YYYY-MM-DD`.
    pub fn days(from: &str, to: &str) -> Result<Period, String> {
        let parse = |flag: &str, t: &str| {
            NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .map_err(|_| format!("{flag} {t:?}: expected YYYY-MM-DD"))
        };
        let first = parse("--from", from).and_then(|d| supported("--from", d))?;
        let last = parse("--to", to).and_then(|d| supported("--to", d))?;
        if last < first {
            return Err(format!("--to {to} is before --from {from}"));
        }
        Ok(Period {
            label: format!("{first}〜{last}"),
            slug: format!("{first}_{last}"),
            fiscal_year: None,
            from: first,
            to: last.succ_opt().ok_or("--to is too far in the future")?,
        })
    }

    /// For a fiscal year, the one before it (within [`YEARS`]).
    pub fn previous_fiscal_year(&self) -> Option<Period> {
        let fy = self.fiscal_year?.checked_sub(1)?;
        Period::fiscal_year(&fy.to_string()).ok()
    }

    /// Every `YYYY-MM` the period touches, in order (at most 12 × 8,100 for the widest period).
    pub fn months(&self) -> Vec<String> {
        let mut months = Vec::new();
        let mut m = self.from.with_day(1).unwrap_or(self.from);
        while m < self.to {
            months.push(m.format("%Y-%m").to_string());
            m = m + Months::new(1);
        }
        months
    }

    pub fn filter(&self, department: Option<&str>) -> Filter {
        Filter {
            from: Some(self.from.to_string()),
            to: Some(self.to.to_string()),
            department: department.map(str::to_string),
            ..Filter::default()
        }
    }
}

/// A report, ready to be written in any format.
#[derive(Debug, Clone)]
pub struct Report {
    pub period: Period,
    pub department: Option<String>,
    pub total: Totals,
    /// (department, task) → totals, sorted.
    pub by_task: Vec<((String, String), Totals)>,
    pub by_department: Vec<(String, Totals)>,
    /// Every month of the period, with zeros where nothing ran.
    pub by_month: Vec<(String, Totals)>,
    /// For a fiscal year: the one before, when the ledger has runs in it.
    pub previous: Option<Previous>,
}

/// The fiscal year before a fiscal-year report's, for the comparison per 課.
#[derive(Debug, Clone)]
pub struct Previous {
    pub period: Period,
    pub total: Totals,
    pub by_department: Vec<(String, Totals)>,
}

impl Report {
    pub fn build(
        store: &dyn Reports,
        period: Period,
        department: Option<String>,
    ) -> LResult<Report> {
        let groups = store.group_totals(&period.filter(department.as_deref()))?;
        let mut report = Report::from_groups(period, department, &groups);
        if let Some(last) = report.period.previous_fiscal_year() {
            let groups = store.group_totals(&last.filter(report.department.as_deref()))?;
            report = report.with_previous(Report::from_groups(last, None, &groups));
        }
        Ok(report)
    }

    /// Keeps `last` (the fiscal year before) for the comparison, if anything ran in it.
    pub fn with_previous(mut self, last: Report) -> Report {
        self.previous = (last.total.runs > 0).then_some(Previous {
            period: last.period,
            total: last.total,
            by_department: last.by_department,
        });
        self
    }

    /// Every 課 of this period, and of the previous fiscal year when there is one, most hours
    /// saved first (as 概要 lists them): this period's totals beside last year's (zeros where a
    /// 課 had none, and all zeros without a previous year).
    pub fn comparison(&self) -> Vec<(String, Totals, Totals)> {
        let last_year = self.previous.iter().flat_map(|p| &p.by_department);
        let mut both: BTreeMap<&str, (Totals, Totals)> = BTreeMap::new();
        for (d, t) in &self.by_department {
            both.entry(d).or_default().0 = t.clone();
        }
        for (d, t) in last_year {
            both.entry(d).or_default().1 = t.clone();
        }
        let mut rows: Vec<(String, Totals, Totals)> = both
            .into_iter()
            .map(|(d, (now, last))| (d.to_string(), now, last))
            .collect();
        rows.sort_by(|a, b| {
            (b.1.saved_minutes.total_cmp(&a.1.saved_minutes))
                .then_with(|| b.2.saved_minutes.total_cmp(&a.2.saved_minutes))
                .then_with(|| a.0.cmp(&b.0))
        });
        rows
    }

    pub fn from_groups(
        period: Period,
        department: Option<String>,
        groups: &[GroupTotals],
    ) -> Report {
        let mut total = Totals::default();
        let mut by_task: BTreeMap<(String, String), Totals> = BTreeMap::new();
        let mut by_department: BTreeMap<String, Totals> = BTreeMap::new();
        let mut by_month: BTreeMap<String, Totals> = period
            .months()
            .into_iter()
            .map(|m| (m, Totals::default()))
            .collect();
        for g in groups {
            total.add(&g.sums);
            by_task
                .entry((g.department.clone(), g.task.clone()))
                .or_default()
                .add(&g.sums);
            by_department
                .entry(g.department.clone())
                .or_default()
                .add(&g.sums);
            by_month.entry(g.month.clone()).or_default().add(&g.sums);
        }
        Report {
            period,
            department,
            total,
            by_task: by_task.into_iter().collect(),
            by_department: by_department.into_iter().collect(),
            by_month: by_month.into_iter().collect(),
            previous: None,
        }
    }
}

/// The numeric columns of every per-task and per-department table, in every format.
pub const COLUMNS: [&str; 12] = [
    "実行回数",
    "成功",
    "失敗",
    "中止",
    "中断",
    "処理件数",
    "失敗件数",
    "導入前(h)",
    "導入後(h)",
    "削減時間(h)",
    "削減率(%)",
    "ロボット稼働(h)",
];

/// The model in one sentence, under the headline on the xlsx's 概要.
pub const MODEL_SENTENCE: &str = "削減時間 = 導入前（処理件数 × 手作業の分/件）− 導入後（処理件数 × 人手の分/件 + 人手の分/回、\
有人実行ではロボットの稼働時間も）で、基準値は実行時のものを台帳に保存しています。";

/// Said instead of charts when nothing ran in the period.
pub const NOTHING_RAN: &str = "この期間の実行記録はありません。";

/// How the numbers are computed, printed under every report.
pub const MODEL_NOTE: &str = "導入前 = 処理件数 × 手作業の分/件。導入後 = 処理件数 × 人手の分/件 + 人手の分/回 \
(+ 有人実行ではロボットの稼働時間)。削減時間 = 導入前 − 導入後。削減率 = 削減時間 ÷ 導入前。\
失敗・中止・中断した実行は、終えた件数の分だけ数えます。基準値は実行時のものを台帳に保存しています。";

#[cfg(test)]
mod tests {
    use super::*;

    fn group(month: &str, dept: &str, task: &str, before: f64, after: f64) -> GroupTotals {
        GroupTotals {
            month: month.into(),
            department: dept.into(),
            task: task.into(),
            sums: Totals {
                runs: 1,
                succeeded: 1,
                items_done: 10,
                before_minutes: before,
                after_minutes: after,
                saved_minutes: before - after,
                ..Totals::default()
            },
        }
    }

    #[test]
    fn periods() {
        let fy = Period::fiscal_year("2021").unwrap();
        assert_eq!(fy.from.to_string(), "2021-04-01");
        assert_eq!(fy.to.to_string(), "2022-04-01");
        assert_eq!(fy.label, "令和3年度 (2021-04-01〜2022-03-31)");
        assert_eq!(fy.months().len(), 12);
        assert_eq!(fy.months()[11], "2022-03");
        let m = Period::month("2019-05").unwrap();
        assert_eq!(m.label, "2019年5月 (令和元年5月)");
        assert_eq!(m.to.to_string(), "2019-06-01");
        let d = Period::days("2024-01-30", "2024-02-02").unwrap();
        assert_eq!(
            (d.to.to_string(), d.months().len()),
            ("2024-02-03".into(), 2)
        );
        assert!(Period::month("2024-13").is_err());
        assert!(Period::days("2024-02-02", "2024-01-30").is_err());
        assert!(Period::fiscal_year("R3").is_err());
    }

    #[test]
    fn sums_per_task_department_and_month() {
        let groups = [
            group("2021-04", "市民課", "住民票", 600.0, 60.0),
            group("2021-05", "市民課", "住民票", 600.0, 60.0),
            group("2021-05", "税務課", "課税", 300.0, 0.0),
        ];
        let r = Report::from_groups(Period::fiscal_year("2021").unwrap(), None, &groups);
        assert_eq!(r.total.saved_minutes, 1380.0);
        assert_eq!(r.by_task.len(), 2);
        assert_eq!(r.by_department[0].0, "市民課");
        assert_eq!(r.by_department[0].1.saved_hours(), 18.0);
        assert_eq!(r.by_month.len(), 12);
        assert_eq!(r.by_month[1].1.saved_minutes, 840.0);
        assert_eq!(r.by_month[5].1, Totals::default());
        assert!((r.total.saved_rate().unwrap() - 1380.0 / 1500.0).abs() < 1e-12);
        assert!(r.previous.is_none());
        let ranked: Vec<(String, f64, f64)> = r
            .comparison()
            .into_iter()
            .map(|(d, now, last)| (d, now.saved_hours(), last.saved_hours()))
            .collect();
        assert_eq!(
            ranked,
            [("市民課".into(), 18.0, 0.0), ("税務課".into(), 5.0, 0.0)]
        );
    }

    #[test]
    fn a_fiscal_year_has_the_one_before_and_other_periods_none() {
        let fy = Period::fiscal_year("2021").unwrap();
        assert_eq!(fy.fiscal_year, Some(2021));
        let last = fy.previous_fiscal_year().unwrap();
        assert_eq!((last.slug.as_str(), last.to), ("FY2020", fy.from));
        assert_eq!(
            Period::fiscal_year("1900").unwrap().previous_fiscal_year(),
            None
        );
        assert_eq!(
            Period::month("2021-04").unwrap().previous_fiscal_year(),
            None
        );
        let days = Period::days("2021-04-01", "2022-03-31").unwrap();
        assert_eq!(days.previous_fiscal_year(), None);
    }

    #[test]
    fn the_comparison_puts_every_department_of_either_year_side_by_side() {
        let now = Report::from_groups(
            Period::fiscal_year("2021").unwrap(),
            None,
            &[
                group("2021-04", "市民課", "住民票", 600.0, 60.0),
                group("2021-05", "税務課", "課税", 900.0, 0.0),
            ],
        );
        let before = |groups: &[GroupTotals]| {
            Report::from_groups(Period::fiscal_year("2020").unwrap(), None, groups)
        };
        // A year with nothing in the ledger is no comparison.
        assert!(now.clone().with_previous(before(&[])).previous.is_none());
        let r = now.with_previous(before(&[
            group("2020-04", "市民課", "住民票", 300.0, 60.0),
            group("2020-06", "会計課", "支払", 120.0, 0.0),
        ]));
        let rows: Vec<(String, f64, f64)> = r
            .comparison()
            .into_iter()
            .map(|(d, now, last)| (d, now.saved_hours(), last.saved_hours()))
            .collect();
        assert_eq!(
            rows,
            [
                ("税務課".into(), 15.0, 0.0),
                ("市民課".into(), 9.0, 4.0),
                ("会計課".into(), 0.0, 2.0),
            ]
        );
        assert_eq!(r.previous.unwrap().total.saved_hours(), 6.0);
    }
}

//! Fukaya City's fiscal 2021 as a history file for `kuroko ledger import`: the report's
//! yardstick (6,629 h before, 407 h after, 6,222 h saved, 93.9 %), shared by the ledger, report
//! printing and launcher tests.

use std::path::Path;

use chrono::NaiveDate;

/// Fukaya's 14 departments (課).
pub const DEPARTMENTS: [&str; 14] = [
    "市民課",
    "保険年金課",
    "税務課",
    "収納課",
    "福祉政策課",
    "障害福祉課",
    "こども未来課",
    "長寿福祉課",
    "健康づくり課",
    "環境課",
    "道路管理課",
    "都市計画課",
    "教育総務課",
    "会計課",
];

/// Fukaya City's fiscal 2021, as a month-by-month history: 64 tasks in 14 departments, 6,629 h
/// by hand before and 407 h after in total (in whole minutes, spread unevenly), plus one row on
/// the day before and one on the day after the fiscal year, which the report must leave out.
pub fn fukaya_history(path: &Path) {
    history_in(path, 2021, None);
}

/// The same history in fiscal year `fiscal_year`; with `until`, rows dated after that day are
/// dated that day instead (a fiscal year still going: the launcher shows this one).
pub fn history_in(path: &Path, fiscal_year: i32, until: Option<NaiveDate>) {
    let rows = 64 * 12;
    let (before, after) = (6629 * 60, 407 * 60);
    let weights: Vec<u64> = (0..rows as u64).map(|i| 1 + (i * 7919) % 13).collect();
    let spread = |total: u64| {
        let sum: u64 = weights.iter().sum();
        let mut parts: Vec<u64> = weights.iter().map(|w| total * w / sum).collect();
        let short = total - parts.iter().sum::<u64>();
        parts[0] += short;
        parts
    };
    let (b, a) = (spread(before), spread(after));
    let mut csv = String::from(
        "date,department,task,runs,items,before_minutes,after_minutes,robot_minutes\n",
    );
    let day = |year: i32, month: u32, day: u32| {
        let d = NaiveDate::from_ymd_opt(year, month, day).unwrap();
        until.map_or(d, |u| d.min(u))
    };
    for task in 0..64 {
        let department = DEPARTMENTS[task % 14];
        for month in 0..12u32 {
            let (year, m) = if month < 9 {
                (fiscal_year, month + 4)
            } else {
                (fiscal_year + 1, month - 8)
            };
            let i = task * 12 + month as usize;
            csv.push_str(&format!(
                "{},{department},業務{task:02},{},{},{},{},{}\n",
                day(year, m, 1 + (i % 28) as u32),
                1 + i % 5,
                10 + i % 40,
                b[i],
                a[i],
                5 + i % 30
            ));
        }
    }
    csv.push_str(&format!(
        "{}-03-31,市民課,業務00,1,10,600,10,5\n",
        fiscal_year
    ));
    csv.push_str(&format!(
        "{}-04-01,市民課,業務00,1,10,600,10,5\n",
        fiscal_year + 1
    ));
    std::fs::write(path, csv).unwrap();
}

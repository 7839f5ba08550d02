//! 和暦: the eras from 明治 on, with their exact first days, and the Japanese fiscal year
//! (April 1 to March 31) named the way offices name it (FY2021 = 令和3年度).

use chrono::{Datelike, NaiveDate};

/// One era: its name, its initial (as in "R6.4.1") and its first day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Era {
    pub name: &'static str,
    pub initial: char,
    pub first_day: (i32, u32, u32),
}

/// The eras, newest first.
pub const ERAS: [Era; 5] = [
    Era {
        name: "令和",
        initial: 'R',
        first_day: (2019, 5, 1),
    },
    Era {
        name: "平成",
        initial: 'H',
        first_day: (1989, 1, 8),
    },
    Era {
        name: "昭和",
        initial: 'S',
        first_day: (1926, 12, 25),
    },
    Era {
        name: "大正",
        initial: 'T',
        first_day: (1912, 7, 30),
    },
    Era {
        name: "明治",
        initial: 'M',
        first_day: (1868, 10, 23),
    },
];

impl Era {
    pub fn start(&self) -> NaiveDate {
        let (y, m, d) = self.first_day;
        NaiveDate::from_ymd_opt(y, m, d).expect("era table dates are valid")
    }
}

/// The era of a date and the year within it (1 = 元年); `None` before 明治.
pub fn era_of(date: NaiveDate) -> Option<(Era, i32)> {
    ERAS.iter()
        .find(|e| date >= e.start())
        .map(|e| (*e, date.year() - e.first_day.0 + 1))
}

/// "元" for the first year, else the number.
pub fn year_text(year: i32) -> String {
    if year == 1 {
        "元".to_string()
    } else {
        year.to_string()
    }
}

/// The fiscal year (年度) a date falls in: April to March, named by the year it starts in.
pub fn fiscal_year_of(date: NaiveDate) -> i32 {
    if date.month() >= 4 {
        date.year()
    } else {
        date.year() - 1
    }
}

/// First day and the day after the last day of fiscal year `fy`.
pub fn fiscal_year_bounds(fy: i32) -> Option<(NaiveDate, NaiveDate)> {
    Some((
        NaiveDate::from_ymd_opt(fy, 4, 1)?,
        NaiveDate::from_ymd_opt(fy + 1, 4, 1)?,
    ))
}

/// The fiscal year as offices write it: 2021 → "令和3年度", 2019 → "令和元年度", 1988 → "昭和63年度".
/// A fiscal year is named by the era in force at the end of its first calendar year (so the
/// year in which an era began mid-year carries the new era's name, as 令和元年度 and 平成元年度 do).
pub fn fiscal_year_name(fy: i32) -> Option<String> {
    let (era, year) = era_of(NaiveDate::from_ymd_opt(fy, 12, 31)?)?;
    Some(format!("{}{}年度", era.name, year_text(year)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn era_boundaries_are_exact() {
        let name = |date| {
            let (e, y) = era_of(date).unwrap();
            format!("{}{}", e.name, year_text(y))
        };
        assert_eq!(name(d(1989, 1, 7)), "昭和64");
        assert_eq!(name(d(1989, 1, 8)), "平成元");
        assert_eq!(name(d(2019, 4, 30)), "平成31");
        assert_eq!(name(d(2019, 5, 1)), "令和元");
        assert_eq!(name(d(2024, 4, 1)), "令和6");
        assert_eq!(name(d(1926, 12, 24)), "大正15");
        assert_eq!(name(d(1926, 12, 25)), "昭和元");
        assert!(era_of(d(1868, 10, 22)).is_none());
    }

    #[test]
    fn fiscal_years_run_april_to_march() {
        assert_eq!(fiscal_year_of(d(2022, 3, 31)), 2021);
        assert_eq!(fiscal_year_of(d(2021, 4, 1)), 2021);
        assert_eq!(
            fiscal_year_bounds(2021).unwrap(),
            (d(2021, 4, 1), d(2022, 4, 1))
        );
        assert_eq!(fiscal_year_name(2021).unwrap(), "令和3年度");
        assert_eq!(fiscal_year_name(2019).unwrap(), "令和元年度");
        assert_eq!(fiscal_year_name(2018).unwrap(), "平成30年度");
        assert_eq!(fiscal_year_name(1989).unwrap(), "平成元年度");
        assert_eq!(fiscal_year_name(1988).unwrap(), "昭和63年度");
    }
}

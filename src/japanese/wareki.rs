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

/// How a date is written in 和暦.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// 令和6年4月1日 (元年 for the first year).
    Long,
    /// R6.4.1
    Short,
    /// R06/04/01
    Padded,
    /// 令和6年度 (the fiscal year the date falls in).
    FiscalYear,
    /// 令和6年
    Year,
}

impl Style {
    pub const NAMES: [&str; 5] = ["long", "short", "padded", "fiscal_year", "year"];

    pub fn parse(name: &str) -> Result<Style, String> {
        match name {
            "long" => Ok(Style::Long),
            "short" => Ok(Style::Short),
            "padded" => Ok(Style::Padded),
            "fiscal_year" => Ok(Style::FiscalYear),
            "year" => Ok(Style::Year),
            _ => Err(format!(
                "unknown 和暦 format {name:?}; use one of {}",
                Style::NAMES.join(", ")
            )),
        }
    }
}

/// A date in 和暦.
pub fn format(date: NaiveDate, style: Style) -> Result<String, String> {
    let before_meiji = || format!("{date} is before 明治 (1868-10-23)");
    let (era, year) = era_of(date).ok_or_else(before_meiji)?;
    let (m, d) = (date.month(), date.day());
    Ok(match style {
        Style::Long => format!("{}{}年{m}月{d}日", era.name, year_text(year)),
        Style::Short => format!("{}{year}.{m}.{d}", era.initial),
        Style::Padded => format!("{}{year:02}/{m:02}/{d:02}", era.initial),
        Style::Year => format!("{}{}年", era.name, year_text(year)),
        Style::FiscalYear => fiscal_year_name(fiscal_year_of(date)).ok_or_else(before_meiji)?,
    })
}

/// Reads a 和暦 date: 令和6年4月1日, 令和元年5月1日, R6.4.1, R06/04/01, H31-4-30, with full-width
/// digits or letters, the era by name or initial (M/T/S/H/R, either case). Impossible dates,
/// unknown eras and dates outside their era are refused, saying why.
pub fn parse(text: &str) -> Result<NaiveDate, String> {
    let normal: String = super::width::hankaku(text)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let bad = |why: &str| format!("{text:?} is not a 和暦 date: {why}");
    let (era, rest) = ERAS
        .iter()
        .find_map(|e| normal.strip_prefix(e.name).map(|rest| (*e, rest)))
        .or_else(|| {
            let first = normal.chars().next()?.to_ascii_uppercase();
            let era = ERAS.iter().find(|e| e.initial == first)?;
            Some((*era, &normal[1..]))
        })
        .ok_or_else(|| {
            bad("it does not start with an era (令和, 平成, 昭和, 大正, 明治 or R, H, S, T, M)")
        })?;
    let mut numbers = Vec::new();
    for part in rest.split(['年', '月', '日', '.', '/', '-']) {
        if part.is_empty() {
            continue;
        }
        if part == "元" {
            numbers.push(1);
        } else if part.chars().all(|c| c.is_ascii_digit()) && part.len() <= 4 {
            numbers.push(
                part.parse::<u32>()
                    .map_err(|_| bad("a number is too large"))?,
            );
        } else {
            return Err(bad(&format!("{part:?} is not a number")));
        }
    }
    let [year, month, day] = numbers[..] else {
        return Err(bad(
            "expected era, year, month and day, e.g. 令和6年4月1日 or R6.4.1",
        ));
    };
    if year == 0 {
        return Err(bad("there is no year 0 (the first year is 元年)"));
    }
    let western = era.first_day.0 + year as i32 - 1;
    let date = NaiveDate::from_ymd_opt(western, month, day).ok_or_else(|| {
        bad(&format!(
            "{}{}年{month}月{day}日 does not exist ({western}-{month:02}-{day:02})",
            era.name,
            year_text(year as i32)
        ))
    })?;
    if date < era.start() {
        return Err(bad(&format!(
            "{date} is before {} began ({})",
            era.name,
            era.start()
        )));
    }
    if let Some(next) = ERAS.iter().rev().find(|e| e.start() > era.start())
        && date >= next.start()
    {
        return Err(bad(&format!(
            "{} ended on {} ({date} is {})",
            era.name,
            next.start().pred_opt().unwrap_or(next.start()),
            format(date, Style::Long).unwrap_or_default()
        )));
    }
    Ok(date)
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

    #[test]
    fn formats() {
        let cases = [
            (d(2024, 4, 1), Style::Long, "令和6年4月1日"),
            (d(2019, 5, 1), Style::Long, "令和元年5月1日"),
            (d(2019, 4, 30), Style::Long, "平成31年4月30日"),
            (d(1989, 1, 7), Style::Long, "昭和64年1月7日"),
            (d(1989, 1, 8), Style::Long, "平成元年1月8日"),
            (d(2024, 4, 1), Style::Short, "R6.4.1"),
            (d(2019, 5, 1), Style::Short, "R1.5.1"),
            (d(2024, 4, 1), Style::Padded, "R06/04/01"),
            (d(1989, 1, 7), Style::Padded, "S64/01/07"),
            (d(2025, 3, 31), Style::FiscalYear, "令和6年度"),
            (d(2019, 4, 1), Style::FiscalYear, "令和元年度"),
            (d(2024, 12, 31), Style::Year, "令和6年"),
        ];
        for (date, style, text) in cases {
            assert_eq!(format(date, style).unwrap(), text);
            if !matches!(style, Style::FiscalYear | Style::Year) {
                assert_eq!(parse(text).unwrap(), date, "{text}");
            }
        }
        assert!(
            format(d(1868, 1, 1), Style::Long)
                .unwrap_err()
                .contains("before 明治")
        );
        assert!(Style::parse("kanji").unwrap_err().contains("long, short"));
    }

    #[test]
    fn parses_what_offices_write() {
        let ok = [
            ("令和6年4月1日", d(2024, 4, 1)),
            ("令和 6 年 4 月 1 日", d(2024, 4, 1)),
            ("令和６年４月１日", d(2024, 4, 1)),
            ("令和元年5月1日", d(2019, 5, 1)),
            ("R6.4.1", d(2024, 4, 1)),
            ("r06/04/01", d(2024, 4, 1)),
            ("Ｒ６．４．１", d(2024, 4, 1)),
            ("H31-4-30", d(2019, 4, 30)),
            ("S64.1.7", d(1989, 1, 7)),
            ("H1.1.8", d(1989, 1, 8)),
            ("T15.12.24", d(1926, 12, 24)),
            ("M45.7.29", d(1912, 7, 29)),
            ("平成元年1月8日", d(1989, 1, 8)),
            ("令和6年4月1", d(2024, 4, 1)),
        ];
        for (text, date) in ok {
            assert_eq!(parse(text), Ok(date), "{text}");
        }
        let bad = [
            ("令和6年2月30日", "does not exist"),
            ("令和元年4月30日", "before 令和 began"),
            ("平成31年5月1日", "平成 ended on 2019-04-30"),
            ("S64.1.8", "昭和 ended on 1989-01-07"),
            ("X6.4.1", "does not start with an era"),
            ("慶応4年1月1日", "does not start with an era"),
            ("令和6年4月", "expected era, year, month and day"),
            ("令和0年4月1日", "no year 0"),
            ("令和六年四月一日", "is not a number"),
            ("", "does not start with an era"),
        ];
        for (text, why) in bad {
            let e = parse(text).unwrap_err();
            assert!(e.contains(why), "{text}: {e}");
        }
    }
}

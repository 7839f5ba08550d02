//! 国民の祝日: Japan's national holidays by the rules of the Act on National Holidays (祝日法)
//! as amended through 2018 (with the 2019 enthronement days and the 2020/2021 Olympic moves),
//! including 振替休日 (a holiday on a Sunday moves to the next day that is not a holiday) and
//! 国民の休日 (a day between two holidays). Equinox days come from the standard formula, which
//! matches the official announcements for 1980–2099. Schedules use this to skip holidays.

use chrono::{Datelike, NaiveDate, Weekday};

/// The holidays of `year` (the rules in force from 2007; correct for 2007–2099), in date
/// order, with their names.
pub fn holidays(year: i32) -> Vec<(NaiveDate, &'static str)> {
    // Outside years any office will schedule in, none (and no date arithmetic near chrono's
    // limits).
    if !(1950..=9999).contains(&year) {
        return Vec::new();
    }
    let mut days: Vec<(NaiveDate, &'static str)> = base_holidays(year);
    days.sort();
    // 国民の休日: a weekday (not Sunday) squeezed between two holidays.
    let mut extra = Vec::new();
    for pair in days.windows(2) {
        let (a, b) = (pair[0].0, pair[1].0);
        if b - a == chrono::Duration::days(2) {
            let middle = a.succ_opt().expect("in range");
            if middle.weekday() != Weekday::Sun {
                extra.push((middle, "国民の休日"));
            }
        }
    }
    days.extend(extra);
    days.sort();
    // 振替休日: a holiday on Sunday makes the next non-holiday day a holiday.
    let mut substitutes = Vec::new();
    for (day, _) in &days {
        if day.weekday() == Weekday::Sun {
            let mut next = day.succ_opt().expect("in range");
            while days.iter().any(|(d, _)| *d == next) {
                next = next.succ_opt().expect("in range");
            }
            substitutes.push((next, "振替休日"));
        }
    }
    days.extend(substitutes);
    days.sort();
    days.dedup_by_key(|(d, _)| *d);
    days
}

/// The name of the holiday on `date`, if it is one.
pub fn holiday_name(date: NaiveDate) -> Option<&'static str> {
    holidays(date.year())
        .into_iter()
        .find(|(d, _)| *d == date)
        .map(|(_, name)| name)
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("holiday dates are valid")
}

/// The `n`th Monday of a month (ハッピーマンデー).
fn nth_monday(y: i32, m: u32, n: u32) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(y, m, Weekday::Mon, n as u8).expect("valid")
}

fn equinox_day(y: i32, base: f64) -> u32 {
    let t = (y - 1980) as f64;
    (base + 0.242194 * t - (t / 4.0).floor()).floor() as u32
}

fn base_holidays(y: i32) -> Vec<(NaiveDate, &'static str)> {
    let mut h = vec![
        (ymd(y, 1, 1), "元日"),
        (nth_monday(y, 1, 2), "成人の日"),
        (ymd(y, 2, 11), "建国記念の日"),
        (ymd(y, 3, equinox_day(y, 20.8431)), "春分の日"),
        (ymd(y, 4, 29), "昭和の日"),
        (ymd(y, 5, 3), "憲法記念日"),
        (ymd(y, 5, 4), "みどりの日"),
        (ymd(y, 5, 5), "こどもの日"),
        (nth_monday(y, 9, 3), "敬老の日"),
        (ymd(y, 9, equinox_day(y, 23.2488)), "秋分の日"),
        (ymd(y, 11, 3), "文化の日"),
        (ymd(y, 11, 23), "勤労感謝の日"),
    ];
    if y >= 2020 {
        h.push((ymd(y, 2, 23), "天皇誕生日"));
    } else if y <= 2018 {
        h.push((ymd(y, 12, 23), "天皇誕生日"));
    }
    match y {
        2020 => {
            h.push((ymd(y, 7, 23), "海の日"));
            h.push((ymd(y, 7, 24), "スポーツの日"));
            h.push((ymd(y, 8, 10), "山の日"));
        }
        2021 => {
            h.push((ymd(y, 7, 22), "海の日"));
            h.push((ymd(y, 7, 23), "スポーツの日"));
            h.push((ymd(y, 8, 8), "山の日"));
        }
        _ => {
            h.push((nth_monday(y, 7, 3), "海の日"));
            h.push((
                nth_monday(y, 10, 2),
                if y >= 2020 {
                    "スポーツの日"
                } else {
                    "体育の日"
                },
            ));
            if y >= 2016 {
                h.push((ymd(y, 8, 11), "山の日"));
            }
        }
    }
    if y == 2019 {
        h.push((ymd(y, 5, 1), "天皇の即位の日"));
        h.push((ymd(y, 10, 22), "即位礼正殿の儀の行われる日"));
    }
    h
}

/// Office days: weekdays that are neither national holidays nor office closure days (by
/// default 年末年始, December 29 to January 3; the ICT office can set others).
#[derive(Debug, Clone)]
pub struct OfficeCalendar {
    /// Closed every year on these (month, day) dates.
    pub closed_every_year: Vec<(u32, u32)>,
    /// Closed on these particular dates.
    pub closed_dates: Vec<NaiveDate>,
}

impl Default for OfficeCalendar {
    fn default() -> Self {
        OfficeCalendar {
            closed_every_year: vec![(12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3)],
            closed_dates: Vec::new(),
        }
    }
}

impl OfficeCalendar {
    pub fn is_office_day(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
            && holiday_name(date).is_none()
            && !self.closed_every_year.contains(&(date.month(), date.day()))
            && !self.closed_dates.contains(&date)
    }

    /// Why `date` is not an office day, if it is not.
    pub fn closed_because(&self, date: NaiveDate) -> Option<String> {
        if let Some(name) = holiday_name(date) {
            return Some(name.to_string());
        }
        if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            return Some("土日".to_string());
        }
        if self.closed_every_year.contains(&(date.month(), date.day())) {
            return Some("年末年始・閉庁日".to_string());
        }
        self.closed_dates
            .contains(&date)
            .then(|| "閉庁日".to_string())
    }

    /// The `n`th office day of a month (1 = the first), if the month has that many.
    pub fn nth_office_day(&self, year: i32, month: u32, n: u32) -> Option<NaiveDate> {
        let mut day = NaiveDate::from_ymd_opt(year, month, 1)?;
        let mut count = 0;
        while day.month() == month {
            if self.is_office_day(day) {
                count += 1;
                if count == n {
                    return Some(day);
                }
            }
            day = day.succ_opt()?;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(year: i32) -> Vec<String> {
        holidays(year)
            .iter()
            .map(|(d, n)| format!("{} {n}", d.format("%m-%d")))
            .collect()
    }

    #[test]
    fn the_holidays_of_2026_as_the_cabinet_office_lists_them() {
        assert_eq!(
            listed(2026),
            [
                "01-01 元日",
                "01-12 成人の日",
                "02-11 建国記念の日",
                "02-23 天皇誕生日",
                "03-20 春分の日",
                "04-29 昭和の日",
                "05-03 憲法記念日",
                "05-04 みどりの日",
                "05-05 こどもの日",
                "05-06 振替休日",
                "07-20 海の日",
                "08-11 山の日",
                "09-21 敬老の日",
                "09-22 国民の休日",
                "09-23 秋分の日",
                "10-12 スポーツの日",
                "11-03 文化の日",
                "11-23 勤労感謝の日",
            ]
        );
    }

    #[test]
    fn the_holidays_of_2027_and_special_years() {
        let y2027 = listed(2027);
        assert!(y2027.contains(&"03-21 春分の日".to_string()));
        assert!(
            y2027.contains(&"03-22 振替休日".to_string()),
            "3/21 is a Sunday"
        );
        assert!(y2027.contains(&"09-23 秋分の日".to_string()));
        assert!(y2027.contains(&"07-19 海の日".to_string()));
        assert_eq!(y2027.len(), 17);
        let y2019 = listed(2019);
        for day in [
            "04-30 国民の休日",
            "05-01 天皇の即位の日",
            "05-02 国民の休日",
            "05-06 振替休日",
            "10-22 即位礼正殿の儀の行われる日",
        ] {
            assert!(y2019.contains(&day.to_string()), "{day}: {y2019:?}");
        }
        assert!(
            !y2019.iter().any(|d| d.contains("天皇誕生日")),
            "none in 2019"
        );
        assert!(listed(2020).contains(&"07-24 スポーツの日".to_string()));
        assert!(
            listed(2021).contains(&"08-09 振替休日".to_string()),
            "山の日 8/8 was a Sunday"
        );
        assert!(listed(2025).contains(&"11-24 振替休日".to_string()));
    }

    #[test]
    fn office_days_skip_weekends_holidays_and_the_new_year() {
        let cal = OfficeCalendar::default();
        let d = |m, day| ymd(2026, m, day);
        assert!(cal.is_office_day(d(11, 24)));
        assert!(!cal.is_office_day(d(11, 23)), "勤労感謝の日");
        assert!(!cal.is_office_day(d(11, 28)), "Saturday");
        assert!(!cal.is_office_day(d(12, 29)), "年末年始");
        assert!(!cal.is_office_day(ymd(2027, 1, 4 - 2)), "1/2");
        assert!(cal.is_office_day(ymd(2027, 1, 4)));
        assert_eq!(cal.closed_because(d(5, 6)).as_deref(), Some("振替休日"));
        assert_eq!(cal.nth_office_day(2026, 5, 1), Some(d(5, 1)));
        assert_eq!(cal.nth_office_day(2026, 5, 2), Some(d(5, 7)));
        assert_eq!(cal.nth_office_day(2027, 1, 1), Some(ymd(2027, 1, 4)));
        let with_closure = OfficeCalendar {
            closed_dates: vec![d(11, 24)],
            ..OfficeCalendar::default()
        };
        assert!(!with_closure.is_office_day(d(11, 24)));
        assert_eq!(
            with_closure.closed_because(d(11, 24)).as_deref(),
            Some("閉庁日")
        );
    }
}

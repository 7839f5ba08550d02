//! The schedule rules: daily on office days, weekly, monthly on a day or on the Nth office day,
//! or a cron expression, at a time of day — never on a Saturday, Sunday, national holiday or
//! office closure day (年末年始 by default). Pure: the clock and the calendar are passed in, so
//! the launcher, its tests and `kuroko schedule` all compute the same times. Whether a run
//! missed while nothing was running is made up once or skipped is part of each schedule.

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, Weekday};

use crate::japanese::holidays::OfficeCalendar;

/// A standard five-field cron expression (minute hour day month weekday), kept with its text.
#[derive(Debug, Clone)]
pub struct CronSpec {
    pub text: String,
    cron: croner::Cron,
}

impl PartialEq for CronSpec {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for CronSpec {}

impl CronSpec {
    fn parse(text: &str) -> Result<CronSpec, String> {
        use std::str::FromStr;
        if text.split_whitespace().count() != 5 {
            return Err(format!(
                "{text:?} needs five fields: minute hour day month weekday"
            ));
        }
        let cron = croner::Cron::from_str(text).map_err(|e| format!("{text:?}: {e}"))?;
        Ok(CronSpec {
            text: text.to_string(),
            cron,
        })
    }

    /// The first time the expression matches strictly after `after` (local wall-clock time).
    fn next_after(&self, after: NaiveDateTime) -> Option<NaiveDateTime> {
        use chrono::TimeZone;
        // Local times carried as UTC: pure calendar arithmetic, no clock or time zone.
        let t = chrono::Utc.from_utc_datetime(&after);
        self.cron
            .find_next_occurrence(&t, false)
            .ok()
            .map(|n| n.naive_utc())
    }
}

/// How often.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repeat {
    /// Every office day.
    Daily,
    /// On this weekday, when it is an office day.
    Weekly(Weekday),
    /// On this day of the month, or the next office day when the office is closed then.
    MonthlyDay(u32),
    /// On the Nth office day of the month.
    MonthlyOfficeDay(u32),
    /// Whenever the cron expression matches on an office day (the schedule's `at` is unused).
    Cron(Box<CronSpec>),
}

/// What to do about runs that fell due while the launcher was not running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missed {
    /// Run once at start-up, however many were missed.
    RunOnce,
    Skip,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub repeat: Repeat,
    pub at: NaiveTime,
    pub missed: Missed,
}

/// What is due when the launcher looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    Nothing,
    /// A run is due now (its time has just come).
    Now(NaiveDateTime),
    /// Runs fell due while nothing was running: how many, and the latest.
    Missed {
        count: usize,
        latest: NaiveDateTime,
    },
}

const WEEKDAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Mon),
    ("tue", Weekday::Tue),
    ("wed", Weekday::Wed),
    ("thu", Weekday::Thu),
    ("fri", Weekday::Fri),
    ("sat", Weekday::Sat),
    ("sun", Weekday::Sun),
];

impl Schedule {
    /// Reads `daily 09:00`, `weekly mon 09:00`, `monthly 5 09:00`, `monthly office-day 3 09:00`
    /// or `cron 30 8 * * 1-5`, each optionally followed by `skip-missed` (default: a missed run
    /// is made up once).
    pub fn parse(text: &str) -> Result<Schedule, String> {
        let mut words: Vec<&str> = text.split_whitespace().collect();
        let missed = if words.last() == Some(&"skip-missed") {
            words.pop();
            Missed::Skip
        } else {
            Missed::RunOnce
        };
        let bad = |why: &str| {
            format!(
                "schedule {text:?}: {why}; write e.g. \"daily 09:00\", \"weekly mon 09:00\", \"monthly 5 09:00\", \"monthly office-day 3 09:00\" or \"cron 30 8 * * 1-5\""
            )
        };
        if words.first() == Some(&"cron") {
            let spec = CronSpec::parse(&words[1..].join(" ")).map_err(|e| bad(&e))?;
            return Ok(Schedule {
                repeat: Repeat::Cron(Box::new(spec)),
                at: NaiveTime::MIN,
                missed,
            });
        }
        let time = words.last().ok_or_else(|| bad("empty"))?;
        let at = NaiveTime::parse_from_str(time, "%H:%M")
            .map_err(|_| bad("no time as HH:MM at the end"))?;
        let day_number = |t: &str, most: u32| -> Result<u32, String> {
            t.parse::<u32>()
                .ok()
                .filter(|n| (1..=most).contains(n))
                .ok_or_else(|| bad(&format!("{t:?} is not a day number from 1 to {most}")))
        };
        let repeat = match &words[..words.len() - 1] {
            ["daily"] => Repeat::Daily,
            ["weekly", day] => Repeat::Weekly(
                WEEKDAYS
                    .iter()
                    .find(|(name, _)| day.eq_ignore_ascii_case(name))
                    .map(|(_, w)| *w)
                    .ok_or_else(|| bad(&format!("{day:?} is not a weekday (mon … sun)")))?,
            ),
            ["monthly", "office-day", n] => Repeat::MonthlyOfficeDay(day_number(n, 23)?),
            ["monthly", n] => Repeat::MonthlyDay(day_number(n, 31)?),
            _ => return Err(bad("unknown repetition")),
        };
        Ok(Schedule { repeat, at, missed })
    }

    /// The day this schedule runs on in the month of `first` (day 1), if any.
    fn day_in_month(&self, first: NaiveDate, cal: &OfficeCalendar) -> Option<NaiveDate> {
        match &self.repeat {
            Repeat::MonthlyOfficeDay(n) => cal.nth_office_day(first.year(), first.month(), *n),
            &Repeat::MonthlyDay(n) => {
                // The day itself (or the month's last day), moved to the next office day.
                let mut day = (0..4)
                    .map(|back| n - back.min(n - 1))
                    .find_map(|d| NaiveDate::from_ymd_opt(first.year(), first.month(), d))?;
                while !cal.is_office_day(day) {
                    day = day.succ_opt()?;
                }
                Some(day)
            }
            _ => None,
        }
    }

    fn runs_on(&self, day: NaiveDate, cal: &OfficeCalendar) -> bool {
        match &self.repeat {
            Repeat::Daily | Repeat::Cron(_) => cal.is_office_day(day),
            &Repeat::Weekly(w) => day.weekday() == w && cal.is_office_day(day),
            Repeat::MonthlyDay(_) | Repeat::MonthlyOfficeDay(_) => {
                let first = day.with_day(1).unwrap_or(day);
                // A day late in a month may move into the next (e.g. the 30th of December
                // to January 4th): look at this month's day and the last month's.
                let last_month = first.pred_opt().and_then(|d| d.with_day(1));
                self.day_in_month(first, cal) == Some(day)
                    || last_month.is_some_and(|m| self.day_in_month(m, cal) == Some(day))
            }
        }
    }

    /// The first time this schedule fires strictly after `after` (within ten years).
    pub fn next_after(&self, after: NaiveDateTime, cal: &OfficeCalendar) -> Option<NaiveDateTime> {
        if let Repeat::Cron(spec) = &self.repeat {
            let limit = after.checked_add_days(Days::new(3660))?;
            let mut t = after;
            while let Some(next) = spec.next_after(t).filter(|n| *n <= limit) {
                if self.runs_on(next.date(), cal) {
                    return Some(next);
                }
                // Closed all day: go on from its end, not match by match.
                t = next.date().and_hms_opt(23, 59, 0)?.max(next);
            }
            return None;
        }
        let mut day = after.date();
        for _ in 0..3660 {
            let at = day.and_time(self.at);
            if at > after && self.runs_on(day, cal) {
                return Some(at);
            }
            day = day.checked_add_days(Days::new(1))?;
        }
        None
    }

    /// What is due at `now`, when the launcher last looked at `last_checked`.
    pub fn due(
        &self,
        last_checked: NaiveDateTime,
        now: NaiveDateTime,
        cal: &OfficeCalendar,
    ) -> Due {
        let mut times = Vec::new();
        let mut t = last_checked;
        while let Some(next) = self.next_after(t, cal) {
            if next > now {
                break;
            }
            times.push(next);
            t = next;
        }
        match times.as_slice() {
            [] => Due::Nothing,
            // Came due since the last look, a minute ago or so: it is simply time.
            [only] if now - *only <= chrono::Duration::minutes(5) => Due::Now(*only),
            _ if self.missed == Missed::Skip => Due::Nothing,
            _ => Due::Missed {
                count: times.len(),
                latest: *times.last().expect("not empty"),
            },
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
    }

    #[test]
    fn parses_the_kinds_and_explains_mistakes() {
        let s = Schedule::parse("weekly Mon 09:30").unwrap();
        assert_eq!(s.repeat, Repeat::Weekly(Weekday::Mon));
        assert_eq!(s.missed, Missed::RunOnce);
        assert_eq!(
            Schedule::parse("monthly office-day 3 08:00 skip-missed")
                .unwrap()
                .missed,
            Missed::Skip
        );
        assert_eq!(
            Schedule::parse("monthly 31 08:00").unwrap().repeat,
            Repeat::MonthlyDay(31)
        );
        for (bad, why) in [
            ("daily 9時", "no time as HH:MM"),
            ("weekly funday 09:00", "not a weekday"),
            ("monthly 32 09:00", "from 1 to 31"),
            ("hourly 09:00", "unknown repetition"),
            ("", "empty"),
        ] {
            let e = Schedule::parse(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn daily_runs_skip_weekends_holidays_and_the_new_year() {
        let cal = OfficeCalendar::default();
        let s = Schedule::parse("daily 09:00").unwrap();
        // Friday 2026-11-20 → Tuesday 11-24 (the weekend, then 勤労感謝の日 on Monday).
        assert_eq!(
            s.next_after(at(2026, 11, 20, 9, 0), &cal),
            Some(at(2026, 11, 24, 9, 0))
        );
        assert_eq!(
            s.next_after(at(2026, 11, 24, 8, 59), &cal),
            Some(at(2026, 11, 24, 9, 0))
        );
        // 年末年始: 12-28 → 2027-01-04.
        assert_eq!(
            s.next_after(at(2026, 12, 28, 9, 0), &cal),
            Some(at(2027, 1, 4, 9, 0))
        );
    }

    #[test]
    fn weekly_and_monthly_runs() {
        let cal = OfficeCalendar::default();
        let monday = Schedule::parse("weekly mon 09:00").unwrap();
        // Monday 11-23 is a holiday: skipped, not moved.
        assert_eq!(
            monday.next_after(at(2026, 11, 17, 0, 0), &cal),
            Some(at(2026, 11, 30, 9, 0))
        );
        let fifth = Schedule::parse("monthly 5 10:00").unwrap();
        // 2026-12-05 is a Saturday: the next office day, Monday the 7th.
        assert_eq!(
            fifth.next_after(at(2026, 11, 30, 0, 0), &cal),
            Some(at(2026, 12, 7, 10, 0))
        );
        let last = Schedule::parse("monthly 31 10:00").unwrap();
        // October 31st is a Saturday: Monday, November 2nd. No 31st in November: the 30th.
        assert_eq!(
            last.next_after(at(2026, 11, 1, 0, 0), &cal),
            Some(at(2026, 11, 2, 10, 0))
        );
        assert_eq!(
            last.next_after(at(2026, 11, 2, 10, 0), &cal),
            Some(at(2026, 11, 30, 10, 0))
        );
        let thirtieth = Schedule::parse("monthly 30 10:00").unwrap();
        // 2026-12-30 is closed (年末年始): January 4th; January 30th is a Saturday: February 1st.
        assert_eq!(
            thirtieth.next_after(at(2026, 12, 1, 0, 0), &cal),
            Some(at(2027, 1, 4, 10, 0))
        );
        assert_eq!(
            thirtieth.next_after(at(2027, 1, 4, 10, 0), &cal),
            Some(at(2027, 2, 1, 10, 0))
        );
        let first_office_day = Schedule::parse("monthly office-day 1 08:30").unwrap();
        assert_eq!(
            first_office_day.next_after(at(2026, 12, 2, 0, 0), &cal),
            Some(at(2027, 1, 4, 8, 30))
        );
    }

    #[test]
    fn cron_expressions_fire_on_office_days_only() {
        let cal = OfficeCalendar::default();
        let s = Schedule::parse("cron 30 8,13 * * 1-5").unwrap();
        assert!(matches!(&s.repeat, Repeat::Cron(c) if c.text == "30 8,13 * * 1-5"));
        // Friday 11-20 13:30, then Tuesday 11-24 (Monday 11-23 is 勤労感謝の日).
        assert_eq!(
            s.next_after(at(2026, 11, 20, 9, 0), &cal),
            Some(at(2026, 11, 20, 13, 30))
        );
        assert_eq!(
            s.next_after(at(2026, 11, 20, 13, 30), &cal),
            Some(at(2026, 11, 24, 8, 30))
        );
        // Every 15 minutes, but 年末年始 is closed: from 12/28 evening to 1/4 morning.
        let often = Schedule::parse("cron */15 * * * * skip-missed").unwrap();
        assert_eq!(often.missed, Missed::Skip);
        assert_eq!(
            often.next_after(at(2026, 12, 28, 23, 50), &cal),
            Some(at(2027, 1, 4, 0, 0))
        );
        for bad in ["cron 30 8 * *", "cron 61 8 * * *", "cron a b c d e"] {
            let e = Schedule::parse(bad).unwrap_err();
            assert!(e.contains("cron 30 8 * * 1-5"), "{bad}: {e}");
        }
    }

    #[test]
    fn missed_runs_are_made_up_once_or_skipped() {
        let cal = OfficeCalendar::default();
        let s = Schedule::parse("daily 09:00").unwrap();
        assert_eq!(
            s.due(at(2026, 11, 24, 8, 59), at(2026, 11, 24, 9, 0), &cal),
            Due::Now(at(2026, 11, 24, 9, 0))
        );
        assert_eq!(
            s.due(at(2026, 11, 24, 9, 0), at(2026, 11, 24, 9, 1), &cal),
            Due::Nothing
        );
        // Down from Tuesday evening to Friday noon: Wednesday to Friday at 09:00 were missed.
        assert_eq!(
            s.due(at(2026, 11, 24, 18, 0), at(2026, 11, 27, 12, 0), &cal),
            Due::Missed {
                count: 3,
                latest: at(2026, 11, 27, 9, 0)
            }
        );
        let skip = Schedule::parse("daily 09:00 skip-missed").unwrap();
        assert_eq!(
            skip.due(at(2026, 11, 24, 18, 0), at(2026, 11, 27, 12, 0), &cal),
            Due::Nothing
        );
    }
}

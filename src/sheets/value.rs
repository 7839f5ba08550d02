//! A cell's value as scenarios see it: integers stay integers, decimals floats, text text,
//! empty cells nothing, and dates a date (ISO when printed, with readable parts).

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

/// A date, or a date and time, from a spreadsheet (or made by a script).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SheetDate {
    pub date: NaiveDate,
    /// `None` for a plain date.
    pub time: Option<NaiveTime>,
}

impl SheetDate {
    pub fn from_datetime(dt: NaiveDateTime) -> SheetDate {
        let time = (dt.time() != NaiveTime::MIN).then_some(dt.time());
        SheetDate {
            date: dt.date(),
            time,
        }
    }

    /// Parses `2024-04-01`, `2024-04-01T09:30:00`, `2024-04-01 09:30[:00]`, `2024/04/01`.
    pub fn parse(text: &str) -> Option<SheetDate> {
        let t = text.trim();
        for f in [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M",
            "%Y/%m/%d %H:%M:%S",
            "%Y/%m/%d %H:%M",
        ] {
            if let Ok(dt) = NaiveDateTime::parse_from_str(t, f) {
                return Some(SheetDate::from_datetime(dt));
            }
        }
        for f in ["%Y-%m-%d", "%Y/%m/%d"] {
            if let Ok(d) = NaiveDate::parse_from_str(t, f) {
                return Some(SheetDate {
                    date: d,
                    time: None,
                });
            }
        }
        None
    }

    pub fn year(&self) -> i64 {
        self.date.year() as i64
    }
    pub fn month(&self) -> i64 {
        self.date.month() as i64
    }
    pub fn day(&self) -> i64 {
        self.date.day() as i64
    }
    pub fn hour(&self) -> i64 {
        self.time.map_or(0, |t| t.hour() as i64)
    }
    pub fn minute(&self) -> i64 {
        self.time.map_or(0, |t| t.minute() as i64)
    }
    pub fn second(&self) -> i64 {
        self.time.map_or(0, |t| t.second() as i64)
    }
}

impl std::fmt::Display for SheetDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.time {
            None => write!(f, "{}", self.date.format("%Y-%m-%d")),
            Some(t) if t.nanosecond() == 0 => write!(
                f,
                "{}T{}",
                self.date.format("%Y-%m-%d"),
                t.format("%H:%M:%S")
            ),
            Some(t) => write!(
                f,
                "{}T{}",
                self.date.format("%Y-%m-%d"),
                t.format("%H:%M:%S%.3f")
            ),
        }
    }
}

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Empty,
    Int(i64),
    Float(f64),
    Text(String),
    Bool(bool),
    Date(SheetDate),
}

impl Value {
    /// Spreadsheets store every number as a float: a whole number is an integer.
    pub fn number(f: f64) -> Value {
        if f.fract() == 0.0 && f.abs() < 9.0e15 {
            Value::Int(f as i64)
        } else {
            Value::Float(f)
        }
    }

    pub fn is_empty(&self) -> bool {
        match self {
            Value::Empty => true,
            Value::Text(t) => t.is_empty(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_print_as_iso_and_parse_back() {
        let d = SheetDate::parse("2024-04-01").unwrap();
        assert_eq!(d.to_string(), "2024-04-01");
        assert_eq!((d.year(), d.month(), d.day()), (2024, 4, 1));
        let dt = SheetDate::parse("2024-04-01 09:30").unwrap();
        assert_eq!(dt.to_string(), "2024-04-01T09:30:00");
        assert_eq!(
            SheetDate::parse("2024/4/1").map(|d| d.to_string()),
            Some("2024-04-01".into())
        );
        assert!(SheetDate::parse("2024-02-30").is_none());
    }

    #[test]
    fn whole_numbers_are_integers() {
        assert_eq!(Value::number(12.0), Value::Int(12));
        assert_eq!(Value::number(12.5), Value::Float(12.5));
    }
}

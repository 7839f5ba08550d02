//! Which of the ledger's schedules fire at a given moment. Pure apart from the ledger: the time
//! is passed in, so tests can walk a calendar (holidays, 年末年始, a launcher that was down) in a
//! second. The launcher (`serve`) puts what fires into its queue.

use std::path::PathBuf;

use chrono::{Local, NaiveDateTime, TimeZone};

use super::{Due, Schedule, calendar};
use crate::ledger::{LResult, ScheduleRecord, Schedules};

/// A schedule that fired at a tick, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Fired {
    pub schedule_id: String,
    pub scenario_path: PathBuf,
    /// The time it was due (for a made-up run, the latest missed time).
    pub due: NaiveDateTime,
    /// How many runs were missed while nothing was looking (0 when simply due now).
    pub missed: usize,
}

/// Looks at every schedule at `now`: returns what fired and remembers that it looked.
pub fn tick(store: &mut dyn Schedules, now: NaiveDateTime) -> LResult<Vec<Fired>> {
    let cal = calendar(store)?;
    let mut fired = Vec::new();
    for record in store.schedules()? {
        let Ok(schedule) = Schedule::parse(&record.spec) else {
            eprintln!(
                "kuroko serve: schedule {} has an unreadable spec {:?}; skipped",
                record.id, record.spec
            );
            continue;
        };
        let last = parse_time(&record.last_checked).unwrap_or(now);
        match schedule.due(last, now, &cal) {
            Due::Nothing => {}
            Due::Now(at) => fired.push(fire(&record, at, 0)),
            Due::Missed { count, latest } => fired.push(fire(&record, latest, count)),
        }
        store.set_schedule_checked(&record.id, &format_time(now))?;
    }
    Ok(fired)
}

fn fire(record: &ScheduleRecord, due: NaiveDateTime, missed: usize) -> Fired {
    Fired {
        schedule_id: record.id.clone(),
        scenario_path: PathBuf::from(&record.scenario_path),
        due,
        missed,
    }
}

fn parse_time(text: &str) -> Option<NaiveDateTime> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.naive_local())
        .ok()
        .or_else(|| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok())
}

fn format_time(t: NaiveDateTime) -> String {
    Local
        .from_local_datetime(&t)
        .earliest()
        .map(|l| l.to_rfc3339_opts(chrono::SecondsFormat::Millis, false))
        .unwrap_or_else(|| t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{self, Store};
    use crate::schedule::rules::tests::at;

    fn ledger_with(name: &str, specs: &[(&str, &str)], since: NaiveDateTime) -> Box<dyn Store> {
        let dir = std::env::temp_dir().join(format!("kuroko-sched-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut store = ledger::open(&ledger::Address::File(dir.join("ledger.sqlite3"))).unwrap();
        for (id, spec) in specs {
            store
                .add_schedule(&ScheduleRecord {
                    id: id.to_string(),
                    scenario_id: "s".into(),
                    scenario_path: format!("/scenarios/{id}"),
                    spec: spec.to_string(),
                    created_at: format_time(since),
                    last_checked: format_time(since),
                })
                .unwrap();
        }
        store
    }

    /// Ticks every minute from `from` to `to`; the times each schedule fired.
    fn walk(
        store: &mut dyn Schedules,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Vec<(String, NaiveDateTime, usize)> {
        let mut out = Vec::new();
        let mut now = from;
        while now <= to {
            for f in tick(store, now).unwrap() {
                out.push((f.schedule_id, now, f.missed));
            }
            now += chrono::Duration::minutes(1);
        }
        out
    }

    #[test]
    fn fires_at_its_time_on_office_days_only() {
        // 2026-11-20 (Fri) to 2026-11-25 (Wed): the weekend and 勤労感謝の日 (Mon 11-23) skipped.
        let start = at(2026, 11, 20, 8, 0);
        let mut store = ledger_with("daily", &[("daily", "daily 09:00")], start);
        let fired = walk(&mut *store, start, at(2026, 11, 25, 12, 0));
        assert_eq!(
            fired,
            [
                ("daily".into(), at(2026, 11, 20, 9, 0), 0),
                ("daily".into(), at(2026, 11, 24, 9, 0), 0),
                ("daily".into(), at(2026, 11, 25, 9, 0), 0),
            ]
        );
    }

    #[test]
    fn skips_the_new_year_holidays_and_closure_days() {
        let start = at(2026, 12, 28, 12, 0);
        let mut store = ledger_with("newyear", &[("d", "daily 09:00")], start);
        // An extra closure day the ICT office set: 2027-01-05.
        store
            .set_closed_day("2027-01-05", Some("システム更新"))
            .unwrap();
        let mut fired = Vec::new();
        let mut now = start;
        // Every ten minutes to 2027-01-07: 12/29–1/3 (incl. 1/2) closed, 1/4 open, 1/5 closed.
        while now <= at(2027, 1, 7, 0, 0) {
            fired.extend(tick(&mut *store, now).unwrap().into_iter().map(|f| f.due));
            now += chrono::Duration::minutes(10);
        }
        assert_eq!(fired, [at(2027, 1, 4, 9, 0), at(2027, 1, 6, 9, 0)]);
    }

    #[test]
    fn runs_missed_while_down_are_made_up_once_or_skipped() {
        // Last looked on Tuesday evening; the launcher comes back on Friday at noon.
        let down = at(2026, 11, 24, 18, 0);
        let mut store = ledger_with(
            "missed",
            &[
                ("catch-up", "daily 09:00"),
                ("skipper", "daily 09:00 skip-missed"),
            ],
            down,
        );
        let back = at(2026, 11, 27, 12, 0);
        let fired = tick(&mut *store, back).unwrap();
        assert_eq!(fired.len(), 1, "{fired:?}");
        assert_eq!(fired[0].schedule_id, "catch-up");
        assert_eq!(fired[0].missed, 3);
        assert_eq!(fired[0].due, at(2026, 11, 27, 9, 0));
        // Once: looking again a minute later fires nothing; the next day both fire at 09:00.
        assert!(
            tick(&mut *store, back + chrono::Duration::minutes(1))
                .unwrap()
                .is_empty()
        );
        let fired = walk(&mut *store, at(2026, 11, 30, 8, 58), at(2026, 11, 30, 9, 2));
        assert_eq!(
            fired,
            [
                ("catch-up".into(), at(2026, 11, 30, 9, 0), 0),
                ("skipper".into(), at(2026, 11, 30, 9, 0), 0)
            ]
        );
    }
}

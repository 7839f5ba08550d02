//! Scenarios that run by themselves: the rules (`rules`, pure), the ledger's schedules looked at
//! on a clock passed in (`tick`), and adding one. The launcher (`serve`) feeds what fires into
//! its queue; `kuroko schedule` is the command line over the same functions.

pub(crate) mod rules;
pub mod tick;

use chrono::{NaiveDate, NaiveDateTime};

use crate::japanese::holidays::OfficeCalendar;
use crate::ledger::{LResult, Schedules};

pub use rules::*;

/// The office calendar: the defaults plus the closure days kept in the ledger.
pub fn calendar(store: &dyn Schedules) -> LResult<OfficeCalendar> {
    let mut cal = OfficeCalendar::default();
    for (day, _) in store.closed_days()? {
        if let Ok(d) = NaiveDate::parse_from_str(&day, "%Y-%m-%d") {
            cal.closed_dates.push(d);
        }
    }
    Ok(cal)
}

/// Adds a schedule for a scenario (validated first); its id is `<scenario id>-<n>`.
pub fn add(
    store: &mut dyn Schedules,
    scenario: &crate::scenario::Scenario,
    spec: &str,
) -> crate::error::Result<crate::ledger::ScheduleRecord> {
    let schedule = Schedule::parse(spec).map_err(crate::error::Error::usage)?;
    // A spec that reads but never comes round (`cron 0 9 30 2 *`, 30 February) is refused
    // now, not shown for ever with no next run.
    let now = chrono::Local::now().naive_local();
    if schedule.next_after(now, &calendar(store)?).is_none() {
        return Err(crate::error::Error::usage(format!(
            "{spec:?} never runs (no such day comes within ten years, on an office day); check the day and month"
        )));
    }
    let base = &scenario.manifest.id;
    let taken: Vec<String> = store.schedules()?.into_iter().map(|s| s.id).collect();
    let id = (1..)
        .map(|n| format!("{base}-{n}"))
        .find(|id| !taken.contains(id))
        .unwrap_or_default();
    let record = crate::ledger::ScheduleRecord {
        id,
        scenario_id: base.clone(),
        scenario_path: scenario.dir.display().to_string(),
        spec: spec.trim().to_string(),
        created_at: crate::ledger::now(),
        last_checked: crate::ledger::now(),
    };
    store.add_schedule(&record)?;
    Ok(record)
}

/// When a stored schedule runs next after `now`, as `YYYY-MM-DD HH:MM`; `None` when its spec
/// does not read or it never runs again.
pub fn next_run_text(spec: &str, now: NaiveDateTime, cal: &OfficeCalendar) -> Option<String> {
    Schedule::parse(spec)
        .ok()?
        .next_after(now, cal)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
}

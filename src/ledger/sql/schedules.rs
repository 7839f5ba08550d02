//! Schedules and office closure days.

use super::{Db, SqlStore, params};
use crate::ledger::*;

impl<D: Db> Schedules for SqlStore<D> {
    fn add_schedule(&mut self, s: &ScheduleRecord) -> LResult<()> {
        self.write("cannot add the schedule", |tx| {
            tx.execute(
                "INSERT INTO schedules (schedule_id, scenario_id, scenario_path, spec, created_at, \
                 last_checked) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    &s.id,
                    &s.scenario_id,
                    &s.scenario_path,
                    &s.spec,
                    &s.created_at,
                    &s.last_checked
                ],
            )
            .map(|_| ())
        })
    }

    fn schedules(&self) -> LResult<Vec<ScheduleRecord>> {
        self.rows(
            "cannot read the schedules",
            "SELECT schedule_id, scenario_id, scenario_path, spec, created_at, last_checked \
                 FROM schedules ORDER BY schedule_id",
            &[],
            |r| {
                Ok(ScheduleRecord {
                    id: r.text(0)?,
                    scenario_id: r.text(1)?,
                    scenario_path: r.text(2)?,
                    spec: r.text(3)?,
                    created_at: r.text(4)?,
                    last_checked: r.text(5)?,
                })
            },
        )
    }

    fn remove_schedule(&mut self, id: &str) -> LResult<bool> {
        self.write("cannot remove the schedule", |tx| {
            tx.execute("DELETE FROM schedules WHERE schedule_id = ?1", params![id])
                .map(|n| n > 0)
        })
    }

    fn set_schedule_checked(&mut self, id: &str, at: &str) -> LResult<()> {
        self.write("cannot update the schedule", |tx| {
            tx.execute(
                "UPDATE schedules SET last_checked = ?1 WHERE schedule_id = ?2",
                params![at, id],
            )
            .map(|_| ())
        })
    }

    fn closed_days(&self) -> LResult<Vec<(String, String)>> {
        self.rows(
            "cannot read the closure days",
            "SELECT day, reason FROM closed_days ORDER BY day",
            &[],
            |r| Ok((r.text(0)?, r.text(1)?)),
        )
    }

    fn set_closed_day(&mut self, day: &str, reason: Option<&str>) -> LResult<bool> {
        self.write("cannot change the closure days", |tx| {
            let removed = tx.execute("DELETE FROM closed_days WHERE day = ?1", params![day])?;
            match reason {
                Some(r) => tx
                    .execute(
                        "INSERT INTO closed_days (day, reason) VALUES (?1, ?2)",
                        params![day, r],
                    )
                    .map(|_| true),
                None => Ok(removed > 0),
            }
        })
    }
}

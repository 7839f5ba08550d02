//! The report's read-only queries over SQLite: sums per month, department and task (from the
//! per-day totals), runs one by one, failed items.

use rusqlite::{Row, params_from_iter};

use super::{RUN_COLUMNS, SqliteStore, err};
use crate::events::Trigger;
use crate::ledger::*;
use crate::timesaved::{Baselines, TimeSaved};

/// The WHERE clause and its parameters for a filter (plain SQL, `?` placeholders).
fn where_clause(filter: &Filter) -> (String, Vec<String>) {
    let mut conditions = Vec::new();
    let mut values = Vec::new();
    if let Some(from) = &filter.from {
        conditions.push("started_at >= ?");
        values.push(from.clone());
    }
    if let Some(to) = &filter.to {
        conditions.push("started_at < ?");
        values.push(to.clone());
    }
    if let Some(d) = &filter.department {
        conditions.push("department = ?");
        values.push(d.clone());
    }
    if let Some(s) = &filter.scenario_id {
        conditions.push("scenario_id = ?");
        values.push(s.clone());
    }
    if let Some(r) = &filter.run_id {
        conditions.push("run_id = ?");
        values.push(r.clone());
    }
    if filter.problems_only {
        conditions.push("state IN ('failed', 'aborted', 'interrupted')");
    }
    if conditions.is_empty() {
        (String::new(), values)
    } else {
        (format!(" WHERE {}", conditions.join(" AND ")), values)
    }
}

fn run_record(r: &Row) -> rusqlite::Result<RunRecord> {
    let kind: String = r.get(1)?;
    let state: String = r.get(11)?;
    Ok(RunRecord {
        run_id: r.get(0)?,
        kind: if kind == "import" {
            Kind::Import
        } else {
            Kind::Run
        },
        scenario_id: r.get(2)?,
        scenario_name: r.get(3)?,
        script_hash: r.get(4)?,
        department: r.get(5)?,
        task: r.get(6)?,
        machine: r.get(7)?,
        os_user: r.get(8)?,
        started_at: r.get(9)?,
        ended_at: r.get(10)?,
        state: RunState::parse(&state).unwrap_or(RunState::Failed),
        runs: r.get::<_, i64>(12)? as u64,
        items_done: r.get::<_, i64>(13)? as u64,
        items_failed: r.get::<_, i64>(14)? as u64,
        robot_minutes: r.get(15)?,
        baselines: Baselines {
            manual_minutes_per_item: r.get(16)?,
            human_minutes_per_item: r.get(17)?,
            human_minutes_per_run: r.get(18)?,
            attended: r.get::<_, i64>(19)? != 0,
        },
        time: TimeSaved {
            before_minutes: r.get(20)?,
            after_minutes: r.get(21)?,
            saved_minutes: r.get(22)?,
        },
        message: r.get(23)?,
        location: r.get(24)?,
        run_dir: r.get(25)?,
        trigger: Trigger::parse(&r.get::<_, String>(26)?),
    })
}

impl Reports for SqliteStore {
    fn group_totals(&self, filter: &Filter) -> LResult<Vec<GroupTotals>> {
        let mut conditions = Vec::new();
        let mut values = Vec::new();
        if let Some(from) = &filter.from {
            conditions.push("day >= ?");
            values.push(from.clone());
        }
        if let Some(to) = &filter.to {
            conditions.push("day < ?");
            values.push(to.clone());
        }
        if let Some(d) = &filter.department {
            conditions.push("department = ?");
            values.push(d.clone());
        }
        let where_sql = if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        };
        let sql = format!(
            "SELECT SUBSTR(day, 1, 7), department, task, SUM(runs), SUM(succeeded), SUM(failed), \
             SUM(aborted), SUM(interrupted), SUM(items_done), SUM(items_failed), \
             SUM(before_minutes), SUM(after_minutes), SUM(saved_minutes), SUM(robot_minutes) \
             FROM daily_totals{where_sql} GROUP BY SUBSTR(day, 1, 7), department, task \
             ORDER BY 1, 2, 3"
        );
        self.rows(
            "cannot sum the runs",
            &sql,
            params_from_iter(values.iter()),
            |r| {
                Ok(GroupTotals {
                    month: r.get(0)?,
                    department: r.get(1)?,
                    task: r.get(2)?,
                    sums: Totals {
                        runs: r.get::<_, i64>(3)? as u64,
                        succeeded: r.get::<_, i64>(4)? as u64,
                        failed: r.get::<_, i64>(5)? as u64,
                        aborted: r.get::<_, i64>(6)? as u64,
                        interrupted: r.get::<_, i64>(7)? as u64,
                        items_done: r.get::<_, i64>(8)? as u64,
                        items_failed: r.get::<_, i64>(9)? as u64,
                        before_minutes: r.get(10)?,
                        after_minutes: r.get(11)?,
                        saved_minutes: r.get(12)?,
                        robot_minutes: r.get(13)?,
                    },
                })
            },
        )
    }

    fn for_each_run(
        &self,
        filter: &Filter,
        each: &mut dyn FnMut(RunRecord) -> LResult<()>,
    ) -> LResult<()> {
        let (where_sql, mut values) = where_clause(filter);
        let order = if filter.newest_first { "DESC" } else { "ASC" };
        let mut sql = format!(
            "SELECT {RUN_COLUMNS}, run_trigger FROM runs{where_sql} ORDER BY started_at {order}, run_id {order}"
        );
        if let Some(limit) = filter.limit {
            sql.push_str(" LIMIT ?");
            values.push(limit.to_string());
        }
        let mut stmt = self
            .conn
            .prepare(&sql)
            .map_err(err(&self.path, "cannot read the runs"))?;
        let mut rows = stmt
            .query(params_from_iter(values.iter()))
            .map_err(err(&self.path, "cannot read the runs"))?;
        while let Some(row) = rows
            .next()
            .map_err(err(&self.path, "cannot read the runs"))?
        {
            each(run_record(row).map_err(err(&self.path, "cannot read a run"))?)?;
        }
        Ok(())
    }

    fn failed_items(&self, filter: &Filter) -> LResult<Vec<FailedItem>> {
        let (where_sql, values) = where_clause(filter);
        let runs_filter = where_sql.replacen(" WHERE ", " AND ", 1);
        // Failed items are few and indexed: start from them (CROSS JOIN keeps that order in
        // SQLite and means the same as JOIN elsewhere), then check their runs.
        let sql = format!(
            "SELECT items.run_id, runs.department, runs.task, items.item_key, items.failure, items.at \
             FROM items CROSS JOIN runs WHERE items.failure IS NOT NULL \
             AND runs.run_id = items.run_id{runs_filter} ORDER BY items.at"
        );
        self.rows(
            "cannot read the failed items",
            &sql,
            params_from_iter(values.iter()),
            |r| {
                Ok(FailedItem {
                    run_id: r.get(0)?,
                    department: r.get(1)?,
                    task: r.get(2)?,
                    key: r.get(3)?,
                    reason: r.get(4)?,
                    at: r.get(5)?,
                })
            },
        )
    }
}

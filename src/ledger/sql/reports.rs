//! The report's read-only queries: sums per month, department and task (from the per-day
//! totals), runs one by one, failed items.

use super::{Db, RUN_COLUMNS, Row, SqlError, SqlResult, SqlStore, Value};
use crate::events::Trigger;
use crate::ledger::*;
use crate::timesaved::{Baselines, TimeSaved};

/// Conditions with numbered placeholders, and their values.
#[derive(Default)]
struct Conditions {
    sql: Vec<String>,
    values: Vec<Value>,
}

impl Conditions {
    fn push(&mut self, condition: &str, value: &str) {
        self.values.push(Value::from(value));
        self.sql
            .push(condition.replace('?', &format!("?{}", self.values.len())));
    }

    /// ` WHERE a AND b`, or nothing.
    fn where_sql(&self) -> String {
        if self.sql.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.sql.join(" AND "))
        }
    }
}

/// The WHERE clause and its parameters for a filter.
fn where_clause(filter: &Filter) -> (String, Vec<Value>) {
    let mut c = Conditions::default();
    if let Some(from) = &filter.from {
        c.push("started_at >= ?", from);
    }
    if let Some(to) = &filter.to {
        c.push("started_at < ?", to);
    }
    if let Some(d) = &filter.department {
        c.push("department = ?", d);
    }
    if let Some(s) = &filter.scenario_id {
        c.push("scenario_id = ?", s);
    }
    if let Some(r) = &filter.run_id {
        c.push("run_id = ?", r);
    }
    if filter.problems_only {
        c.sql
            .push("state IN ('failed', 'aborted', 'interrupted')".into());
    }
    (c.where_sql(), c.values)
}

fn run_record(r: &Row) -> SqlResult<RunRecord> {
    let kind = r.text(1)?;
    let state = r.text(11)?;
    Ok(RunRecord {
        run_id: r.text(0)?,
        kind: if kind == "import" {
            Kind::Import
        } else {
            Kind::Run
        },
        scenario_id: r.text(2)?,
        scenario_name: r.text(3)?,
        script_hash: r.text(4)?,
        department: r.text(5)?,
        task: r.text(6)?,
        machine: r.text(7)?,
        os_user: r.text(8)?,
        started_at: r.text(9)?,
        ended_at: r.opt_text(10)?,
        state: RunState::parse(&state).unwrap_or(RunState::Failed),
        runs: r.count(12)?,
        items_done: r.count(13)?,
        items_failed: r.count(14)?,
        robot_minutes: r.real(15)?,
        baselines: Baselines {
            manual_minutes_per_item: r.real(16)?,
            human_minutes_per_item: r.real(17)?,
            human_minutes_per_run: r.real(18)?,
            attended: r.int(19)? != 0,
        },
        time: TimeSaved {
            before_minutes: r.real(20)?,
            after_minutes: r.real(21)?,
            saved_minutes: r.real(22)?,
        },
        message: r.opt_text(23)?,
        location: r.opt_text(24)?,
        run_dir: r.opt_text(25)?,
        trigger: Trigger::parse(&r.text(26)?),
    })
}

/// The per-day sums of a filter's period and department.
fn daily_conditions(filter: &Filter) -> Conditions {
    let mut c = Conditions::default();
    if let Some(from) = &filter.from {
        c.push("day >= ?", from);
    }
    if let Some(to) = &filter.to {
        c.push("day < ?", to);
    }
    if let Some(d) = &filter.department {
        c.push("department = ?", d);
    }
    c
}

/// The per-day sums added up, in `Totals` order. Sums of whole numbers are cast back to whole
/// numbers (PostgreSQL sums BIGINT as NUMERIC).
const DAILY_SUMS: &str = "CAST(SUM(runs) AS BIGINT), CAST(SUM(succeeded) AS BIGINT), \
    CAST(SUM(failed) AS BIGINT), CAST(SUM(aborted) AS BIGINT), \
    CAST(SUM(interrupted) AS BIGINT), CAST(SUM(items_done) AS BIGINT), \
    CAST(SUM(items_failed) AS BIGINT), SUM(before_minutes), SUM(after_minutes), \
    SUM(saved_minutes), SUM(robot_minutes)";

/// `DAILY_SUMS` read back from column `first` on.
fn daily_sums(r: &Row, first: usize) -> SqlResult<Totals> {
    Ok(Totals {
        runs: r.count(first)?,
        succeeded: r.count(first + 1)?,
        failed: r.count(first + 2)?,
        aborted: r.count(first + 3)?,
        interrupted: r.count(first + 4)?,
        items_done: r.count(first + 5)?,
        items_failed: r.count(first + 6)?,
        before_minutes: r.real(first + 7)?,
        after_minutes: r.real(first + 8)?,
        saved_minutes: r.real(first + 9)?,
        robot_minutes: r.real(first + 10)?,
    })
}

impl<D: Db> Reports for SqlStore<D> {
    fn machine_totals(&self, filter: &Filter) -> LResult<Vec<MachineTotals>> {
        let c = daily_conditions(filter);
        let sql = format!(
            "SELECT machine, department, {DAILY_SUMS} FROM daily_totals{} \
             GROUP BY machine, department ORDER BY 1, 2",
            c.where_sql()
        );
        self.rows("cannot sum the runs per machine", &sql, &c.values, |r| {
            Ok(MachineTotals {
                machine: r.text(0)?,
                department: r.text(1)?,
                sums: daily_sums(r, 2)?,
            })
        })
    }

    fn group_totals(&self, filter: &Filter) -> LResult<Vec<GroupTotals>> {
        let c = daily_conditions(filter);
        let sql = format!(
            "SELECT SUBSTR(day, 1, 7), department, task, {DAILY_SUMS} FROM daily_totals{} \
             GROUP BY SUBSTR(day, 1, 7), department, task ORDER BY 1, 2, 3",
            c.where_sql()
        );
        self.rows("cannot sum the runs", &sql, &c.values, |r| {
            Ok(GroupTotals {
                month: r.text(0)?,
                department: r.text(1)?,
                task: r.text(2)?,
                sums: daily_sums(r, 3)?,
            })
        })
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
            values.push(Value::from(limit));
            sql.push_str(&format!(" LIMIT ?{}", values.len()));
        }
        // The caller's own error (e.g. writing the report failed) is passed on as it is.
        let mut theirs = None;
        let read = self.read("cannot read the runs", |tx| {
            tx.query_each(&sql, &values, &mut |row| {
                let record = run_record(&row)?;
                each(record).map_err(|e| {
                    theirs = Some(e);
                    SqlError("stopped by the reader".into())
                })
            })
        });
        match theirs {
            Some(e) => Err(e),
            None => read,
        }
    }

    fn failed_items(&self, filter: &Filter) -> LResult<Vec<FailedItem>> {
        let (where_sql, mut values) = where_clause(filter);
        let runs_filter = where_sql.replacen(" WHERE ", " AND ", 1);
        let order = if filter.newest_first { "DESC" } else { "ASC" };
        // Failed items are few and indexed: start from them (CROSS JOIN keeps that order in
        // SQLite and means the same as JOIN elsewhere), then check their runs.
        let mut sql = format!(
            "SELECT items.run_id, runs.department, runs.task, items.item_key, items.failure, items.at \
             FROM items CROSS JOIN runs WHERE items.failure IS NOT NULL \
             AND runs.run_id = items.run_id{runs_filter} ORDER BY items.at {order}, items.run_id {order}, items.seq {order}"
        );
        if let Some(limit) = filter.limit {
            values.push(Value::from(limit));
            sql.push_str(&format!(" LIMIT ?{}", values.len()));
        }
        self.rows("cannot read the failed items", &sql, &values, |r| {
            Ok(FailedItem {
                run_id: r.text(0)?,
                department: r.text(1)?,
                task: r.text(2)?,
                key: r.text(3)?,
                reason: r.text(4)?,
                at: r.text(5)?,
            })
        })
    }
}

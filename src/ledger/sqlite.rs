//! The SQLite ledger: one file, WAL journal (readers never wait for the writer), every write in
//! a `BEGIN IMMEDIATE` transaction with a busy timeout (two kuroko processes writing at once
//! both succeed), `synchronous = FULL` (an item recorded survives a power loss). The SQL itself
//! is plain (no SQLite-only functions or upserts) so a PostgreSQL store can share it.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params, params_from_iter};

use super::*;
use crate::timesaved;

/// 1: runs, items, daily totals, imports. 2: items have a state (started, done, failed).
/// 3: schedules and office closure days. 4: what started a run (manual, launcher, scheduled).
const SCHEMA_VERSION: i64 = 4;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS kuroko_schema (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    scenario_id TEXT NOT NULL,
    scenario_name TEXT NOT NULL,
    script_hash TEXT NOT NULL,
    department TEXT NOT NULL,
    task TEXT NOT NULL,
    machine TEXT NOT NULL,
    os_user TEXT NOT NULL,
    pid BIGINT NOT NULL,
    process_started TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    state TEXT NOT NULL,
    runs BIGINT NOT NULL,
    items_done BIGINT NOT NULL,
    items_failed BIGINT NOT NULL,
    robot_minutes DOUBLE PRECISION NOT NULL,
    manual_minutes_per_item DOUBLE PRECISION NOT NULL,
    human_minutes_per_item DOUBLE PRECISION NOT NULL,
    human_minutes_per_run DOUBLE PRECISION NOT NULL,
    attended INTEGER NOT NULL,
    before_minutes DOUBLE PRECISION NOT NULL,
    after_minutes DOUBLE PRECISION NOT NULL,
    saved_minutes DOUBLE PRECISION NOT NULL,
    message TEXT,
    location TEXT,
    run_dir TEXT,
    run_trigger TEXT NOT NULL DEFAULT 'manual'
);
CREATE INDEX IF NOT EXISTS runs_started_at ON runs (started_at);
CREATE INDEX IF NOT EXISTS runs_scenario ON runs (scenario_id);
CREATE INDEX IF NOT EXISTS runs_state ON runs (state);
CREATE TABLE IF NOT EXISTS items (
    run_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    item_key TEXT NOT NULL,
    state TEXT NOT NULL,
    failure TEXT,
    at TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
CREATE INDEX IF NOT EXISTS items_failure ON items (failure);
CREATE INDEX IF NOT EXISTS items_key ON items (item_key);
CREATE TABLE IF NOT EXISTS daily_totals (
    day TEXT NOT NULL,
    department TEXT NOT NULL,
    task TEXT NOT NULL,
    runs BIGINT NOT NULL,
    succeeded BIGINT NOT NULL,
    failed BIGINT NOT NULL,
    aborted BIGINT NOT NULL,
    interrupted BIGINT NOT NULL,
    items_done BIGINT NOT NULL,
    items_failed BIGINT NOT NULL,
    before_minutes DOUBLE PRECISION NOT NULL,
    after_minutes DOUBLE PRECISION NOT NULL,
    saved_minutes DOUBLE PRECISION NOT NULL,
    robot_minutes DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (day, department, task)
);
CREATE TABLE IF NOT EXISTS imports (
    file_hash TEXT PRIMARY KEY,
    file_name TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    rows_imported BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS schedules (
    schedule_id TEXT PRIMARY KEY,
    scenario_id TEXT NOT NULL,
    scenario_path TEXT NOT NULL,
    spec TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_checked TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS closed_days (
    day TEXT PRIMARY KEY,
    reason TEXT NOT NULL
);
";

const RUN_COLUMNS: &str = "run_id, kind, scenario_id, scenario_name, script_hash, department, \
    task, machine, os_user, started_at, ended_at, state, runs, items_done, items_failed, \
    robot_minutes, manual_minutes_per_item, human_minutes_per_item, human_minutes_per_run, \
    attended, before_minutes, after_minutes, saved_minutes, message, location, run_dir";

pub struct SqliteStore {
    conn: Connection,
    path: String,
}

fn err(path: &str, what: &str) -> impl Fn(rusqlite::Error) -> LedgerError {
    let path = path.to_string();
    let what = what.to_string();
    move |e| LedgerError(format!("ledger {path}: {what}: {e}"))
}

impl SqliteStore {
    pub fn open(path: &Path) -> LResult<SqliteStore> {
        let label = path.display().to_string();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                LedgerError(format!("ledger {label}: cannot create its folder: {e}"))
            })?;
        }
        let conn = Connection::open(path).map_err(err(&label, "cannot open"))?;
        conn.busy_timeout(Duration::from_secs(30))
            .map_err(err(&label, "cannot set the busy timeout"))?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(err(&label, "not a kuroko ledger (or not an SQLite file)"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(LedgerError(format!(
                "ledger {label}: cannot use WAL journaling (got {mode}); is it on a network drive?"
            )));
        }
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
            .map_err(err(&label, "cannot configure"))?;
        let mut store = SqliteStore { conn, path: label };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> LResult<()> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err(&path, "cannot start a transaction"))?;
        tx.execute_batch(SCHEMA)
            .map_err(err(&path, "cannot create the tables"))?;
        let version: Option<i64> = tx
            .query_row("SELECT MAX(version) FROM kuroko_schema", [], |r| r.get(0))
            .map_err(err(&path, "cannot read the schema version"))?;
        match version {
            None => {
                tx.execute(
                    "INSERT INTO kuroko_schema (version) VALUES (?1)",
                    [SCHEMA_VERSION],
                )
                .map_err(err(&path, "cannot write the schema version"))?;
            }
            Some(v) if v < SCHEMA_VERSION => {
                // Each step brings the ledger one version up; new tables come from SCHEMA.
                // A column is added only where it is missing (a table SCHEMA just created has it).
                let lacks = |table: &str, column: &str| {
                    tx.prepare(&format!("SELECT {column} FROM {table} LIMIT 0"))
                        .is_err()
                };
                if v < 2 && lacks("items", "state") {
                    tx.execute_batch(
                        "ALTER TABLE items ADD COLUMN state TEXT NOT NULL DEFAULT 'done';
                         UPDATE items SET state = 'failed' WHERE failure IS NOT NULL;",
                    )
                    .map_err(err(&path, "cannot update the ledger to schema 2"))?;
                }
                if v < 4 && lacks("runs", "run_trigger") {
                    tx.execute_batch(
                        "ALTER TABLE runs ADD COLUMN run_trigger TEXT NOT NULL DEFAULT 'manual';",
                    )
                    .map_err(err(&path, "cannot update the ledger to schema 4"))?;
                }
                tx.execute("UPDATE kuroko_schema SET version = ?1", [SCHEMA_VERSION])
                    .map_err(err(&path, "cannot write the schema version"))?;
            }
            Some(v) if v > SCHEMA_VERSION => {
                return Err(LedgerError(format!(
                    "ledger {path} was written by a newer kuroko (schema {v}, this one knows {SCHEMA_VERSION}); update kuroko"
                )));
            }
            Some(_) => {}
        }
        tx.commit().map_err(err(&path, "cannot commit"))
    }

    /// Every row of a query, each turned into a value by `row`; `what` names the failure.
    fn rows<T, C: FromIterator<T>>(
        &self,
        what: &str,
        sql: &str,
        params: impl rusqlite::Params,
        row: impl FnMut(&Row) -> rusqlite::Result<T>,
    ) -> LResult<C> {
        let mut stmt = self.conn.prepare(sql).map_err(err(&self.path, what))?;
        stmt.query_map(params, row)
            .and_then(|rows| rows.collect())
            .map_err(err(&self.path, what))
    }

    fn write<T>(
        &mut self,
        what: &str,
        body: impl FnOnce(&rusqlite::Transaction) -> rusqlite::Result<T>,
    ) -> LResult<T> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err(&path, what))?;
        let value = body(&tx).map_err(err(&path, what))?;
        tx.commit().map_err(err(&path, what))?;
        Ok(value)
    }
}

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
        trigger: r.get(26)?,
    })
}

impl Store for SqliteStore {
    fn location(&self) -> String {
        self.path.clone()
    }

    fn begin_run(&mut self, run: &RunStart) -> LResult<()> {
        self.write("cannot record the start of the run", |tx| {
            let b = &run.baselines;
            tx.execute(
                &format!(
                    "INSERT INTO runs ({RUN_COLUMNS}, pid, process_started, run_trigger) VALUES \
                     (?1, 'run', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, 'running', 1, 0, 0, \
                      0, ?10, ?11, ?12, ?13, 0, ?14, ?15, NULL, NULL, ?16, ?17, ?18, ?19)"
                ),
                params![
                    run.run_id,
                    run.scenario_id,
                    run.scenario_name,
                    run.script_hash,
                    run.department,
                    run.task,
                    run.machine,
                    run.os_user,
                    run.started_at,
                    b.manual_minutes_per_item,
                    b.human_minutes_per_item,
                    b.human_minutes_per_run,
                    b.attended as i64,
                    b.human_minutes_per_run,
                    -b.human_minutes_per_run,
                    run.run_dir,
                    run.process.pid,
                    run.process.started,
                    run.trigger,
                ],
            )
            .map(|_| ())
        })
    }

    fn record_item(&mut self, run_id: &str, item: &ItemRecord) -> LResult<()> {
        self.write("cannot record an item", |tx| {
            let seq: i64 = tx.query_row(
                "SELECT COUNT(*) FROM items WHERE run_id = ?1",
                [run_id],
                |r| r.get(0),
            )?;
            tx.execute(
                "INSERT INTO items (run_id, seq, item_key, state, failure, at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    run_id,
                    seq + 1,
                    item.key,
                    item.state.as_str(),
                    item.state.reason(),
                    item.at
                ],
            )?;
            let column = match item.state {
                ItemState::Started => return Ok(()),
                ItemState::Done => "items_done",
                ItemState::Failed(_) => "items_failed",
            };
            tx.execute(
                &format!("UPDATE runs SET {column} = {column} + 1 WHERE run_id = ?1"),
                [run_id],
            )?;
            Ok(())
        })
    }

    fn finish_run(&mut self, run_id: &str, end: &RunEnd) -> LResult<()> {
        self.write("cannot record the end of the run", |tx| {
            finalize(tx, run_id, end).map(|_| ())
        })
    }

    fn recover_interrupted(
        &mut self,
        machine: &str,
        alive: &dyn Fn(&process::Identity) -> bool,
    ) -> LResult<Vec<String>> {
        let running: Vec<(String, process::Identity)> = self.rows(
            "cannot look for unfinished runs",
            "SELECT run_id, pid, process_started FROM runs \
             WHERE state = 'running' AND machine = ?1",
            [machine],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    process::Identity {
                        pid: r.get(1)?,
                        started: r.get(2)?,
                    },
                ))
            },
        )?;
        let dead: Vec<String> = running
            .into_iter()
            .filter(|(_, who)| !alive(who))
            .map(|(id, _)| id)
            .collect();
        for run_id in &dead {
            self.write("cannot mark an interrupted run", |tx| {
                let (started_at, manual, human_item, human_run, attended): (
                    String,
                    f64,
                    f64,
                    f64,
                    i64,
                ) = tx.query_row(
                    "SELECT started_at, manual_minutes_per_item, human_minutes_per_item, \
                         human_minutes_per_run, attended FROM runs \
                         WHERE run_id = ?1 AND state = 'running'",
                    [run_id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )?;
                let (done, failed, last_at): (i64, i64, Option<String>) = tx.query_row(
                    "SELECT SUM(CASE WHEN state = 'done' THEN 1 ELSE 0 END), \
                     SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END), MAX(at) \
                     FROM items WHERE run_id = ?1",
                    [run_id],
                    |r| {
                        Ok((
                            r.get::<_, Option<i64>>(0)?.unwrap_or(0),
                            r.get::<_, Option<i64>>(1)?.unwrap_or(0),
                            r.get(2)?,
                        ))
                    },
                )?;
                let ended_at = last_at.unwrap_or_else(|| started_at.clone());
                let robot_minutes = minutes_between(&started_at, &ended_at);
                let time = timesaved::for_run(
                    &Baselines {
                        manual_minutes_per_item: manual,
                        human_minutes_per_item: human_item,
                        human_minutes_per_run: human_run,
                        attended: attended != 0,
                    },
                    done as u64,
                    robot_minutes,
                );
                finalize(
                    tx,
                    run_id,
                    &RunEnd {
                        state: RunState::Interrupted,
                        ended_at,
                        robot_minutes,
                        items_done: done as u64,
                        items_failed: failed as u64,
                        time,
                        message: Some(
                            "the kuroko process ended before the run finished (killed, crashed or \
                             power lost); the time is up to the last item recorded"
                                .into(),
                        ),
                        location: None,
                    },
                )?;
                Ok(())
            })?;
        }
        Ok(dead)
    }

    fn import(&mut self, batch: &ImportBatch) -> LResult<usize> {
        let path = self.path.clone();
        let earlier: Option<(String, String)> = self
            .conn
            .query_row(
                "SELECT file_name, imported_at FROM imports WHERE file_hash = ?1",
                [&batch.file_hash],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(err(&path, "cannot check earlier imports"))?;
        if let Some((name, at)) = earlier {
            return Err(LedgerError(format!(
                "{}: this file was already imported (as {name}, at {at}); nothing imported",
                batch.file_name
            )));
        }
        let machine = process::machine_name();
        let user = process::os_user();
        let now = now();
        let prefix = &batch.file_hash[..16.min(batch.file_hash.len())];
        self.write("cannot import", |tx| {
            {
                let mut insert = tx.prepare(&format!(
                    "INSERT INTO runs ({RUN_COLUMNS}, pid, process_started) VALUES \
                     (?1, 'import', '', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, 'succeeded', ?9, ?10, 0, \
                      ?11, ?12, 0, 0, 0, ?13, ?14, ?15, NULL, NULL, NULL, 0, '')"
                ))?;
                for row in &batch.rows {
                    let manual = if row.items > 0 {
                        row.before_minutes / row.items as f64
                    } else {
                        0.0
                    };
                    insert.execute(params![
                        format!("import-{prefix}-{}", row.line),
                        row.task,
                        batch.file_hash,
                        row.department,
                        row.task,
                        machine,
                        user,
                        format!("{}T00:00:00", row.date),
                        row.runs as i64,
                        row.items as i64,
                        row.robot_minutes,
                        manual,
                        row.before_minutes,
                        row.after_minutes,
                        row.before_minutes - row.after_minutes,
                    ])?;
                    add_to_daily(
                        tx,
                        &row.date,
                        &row.department,
                        &row.task,
                        &Totals {
                            runs: row.runs,
                            succeeded: row.runs,
                            items_done: row.items,
                            before_minutes: row.before_minutes,
                            after_minutes: row.after_minutes,
                            saved_minutes: row.before_minutes - row.after_minutes,
                            robot_minutes: row.robot_minutes,
                            ..Totals::default()
                        },
                    )?;
                }
            }
            tx.execute(
                "INSERT INTO imports (file_hash, file_name, imported_at, rows_imported) VALUES (?1, ?2, ?3, ?4)",
                params![batch.file_hash, batch.file_name, now, batch.rows.len() as i64],
            )?;
            Ok(batch.rows.len())
        })
    }

    fn done_keys(&self, scenario_id: &str) -> LResult<HashSet<String>> {
        self.rows(
            "cannot read the items done",
            "SELECT DISTINCT items.item_key FROM items JOIN runs ON runs.run_id = items.run_id \
                 WHERE runs.scenario_id = ?1 AND items.state = 'done'",
            [scenario_id],
            |r| r.get::<_, String>(0),
        )
    }

    fn unfinished_keys(&self, scenario_id: &str) -> LResult<HashSet<String>> {
        self.rows(
            "cannot read the unfinished items",
            "SELECT DISTINCT items.item_key FROM items JOIN runs ON runs.run_id = items.run_id \
                 WHERE runs.scenario_id = ?1 AND items.state = 'started' AND NOT EXISTS ( \
                 SELECT 1 FROM items later JOIN runs r2 ON r2.run_id = later.run_id \
                 WHERE r2.scenario_id = ?1 AND later.item_key = items.item_key \
                 AND later.state <> 'started')",
            [scenario_id],
            |r| r.get::<_, String>(0),
        )
    }

    fn add_schedule(&mut self, s: &ScheduleRecord) -> LResult<()> {
        self.write("cannot add the schedule", |tx| {
            tx.execute(
                "INSERT INTO schedules (schedule_id, scenario_id, scenario_path, spec, created_at, \
                 last_checked) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    s.id,
                    s.scenario_id,
                    s.scenario_path,
                    s.spec,
                    s.created_at,
                    s.last_checked
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
            [],
            |r| {
                Ok(ScheduleRecord {
                    id: r.get(0)?,
                    scenario_id: r.get(1)?,
                    scenario_path: r.get(2)?,
                    spec: r.get(3)?,
                    created_at: r.get(4)?,
                    last_checked: r.get(5)?,
                })
            },
        )
    }

    fn remove_schedule(&mut self, id: &str) -> LResult<bool> {
        self.write("cannot remove the schedule", |tx| {
            tx.execute("DELETE FROM schedules WHERE schedule_id = ?1", [id])
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
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    fn set_closed_day(&mut self, day: &str, reason: Option<&str>) -> LResult<bool> {
        self.write("cannot change the closure days", |tx| {
            let removed = tx.execute("DELETE FROM closed_days WHERE day = ?1", [day])?;
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

/// Ends a `running` run: its outcome and numbers in `runs`, its sums in `daily_totals` (what
/// reports read, so a year's report does not scan a year of runs). Returns whether it was
/// still running (a run is finalized once).
fn finalize(tx: &rusqlite::Transaction, run_id: &str, end: &RunEnd) -> rusqlite::Result<bool> {
    let updated = tx.execute(
        "UPDATE runs SET state = ?2, ended_at = ?3, robot_minutes = ?4, items_done = ?5, \
         items_failed = ?6, before_minutes = ?7, after_minutes = ?8, saved_minutes = ?9, \
         message = ?10, location = ?11 WHERE run_id = ?1 AND state = 'running'",
        params![
            run_id,
            end.state.as_str(),
            end.ended_at,
            end.robot_minutes,
            end.items_done as i64,
            end.items_failed as i64,
            end.time.before_minutes,
            end.time.after_minutes,
            end.time.saved_minutes,
            end.message,
            end.location,
        ],
    )?;
    if updated == 0 {
        return Ok(false);
    }
    let (started_at, department, task): (String, String, String) = tx.query_row(
        "SELECT started_at, department, task FROM runs WHERE run_id = ?1",
        [run_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let one = |state: RunState| u64::from(end.state == state);
    add_to_daily(
        tx,
        started_at.get(..10).unwrap_or(&started_at),
        &department,
        &task,
        &Totals {
            runs: 1,
            succeeded: one(RunState::Succeeded),
            failed: one(RunState::Failed),
            aborted: one(RunState::Aborted),
            interrupted: one(RunState::Interrupted),
            items_done: end.items_done,
            items_failed: end.items_failed,
            before_minutes: end.time.before_minutes,
            after_minutes: end.time.after_minutes,
            saved_minutes: end.time.saved_minutes,
            robot_minutes: end.robot_minutes,
        },
    )?;
    Ok(true)
}

/// Adds to one day's sums for a task (`INSERT ... ON CONFLICT DO UPDATE`, which SQLite and
/// PostgreSQL both speak).
fn add_to_daily(
    tx: &rusqlite::Transaction,
    day: &str,
    department: &str,
    task: &str,
    t: &Totals,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO daily_totals (day, department, task, runs, succeeded, failed, aborted, \
         interrupted, items_done, items_failed, before_minutes, after_minutes, saved_minutes, \
         robot_minutes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) \
         ON CONFLICT (day, department, task) DO UPDATE SET \
         runs = daily_totals.runs + excluded.runs, \
         succeeded = daily_totals.succeeded + excluded.succeeded, \
         failed = daily_totals.failed + excluded.failed, \
         aborted = daily_totals.aborted + excluded.aborted, \
         interrupted = daily_totals.interrupted + excluded.interrupted, \
         items_done = daily_totals.items_done + excluded.items_done, \
         items_failed = daily_totals.items_failed + excluded.items_failed, \
         before_minutes = daily_totals.before_minutes + excluded.before_minutes, \
         after_minutes = daily_totals.after_minutes + excluded.after_minutes, \
         saved_minutes = daily_totals.saved_minutes + excluded.saved_minutes, \
         robot_minutes = daily_totals.robot_minutes + excluded.robot_minutes",
    )?
    .execute(params![
        day,
        department,
        task,
        t.runs as i64,
        t.succeeded as i64,
        t.failed as i64,
        t.aborted as i64,
        t.interrupted as i64,
        t.items_done as i64,
        t.items_failed as i64,
        t.before_minutes,
        t.after_minutes,
        t.saved_minutes,
        t.robot_minutes,
    ])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_ledger(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("kuroko-ledger-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join("ledger.sqlite3")
    }

    fn start(run_id: &str, pid: i64) -> RunStart {
        RunStart {
            run_id: run_id.into(),
            scenario_id: "s".into(),
            scenario_name: "住民票".into(),
            script_hash: "h".into(),
            department: "市民課".into(),
            task: "交付".into(),
            machine: "pc1".into(),
            os_user: "clerk".into(),
            process: process::Identity {
                pid,
                started: "boot:1".into(),
            },
            started_at: "2024-04-01T09:00:00.000+09:00".into(),
            baselines: Baselines {
                manual_minutes_per_item: 6.0,
                human_minutes_per_item: 1.0,
                human_minutes_per_run: 0.0,
                attended: false,
            },
            run_dir: "/runs/x".into(),
            trigger: "manual".into(),
        }
    }

    fn item(key: &str, failure: Option<&str>, at: &str) -> ItemRecord {
        ItemRecord {
            key: key.into(),
            state: match failure {
                Some(f) => ItemState::Failed(f.into()),
                None => ItemState::Done,
            },
            at: at.into(),
        }
    }

    #[test]
    fn a_dead_run_becomes_interrupted_once_with_its_items_and_sums() {
        let path = temp_ledger("recover");
        let mut store = SqliteStore::open(&path).unwrap();
        store.begin_run(&start("r1", 1)).unwrap();
        store.begin_run(&start("r2", 2)).unwrap();
        store
            .record_item("r1", &item("a", None, "2024-04-01T09:01:00.000+09:00"))
            .unwrap();
        store
            .record_item(
                "r1",
                &item("b", Some("no address"), "2024-04-01T09:02:00.000+09:00"),
            )
            .unwrap();
        store
            .record_item("r1", &item("c", None, "2024-04-01T09:03:00.000+09:00"))
            .unwrap();
        // Another machine's runs and live processes are left alone.
        let dead = store
            .recover_interrupted("pc1", &|who: &process::Identity| who.pid == 2)
            .unwrap();
        assert_eq!(dead, ["r1"]);
        assert!(
            store
                .recover_interrupted("pc1", &|_: &process::Identity| true)
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .recover_interrupted("pc2", &|_: &process::Identity| false)
                .unwrap()
                .is_empty()
        );

        let mut runs = Vec::new();
        store
            .for_each_run(&Filter::default(), &mut |r| {
                runs.push(r);
                Ok(())
            })
            .unwrap();
        let r1 = runs.iter().find(|r| r.run_id == "r1").unwrap();
        assert_eq!(r1.state, RunState::Interrupted);
        assert_eq!((r1.items_done, r1.items_failed), (2, 1));
        assert_eq!(
            r1.ended_at.as_deref(),
            Some("2024-04-01T09:03:00.000+09:00")
        );
        assert!((r1.robot_minutes - 3.0).abs() < 1e-9);
        assert_eq!((r1.time.before_minutes, r1.time.after_minutes), (12.0, 2.0));
        assert_eq!(
            store.done_keys("s").unwrap(),
            HashSet::from(["a".into(), "c".into()])
        );

        // The report's sums: the interrupted run only (r2 is still running).
        let sums = store.group_totals(&Filter::default()).unwrap();
        assert_eq!(sums.len(), 1);
        assert_eq!(
            (
                sums[0].month.as_str(),
                sums[0].sums.runs,
                sums[0].sums.interrupted,
                sums[0].sums.saved_minutes
            ),
            ("2024-04", 1, 1, 10.0)
        );
        // A finish after recovery (it cannot happen for a live process) does not count twice.
        store
            .finish_run(
                "r1",
                &RunEnd {
                    state: RunState::Succeeded,
                    ended_at: "x".into(),
                    robot_minutes: 1.0,
                    items_done: 9,
                    items_failed: 0,
                    time: TimeSaved {
                        before_minutes: 54.0,
                        after_minutes: 9.0,
                        saved_minutes: 45.0,
                    },
                    message: None,
                    location: None,
                },
            )
            .unwrap();
        assert_eq!(store.group_totals(&Filter::default()).unwrap(), sums);
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn an_item_started_and_never_finished_is_unfinished_until_a_later_run_finishes_it() {
        let path = temp_ledger("unfinished");
        let mut store = SqliteStore::open(&path).unwrap();
        store.begin_run(&start("r1", 1)).unwrap();
        let started = |key: &str| ItemRecord {
            key: key.into(),
            state: ItemState::Started,
            at: "2024-04-01T09:01:00.000+09:00".into(),
        };
        store.record_item("r1", &started("x")).unwrap();
        store.record_item("r1", &started("y")).unwrap();
        store
            .record_item("r1", &item("y", None, "2024-04-01T09:02:00.000+09:00"))
            .unwrap();
        assert_eq!(
            store.unfinished_keys("s").unwrap(),
            HashSet::from(["x".into()])
        );
        assert!(store.unfinished_keys("other").unwrap().is_empty());
        store.begin_run(&start("r2", 1)).unwrap();
        store
            .record_item("r2", &item("x", None, "2024-04-02T09:00:00.000+09:00"))
            .unwrap();
        assert!(store.unfinished_keys("s").unwrap().is_empty());
        // Started items count toward nothing.
        let mut r1 = None;
        store
            .for_each_run(&Filter::default(), &mut |r| {
                if r.run_id == "r1" {
                    r1 = Some(r);
                }
                Ok(())
            })
            .unwrap();
        assert_eq!(r1.unwrap().items_done, 1);
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn a_schema_1_ledger_is_updated_and_keeps_its_items() {
        let path = temp_ledger("schema1");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE kuroko_schema (version INTEGER NOT NULL);
             INSERT INTO kuroko_schema (version) VALUES (1);
             CREATE TABLE items (run_id TEXT NOT NULL, seq BIGINT NOT NULL, item_key TEXT NOT NULL,
                 failure TEXT, at TEXT NOT NULL, PRIMARY KEY (run_id, seq));
             INSERT INTO items VALUES ('r1', 1, 'a', NULL, 't'), ('r1', 2, 'b', 'no', 't');",
        )
        .unwrap();
        drop(conn);
        let mut store = SqliteStore::open(&path).unwrap();
        store.begin_run(&start("r1", 1)).unwrap();
        assert_eq!(store.done_keys("s").unwrap(), HashSet::from(["a".into()]));
        let version: i64 = store
            .conn
            .query_row("SELECT MAX(version) FROM kuroko_schema", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn a_ledger_from_a_newer_kuroko_is_refused() {
        let path = temp_ledger("newer");
        drop(SqliteStore::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.execute("UPDATE kuroko_schema SET version = 99", [])
            .unwrap();
        drop(conn);
        let e = SqliteStore::open(&path).err().unwrap();
        assert!(e.0.contains("newer kuroko"), "{e}");
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn a_file_that_is_not_a_ledger_is_refused_with_its_name() {
        let path = temp_ledger("garbage");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, b"this is not sqlite at all, just text ...........").unwrap();
        let e = SqliteStore::open(&path).err().unwrap();
        assert!(
            e.0.contains("ledger.sqlite3") && e.0.contains("not a kuroko ledger"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }
}

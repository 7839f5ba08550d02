//! The ledger's logic in portable SQL, written once for every store: a store is a `Db` (SQLite
//! on one PC, PostgreSQL for several) that runs statements with `?N` placeholders and gives rows
//! of plain values, and `SqlStore<Db>` implements the four store traits over it. Only opening,
//! migrating and transactions differ per database, and they live in `ledger/sqlite.rs` and
//! `ledger/postgres.rs`.

mod fleet;
mod import;
mod queues;
mod reports;
mod runs;
mod schedules;
mod secrets;

use super::*;

/// A value going into or coming out of a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Text(s.to_string())
    }
}
impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value::Text(s.clone())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Text(s)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}
impl From<u64> for Value {
    fn from(v: u64) -> Value {
        Value::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Real(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Int(v as i64)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// Parameters: `params![a, b, ...]` turns each into a `Value`.
macro_rules! params {
    ($($v:expr),* $(,)?) => { &[$(crate::ledger::sql::Value::from($v)),*][..] };
}
pub(super) use params;

/// What a database said when a statement failed (the store adds which ledger and what it did).
#[derive(Debug, Clone, PartialEq)]
pub struct SqlError(pub String);

impl std::fmt::Display for SqlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub type SqlResult<T> = Result<T, SqlError>;

/// One row of a result.
#[derive(Debug, Clone)]
pub struct Row(pub Vec<Value>);

impl Row {
    fn at(&self, i: usize) -> SqlResult<&Value> {
        self.0
            .get(i)
            .ok_or_else(|| SqlError(format!("the result has no column {i}")))
    }

    pub fn opt_text(&self, i: usize) -> SqlResult<Option<String>> {
        match self.at(i)? {
            Value::Null => Ok(None),
            Value::Text(s) => Ok(Some(s.clone())),
            Value::Int(v) => Ok(Some(v.to_string())),
            Value::Real(v) => Ok(Some(v.to_string())),
        }
    }

    pub fn text(&self, i: usize) -> SqlResult<String> {
        self.opt_text(i)?
            .ok_or_else(|| SqlError(format!("column {i} is empty")))
    }

    pub fn opt_int(&self, i: usize) -> SqlResult<Option<i64>> {
        match self.at(i)? {
            Value::Null => Ok(None),
            Value::Int(v) => Ok(Some(*v)),
            Value::Real(v) => Ok(Some(*v as i64)),
            Value::Text(s) => s
                .parse()
                .map(Some)
                .map_err(|_| SqlError(format!("column {i} is not a number: {s:?}"))),
        }
    }

    pub fn int(&self, i: usize) -> SqlResult<i64> {
        Ok(self.opt_int(i)?.unwrap_or(0))
    }

    /// A count or sum (never negative in the ledger).
    pub fn count(&self, i: usize) -> SqlResult<u64> {
        Ok(self.int(i)?.max(0) as u64)
    }

    pub fn real(&self, i: usize) -> SqlResult<f64> {
        match self.at(i)? {
            Value::Null => Ok(0.0),
            Value::Int(v) => Ok(*v as f64),
            Value::Real(v) => Ok(*v),
            Value::Text(s) => s
                .parse()
                .map_err(|_| SqlError(format!("column {i} is not a number: {s:?}"))),
        }
    }
}

/// Statements on one connection: inside a write transaction, or one by one for reads. SQL uses
/// `?1`, `?2`, ... placeholders and only what SQLite and PostgreSQL both speak.
pub trait Tx {
    /// Runs a statement; the rows it changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> SqlResult<u64>;
    /// Runs a query, giving each row to `each` as it arrives (a year of runs is not held at once).
    fn query_each(
        &mut self,
        sql: &str,
        params: &[Value],
        each: &mut dyn FnMut(Row) -> SqlResult<()>,
    ) -> SqlResult<()>;
}

impl dyn Tx + '_ {
    pub fn query(&mut self, sql: &str, params: &[Value]) -> SqlResult<Vec<Row>> {
        let mut rows = Vec::new();
        self.query_each(sql, params, &mut |row| {
            rows.push(row);
            Ok(())
        })?;
        Ok(rows)
    }

    pub fn query_opt(&mut self, sql: &str, params: &[Value]) -> SqlResult<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    pub fn query_one(&mut self, sql: &str, params: &[Value]) -> SqlResult<Row> {
        self.query_opt(sql, params)?
            .ok_or_else(|| SqlError("the query found no row".into()))
    }
}

/// A database the ledger can live in.
pub trait Db {
    /// SQL for the database's clock, in seconds since 1970 (leases and heartbeats use the
    /// database's clock, so robot PCs whose clocks differ agree).
    const CLOCK: &'static str;
    /// What follows a SELECT that claims a row, so other claimers pass over it instead of
    /// waiting (PostgreSQL `FOR UPDATE SKIP LOCKED`; SQLite's one writer needs nothing).
    const SKIP_LOCKED: &'static str;
    /// Which ledger, for messages (a file path, or a database address without its password).
    fn label(&self) -> String;
    /// Runs `body` in one transaction that takes the write lock (SQLite `BEGIN IMMEDIATE`,
    /// PostgreSQL `BEGIN`), committed when it returns `Ok`, rolled back otherwise.
    fn write<T>(&mut self, body: impl FnOnce(&mut dyn Tx) -> SqlResult<T>) -> SqlResult<T>;
    /// Runs reads, each statement on its own (no transaction held open).
    fn read<T>(&self, body: impl FnOnce(&mut dyn Tx) -> SqlResult<T>) -> SqlResult<T>;
}

/// A ledger in a SQL database: the store traits, implemented once over `Db`.
pub struct SqlStore<D: Db> {
    pub(super) db: D,
}

impl<D: Db> SqlStore<D> {
    pub fn new(db: D) -> SqlStore<D> {
        SqlStore { db }
    }

    fn fail(&self, what: &str) -> impl Fn(SqlError) -> LedgerError + use<D> {
        let label = self.db.label();
        let what = what.to_string();
        move |e| LedgerError(format!("ledger {label}: {what}: {e}"))
    }

    fn write<T>(
        &mut self,
        what: &str,
        body: impl FnOnce(&mut dyn Tx) -> SqlResult<T>,
    ) -> LResult<T> {
        let fail = self.fail(what);
        self.db.write(body).map_err(fail)
    }

    fn read<T>(&self, what: &str, body: impl FnOnce(&mut dyn Tx) -> SqlResult<T>) -> LResult<T> {
        self.db.read(body).map_err(self.fail(what))
    }

    /// Every row of one query, each turned into a value by `row`.
    fn rows<T, C: FromIterator<T>>(
        &self,
        what: &str,
        sql: &str,
        params: &[Value],
        row: impl Fn(&Row) -> SqlResult<T>,
    ) -> LResult<C> {
        self.read(what, |tx| {
            tx.query(sql, params)?
                .iter()
                .map(row)
                .collect::<SqlResult<C>>()
        })
    }
}

impl<D: Db> Location for SqlStore<D> {
    fn location(&self) -> String {
        self.db.label()
    }
}

/// The tables, in the SQL both databases speak (each database adds its own touches: see
/// `postgres::schema`). A new version's changes to existing tables go in each store's
/// migration steps.
pub const SCHEMA: &str = "
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
    run_trigger TEXT NOT NULL DEFAULT 'manual',
    alive_until DOUBLE PRECISION
);
CREATE TABLE IF NOT EXISTS items (
    run_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    item_key TEXT NOT NULL,
    state TEXT NOT NULL,
    failure TEXT,
    at TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
CREATE TABLE IF NOT EXISTS daily_totals (
    day TEXT NOT NULL,
    department TEXT NOT NULL,
    task TEXT NOT NULL,
    machine TEXT NOT NULL,
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
    PRIMARY KEY (day, department, task, machine)
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
CREATE TABLE IF NOT EXISTS queue_items (
    queue TEXT NOT NULL,
    item_key TEXT NOT NULL,
    seq BIGINT NOT NULL,
    data TEXT NOT NULL,
    state TEXT NOT NULL,
    failure_kind TEXT,
    reason TEXT,
    owner TEXT,
    run_id TEXT,
    attempt BIGINT NOT NULL,
    lease_until DOUBLE PRECISION,
    added_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (queue, item_key)
);
CREATE TABLE IF NOT EXISTS queue_attempts (
    queue TEXT NOT NULL,
    item_key TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    machine TEXT NOT NULL,
    run_id TEXT NOT NULL,
    claimed_at TEXT NOT NULL,
    ended_at TEXT,
    outcome TEXT,
    PRIMARY KEY (queue, item_key, attempt)
);
CREATE TABLE IF NOT EXISTS machines (
    name TEXT PRIMARY KEY,
    os_user TEXT NOT NULL,
    os TEXT NOT NULL,
    version TEXT NOT NULL,
    scenarios TEXT NOT NULL,
    started_at TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    seen_clock DOUBLE PRECISION NOT NULL,
    alive_until DOUBLE PRECISION NOT NULL,
    state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS run_requests (
    request_id TEXT PRIMARY KEY,
    machine TEXT NOT NULL,
    scenario_id TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    state TEXT NOT NULL,
    taken_at TEXT,
    ended_at TEXT,
    message TEXT
);
CREATE INDEX IF NOT EXISTS run_requests_waiting ON run_requests (machine, state, requested_at);
CREATE INDEX IF NOT EXISTS queue_items_waiting ON queue_items (queue, state, seq);
CREATE INDEX IF NOT EXISTS queue_items_run ON queue_items (run_id);
CREATE INDEX IF NOT EXISTS queue_items_state ON queue_items (state);
CREATE INDEX IF NOT EXISTS queue_attempts_run ON queue_attempts (run_id);
CREATE INDEX IF NOT EXISTS runs_started_at ON runs (started_at);
CREATE INDEX IF NOT EXISTS runs_scenario ON runs (scenario_id);
CREATE INDEX IF NOT EXISTS runs_state ON runs (state);
CREATE INDEX IF NOT EXISTS items_failure ON items (failure);
CREATE INDEX IF NOT EXISTS items_key ON items (item_key);
CREATE TABLE IF NOT EXISTS secret_recipients (
    machine TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,
    added_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS secrets (
    name TEXT PRIMARY KEY,
    ciphertext TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at TEXT NOT NULL,
    recipients TEXT NOT NULL
);
";

/// `daily_totals` rebuilt from the runs (a ledger from before it had a machine column): the
/// same sums `finalize` and `import` add, per day of the start, department, task and machine.
pub const DAILY_FROM_RUNS: &str = "INSERT INTO daily_totals (day, department, task, machine, \
    runs, succeeded, failed, aborted, interrupted, items_done, items_failed, before_minutes, \
    after_minutes, saved_minutes, robot_minutes) \
    SELECT SUBSTR(started_at, 1, 10), department, task, \
    CASE WHEN kind = 'import' THEN '（取込）' ELSE machine END, SUM(runs), \
    SUM(CASE WHEN state = 'succeeded' THEN runs ELSE 0 END), \
    SUM(CASE WHEN state = 'failed' THEN runs ELSE 0 END), \
    SUM(CASE WHEN state = 'aborted' THEN runs ELSE 0 END), \
    SUM(CASE WHEN state = 'interrupted' THEN runs ELSE 0 END), \
    SUM(items_done), SUM(items_failed), SUM(before_minutes), SUM(after_minutes), \
    SUM(saved_minutes), SUM(robot_minutes) \
    FROM runs WHERE state <> 'running' \
    GROUP BY SUBSTR(started_at, 1, 10), department, task, \
    CASE WHEN kind = 'import' THEN '（取込）' ELSE machine END";

/// What the per-machine sums call history imported from before kuroko (people did it, not the
/// PC that imported it).
pub const IMPORTED: &str = "（取込）";

const RUN_COLUMNS: &str = "run_id, kind, scenario_id, scenario_name, script_hash, department, \
    task, machine, os_user, started_at, ended_at, state, runs, items_done, items_failed, \
    robot_minutes, manual_minutes_per_item, human_minutes_per_item, human_minutes_per_run, \
    attended, before_minutes, after_minutes, saved_minutes, message, location, run_dir";

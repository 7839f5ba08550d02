//! The SQLite ledger, the one-PC store: one file, WAL journal (readers never wait for the
//! writer), every write in a `BEGIN IMMEDIATE` transaction with a busy timeout (two kuroko
//! processes writing at once both succeed), `synchronous = FULL` (an item recorded survives a
//! power loss). Opening only reads the schema version and migrates (under the write lock) only
//! when the file is behind. The ledger's logic is shared with PostgreSQL in `sql/`.

use std::path::Path;
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, TransactionBehavior};

use super::sql::{DAILY_FROM_RUNS, Db, Row, SCHEMA, SqlError, SqlResult, SqlStore, Tx, Value};
use super::*;

/// 1: runs, items, daily totals, imports. 2: items have a state (started, done, failed).
/// 3: schedules and office closure days. 4: what started a run (manual, launcher, scheduled).
/// 5: work queues and their attempts; runs heartbeat (`alive_until`).
/// 6: robot PCs (machines) and runs sent to them, per-day sums per machine; secrets
/// (ciphertexts) and the PCs registered to read them.
const SCHEMA_VERSION: i64 = 6;

pub type SqliteStore = SqlStore<Sqlite>;

/// One SQLite ledger file.
pub struct Sqlite {
    conn: Connection,
    path: String,
}

fn too_new(path: &str, v: i64) -> LedgerError {
    LedgerError(format!(
        "ledger {path} was written by a newer kuroko (schema {v}, this one knows {SCHEMA_VERSION}); update kuroko"
    ))
}

fn err(path: &str, what: &str) -> impl Fn(rusqlite::Error) -> LedgerError {
    let path = path.to_string();
    let what = what.to_string();
    move |e| LedgerError(format!("ledger {path}: {what}: {e}"))
}

fn sql_err(e: rusqlite::Error) -> SqlError {
    SqlError(e.to_string())
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(v) => ToSqlOutput::Borrowed(ValueRef::Integer(*v)),
            Value::Real(v) => ToSqlOutput::Borrowed(ValueRef::Real(*v)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

/// Statements on a connection (or a transaction, which derefs to one); each statement is
/// prepared once per connection.
struct SqliteTx<'a>(&'a Connection);

impl Tx for SqliteTx<'_> {
    fn execute(&mut self, sql: &str, params: &[Value]) -> SqlResult<u64> {
        let mut stmt = self.0.prepare_cached(sql).map_err(sql_err)?;
        stmt.execute(rusqlite::params_from_iter(params))
            .map(|n| n as u64)
            .map_err(sql_err)
    }

    fn query_each(
        &mut self,
        sql: &str,
        params: &[Value],
        each: &mut dyn FnMut(Row) -> SqlResult<()>,
    ) -> SqlResult<()> {
        let mut stmt = self.0.prepare_cached(sql).map_err(sql_err)?;
        let columns = stmt.column_count();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params))
            .map_err(sql_err)?;
        while let Some(row) = rows.next().map_err(sql_err)? {
            let mut values = Vec::with_capacity(columns);
            for i in 0..columns {
                values.push(match row.get_ref(i).map_err(sql_err)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(v) => Value::Int(v),
                    ValueRef::Real(v) => Value::Real(v),
                    ValueRef::Text(t) | ValueRef::Blob(t) => {
                        Value::Text(String::from_utf8_lossy(t).into_owned())
                    }
                });
            }
            each(Row(values))?;
        }
        Ok(())
    }
}

impl Db for Sqlite {
    const CLOCK: &'static str = "((julianday('now') - 2440587.5) * 86400.0)";
    const SKIP_LOCKED: &'static str = "";

    fn label(&self) -> String {
        self.path.clone()
    }

    fn write<T>(&mut self, body: impl FnOnce(&mut dyn Tx) -> SqlResult<T>) -> SqlResult<T> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err)?;
        let value = body(&mut SqliteTx(&tx))?;
        tx.commit().map_err(sql_err)?;
        Ok(value)
    }

    fn read<T>(&self, body: impl FnOnce(&mut dyn Tx) -> SqlResult<T>) -> SqlResult<T> {
        body(&mut SqliteTx(&self.conn))
    }
}

impl Sqlite {
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
        // Turning a new file to WAL needs it to itself: while another process is creating the
        // same new ledger, SQLite answers "locked" at once (its busy handler is skipped there to
        // avoid a deadlock), so ask again until the busy timeout has passed.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let mode: String = loop {
            match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)) {
                Ok(mode) => break mode,
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::DatabaseBusy
                        && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => {
                    return Err(err(&label, "not a kuroko ledger (or not an SQLite file)")(
                        e,
                    ));
                }
            }
        };
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(LedgerError(format!(
                "ledger {label}: cannot use WAL journaling (got {mode}); is it on a network drive?"
            )));
        }
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
            .map_err(err(&label, "cannot configure"))?;
        let mut store = Sqlite { conn, path: label };
        // Most opens find the schema current and take no write lock (every launcher request and
        // scheduler tick opens the ledger); only a new or older file is migrated.
        match store.version() {
            Some(v) if v == SCHEMA_VERSION => {}
            Some(v) if v > SCHEMA_VERSION => return Err(too_new(&store.path, v)),
            _ => store.migrate()?,
        }
        Ok(SqlStore::new(store))
    }

    /// The schema version, read without a lock; `None` when the file has none yet.
    fn version(&self) -> Option<i64> {
        self.conn
            .query_row("SELECT MAX(version) FROM kuroko_schema", [], |r| r.get(0))
            .ok()
            .flatten()
    }

    /// Creates the tables or brings an older file up to `SCHEMA_VERSION`, under the write lock
    /// (another process may be doing the same; the version is read again inside).
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
                if v < 5 && lacks("runs", "alive_until") {
                    tx.execute_batch("ALTER TABLE runs ADD COLUMN alive_until DOUBLE PRECISION;")
                        .map_err(err(&path, "cannot update the ledger to schema 5"))?;
                }
                // The per-day sums gained the machine (its primary key with it): rebuilt from
                // the runs.
                if v < 6 && lacks("daily_totals", "machine") {
                    tx.execute_batch("DROP TABLE daily_totals;")
                        .and_then(|()| tx.execute_batch(SCHEMA))
                        .and_then(|()| tx.execute_batch(DAILY_FROM_RUNS))
                        .map_err(err(&path, "cannot update the ledger to schema 6"))?;
                }
                // and 6 adds tables (machines, run_requests, secret_recipients, secrets), which
                // SCHEMA created.
                tx.execute("UPDATE kuroko_schema SET version = ?1", [SCHEMA_VERSION])
                    .map_err(err(&path, "cannot write the schema version"))?;
            }
            Some(v) if v > SCHEMA_VERSION => return Err(too_new(&path, v)),
            Some(_) => {}
        }
        tx.commit().map_err(err(&path, "cannot commit"))
    }
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
            trigger: Trigger::Manual,
        }
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
        let mut store = Sqlite::open(&path).unwrap();
        store.begin_run(&start("r1", 1)).unwrap();
        assert_eq!(store.done_keys("s").unwrap(), HashSet::from(["a".into()]));
        let version: i64 = store
            .db
            .conn
            .query_row("SELECT MAX(version) FROM kuroko_schema", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn per_day_sums_without_machines_are_rebuilt_from_the_runs_with_the_same_totals() {
        let path = temp_ledger("daily_machine");
        let mut store = Sqlite::open(&path).unwrap();
        for (i, machine) in ["pc1", "pc2", "pc2"].iter().enumerate() {
            let mut run = start(&format!("r{i}"), 1);
            run.machine = machine.to_string();
            store.begin_run(&run).unwrap();
            let done = i as u64 + 1;
            store
                .finish_run(
                    &run.run_id,
                    &RunEnd {
                        state: if i == 1 {
                            RunState::Failed
                        } else {
                            RunState::Succeeded
                        },
                        ended_at: "2024-04-01T09:10:00.000+09:00".into(),
                        robot_minutes: 10.0,
                        items_done: done,
                        items_failed: 0,
                        time: crate::timesaved::for_run(&run.baselines, done, 10.0),
                        message: None,
                        location: None,
                    },
                )
                .unwrap();
        }
        let all = Filter::default();
        let sums = store.group_totals(&all).unwrap();
        let machines = store.machine_totals(&all).unwrap();
        assert_eq!(
            machines
                .iter()
                .map(|m| (m.machine.as_str(), m.sums.runs))
                .collect::<Vec<_>>(),
            [("pc1", 1), ("pc2", 2)]
        );
        // As a schema-5 ledger kept them: per day, department and task only.
        store
            .db
            .conn
            .execute_batch(
                "CREATE TABLE old AS SELECT day, department, task, SUM(runs) AS runs, \
                 SUM(succeeded) AS succeeded, SUM(failed) AS failed, SUM(aborted) AS aborted, \
                 SUM(interrupted) AS interrupted, SUM(items_done) AS items_done, \
                 SUM(items_failed) AS items_failed, SUM(before_minutes) AS before_minutes, \
                 SUM(after_minutes) AS after_minutes, SUM(saved_minutes) AS saved_minutes, \
                 SUM(robot_minutes) AS robot_minutes FROM daily_totals \
                 GROUP BY day, department, task;
                 DROP TABLE daily_totals;
                 ALTER TABLE old RENAME TO daily_totals;
                 UPDATE kuroko_schema SET version = 5;",
            )
            .unwrap();
        drop(store);
        let store = Sqlite::open(&path).unwrap();
        assert_eq!(store.group_totals(&all).unwrap(), sums);
        assert_eq!(store.machine_totals(&all).unwrap(), machines);
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn a_ledger_from_a_newer_kuroko_is_refused() {
        let path = temp_ledger("newer");
        drop(Sqlite::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.execute("UPDATE kuroko_schema SET version = 99", [])
            .unwrap();
        drop(conn);
        let e = Sqlite::open(&path).err().unwrap();
        assert!(e.0.contains("newer kuroko"), "{e}");
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn a_current_ledger_opens_and_reads_while_another_process_holds_the_write_lock() {
        let path = temp_ledger("no_write_lock");
        let mut first = Sqlite::open(&path).unwrap();
        first.begin_run(&start("r1", 1)).unwrap();
        drop(first);
        // Another writer (a run recording an item) holds the lock for the whole check. Had
        // `open` asked for the write lock, it would fail after the busy timeout instead.
        let mut writer = Connection::open(&path).unwrap();
        let held = writer
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .unwrap();
        let mut store = Sqlite::open(&path).unwrap();
        store.db.conn.busy_timeout(Duration::ZERO).unwrap();
        assert_eq!(store.db.version(), Some(SCHEMA_VERSION));
        assert!(store.done_keys("s").unwrap().is_empty());
        // Reading a run that is still `running` and alive takes no lock either.
        assert!(
            store
                .recover_interrupted("pc1", &|_| true)
                .unwrap()
                .is_empty()
        );
        held.rollback().unwrap();
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn a_file_that_is_not_a_ledger_is_refused_with_its_name() {
        let path = temp_ledger("garbage");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, b"this is not sqlite at all, just text ...........").unwrap();
        let e = Sqlite::open(&path).err().unwrap();
        assert!(
            e.0.contains("ledger.sqlite3") && e.0.contains("not a kuroko ledger"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }
}

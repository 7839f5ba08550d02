//! The SQLite ledger, the one-PC store: one file, WAL journal (readers never wait for the
//! writer), every write in a `BEGIN IMMEDIATE` transaction with a busy timeout (two kuroko
//! processes writing at once both succeed), `synchronous = FULL` (an item recorded survives a
//! power loss). Opening only reads the schema version and migrates (under the write lock) only
//! when the file is behind. The SQL is portable: `?` placeholders, no SQLite-only functions,
//! and the one upsert (`INSERT ... ON CONFLICT DO UPDATE`) is one PostgreSQL speaks too. One
//! file per user of the store: `runs` (the recorder), `reports`, `schedules`, `import`.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, Row, TransactionBehavior};

use super::*;

mod import;
mod reports;
mod runs;
mod schedules;
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
CREATE INDEX IF NOT EXISTS runs_started_at ON runs (started_at);
CREATE INDEX IF NOT EXISTS runs_scenario ON runs (scenario_id);
CREATE INDEX IF NOT EXISTS runs_state ON runs (state);
CREATE INDEX IF NOT EXISTS items_failure ON items (failure);
CREATE INDEX IF NOT EXISTS items_key ON items (item_key);
";

const RUN_COLUMNS: &str = "run_id, kind, scenario_id, scenario_name, script_hash, department, \
    task, machine, os_user, started_at, ended_at, state, runs, items_done, items_failed, \
    robot_minutes, manual_minutes_per_item, human_minutes_per_item, human_minutes_per_run, \
    attended, before_minutes, after_minutes, saved_minutes, message, location, run_dir";

pub struct SqliteStore {
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
        let mut store = SqliteStore { conn, path: label };
        // Most opens find the schema current and take no write lock (every launcher request and
        // scheduler tick opens the ledger); only a new or older file is migrated.
        match store.version() {
            Some(v) if v == SCHEMA_VERSION => {}
            Some(v) if v > SCHEMA_VERSION => return Err(too_new(&store.path, v)),
            _ => store.migrate()?,
        }
        Ok(store)
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
                tx.execute("UPDATE kuroko_schema SET version = ?1", [SCHEMA_VERSION])
                    .map_err(err(&path, "cannot write the schema version"))?;
            }
            Some(v) if v > SCHEMA_VERSION => return Err(too_new(&path, v)),
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

impl Location for SqliteStore {
    fn location(&self) -> String {
        self.path.clone()
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
    fn a_current_ledger_opens_and_reads_while_another_process_holds_the_write_lock() {
        let path = temp_ledger("no_write_lock");
        let mut first = SqliteStore::open(&path).unwrap();
        first.begin_run(&start("r1", 1)).unwrap();
        drop(first);
        // Another writer (a run recording an item) holds the lock for the whole check. Had
        // `open` asked for the write lock, it would fail after the busy timeout instead.
        let mut writer = Connection::open(&path).unwrap();
        let held = writer
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .unwrap();
        let mut store = SqliteStore::open(&path).unwrap();
        store.conn.busy_timeout(Duration::ZERO).unwrap();
        assert_eq!(store.version(), Some(SCHEMA_VERSION));
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
        let e = SqliteStore::open(&path).err().unwrap();
        assert!(
            e.0.contains("ledger.sqlite3") && e.0.contains("not a kuroko ledger"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }
}

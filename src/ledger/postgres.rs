//! The shared ledger of several robot PCs, in PostgreSQL (`--ledger postgres://user@host/db`):
//! the same tables and logic as SQLite (`sql/`), with its own schema version and migrations,
//! text compared byte by byte (`COLLATE "C"`, as SQLite does) so reports sort and filter the
//! same, and statements prepared once per connection. The password comes from the address,
//! else `$PGPASSWORD`; messages never show it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::error::Error;
use std::time::Duration;

use ::postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use ::postgres::{Client, GenericClient, NoTls, Statement};
use bytes::BytesMut;

use super::sql::{DAILY_FROM_RUNS, Db, Row, SCHEMA, SqlError, SqlResult, SqlStore, Tx, Value};
use super::*;

/// 1: runs, items, daily totals, imports, schedules, closure days (SQLite's schema 4).
/// 2: work queues and their attempts; runs heartbeat (`alive_until`; SQLite's 5).
/// 3: robot PCs (machines) and runs sent to them, per-day sums per machine; secrets
/// (ciphertexts) and the PCs registered to read them (SQLite's 6).
const SCHEMA_VERSION: i64 = 3;

/// Any number, the same in every kuroko: the advisory lock that lets one process migrate.
const MIGRATION_LOCK: i64 = 0x6b75_726f_6b6f;

pub type PostgresStore = SqlStore<Postgres>;

/// A connection to a PostgreSQL ledger.
pub struct Postgres {
    /// `None` only while it is being dropped.
    client: RefCell<Option<Client>>,
    /// Prepared statements by their SQL (as written, with `?N`).
    prepared: RefCell<HashMap<String, Statement>>,
    label: String,
}

/// Runs `f`, which blocks on the client's own runtime, where that is allowed: the launcher
/// opens the ledger from inside its async runtime (tokio refuses to block there), so such a
/// thread first tells its runtime to hand its work to other threads.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// The address without its password, for messages: built from what the client reads out of
/// it (user, hosts, ports, database), so no spelling of a password can slip through.
pub fn redact(url: &str) -> String {
    let Ok(config) = url.parse::<::postgres::Config>() else {
        return "postgres://(an address that does not parse)".into();
    };
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .zip(config.get_ports().iter().chain(std::iter::repeat(&5432)))
        .map(|(host, port)| match host {
            ::postgres::config::Host::Tcp(h) => format!("{h}:{port}"),
            #[cfg(unix)]
            ::postgres::config::Host::Unix(p) => p.display().to_string(),
        })
        .collect();
    let user = config
        .get_user()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    let password = if config.get_password().is_some() {
        ":***"
    } else {
        ""
    };
    let user = match (user.strip_suffix('@'), password) {
        (Some(u), ":***") => format!("{u}:***@"),
        _ => user,
    };
    format!(
        "postgres://{user}{}/{}",
        hosts.join(","),
        config.get_dbname().unwrap_or("")
    )
}

/// `?1` → `$1`: PostgreSQL's placeholders (the ledger's SQL has no `?` inside its literals).
fn placeholders(sql: &str) -> String {
    sql.replace('?', "$")
}

fn pg_err(e: ::postgres::Error) -> SqlError {
    // The server's own message (with its detail) says more than the client's summary.
    match e.as_db_error() {
        Some(db) => SqlError(match db.detail() {
            Some(detail) => format!("{} ({detail})", db.message()),
            None => db.message().to_string(),
        }),
        None => SqlError(e.to_string()),
    }
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(v) => match *ty {
                Type::INT8 => v.to_sql(ty, out),
                Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
                Type::FLOAT8 => (*v as f64).to_sql(ty, out),
                Type::FLOAT4 => (*v as f32).to_sql(ty, out),
                _ => v.to_string().to_sql(ty, out),
            },
            Value::Real(v) => match *ty {
                Type::FLOAT4 => (*v as f32).to_sql(ty, out),
                Type::FLOAT8 => v.to_sql(ty, out),
                _ => Err(format!("a number where the database expects {ty}").into()),
            },
            Value::Text(s) => s.as_str().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// A row's columns as plain values.
fn row_values(row: &::postgres::Row) -> SqlResult<Row> {
    let mut values = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let get_err = |e: ::postgres::Error| SqlError(format!("column {}: {e}", column.name()));
        let value = match *column.type_() {
            Type::INT8 => row.try_get::<_, Option<i64>>(i).map_err(get_err)?.into(),
            Type::INT4 => row
                .try_get::<_, Option<i32>>(i)
                .map_err(get_err)?
                .map(i64::from)
                .into(),
            Type::INT2 => row
                .try_get::<_, Option<i16>>(i)
                .map_err(get_err)?
                .map(i64::from)
                .into(),
            Type::FLOAT8 => row.try_get::<_, Option<f64>>(i).map_err(get_err)?.into(),
            Type::FLOAT4 => row
                .try_get::<_, Option<f32>>(i)
                .map_err(get_err)?
                .map(f64::from)
                .into(),
            Type::BOOL => row
                .try_get::<_, Option<bool>>(i)
                .map_err(get_err)?
                .map(i64::from)
                .into(),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => {
                row.try_get::<_, Option<String>>(i).map_err(get_err)?.into()
            }
            ref other => {
                return Err(SqlError(format!(
                    "column {} has a type the ledger does not use ({other})",
                    column.name()
                )));
            }
        };
        values.push(value);
    }
    Ok(Row(values))
}

/// Statements on the connection or inside its transaction.
struct PgTx<'a, C: GenericClient> {
    client: &'a mut C,
    prepared: &'a RefCell<HashMap<String, Statement>>,
}

impl<C: GenericClient> PgTx<'_, C> {
    fn statement(&mut self, sql: &str) -> SqlResult<Statement> {
        if let Some(statement) = self.prepared.borrow().get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(&placeholders(sql)).map_err(pg_err)?;
        self.prepared
            .borrow_mut()
            .insert(sql.to_string(), statement.clone());
        Ok(statement)
    }
}

impl<C: GenericClient> Tx for PgTx<'_, C> {
    fn execute(&mut self, sql: &str, params: &[Value]) -> SqlResult<u64> {
        let statement = self.statement(sql)?;
        let params: Vec<&(dyn ToSql + Sync)> =
            params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        self.client.execute(&statement, &params).map_err(pg_err)
    }

    fn query_each(
        &mut self,
        sql: &str,
        params: &[Value],
        each: &mut dyn FnMut(Row) -> SqlResult<()>,
    ) -> SqlResult<()> {
        use ::postgres::fallible_iterator::FallibleIterator;
        let statement = self.statement(sql)?;
        let mut rows = self
            .client
            .query_raw(&statement, params.iter())
            .map_err(pg_err)?;
        while let Some(row) = rows.next().map_err(pg_err)? {
            each(row_values(&row)?)?;
        }
        Ok(())
    }
}

impl Db for Postgres {
    const CLOCK: &'static str = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS DOUBLE PRECISION)";
    const SKIP_LOCKED: &'static str = " FOR UPDATE SKIP LOCKED";

    fn label(&self) -> String {
        self.label.clone()
    }

    fn write<T>(&mut self, body: impl FnOnce(&mut dyn Tx) -> SqlResult<T>) -> SqlResult<T> {
        blocking(|| {
            let mut client = self.client.borrow_mut();
            let client = client.as_mut().ok_or_else(closed)?;
            let mut tx = client.transaction().map_err(pg_err)?;
            let value = body(&mut PgTx {
                client: &mut tx,
                prepared: &self.prepared,
            })?;
            tx.commit().map_err(pg_err)?;
            Ok(value)
        })
    }

    fn read<T>(&self, body: impl FnOnce(&mut dyn Tx) -> SqlResult<T>) -> SqlResult<T> {
        blocking(|| {
            let mut client = self.client.borrow_mut();
            body(&mut PgTx {
                client: client.as_mut().ok_or_else(closed)?,
                prepared: &self.prepared,
            })
        })
    }
}

fn closed() -> SqlError {
    SqlError("the connection is closed".into())
}

/// Closing the connection blocks too (it tells the server goodbye).
impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(client) = self.client.get_mut().take() {
            blocking(|| drop(client));
        }
    }
}

/// The tables in PostgreSQL: the shared schema with text compared byte by byte.
fn schema() -> String {
    SCHEMA
        .replace(" TEXT PRIMARY KEY", " TEXT COLLATE \"C\" PRIMARY KEY")
        .replace(" TEXT NOT NULL", " TEXT COLLATE \"C\" NOT NULL")
        .replace(" TEXT,\n", " TEXT COLLATE \"C\",\n")
        .replace(" TEXT\n", " TEXT COLLATE \"C\"\n")
}

impl Postgres {
    /// Connects to the ledger at `url` and creates or updates its tables.
    pub fn open(url: &str) -> LResult<PostgresStore> {
        let label = redact(url);
        let fail = |what: &str| {
            let label = label.clone();
            let what = what.to_string();
            move |e: ::postgres::Error| {
                LedgerError(format!("ledger {label}: {what}: {}", pg_err(e)))
            }
        };
        let mut config: ::postgres::Config = url.parse().map_err(|e| {
            LedgerError(format!(
                "ledger {label}: not a PostgreSQL address ({e}); write postgres://user@host:port/database"
            ))
        })?;
        if config.get_password().is_none()
            && let Some(password) = std::env::var_os("PGPASSWORD")
        {
            config.password(password.into_encoded_bytes());
        }
        if config.get_user().is_none() {
            config.user(&process::os_user());
        }
        // A kuroko frozen inside a transaction (its PC asleep, its network gone) must not hold
        // its locks for ever: the server ends such a session after 30 s.
        config
            .application_name("kuroko")
            .options("-c idle_in_transaction_session_timeout=30000")
            .connect_timeout(Duration::from_secs(10));
        let client = blocking(|| config.connect(NoTls)).map_err(|e| {
            // What to do next depends on what the server said.
            let hint = match e.code().map(|c| c.code()) {
                // invalid_password, invalid_authorization_specification
                Some("28P01") | Some("28000") => {
                    "cannot log in (check the user, and the password in the address or $PGPASSWORD)"
                }
                // invalid_catalog_name
                Some("3D000") => {
                    "the database is not there (ask the administrator to create it: createdb)"
                }
                _ => "cannot connect (is the server running, and the address right?)",
            };
            fail(hint)(e)
        })?;
        let mut db = Postgres {
            client: RefCell::new(Some(client)),
            prepared: RefCell::default(),
            label,
        };
        match db.version() {
            Some(v) if v == SCHEMA_VERSION => {}
            Some(v) if v > SCHEMA_VERSION => {
                return Err(LedgerError(format!(
                    "ledger {} was written by a newer kuroko (schema {v}, this one knows {SCHEMA_VERSION}); update kuroko",
                    db.label
                )));
            }
            _ => db.migrate()?,
        }
        Ok(SqlStore::new(db))
    }

    /// The schema version, `None` before the tables exist.
    fn version(&self) -> Option<i64> {
        self.read(|tx| tx.query_one("SELECT MAX(version) FROM kuroko_schema", &[]))
            .ok()
            .and_then(|row| row.opt_int(0).ok().flatten())
    }

    /// Creates the tables or brings them up to `SCHEMA_VERSION`; one process at a time (the
    /// advisory lock), and the version is read again under it.
    fn migrate(&mut self) -> LResult<()> {
        let label = self.label.clone();
        self.write(|tx| {
            tx.execute(
                "SELECT pg_advisory_xact_lock(?1)",
                &[Value::Int(MIGRATION_LOCK)],
            )?;
            // Another kuroko may have migrated while this one waited for the lock: then leave
            // the tables alone (`CREATE INDEX IF NOT EXISTS` still locks its table, and would
            // deadlock with that kuroko's first writes).
            let exists = tx
                .query_one(
                    "SELECT COUNT(*) FROM information_schema.tables \
                     WHERE table_schema = current_schema() AND table_name = 'kuroko_schema'",
                    &[],
                )?
                .int(0)?
                > 0;
            if exists {
                let version = tx
                    .query_one("SELECT MAX(version) FROM kuroko_schema", &[])?
                    .opt_int(0)?;
                match version {
                    Some(v) if v == SCHEMA_VERSION => return Ok(()),
                    Some(v) if v > SCHEMA_VERSION => {
                        return Err(SqlError(format!(
                            "it was written by a newer kuroko (schema {v}, this one knows \
                             {SCHEMA_VERSION}); update kuroko"
                        )));
                    }
                    _ => {}
                }
            }
            for statement in schema().split(';').filter(|s| !s.trim().is_empty()) {
                tx.execute(statement, &[])?;
            }
            let version = tx
                .query_one("SELECT MAX(version) FROM kuroko_schema", &[])?
                .opt_int(0)?;
            match version {
                None => {
                    tx.execute(
                        "INSERT INTO kuroko_schema (version) VALUES (?1)",
                        &[Value::Int(SCHEMA_VERSION)],
                    )?;
                }
                Some(v) if v < SCHEMA_VERSION => {
                    // Each step brings the ledger one version up; new tables come from the
                    // schema above.
                    if v < 2 {
                        tx.execute(
                            "ALTER TABLE runs ADD COLUMN IF NOT EXISTS alive_until DOUBLE PRECISION",
                            &[],
                        )?;
                    }
                    // The per-day sums gained the machine (its primary key with it): rebuilt
                    // from the runs.
                    let has_machine = tx
                        .query_one(
                            "SELECT COUNT(*) FROM information_schema.columns \
                             WHERE table_schema = current_schema() \
                             AND table_name = 'daily_totals' AND column_name = 'machine'",
                            &[],
                        )?
                        .int(0)?
                        > 0;
                    if !has_machine {
                        tx.execute("DROP TABLE daily_totals", &[])?;
                        for statement in schema().split(';').filter(|s| !s.trim().is_empty()) {
                            tx.execute(statement, &[])?;
                        }
                        tx.execute(DAILY_FROM_RUNS, &[])?;
                    }
                    tx.execute(
                        "UPDATE kuroko_schema SET version = ?1",
                        &[Value::Int(SCHEMA_VERSION)],
                    )?;
                }
                Some(_) => {}
            }
            Ok(())
        })
        .map_err(|e| {
            LedgerError(format!(
                "ledger {label}: cannot create or update the tables: {e}"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_left_out_of_messages() {
        assert_eq!(
            redact("postgres://kuroko:s3cret@db.example:5432/ledger?sslmode=disable"),
            "postgres://kuroko:***@db.example:5432/ledger"
        );
        assert_eq!(
            redact("postgres://kuroko@db/ledger"),
            "postgres://kuroko@db:5432/ledger"
        );
        assert_eq!(redact("postgresql://a:b@h"), "postgres://a:***@h:5432/");
        // A password with a slash, and one given as a parameter.
        let shown = redact("postgres://kuroko:pa/ss@db/ledger");
        assert!(!shown.contains("pa/ss") && shown.contains("***"), "{shown}");
        let shown = redact("postgres://kuroko@db/ledger?password=s3cret");
        assert!(
            !shown.contains("s3cret") && shown.contains("***"),
            "{shown}"
        );
        assert!(!redact("postgres://x:y@[bad").contains('y'));
    }

    #[test]
    fn the_schema_compares_text_byte_by_byte() {
        let schema = schema();
        assert!(schema.contains("run_id TEXT COLLATE \"C\" PRIMARY KEY"));
        assert!(schema.contains("ended_at TEXT COLLATE \"C\",\n"));
        assert!(schema.contains("run_dir TEXT COLLATE \"C\",\n"));
        assert!(!schema.contains(" TEXT,") && !schema.contains(" TEXT\n"));
    }
}

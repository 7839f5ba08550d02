//! A real PostgreSQL for the tests, and ledgers in either store: Debian's `postgresql`
//! started once per test process on a private port in a temporary folder (as `nobody` when the
//! tests run as root, since `initdb` refuses root), one fresh database per test, stopped when
//! the tests end. `both_stores!` turns one test body into a SQLite and a PostgreSQL test.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Which store a test's ledger is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    Sqlite,
    Postgres,
}

/// One test's ledger: a file in its folder, or its own database on the test server.
#[derive(Debug, Clone)]
pub struct TestLedger {
    pub store: Store,
    address: OsString,
}

impl TestLedger {
    /// An empty ledger for the test whose folder is `dir`.
    pub fn new(store: Store, dir: &Path) -> TestLedger {
        let address = match store {
            Store::Sqlite => dir.join("ledger.sqlite3").into_os_string(),
            Store::Postgres => server().database().into(),
        };
        TestLedger { store, address }
    }

    /// What `--ledger` and `$KUROKO_LEDGER` take.
    pub fn arg(&self) -> &OsString {
        &self.address
    }

    /// The address as kuroko's library takes it.
    pub fn address(&self) -> kuroko::ledger::Address {
        kuroko::ledger::Address::parse(self.address.clone())
    }

    /// Runs SQL on the ledger directly (to set up what a test needs, e.g. an old time).
    pub fn execute(&self, sql: &str) {
        match self.store {
            Store::Sqlite => {
                rusqlite::Connection::open(&self.address)
                    .unwrap()
                    .execute_batch(sql)
                    .unwrap();
            }
            Store::Postgres => server()
                .client(self.address.to_str().unwrap())
                .batch_execute(sql)
                .unwrap(),
        }
    }

    /// Whether no process holds a write in progress (so a frozen process holds no lock).
    pub fn nobody_mid_write(&self) -> bool {
        match self.store {
            Store::Sqlite => {
                let mut db = rusqlite::Connection::open(&self.address).unwrap();
                db.busy_timeout(std::time::Duration::ZERO).unwrap();
                db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    .is_ok()
            }
            Store::Postgres => {
                let address = self.address.to_str().unwrap();
                let database = address.rsplit('/').next().unwrap();
                let busy: i64 = server()
                    .client(address)
                    .query_one(
                        "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = $1 \
                         AND state LIKE 'idle in transaction%'",
                        &[&database],
                    )
                    .unwrap()
                    .get(0);
                busy == 0
            }
        }
    }

    /// Whether anything was recorded yet (a database always exists).
    pub fn exists(&self) -> bool {
        match self.store {
            Store::Sqlite => Path::new(&self.address).exists(),
            Store::Postgres => true,
        }
    }
}

/// Two tests from one body `fn name(store: Store)`: `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn sqlite() {
                super::$name($crate::support::postgres::Store::Sqlite)
            }
            #[test]
            fn postgres() {
                super::$name($crate::support::postgres::Store::Postgres)
            }
        }
    )*};
}

/// The test server.
pub struct Server {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    /// The `kuroko` role's password, when the server asks for one (else it trusts).
    password: Option<String>,
    process: Mutex<Option<Child>>,
    databases: AtomicU32,
}

static SERVER: OnceLock<Server> = OnceLock::new();

/// The server, started by the first test that needs it.
pub fn server() -> &'static Server {
    SERVER.get_or_init(Server::start)
}

/// Debian's PostgreSQL programs: the newest `/usr/lib/postgresql/N/bin`.
fn bin_dir() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is not installed: run scripts/setup.sh (Debian's postgresql package)")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, bin)| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("no /usr/lib/postgresql/N/bin/initdb: run scripts/setup.sh")
        .1
}

extern "C" fn stop_server() {
    if let Some(server) = SERVER.get() {
        server.stop();
    }
}

impl Server {
    fn start() -> Server {
        let server = Server::private(&format!("kuroko-test-pg-{}", std::process::id()), None);
        unsafe { libc::atexit(stop_server) };
        server
    }

    /// A server of the test's own (stopped when dropped), in a temporary folder named `name`;
    /// with `password`, the `kuroko` role needs it (scram-sha-256), else the server trusts.
    pub fn private(name: &str, password: Option<&str>) -> Server {
        let bin = bin_dir();
        let dir = std::env::temp_dir().join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        if unsafe { libc::geteuid() } == 0 {
            let status = Command::new("chown")
                .args(["nobody:nogroup"])
                .arg(&dir)
                .status()
                .unwrap();
            assert!(status.success(), "chown of {}", dir.display());
        }
        let mut initdb = super::as_nobody_when_root(bin.join("initdb"));
        initdb.args(["-U", "kuroko", "-E", "UTF8", "--locale=C"]);
        match password {
            None => {
                initdb.arg("--auth=trust");
            }
            Some(p) => {
                let file = dir.join("password");
                std::fs::write(&file, p).unwrap();
                if unsafe { libc::geteuid() } == 0 {
                    Command::new("chown")
                        .args(["nobody:nogroup"])
                        .arg(&file)
                        .status()
                        .unwrap();
                }
                initdb
                    .arg("--auth=scram-sha-256")
                    .arg("--pwfile")
                    .arg(&file);
            }
        }
        let data = dir.join("data");
        let out = initdb.arg("-D").arg(&data).output().unwrap();
        assert!(
            out.status.success(),
            "initdb failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let server = Server {
            dir,
            bin,
            port: free_port(),
            password: password.map(str::to_string),
            process: Mutex::new(None),
            databases: AtomicU32::new(0),
        };
        server.resume();
        server
    }

    /// Starts the server (again, after `halt`) and waits until it answers.
    pub fn resume(&self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("server.log"))
            .unwrap();
        // Durability is PostgreSQL's own business and not what these tests look at.
        let child = super::as_nobody_when_root(self.bin.join("postgres"))
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-p", &self.port.to_string(), "-k"])
            .arg(&self.dir)
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "max_connections=300",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        *self.process.lock().unwrap() = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match self.admin() {
                Ok(_) => break,
                Err(e) if Instant::now() > deadline => panic!(
                    "the test PostgreSQL did not start: {e}\n{}",
                    std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
                ),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// Stops the server as an administrator would (fast shutdown: connections are closed,
    /// what was committed stays), keeping its data for `resume`.
    pub fn halt(&self) {
        if let Some(mut child) = self.process.lock().unwrap().take() {
            unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
            let _ = child.wait();
        }
    }

    fn admin(&self) -> Result<postgres::Client, postgres::Error> {
        let mut config = format!(
            "host=127.0.0.1 port={} user=kuroko dbname=postgres",
            self.port
        );
        if let Some(p) = &self.password {
            config.push_str(&format!(" password={p}"));
        }
        postgres::Client::connect(&config, postgres::NoTls)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A new, empty database; its address.
    pub fn database(&self) -> String {
        let name = format!(
            "t{}_{}",
            std::process::id(),
            self.databases.fetch_add(1, Ordering::SeqCst)
        );
        self.admin()
            .unwrap()
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        format!("postgres://kuroko@127.0.0.1:{}/{name}", self.port)
    }

    /// SQL straight on a test's database, for looking at what kuroko wrote.
    pub fn client(&self, address: &str) -> postgres::Client {
        postgres::Client::connect(address, postgres::NoTls).unwrap()
    }

    pub fn stop(&self) {
        if let Some(mut child) = self.process.lock().unwrap().take() {
            // SIGQUIT: immediate shutdown (nothing here needs to survive).
            unsafe { libc::kill(child.id() as i32, libc::SIGQUIT) };
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

//! A shared ledger that is wrong or goes away: a bad address, a wrong password and a missing
//! database each get a clear message and the environment exit code, with nothing written; a
//! PostgreSQL stopped while a run works through a queue stops the run before its next item
//! with a clear error, and after a restart nothing is recorded twice.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::postgres::Server;
use crate::support::*;

const ENVIRONMENT: i32 = 4;

fn ledger_list(address: &str) -> Ran {
    Ran::from(
        kuroko()
            .args(["ledger", "list", "--ledger", address])
            .env_remove("PGPASSWORD")
            .output()
            .unwrap(),
    )
}

#[test]
fn a_bad_address_a_wrong_password_and_a_missing_database_are_clear_errors() {
    let server = Server::private(
        &format!("kuroko-test-pg-password-{}", std::process::id()),
        Some("正しい-secret-7"),
    );
    let port = server.port();

    let secret = "wrong-Passw0rd-42";
    let wrong = ledger_list(&format!(
        "postgres://kuroko:{secret}@127.0.0.1:{port}/postgres"
    ));
    eprintln!("wrong password: {}", wrong.stderr);
    wrong.expect(ENVIRONMENT);
    assert!(
        wrong.stderr.contains("cannot log in")
            && wrong.stderr.contains("password authentication failed"),
        "{}",
        wrong.stderr
    );
    assert!(!wrong.stderr.contains(secret), "{}", wrong.stderr);
    assert!(wrong.stderr.contains("kuroko:***@"), "{}", wrong.stderr);

    // The password can come from $PGPASSWORD instead of the address.
    let right = Ran::from(
        kuroko()
            .args(["ledger", "list", "--ledger"])
            .arg(format!("postgres://kuroko@127.0.0.1:{port}/postgres"))
            .env("PGPASSWORD", "正しい-secret-7")
            .output()
            .unwrap(),
    );
    right.expect(0);

    let missing = ledger_list(&format!(
        "postgres://kuroko:正しい-secret-7@127.0.0.1:{port}/no_such_ledger"
    ));
    eprintln!("missing database: {}", missing.stderr);
    missing.expect(ENVIRONMENT);
    assert!(
        missing.stderr.contains("the database is not there")
            && missing.stderr.contains("\"no_such_ledger\" does not exist"),
        "{}",
        missing.stderr
    );
    assert!(
        !missing.stderr.contains("正しい-secret-7"),
        "{}",
        missing.stderr
    );

    for bad in [
        "postgres://kuroko@127.0.0.1:notaport/db",
        "postgres://kuroko@127.0.0.1:99999/db",
    ] {
        let r = ledger_list(bad);
        eprintln!("{bad}: {}", r.stderr);
        assert!(
            r.code == ENVIRONMENT || r.code == 2,
            "{bad}: exit {}\n{}",
            r.code,
            r.stderr
        );
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
        assert!(r.stderr.contains("ledger"), "{bad}: {}", r.stderr);
    }

    // Nobody listening: refused at once, said so.
    // (Port 1, tcpmux, is not served here.)
    let r = ledger_list("postgres://kuroko@127.0.0.1:1/db");
    r.expect(ENVIRONMENT);
    assert!(r.stderr.to_lowercase().contains("connect"), "{}", r.stderr);

    // A run on a ledger it cannot reach records nothing and says why before it starts.
    let dir = temp_dir("outage_bad_run");
    let s = scenario(&dir, "s", MANIFEST, "log::info(\"never\");\n");
    let r = Ran::from(
        kuroko()
            .arg("run")
            .arg(&s)
            .arg("--runs-dir")
            .arg(dir.join("runs"))
            .arg("--ledger")
            .arg(format!(
                "postgres://kuroko:{secret}@127.0.0.1:{port}/postgres"
            ))
            .output()
            .unwrap(),
    );
    r.expect(ENVIRONMENT);
    assert!(!r.stderr.contains(secret), "{}", r.stderr);
    assert!(!r.stdout.contains("never"), "{}", r.stdout);
}

/// `SELECT ... ` as text rows, for looking at what kuroko wrote.
fn rows(db: &mut ::postgres::Client, sql: &str) -> Vec<Vec<String>> {
    db.simple_query(sql)
        .unwrap()
        .into_iter()
        .filter_map(|m| match m {
            ::postgres::SimpleQueryMessage::Row(r) => Some(
                (0..r.len())
                    .map(|i| r.get(i).unwrap_or("").to_string())
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

#[test]
fn postgresql_stopped_mid_run_stops_the_run_before_its_next_item_and_nothing_is_done_twice() {
    let server = Server::private(
        &format!("kuroko-test-pg-outage-{}", std::process::id()),
        None,
    );
    let address = server.database();
    let dir = temp_dir("outage_mid_run");
    let mut csv = String::from("受付番号,氏名\n");
    for i in 1..=20 {
        csv.push_str(&format!("R6-{i:05},髙橋 花子{i}\n"));
    }
    std::fs::write(dir.join("items.csv"), csv).unwrap();
    Ran::from(
        kuroko()
            .args(["queue", "add", "転入届"])
            .arg(dir.join("items.csv"))
            .args(["--key", "受付番号", "--ledger", &address])
            .output()
            .unwrap(),
    )
    .expect(0);
    let manifest = MANIFEST.to_string() + "\n[queue]\nname = \"転入届\"\n";
    let s = scenario(
        &dir,
        "s",
        &manifest,
        "loop {\n    let item = queue::next();\n    if item == () { break; }\n    \
         log::info(`entering ${item.key}`);\n    \
         sleep(if item.key == \"R6-00004\" { 5000 } else { 200 });\n    queue::done(item);\n}\n",
    );
    let run = |runs: &str| {
        kuroko()
            .arg("run")
            .arg(&s)
            .arg("--runs-dir")
            .arg(dir.join(runs))
            .arg("--ledger")
            .arg(&address)
            .env("KUROKO_HEARTBEAT_LIMIT_S", "4")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.join(format!("{runs}.err"))).unwrap())
            .spawn()
            .unwrap()
    };
    // What a run printed: its standard output, then its errors.
    let printed = |runs: &str, stdout: String| {
        stdout
            + std::fs::read_to_string(dir.join(format!("{runs}.err")))
                .unwrap_or_default()
                .as_str()
    };
    let first = run("runs-1");
    // Let it do a few items, then stop the database under it.
    let mut db = server.client(&address);
    let deadline = Instant::now() + Duration::from_secs(60);
    // Three done and the fourth in hand (it takes 5 s; the others 0.2 s).
    let count = |db: &mut ::postgres::Client, state: &str| -> u32 {
        rows(
            db,
            &format!("SELECT COUNT(*) FROM queue_items WHERE state = '{state}'"),
        )[0][0]
            .parse()
            .unwrap()
    };
    let in_hand = |db: &mut ::postgres::Client| {
        rows(
            db,
            "SELECT item_key FROM queue_items WHERE state = 'in_progress'",
        )
    };
    while count(&mut db, "done") < 3 || in_hand(&mut db) != [["R6-00004".to_string()]] {
        assert!(Instant::now() < deadline, "the run did no items");
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(db);
    server.halt();
    let stopped_at = Instant::now();
    let (code, out) = finish(first, Duration::from_secs(60));
    let out = printed("runs-1", out);
    let took = stopped_at.elapsed();
    eprintln!("database stopped after {took:?}:\n{out}");
    let code = code.expect("the run was killed");
    assert_ne!(code, 0, "{out}");
    assert!(!out.contains("panicked"), "{out}");
    assert!(
        out.contains("ledger postgres://kuroko@127.0.0.1"),
        "the error names the ledger: {out}"
    );
    assert!(
        took < Duration::from_secs(30),
        "took {took:?} to stop: {out}"
    );

    // After a restart (and the dead run's heartbeat limit), a second run takes the rest.
    server.resume();
    std::thread::sleep(Duration::from_secs(5));
    let (code, out2) = finish(run("runs-2"), Duration::from_secs(120));
    let out2 = printed("runs-2", out2);
    assert_eq!(code, Some(0), "{out2}");
    let mut db = server.client(&address);
    // Every item done at most once, by at most one attempt; the one in hand when the database
    // stopped is set aside for a person, never entered again.
    let twice = rows(
        &mut db,
        "SELECT item_key, COUNT(*) FROM queue_attempts WHERE outcome = 'done' \
         GROUP BY item_key HAVING COUNT(*) > 1",
    );
    assert!(twice.is_empty(), "done twice: {twice:?}");
    let states = rows(
        &mut db,
        "SELECT state, COUNT(*) FROM queue_items GROUP BY state ORDER BY state",
    );
    let count = |state: &str| {
        states
            .iter()
            .find(|r| r[0] == state)
            .map_or(0, |r| r[1].parse::<u32>().unwrap())
    };
    assert_eq!(count("done") + count("abandoned"), 20, "{states:?}");
    // The item in hand when the database stopped: never ended, so set aside for a person.
    assert_eq!(count("abandoned"), 1, "{states:?}");
    assert_eq!(count("new") + count("in_progress"), 0, "{states:?}");
    // No key entered twice across both runs: each of the 20 once.
    let mut entered: Vec<&str> = out
        .lines()
        .chain(out2.lines())
        .filter_map(|l| l.split("entering ").nth(1))
        .collect();
    entered.sort();
    let all = entered.len();
    entered.dedup();
    assert_eq!((all, entered.len()), (20, 20), "{out}\n{out2}");
    // The ledger's items: each key recorded once.
    let recorded_twice = rows(
        &mut db,
        "SELECT item_key, COUNT(*) FROM items WHERE state = 'done' GROUP BY item_key \
         HAVING COUNT(*) > 1",
    );
    assert!(recorded_twice.is_empty(), "{recorded_twice:?}");
    let first_run = rows(
        &mut db,
        "SELECT state FROM runs ORDER BY started_at LIMIT 1",
    );
    assert_eq!(first_run[0][0], "interrupted", "{first_run:?}");
}

//! Credentials (`kuroko secret`, `secret::get`): a value is set from standard input (never the
//! command line), listed by name only, read by a run on a PC it was set for, and hidden as `***`
//! in everything the run writes. The proof: a scenario run through the launcher types a secret
//! into a real zenity entry on Xvfb and fills it into a page in Debian's Chromium; the entry and
//! the page got it exactly, and no file under the test's folder, no row of the ledger and no
//! answer of the launcher holds it. On a fleet (PostgreSQL), a secret is readable by every
//! robot registered when it was set, and a robot registered later is told to set it again.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::http::Served;
use crate::support::postgres::{Store, TestLedger, server};
use crate::support::*;

/// A value no file holds by chance: ASCII, Japanese, a quote (escaped in JSON and in `{:?}`).
const VALUE: &str = "深谷Zq7!秘密-x31\"ab";
/// Parts of it that must not show either (long enough not to occur by chance in a picture).
const PARTS: [&str; 2] = ["Zq7!秘密", "秘密-x31"];
const NAME: &str = "住基.password";

crate::both_stores!(
    a_ledger_from_before_secrets_is_updated_and_keeps_what_it_had,
    a_secret_is_set_from_stdin_listed_without_its_value_and_read_by_a_run,
    a_secret_typed_and_filled_through_the_launcher_leaves_no_trace,
);

/// `kuroko secret <args>` on `ledger` as the PC `pc` (its own key file in `dir`).
fn secret(dir: &Path, ledger: &TestLedger, pc: &str, args: &[&str]) -> Command {
    let mut cmd = kuroko();
    cmd.arg("secret")
        .args(args)
        .arg("--ledger")
        .arg(ledger.arg())
        .env("KUROKO_IDENTITY", key_file(dir, pc))
        .env("KUROKO_MACHINE", pc);
    cmd
}

fn key_file(dir: &Path, pc: &str) -> PathBuf {
    dir.join("keys").join(format!("{pc}.txt"))
}

/// `kuroko secret set <name>` with `input` on standard input.
fn set(dir: &Path, ledger: &TestLedger, pc: &str, name: &str, input: &str) -> Ran {
    let mut child = secret(dir, ledger, pc, &["set", name])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    Ran::from(child.wait_with_output().unwrap())
}

fn secret_ran(dir: &Path, ledger: &TestLedger, pc: &str, args: &[&str]) -> Ran {
    Ran::from(
        secret(dir, ledger, pc, args)
            .stdin(Stdio::null())
            .output()
            .unwrap(),
    )
}

/// `kuroko run <scenario>` as the PC `pc`.
fn run_as(dir: &Path, ledger: &TestLedger, pc: &str, scenario: &Path, extra: &[&str]) -> Ran {
    Ran::from(
        kuroko()
            .arg("run")
            .arg(scenario)
            .arg("--runs-dir")
            .arg(dir.join("runs"))
            .arg("--ledger")
            .arg(ledger.arg())
            .args(extra)
            .env("KUROKO_IDENTITY", key_file(dir, pc))
            .env("KUROKO_MACHINE", pc)
            .output()
            .unwrap(),
    )
}

/// A data-only scenario that reads the secret and fails unless it is exactly `VALUE` (the
/// script holds the expected value; the scenario folder is not searched in these tests).
fn reader(dir: &Path, id: &str) -> PathBuf {
    scenario(
        dir,
        id,
        &MANIFEST.replace("\"test\"", &format!("\"{id}\"")),
        &format!(
            "let v = secret::get({NAME:?});\nif v != {VALUE:?} {{ fail(\"not the value set\"); }}\n\
             log::info(\"read \" + v);\ntask::item_done(\"item-\" + v);\n"
        ),
    )
}

/// Every file under `root` (but `skip`) that holds the value or a part of it.
fn files_with_the_value(root: &Path, skip: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.starts_with(skip) {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path)
                && let Some(what) = leak(&bytes)
            {
                found.push(format!("{} holds {what:?}", path.display()));
            }
        }
    }
    found
}

/// The value (as is, or escaped as JSON) or a part of it, when `bytes` hold one.
fn leak(bytes: &[u8]) -> Option<String> {
    let json = serde_json::to_string(VALUE).unwrap();
    let escaped = &json[1..json.len() - 1];
    [VALUE, escaped]
        .into_iter()
        .chain(PARTS)
        .find(|n| bytes.windows(n.len()).any(|w| w == n.as_bytes()))
        .map(String::from)
}

/// Every row of every table of the ledger, as text (the SQLite file is searched as bytes too).
fn ledger_dump(ledger: &TestLedger) -> String {
    match ledger.store {
        Store::Sqlite => {
            let db = rusqlite::Connection::open(ledger.arg()).unwrap();
            let tables: Vec<String> = db
                .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let mut out = String::new();
            for t in tables {
                let mut stmt = db.prepare(&format!("SELECT * FROM {t}")).unwrap();
                let n = stmt.column_count();
                let mut rows = stmt.query([]).unwrap();
                while let Some(row) = rows.next().unwrap() {
                    for i in 0..n {
                        let v: rusqlite::types::Value = row.get(i).unwrap();
                        out.push_str(&format!("{t}: {v:?}\n"));
                    }
                }
            }
            out
        }
        Store::Postgres => {
            let mut db = server().client(ledger.arg().to_str().unwrap());
            let tables: Vec<String> = db
                .query(
                    "SELECT table_name::text FROM information_schema.tables \
                     WHERE table_schema = current_schema()",
                    &[],
                )
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
            let mut out = String::new();
            for t in tables {
                for row in db
                    .query(&format!("SELECT row_to_json(x)::text FROM {t} x"), &[])
                    .unwrap()
                {
                    let line: String = row.get(0);
                    out.push_str(&format!("{t}: {line}\n"));
                }
            }
            out
        }
    }
}

fn assert_no_leak(what: &str, text: &str) {
    assert_eq!(
        leak(text.as_bytes()),
        None,
        "{what} holds the value:\n{text}"
    );
}

fn a_secret_is_set_from_stdin_listed_without_its_value_and_read_by_a_run(store: Store) {
    let dir = temp_dir(&format!("secrets_set_{store:?}"));
    let ledger = TestLedger::new(store, &dir);
    let scenarios = dir.join("scenarios");

    match store {
        // A shared ledger: nobody can read a secret until a PC is registered.
        Store::Postgres => {
            set(&dir, &ledger, "pc-1", NAME, &format!("{VALUE}\n"))
                .expect(1)
                .stderr_has("no PC is registered to read secrets");
            assert!(!ledger_dump(&ledger).contains("secrets: "));
            secret_ran(&dir, &ledger, "pc-1", &["register"])
                .expect(0)
                .stdout_has("pc-1 is registered to read secrets");
            set(&dir, &ledger, "pc-1", NAME, &format!("{VALUE}\n"))
                .expect(0)
                .stdout_has("readable by 1 PC(s): pc-1");
        }
        // One PC: setting a secret makes this PC's key and registers it.
        Store::Sqlite => {
            set(&dir, &ledger, "pc-1", NAME, &format!("{VALUE}\r\n"))
                .expect(0)
                .stderr_has("pc-1 is registered to read secrets")
                .stdout_has("readable by 1 PC(s): pc-1");
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(key_file(&dir, "pc-1"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the key file is {mode:o}");
    }

    // The command line has no place for a value: a second word is refused, nothing changes.
    let before = ledger_dump(&ledger);
    let ran = secret_ran(&dir, &ledger, "pc-1", &["set", NAME, "other-value"]);
    ran.expect(2).stderr_has("unexpected argument");
    secret_ran(
        &dir,
        &ledger,
        "pc-1",
        &["set", NAME, "--value", "other-value"],
    )
    .expect(2);
    // Empty, and a bad name: refused with the reason, nothing set.
    set(&dir, &ledger, "pc-1", NAME, "\n")
        .expect(1)
        .stderr_has("the value is empty; nothing was set");
    set(&dir, &ledger, "pc-1", "住基 password", "x\n")
        .expect(2)
        .stderr_has("' '");
    assert_eq!(
        ledger_dump(&ledger),
        before,
        "a refused set changed the ledger"
    );

    // The list: the name, who set it, who can read it; never the value.
    let list = secret_ran(&dir, &ledger, "pc-1", &["list"]);
    list.expect(0)
        .stdout_has(NAME)
        .stdout_has("@pc-1")
        .stdout_has("registered to read secrets: pc-1");
    assert_no_leak(
        "kuroko secret list",
        &format!("{}{}", list.stdout, list.stderr),
    );
    assert_no_leak("the ledger", &before);
    if store == Store::Sqlite {
        let file = std::fs::read(ledger.arg()).unwrap();
        assert_eq!(leak(&file), None, "the ledger file holds the value");
    }

    // A run reads it exactly; what it prints and records shows *** instead.
    let s = reader(&scenarios, "reader");
    let ran = run_as(&dir, &ledger, "pc-1", &s, &[]);
    ran.expect(0).stderr_has("read ***");
    assert_no_leak("the run's output", &format!("{}{}", ran.stdout, ran.stderr));
    let dump = ledger_dump(&ledger);
    assert!(dump.contains("item-***"), "the item's key: {dump}");
    assert_no_leak("the ledger", &dump);
    assert_eq!(files_with_the_value(&dir, &scenarios), Vec::<String>::new());

    // A queue item failed with the value in its reason: the queue keeps ***.
    let items = dir.join("items.csv");
    std::fs::write(&items, "受付番号,氏名\nR6-1,髙橋\n").unwrap();
    Ran::from(
        kuroko()
            .args(["queue", "add", "申請"])
            .arg(&items)
            .args(["--key", "受付番号", "--ledger"])
            .arg(ledger.arg())
            .output()
            .unwrap(),
    )
    .expect(0);
    let queued = scenario(
        &scenarios,
        "queued",
        &format!(
            "{}\n[queue]\nname = \"申請\"\n",
            MANIFEST.replace("\"test\"", "\"queued\"")
        ),
        &format!(
            "let item = queue::next();\n\
             queue::failed(item, \"login refused: \" + secret::get({NAME:?}), #{{ kind: \"application\" }});\n"
        ),
    );
    run_as(&dir, &ledger, "pc-1", &queued, &[]).expect(0);
    let dump = ledger_dump(&ledger);
    assert!(dump.contains("login refused: ***"), "{dump}");
    assert_no_leak("the ledger", &dump);
    std::fs::remove_file(&items).unwrap();

    // A dry run checks the secret and gets a placeholder, never the value.
    let placeholder = scenario(
        &scenarios,
        "dry",
        &MANIFEST.replace("\"test\"", "\"dry\""),
        &format!("let v = secret::get({NAME:?});\nlog::info(\"got \" + v);\n"),
    );
    run_as(&dir, &ledger, "pc-1", &placeholder, &["--dry-run"])
        .expect(0)
        .stderr_has("gives \"***\", not the value")
        .stderr_has("got ***");

    // No such secret: a script error at its line, saying how to set it.
    let missing = scenario(
        &scenarios,
        "missing",
        &MANIFEST.replace("\"test\"", "\"missing\""),
        "let a = 1;\nlet v = secret::get(\"nosuch\");\n",
    );
    run_as(&dir, &ledger, "pc-1", &missing, &[])
        .expect(1)
        .stderr_has("main.rhai:2:")
        .stderr_has("there is no secret \"nosuch\"")
        .stderr_has("kuroko secret set nosuch");

    // A PC with no key: told how to get one.
    run_as(&dir, &ledger, "pc-2", &s, &[])
        .expect(1)
        .stderr_has("this PC (pc-2) has no key for reading secrets");
    // Removed: gone from the list and from runs.
    secret_ran(&dir, &ledger, "pc-1", &["remove", NAME]).expect(0);
    secret_ran(&dir, &ledger, "pc-1", &["remove", NAME])
        .expect(2)
        .stderr_has("there is no secret");
    run_as(&dir, &ledger, "pc-1", &s, &[])
        .expect(1)
        .stderr_has("there is no secret");
}

fn a_secret_typed_and_filled_through_the_launcher_leaves_no_trace(store: Store) {
    let x = Xvfb::start();
    let dir = temp_dir(&format!("secrets_launcher_{store:?}"));
    let ledger = TestLedger::new(store, &dir);
    if store == Store::Postgres {
        secret_ran(&dir, &ledger, "pc-1", &["register"]).expect(0);
    }
    set(&dir, &ledger, "pc-1", NAME, &format!("{VALUE}\n")).expect(0);

    let folder = dir.join("scenarios").join("login");
    let page = crate::web::fixture_in(&folder, "fields.html");
    let script = format!(
        r#"let pw = secret::get({NAME:?});
log::info("the password is " + pw);
print(pw);
window::wait("kuroko-secret", 20);
window::activate("kuroko-secret");
keyboard::type_text(pw);
keyboard::press("Enter");
let b = web::open("{page}", #{{ headless: true, timeout_s: 10 }});
b.fill("label=入力欄", pw);
if b.text("css=#seen") != pw {{ fail("the page saw other text"); }}
task::item_failed("key-" + pw, "rejected: " + pw);
fail("ログインできません: " + pw);
"#
    );
    scenario(
        &dir.join("scenarios"),
        "login",
        &MANIFEST.replace("\"test\"", "\"login\""),
        &script,
    );
    let zenity = x.zenity(&["--entry", "--title=kuroko-secret", "--text=password"]);

    let mut cmd = kuroko();
    cmd.env("DISPLAY", &x.display)
        .env("KUROKO_IDENTITY", key_file(&dir, "pc-1"))
        .env("KUROKO_MACHINE", "pc-1");
    let s = Served::start_program(cmd, &dir, ledger.arg().clone(), &[]);
    let id = s.post("/api/scenarios/login/run", "{}").json()["request_id"]
        .as_u64()
        .unwrap();
    let done = s.wait_json(&format!("/api/requests/{id}"), "the run to end", |r| {
        r["state"] == "finished"
    });

    // It got there exactly: zenity printed what was typed, the page compared what it received.
    let (code, typed) = finish(zenity, Duration::from_secs(10));
    assert_eq!(code, Some(0), "zenity was not answered: {done:#}");
    assert_eq!(typed.trim_end_matches('\n'), VALUE);
    assert_eq!(done["outcome"], "failed", "{done:#}");
    assert_eq!(
        done["progress"]["message"], "ログインできません: ***",
        "{done:#}"
    );

    // The launcher's answers.
    let run_id = done["progress"]["run_id"].as_str().unwrap().to_string();
    let mut answers = String::new();
    for target in [
        format!("/api/requests/{id}"),
        "/api/requests".into(),
        "/api/history".into(),
        "/api/summary".into(),
        format!("/api/runs/{run_id}/files/run.log"),
        format!("/api/runs/{run_id}/files/events.jsonl"),
        format!("/api/runs/{run_id}/trace/trace.json"),
    ] {
        let r = s.get(&target);
        assert_eq!(r.status, 200, "{target}: {}", r.text());
        answers.push_str(&format!("--- {target}\n{}\n", r.text()));
    }
    assert_no_leak("the launcher's answers", &answers);
    for shown in [
        "type \\\"***\\\"",
        "web fill label=入力欄 \\\"***\\\"",
        "the password is ***",
        "rejected: ***",
    ] {
        assert!(answers.contains(shown), "no {shown:?} in:\n{answers}");
    }

    // Every file under the test's folder: runs, their logs and traces, the launcher's output,
    // the ledger (and its journal). The scenario's own folder holds no value either.
    drop(s);
    assert_eq!(
        files_with_the_value(&dir, &dir.join("keys")),
        Vec::<String>::new()
    );
    let mut logs = Vec::new();
    let mut stack = vec![dir.join("runs")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else if e.file_name() == "run.log" {
                logs.push(e.path());
            }
        }
    }
    assert_eq!(logs.len(), 1, "{logs:?}");
    let run_log = std::fs::read_to_string(&logs[0]).unwrap();
    assert!(run_log.contains("type \"***\""), "{run_log}");
    assert!(
        run_log.contains("web fill label=入力欄 \"***\""),
        "{run_log}"
    );
    let dump = ledger_dump(&ledger);
    assert_no_leak("the ledger", &dump);
    assert!(dump.contains("ログインできません: ***"), "{dump}");
    assert!(dump.contains("key-***"), "{dump}");
}

#[test]
fn a_fleet_secret_is_read_by_every_robot_registered_when_it_was_set() {
    let dir = temp_dir("secrets_fleet");
    let ledger = TestLedger::new(Store::Postgres, &dir);
    let scenarios = dir.join("scenarios");
    let s = reader(&scenarios, "reader");
    // robot-a registers the way robots do: its agent's first start makes its key.
    let queued = scenario(
        &scenarios,
        "queued",
        &format!(
            "{}\n[queue]\nname = \"申請\"\n",
            MANIFEST.replace("\"test\"", "\"queued\"")
        ),
        "let item = queue::next();\n",
    );
    assert!(queued.exists());
    std::fs::create_dir_all(dir.join("agent")).unwrap();
    let agent = kuroko()
        .arg("agent")
        .arg("--scenarios")
        .arg(&scenarios)
        .args(["--name", "robot-a", "--poll", "0.2", "--runs-dir"])
        .arg(dir.join("agent"))
        .arg("--ledger")
        .arg(ledger.arg())
        .env("KUROKO_IDENTITY", key_file(&dir, "robot-a"))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.join("agent.out")).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the agent to register", || {
        std::fs::read_to_string(dir.join("agent.out"))
            .unwrap_or_default()
            .contains("robot-a is registered to read secrets")
    });
    signal(agent.id(), "TERM");
    let (code, _) = finish(agent, Duration::from_secs(30));
    assert_eq!(code, Some(0));
    assert!(key_file(&dir, "robot-a").exists());
    // robot-b as a launcher PC does.
    secret_ran(&dir, &ledger, "robot-b", &["register"]).expect(0);
    secret_ran(&dir, &ledger, "robot-b", &["register"])
        .expect(0)
        .stdout_has("already registered");

    // The administrator's PC sets it; on a shared ledger it does not become a reader itself.
    set(&dir, &ledger, "admin", NAME, &format!("{VALUE}\n"))
        .expect(0)
        .stdout_has("readable by 2 PC(s): robot-a, robot-b");
    assert!(!key_file(&dir, "admin").exists());
    for robot in ["robot-a", "robot-b"] {
        run_as(&dir, &ledger, robot, &s, &[]).expect(0);
    }
    run_as(&dir, &ledger, "admin", &s, &[])
        .expect(1)
        .stderr_has("this PC (admin) has no key");

    // robot-c comes later: told to set the secret again; the list says so too.
    secret_ran(&dir, &ledger, "robot-c", &["register"]).expect(0);
    run_as(&dir, &ledger, "robot-c", &s, &[])
        .expect(1)
        .stderr_has("was set before this PC (robot-c) was registered to read it")
        .stderr_has("kuroko secret set 住基.password");
    secret_ran(&dir, &ledger, "admin", &["list"])
        .expect(0)
        .stdout_has("robot-c (set it again)");
    set(&dir, &ledger, "admin", NAME, &format!("{VALUE}\n"))
        .expect(0)
        .stdout_has("readable by 3 PC(s): robot-a, robot-b, robot-c");
    for robot in ["robot-a", "robot-b", "robot-c"] {
        run_as(&dir, &ledger, robot, &s, &[]).expect(0);
    }

    // A robot's key made anew (its file lost): it must be set again for it.
    std::fs::remove_file(key_file(&dir, "robot-b")).unwrap();
    secret_ran(&dir, &ledger, "robot-b", &["register"])
        .expect(0)
        .stdout_has("has a new key for secrets");
    run_as(&dir, &ledger, "robot-b", &s, &[])
        .expect(1)
        .stderr_has("was set before this PC (robot-b) was registered");
    // A retired robot is forgotten: the next set is not for it.
    secret_ran(&dir, &ledger, "admin", &["forget", "robot-a"]).expect(0);
    set(&dir, &ledger, "admin", NAME, &format!("{VALUE}\n"))
        .expect(0)
        .stdout_has("readable by 2 PC(s): robot-b, robot-c");
    run_as(&dir, &ledger, "robot-a", &s, &[])
        .expect(1)
        .stderr_has("this PC (robot-a) is not registered to read secrets");
    run_as(&dir, &ledger, "robot-b", &s, &[]).expect(0);
    assert_no_leak("the ledger", &ledger_dump(&ledger));
    assert_eq!(files_with_the_value(&dir, &scenarios), Vec::<String>::new());
}

fn a_ledger_from_before_secrets_is_updated_and_keeps_what_it_had(store: Store) {
    let dir = temp_dir(&format!("secrets_migration_{store:?}"));
    let ledger = TestLedger::new(store, &dir);
    let mut old = kuroko::ledger::open(&ledger.address()).unwrap();
    assert!(old.set_closed_day("2026-12-28", Some("仕事納め")).unwrap());
    drop(old);
    // What the kuroko before secrets wrote: no secret tables, its schema version.
    let before = match store {
        Store::Sqlite => 5,
        Store::Postgres => 2,
    };
    ledger.execute(&format!(
        "DROP TABLE secrets; DROP TABLE secret_recipients; \
         UPDATE kuroko_schema SET version = {before};"
    ));
    let mut store_now = kuroko::ledger::open(&ledger.address()).unwrap();
    assert_eq!(
        store_now.closed_days().unwrap(),
        [("2026-12-28".to_string(), "仕事納め".to_string())]
    );
    assert_eq!(
        store_now
            .add_recipient("pc-1", "age1example", "2026-12-06T09:00:00.000+09:00")
            .unwrap(),
        kuroko::ledger::Registered::Added
    );
    assert_eq!(store_now.recipients().unwrap().len(), 1);
    drop(store_now);
    let version = match store {
        Store::Sqlite => rusqlite::Connection::open(ledger.arg())
            .unwrap()
            .query_row("SELECT MAX(version) FROM kuroko_schema", [], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap(),
        Store::Postgres => server()
            .client(ledger.arg().to_str().unwrap())
            .query_one("SELECT MAX(version)::BIGINT FROM kuroko_schema", &[])
            .unwrap()
            .get(0),
    };
    assert_eq!(version, before + 1);
}

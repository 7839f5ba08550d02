//! `kuroko schedule`: schedules and closure days kept in the ledger, bad input refused.

use crate::support::postgres::{Store, TestLedger};
use crate::support::*;

crate::both_stores!(schedules_are_added_listed_and_removed_and_bad_ones_refused);

fn schedules_are_added_listed_and_removed_and_bad_ones_refused(store: Store) {
    let dir = temp_dir(&format!("schedule_cli_{store:?}"));
    let ledger = TestLedger::new(store, &dir);
    let ledger = ledger.arg();
    let s = scenario(
        &dir,
        "nightly",
        MANIFEST.replace("\"test\"", "\"nightly\"").as_str(),
        "task::item_done(1);",
    );
    let cmd = |args: &[&str]| {
        Ran::from(
            kuroko()
                .arg("schedule")
                .arg("--ledger")
                .arg(ledger)
                .args(args)
                .output()
                .unwrap(),
        )
    };
    let path = s.display().to_string();
    cmd(&["add", &path, "daily 09:00"])
        .expect(0)
        .stdout_has("next run");
    cmd(&["add", &path, "weekly fri 17:30 skip-missed"]).expect(0);
    cmd(&["close", "2026-12-28", "--reason", "システム更新"]).expect(0);
    let list = cmd(&["list"]);
    list.expect(0)
        .stdout_has("daily 09:00")
        .stdout_has("weekly fri 17:30 skip-missed");
    assert_eq!(list.stdout.lines().count(), 3, "{}", list.stdout);
    let id = list
        .stdout
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    cmd(&["remove", &id]).expect(0);
    assert_eq!(cmd(&["list"]).stdout.lines().count(), 2);
    cmd(&["remove", "nope"])
        .expect(2)
        .stderr_has("no schedule \"nope\"");
    cmd(&["add", &path, "every day"])
        .expect(2)
        .stderr_has("no time as HH:MM");
    // 30 February never comes: refused, not listed with no next run.
    cmd(&["add", &path, "cron 0 9 30 2 *"])
        .expect(2)
        .stderr_has("never runs");
    cmd(&[
        "add",
        &dir.join("missing").display().to_string(),
        "daily 09:00",
    ])
    .expect(2);
    cmd(&["open", "2026-12-28"]).expect(0);
    cmd(&["open", "2026-12-28"])
        .expect(2)
        .stderr_has("was not marked closed");
    cmd(&["close", "2026-13-01"])
        .expect(2)
        .stderr_has("YYYY-MM-DD");
}

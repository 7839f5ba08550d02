//! The store traits on both databases, through kuroko's library: what a run records, how a dead
//! run is closed, what counts as done or unfinished, and sums, the same on SQLite and
//! PostgreSQL.

use std::collections::HashSet;

use kuroko::events::Trigger;
use kuroko::ledger::*;

use crate::support::postgres::{Store as Kind, TestLedger};
use crate::support::temp_dir;

type Store = Kind;

crate::both_stores!(
    a_dead_run_becomes_interrupted_once_with_its_items_and_sums,
    an_item_started_and_never_finished_is_unfinished_until_a_later_run_finishes_it,
);

/// An empty ledger in `store` for the test `name`.
fn open(store: Kind, name: &str) -> Box<dyn kuroko::ledger::Store> {
    let dir = temp_dir(&format!("{name}_{store:?}"));
    kuroko::ledger::open(&TestLedger::new(store, &dir).address()).unwrap()
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

fn a_dead_run_becomes_interrupted_once_with_its_items_and_sums(store: Store) {
    let mut store = open(store, "stores_recover");
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
}

fn an_item_started_and_never_finished_is_unfinished_until_a_later_run_finishes_it(store: Store) {
    let mut store = open(store, "stores_unfinished");
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
}

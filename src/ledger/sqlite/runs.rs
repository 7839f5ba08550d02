//! Recording runs in SQLite: a run begins as `running`, each item is written as it happens, the
//! end is written once, and runs whose process died become `interrupted`.

use std::collections::HashSet;

use rusqlite::params;

use super::{RUN_COLUMNS, SqliteStore, timesaved};
use crate::ledger::*;

impl RunLog for SqliteStore {
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
                    run.trigger.as_str(),
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
}

/// Ends a `running` run: its outcome and numbers in `runs`, its sums in `daily_totals` (what
/// reports read, so a year's report does not scan a year of runs). Returns whether it was
/// still running (a run is finalized once).
pub(super) fn finalize(
    tx: &rusqlite::Transaction,
    run_id: &str,
    end: &RunEnd,
) -> rusqlite::Result<bool> {
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
pub(super) fn add_to_daily(
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

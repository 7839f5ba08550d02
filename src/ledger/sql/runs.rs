//! Recording runs: a run begins as `running`, each item is written as it happens, the end is
//! written once, and runs whose process died become `interrupted`.

use std::collections::HashSet;

use super::{Db, RUN_COLUMNS, Row, SqlResult, SqlStore, Tx, params};
use crate::ledger::*;
use crate::timesaved;

impl<D: Db> RunLog for SqlStore<D> {
    fn begin_run(&mut self, run: &RunStart) -> LResult<()> {
        let clock = D::CLOCK;
        // Alive for one limit from its start, so a run that dies before its first heartbeat
        // is still found dead by the heartbeat rule.
        let limit = liveness_limit().as_secs_f64();
        self.write("cannot record the start of the run", |tx| {
            let b = &run.baselines;
            tx.execute(
                &format!(
                    "INSERT INTO runs ({RUN_COLUMNS}, pid, process_started, run_trigger, \
                     alive_until) VALUES \
                     (?1, 'run', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, 'running', 1, 0, 0, \
                      0, ?10, ?11, ?12, ?13, 0, ?14, ?15, NULL, NULL, ?16, ?17, ?18, ?19, \
                      {clock} + ?20)"
                ),
                params![
                    &run.run_id,
                    &run.scenario_id,
                    &run.scenario_name,
                    &run.script_hash,
                    &run.department,
                    &run.task,
                    &run.machine,
                    &run.os_user,
                    &run.started_at,
                    b.manual_minutes_per_item,
                    b.human_minutes_per_item,
                    b.human_minutes_per_run,
                    b.attended,
                    b.human_minutes_per_run,
                    -b.human_minutes_per_run,
                    &run.run_dir,
                    run.process.pid,
                    &run.process.started,
                    run.trigger.as_str(),
                    limit,
                ],
            )
            .map(|_| ())
        })
    }

    fn record_item(&mut self, run_id: &str, item: &ItemRecord) -> LResult<()> {
        self.write("cannot record an item", |tx| insert_item(tx, run_id, item))
    }

    fn heartbeat(&mut self, run_id: &str, lease_s: f64) -> LResult<()> {
        let clock = D::CLOCK;
        // Rows are locked in one order everywhere (queue_items, queue_attempts, items, runs,
        // daily_totals), so the run's own two connections never deadlock.
        self.write("cannot record the run's heartbeat", |tx| {
            tx.execute(
                &format!(
                    "UPDATE queue_items SET lease_until = {clock} + ?2 \
                     WHERE run_id = ?1 AND state = 'in_progress'"
                ),
                params![run_id, lease_s],
            )?;
            tx.execute(
                &format!(
                    "UPDATE runs SET alive_until = {clock} + ?2 \
                     WHERE run_id = ?1 AND state = 'running'"
                ),
                params![run_id, lease_s],
            )?;
            Ok(())
        })
    }

    fn recover_stale(&mut self) -> LResult<Vec<String>> {
        let clock = D::CLOCK;
        // Each run says how long it counts as alive (its own limit), so PCs with different
        // limits agree on which runs are dead.
        let stale: Vec<String> = self.rows(
            "cannot look for runs that stopped answering",
            &format!(
                "SELECT run_id FROM runs WHERE state = 'running' AND alive_until IS NOT NULL \
                 AND alive_until < {clock}"
            ),
            &[],
            |r| r.text(0),
        )?;
        let mut ended = Vec::new();
        for run_id in stale {
            let message = "the run stopped answering (no heartbeat within its limit: its PC or \
                 process stopped, or lost the network); the time is up to the last item recorded";
            if self.write("cannot mark an interrupted run", |tx| {
                interrupt(tx, &run_id, message)
            })? {
                ended.push(run_id);
            }
        }
        Ok(ended)
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
            params![machine],
            |r| {
                Ok((
                    r.text(0)?,
                    process::Identity {
                        pid: r.int(1)?,
                        started: r.text(2)?,
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
                interrupt(
                    tx,
                    run_id,
                    "the kuroko process ended before the run finished (killed, crashed or power \
                     lost); the time is up to the last item recorded",
                )
                .map(|_| ())
            })?;
        }
        Ok(dead)
    }

    fn done_keys(&self, scenario_id: &str) -> LResult<HashSet<String>> {
        self.rows(
            "cannot read the items done",
            "SELECT DISTINCT items.item_key FROM items JOIN runs ON runs.run_id = items.run_id \
                 WHERE runs.scenario_id = ?1 AND items.state = 'done'",
            params![scenario_id],
            |r| r.text(0),
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
            params![scenario_id],
            |r| r.text(0),
        )
    }
}

/// Records one item step of a run (its number in the run is the next one).
pub(super) fn insert_item(tx: &mut dyn Tx, run_id: &str, item: &ItemRecord) -> SqlResult<()> {
    let seq = tx
        .query_one(
            // The primary key's index gives the last number at once (a count would walk the
            // run's items, slower with every item of a long run).
            "SELECT COALESCE(MAX(seq), 0) FROM items WHERE run_id = ?1",
            params![run_id],
        )?
        .int(0)?;
    tx.execute(
        "INSERT INTO items (run_id, seq, item_key, state, failure, at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            run_id,
            seq + 1,
            &item.key,
            item.state.as_str(),
            item.state.reason(),
            &item.at
        ],
    )?;
    let column = match item.state {
        ItemState::Started => return Ok(()),
        ItemState::Done => "items_done",
        ItemState::Failed(_) => "items_failed",
    };
    tx.execute(
        &format!("UPDATE runs SET {column} = {column} + 1 WHERE run_id = ?1"),
        params![run_id],
    )?;
    Ok(())
}

/// Ends a `running` run as `interrupted`, with the items it had recorded and the time up to the
/// last of them; `message` says why. Whether it was still running.
fn interrupt(tx: &mut dyn Tx, run_id: &str, message: &str) -> SqlResult<bool> {
    let Some(run) = tx.query_opt(
        "SELECT started_at, manual_minutes_per_item, human_minutes_per_item, \
             human_minutes_per_run, attended FROM runs WHERE run_id = ?1 AND state = 'running'",
        params![run_id],
    )?
    else {
        return Ok(false);
    };
    let started_at = run.text(0)?;
    let baselines = Baselines {
        manual_minutes_per_item: run.real(1)?,
        human_minutes_per_item: run.real(2)?,
        human_minutes_per_run: run.real(3)?,
        attended: run.int(4)? != 0,
    };
    // Its queue items first (rows are locked in the order queue_items, ..., runs): a
    // `queue::done` committing meanwhile is then counted below, not lost.
    super::queues::abandon_held(
        tx,
        run_id,
        "its run was interrupted while working on it; check it by hand",
        &now(),
    )?;
    let counts: Row = tx.query_one(
        "SELECT SUM(CASE WHEN state = 'done' THEN 1 ELSE 0 END), \
         SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END), MAX(at) \
         FROM items WHERE run_id = ?1",
        params![run_id],
    )?;
    let (done, failed) = (counts.count(0)?, counts.count(1)?);
    let ended_at = counts.opt_text(2)?.unwrap_or_else(|| started_at.clone());
    let robot_minutes = minutes_between(&started_at, &ended_at);
    let time = timesaved::for_run(&baselines, done, robot_minutes);
    finalize(
        tx,
        run_id,
        &RunEnd {
            state: RunState::Interrupted,
            ended_at,
            robot_minutes,
            items_done: done,
            items_failed: failed,
            time,
            message: Some(message.to_string()),
            location: None,
        },
    )
}

/// Ends a `running` run: its outcome and numbers in `runs`, its sums in `daily_totals` (what
/// reports read, so a year's report does not scan a year of runs). Returns whether it was
/// still running (a run is finalized once).
pub(super) fn finalize(tx: &mut dyn Tx, run_id: &str, end: &RunEnd) -> SqlResult<bool> {
    // Queue items the run still holds: nobody knows how far their work got on the screen.
    // (Before the run's row: rows are locked in the order queue_items, queue_attempts, items,
    // runs, daily_totals.)
    let reason = match end.state {
        RunState::Interrupted => "its run was interrupted while working on it; check it by hand",
        _ => "its run ended without queue::done or queue::failed for it; check it by hand",
    };
    super::queues::abandon_held(tx, run_id, reason, &end.ended_at)?;
    let updated = tx.execute(
        "UPDATE runs SET state = ?2, ended_at = ?3, robot_minutes = ?4, items_done = ?5, \
         items_failed = ?6, before_minutes = ?7, after_minutes = ?8, saved_minutes = ?9, \
         message = ?10, location = ?11 WHERE run_id = ?1 AND state = 'running'",
        params![
            run_id,
            end.state.as_str(),
            &end.ended_at,
            end.robot_minutes,
            end.items_done,
            end.items_failed,
            end.time.before_minutes,
            end.time.after_minutes,
            end.time.saved_minutes,
            end.message.as_deref(),
            end.location.as_deref(),
        ],
    )?;
    if updated == 0 {
        return Ok(false);
    }
    let run = tx.query_one(
        "SELECT started_at, department, task, machine FROM runs WHERE run_id = ?1",
        params![run_id],
    )?;
    let started_at = run.text(0)?;
    let one = |state: RunState| u64::from(end.state == state);
    add_to_daily(
        tx,
        started_at.get(..10).unwrap_or(&started_at),
        &run.text(1)?,
        &run.text(2)?,
        &run.text(3)?,
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
/// PostgreSQL both speak; concurrent adds on PostgreSQL wait for each other's row).
pub(super) fn add_to_daily(
    tx: &mut dyn Tx,
    day: &str,
    department: &str,
    task: &str,
    machine: &str,
    t: &Totals,
) -> SqlResult<()> {
    tx.execute(
        "INSERT INTO daily_totals (day, department, task, runs, succeeded, failed, aborted, \
         interrupted, items_done, items_failed, before_minutes, after_minutes, saved_minutes, \
         robot_minutes, machine) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) \
         ON CONFLICT (day, department, task, machine) DO UPDATE SET \
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
        params![
            day,
            department,
            task,
            t.runs,
            t.succeeded,
            t.failed,
            t.aborted,
            t.interrupted,
            t.items_done,
            t.items_failed,
            t.before_minutes,
            t.after_minutes,
            t.saved_minutes,
            t.robot_minutes,
            machine,
        ],
    )?;
    Ok(())
}

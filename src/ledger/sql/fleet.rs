//! Robot PCs on a ledger: each agent registers its machine and heartbeats (by the database's
//! clock, like runs), what a machine runs is read from its running run and the queue item that
//! run holds, and run requests wait in the ledger until the chosen robot takes them.

use super::{Db, Row, SqlError, SqlResult, SqlStore, Tx, params};
use crate::ledger::*;

const REQUEST_COLUMNS: &str = "request_id, machine, scenario_id, requested_by, requested_at, \
    state, taken_at, ended_at, message";

fn request(r: &Row) -> SqlResult<RunRequestRecord> {
    Ok(RunRequestRecord {
        id: r.text(0)?,
        machine: r.text(1)?,
        scenario_id: r.text(2)?,
        requested_by: r.text(3)?,
        requested_at: r.text(4)?,
        state: r.text(5)?,
        taken_at: r.opt_text(6)?,
        ended_at: r.opt_text(7)?,
        message: r.opt_text(8)?,
    })
}

fn new_request_id() -> String {
    let mut bytes = [0u8; 8];
    // Without randomness the time alone still tells requests apart.
    let _ = getrandom::fill(&mut bytes);
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
    let tail: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{stamp}-{tail}")
}

fn scenarios_of(text: &str) -> Vec<MachineScenario> {
    serde_json::from_str(text).unwrap_or_default()
}

/// One machine's row, and what it runs (a run of its own still running, and that run's item).
fn machine(tx: &mut dyn Tx, r: &Row) -> SqlResult<MachineRecord> {
    let name = r.text(0)?;
    let state = r.text(8)?;
    let silent = r.int(9)? != 0;
    let run = match tx.query_opt(
        "SELECT run_id, scenario_name, started_at FROM runs \
         WHERE state = 'running' AND machine = ?1 ORDER BY started_at DESC LIMIT 1",
        params![&name],
    )? {
        None => None,
        Some(run) => {
            let run_id = run.text(0)?;
            let item = tx.query_opt(
                "SELECT queue, item_key FROM queue_items \
                 WHERE run_id = ?1 AND state = 'in_progress' ORDER BY updated_at DESC LIMIT 1",
                params![&run_id],
            )?;
            Some(MachineRun {
                scenario_name: run.text(1)?,
                started_at: run.text(2)?,
                queue: item.as_ref().map(|i| i.text(0)).transpose()?,
                item_key: item.as_ref().map(|i| i.text(1)).transpose()?,
                run_id,
            })
        }
    };
    let status = if state == "stopped" {
        "stopped"
    } else if silent {
        "silent"
    } else if run.is_some() {
        "running"
    } else {
        "waiting"
    };
    Ok(MachineRecord {
        os_user: r.text(1)?,
        os: r.text(2)?,
        version: r.text(3)?,
        scenarios: scenarios_of(&r.text(4)?),
        started_at: r.text(5)?,
        last_seen: r.text(6)?,
        seen_s_ago: r.real(7)?.max(0.0),
        status: status.to_string(),
        run: if status == "running" { run } else { None },
        name,
    })
}

fn machine_rows(tx: &mut dyn Tx, clock: &str, only: Option<&str>) -> SqlResult<Vec<MachineRecord>> {
    let sql = format!(
        "SELECT name, os_user, os, version, scenarios, started_at, last_seen, \
         {clock} - seen_clock, state, CASE WHEN alive_until < {clock} THEN 1 ELSE 0 END \
         FROM machines {} ORDER BY name",
        if only.is_some() {
            "WHERE name = ?1"
        } else {
            ""
        }
    );
    let rows = match only {
        Some(name) => tx.query(&sql, params![name])?,
        None => tx.query(&sql, &[])?,
    };
    rows.iter().map(|r| machine(tx, r)).collect()
}

/// A robot PC's requests it took and never ended (its agent died, or could not write the end)
/// end as failed when it registers again or stops, so none shows as running for ever.
fn fail_taken(tx: &mut dyn Tx, machine: &str, at: &str) -> SqlResult<()> {
    tx.execute(
        "UPDATE run_requests SET state = 'failed', ended_at = ?2, \
         message = 'the agent stopped before the run ended (see the robot PC''s runs)' \
         WHERE machine = ?1 AND state = 'taken'",
        params![machine, at],
    )?;
    Ok(())
}

impl<D: Db> Fleet for SqlStore<D> {
    fn machine_register(&mut self, m: &MachineStart, at: &str, limit_s: f64) -> LResult<()> {
        let clock = D::CLOCK;
        let scenarios = serde_json::to_string(&m.scenarios).unwrap_or_else(|_| "[]".into());
        self.write("cannot register the robot PC", |tx| {
            fail_taken(tx, &m.name, at)?;
            tx.execute(
                &format!(
                    "INSERT INTO machines (name, os_user, os, version, scenarios, started_at, \
                     last_seen, seen_clock, alive_until, state) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?8, {clock}, {clock} + ?7, 'waiting') \
                     ON CONFLICT (name) DO UPDATE SET os_user = excluded.os_user, \
                     os = excluded.os, version = excluded.version, \
                     scenarios = excluded.scenarios, started_at = excluded.started_at, \
                     last_seen = excluded.last_seen, seen_clock = excluded.seen_clock, \
                     alive_until = excluded.alive_until, state = 'waiting'"
                ),
                params![
                    &m.name, &m.os_user, &m.os, &m.version, scenarios, &m.at, limit_s, at
                ],
            )?;
            Ok(())
        })
    }

    fn machine_heartbeat(&mut self, name: &str, at: &str, limit_s: f64) -> LResult<()> {
        let clock = D::CLOCK;
        self.write("cannot write the robot PC's heartbeat", |tx| {
            let changed = tx.execute(
                &format!(
                    "UPDATE machines SET last_seen = ?2, seen_clock = {clock}, \
                     alive_until = {clock} + ?3, state = 'waiting' WHERE name = ?1"
                ),
                params![name, at, limit_s],
            )?;
            if changed == 0 {
                return Err(SqlError(format!(
                    "robot PC {name:?} is not registered (was it removed?)"
                )));
            }
            Ok(())
        })
    }

    fn machine_stopped(&mut self, name: &str, at: &str) -> LResult<()> {
        self.write("cannot record that the robot PC stopped", |tx| {
            fail_taken(tx, name, at)?;
            tx.execute(
                "UPDATE machines SET state = 'stopped', last_seen = ?2 WHERE name = ?1",
                params![name, at],
            )?;
            Ok(())
        })
    }

    fn machines(&self) -> LResult<Vec<MachineRecord>> {
        let clock = D::CLOCK;
        self.read("cannot list the robot PCs", |tx| {
            machine_rows(tx, clock, None)
        })
    }

    fn run_request_add(
        &mut self,
        machine_name: &str,
        scenario_id: &str,
        requested_by: &str,
        at: &str,
    ) -> LResult<Result<RunRequestRecord, String>> {
        let clock = D::CLOCK;
        let id = new_request_id();
        self.write("cannot send the run to the robot PC", |tx| {
            let Some(m) = machine_rows(tx, clock, Some(machine_name))?
                .into_iter()
                .next()
            else {
                return Ok(Err(format!(
                    "no robot PC is called {machine_name:?} (start kuroko agent on it first)"
                )));
            };
            if m.status == "stopped" || m.status == "silent" {
                return Ok(Err(format!(
                    "robot PC {machine_name:?} is not running its agent (last seen {}); start \
                     kuroko agent on it, or choose another",
                    m.last_seen
                )));
            }
            if !m.scenarios.iter().any(|s| s.id == scenario_id) {
                return Ok(Err(format!(
                    "robot PC {machine_name:?} has no scenario {scenario_id:?} (it has: {})",
                    m.scenarios
                        .iter()
                        .map(|s| s.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            tx.execute(
                "INSERT INTO run_requests (request_id, machine, scenario_id, requested_by, \
                 requested_at, state) VALUES (?1, ?2, ?3, ?4, ?5, 'waiting')",
                params![&id, machine_name, scenario_id, requested_by, at],
            )?;
            request(&tx.query_one(
                &format!("SELECT {REQUEST_COLUMNS} FROM run_requests WHERE request_id = ?1"),
                params![&id],
            )?)
            .map(Ok)
        })
    }

    fn run_request_take(&mut self, machine: &str, at: &str) -> LResult<Option<RunRequestRecord>> {
        let skip_locked = D::SKIP_LOCKED;
        self.write("cannot take a run request", |tx| {
            let Some(next) = tx.query_opt(
                &format!(
                    "SELECT request_id FROM run_requests WHERE machine = ?1 AND state = 'waiting' \
                     ORDER BY requested_at, request_id LIMIT 1{skip_locked}"
                ),
                params![machine],
            )?
            else {
                return Ok(None);
            };
            let id = next.text(0)?;
            tx.execute(
                "UPDATE run_requests SET state = 'taken', taken_at = ?2 \
                 WHERE request_id = ?1 AND state = 'waiting'",
                params![&id, at],
            )?;
            Some(request(&tx.query_one(
                &format!("SELECT {REQUEST_COLUMNS} FROM run_requests WHERE request_id = ?1"),
                params![&id],
            )?))
            .transpose()
        })
    }

    fn run_request_end(&mut self, id: &str, state: &str, message: &str, at: &str) -> LResult<()> {
        self.write("cannot end the run request", |tx| {
            tx.execute(
                "UPDATE run_requests SET state = ?2, message = ?3, ended_at = ?4 \
                 WHERE request_id = ?1 AND state = 'taken'",
                params![id, state, message, at],
            )?;
            Ok(())
        })
    }

    fn run_request_cancel(&mut self, id: &str, at: &str) -> LResult<bool> {
        self.write("cannot cancel the run request", |tx| {
            Ok(tx.execute(
                "UPDATE run_requests SET state = 'cancelled', ended_at = ?2 \
                 WHERE request_id = ?1 AND state = 'waiting'",
                params![id, at],
            )? > 0)
        })
    }

    fn run_requests(&self, limit: u64) -> LResult<Vec<RunRequestRecord>> {
        self.rows(
            "cannot list the run requests",
            &format!(
                "SELECT {REQUEST_COLUMNS} FROM run_requests \
                 ORDER BY requested_at DESC, request_id DESC LIMIT ?1"
            ),
            params![limit],
            request,
        )
    }
}

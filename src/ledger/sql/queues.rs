//! Work queues: adding a file's rows all or nothing, claiming the oldest new item with a lease
//! (PostgreSQL passes over rows another robot is claiming: `FOR UPDATE SKIP LOCKED`), ending it
//! only while the claim still holds, and every claim kept in `queue_attempts`.

use super::runs::insert_item;
use super::{Db, Row, SqlError, SqlResult, SqlStore, Tx, Value, params};
use crate::ledger::*;

const ITEM_COLUMNS: &str = "queue, item_key, data, state, failure_kind, reason, owner, run_id, \
    attempt, added_at, updated_at";

/// How many keys one `IN (...)` lists.
const KEYS_PER_QUERY: usize = 500;

fn queue_item(r: &Row, lease_left: Option<f64>) -> SqlResult<QueueItem> {
    let state = r.text(3)?;
    Ok(QueueItem {
        queue: r.text(0)?,
        key: r.text(1)?,
        data: r.text(2)?,
        state: QueueState::parse(&state)
            .ok_or_else(|| SqlError(format!("unknown queue item state {state:?}")))?,
        failure_kind: r.opt_text(4)?.as_deref().and_then(FailureKind::parse),
        reason: r.opt_text(5)?,
        owner: r.opt_text(6)?,
        run_id: r.opt_text(7)?,
        attempt: r.count(8)?,
        lease_left_s: lease_left,
        added_at: r.text(9)?,
        updated_at: r.text(10)?,
    })
}

/// The item with its lease left (column 11), as selected with `ITEM_COLUMNS` and the lease.
fn item_with_lease(r: &Row) -> SqlResult<QueueItem> {
    let lease = match r.0.get(11) {
        Some(Value::Null) | None => None,
        Some(_) => Some(r.real(11)?),
    };
    queue_item(r, lease)
}

/// Abandons the items a run still holds (its run ended without ending them).
pub(super) fn abandon_held(tx: &mut dyn Tx, run_id: &str, reason: &str, at: &str) -> SqlResult<()> {
    tx.execute(
        "UPDATE queue_items SET state = 'abandoned', reason = ?2, lease_until = NULL, \
         updated_at = ?3 WHERE run_id = ?1 AND state = 'in_progress'",
        params![run_id, reason, at],
    )?;
    tx.execute(
        "UPDATE queue_attempts SET outcome = 'abandoned', ended_at = ?2 \
         WHERE run_id = ?1 AND outcome IS NULL",
        params![run_id, at],
    )?;
    Ok(())
}

/// Abandons in-progress items whose lease ran out (by the database's clock). How many.
fn expire(tx: &mut dyn Tx, clock: &str, at: &str) -> SqlResult<u64> {
    let expired = tx.query(
        &format!(
            "SELECT queue, item_key, attempt FROM queue_items \
             WHERE state = 'in_progress' AND lease_until < {clock} ORDER BY queue, item_key"
        ),
        &[],
    )?;
    let mut n = 0;
    for row in expired {
        let (queue, key, attempt) = (row.text(0)?, row.text(1)?, row.int(2)?);
        let changed = tx.execute(
            "UPDATE queue_items SET state = 'abandoned', lease_until = NULL, updated_at = ?4, \
             reason = 'its lease ran out: the robot working on it stopped answering; check it by hand' \
             WHERE queue = ?1 AND item_key = ?2 AND attempt = ?3 AND state = 'in_progress'",
            params![&queue, &key, attempt, at],
        )?;
        if changed > 0 {
            tx.execute(
                "UPDATE queue_attempts SET outcome = 'abandoned', ended_at = ?4 \
                 WHERE queue = ?1 AND item_key = ?2 AND attempt = ?3 AND outcome IS NULL",
                params![&queue, &key, attempt, at],
            )?;
            n += changed;
        }
    }
    Ok(n)
}

/// `?first, ?first+1, ...` for `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The current state of those keys that are in the queue.
fn states_of(tx: &mut dyn Tx, queue: &str, keys: &[String]) -> SqlResult<Vec<(String, String)>> {
    let mut found = Vec::new();
    for chunk in keys.chunks(KEYS_PER_QUERY) {
        let sql = format!(
            "SELECT item_key, state FROM queue_items WHERE queue = ?1 AND item_key IN ({})",
            placeholders(2, chunk.len())
        );
        let mut values = vec![Value::from(queue)];
        values.extend(chunk.iter().map(Value::from));
        for row in tx.query(&sql, &values)? {
            found.push((row.text(0)?, row.text(1)?));
        }
    }
    Ok(found)
}

/// Applies `change` to each key in one of the `from` states; per key, whether it could.
fn change_state(
    tx: &mut dyn Tx,
    queue: &str,
    keys: &[String],
    from: &[QueueState],
    change: &mut dyn FnMut(&mut dyn Tx, &str) -> SqlResult<u64>,
) -> SqlResult<Vec<(String, Result<(), String>)>> {
    let states: std::collections::HashMap<String, String> =
        states_of(tx, queue, keys)?.into_iter().collect();
    let mut results = Vec::new();
    for key in keys {
        let result = match states.get(key).map(|s| QueueState::parse(s)) {
            None => Err(format!("no item {key:?} in queue {queue:?}")),
            Some(Some(state)) if from.contains(&state) => match change(tx, key)? {
                0 => Err(format!("item {key:?} changed meanwhile; look again")),
                _ => Ok(()),
            },
            Some(state) => Err(format!(
                "item {key:?} is {}",
                state.map_or("in an unknown state", QueueState::as_str)
            )),
        };
        results.push((key.clone(), result));
    }
    Ok(results)
}

impl<D: Db> Queues for SqlStore<D> {
    fn queue_add(&mut self, queue: &str, rows: &[QueueRow], at: &str) -> LResult<usize> {
        let keys: Vec<String> = rows.iter().map(|r| r.key.clone()).collect();
        let mut already = Vec::new();
        let added = self.write("cannot add to the queue", |tx| {
            already = states_of(tx, queue, &keys)?;
            if !already.is_empty() {
                return Ok(0);
            }
            let first = tx
                .query_one(
                    "SELECT MAX(seq) FROM queue_items WHERE queue = ?1",
                    params![queue],
                )?
                .int(0)?;
            for (i, row) in rows.iter().enumerate() {
                tx.execute(
                    "INSERT INTO queue_items (queue, item_key, seq, data, state, attempt, \
                     added_at, updated_at) VALUES (?1, ?2, ?3, ?4, 'new', 0, ?5, ?5)",
                    params![queue, &row.key, first + 1 + i as i64, &row.data, at],
                )?;
            }
            Ok(rows.len())
        })?;
        if !already.is_empty() {
            const LISTED: usize = 20;
            let listed: Vec<String> = already
                .iter()
                .take(LISTED)
                .map(|(key, state)| format!("{key} ({state})"))
                .collect();
            let more = already.len().saturating_sub(LISTED);
            return Err(LedgerError(format!(
                "{} of these keys are already in queue {queue:?}, and a key is added once (to \
                 work an item again, use kuroko queue retry): {}{}; nothing was added",
                already.len(),
                listed.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            )));
        }
        Ok(added)
    }

    fn queue_counts(&self) -> LResult<Vec<QueueCount>> {
        self.rows(
            "cannot count the queues",
            "SELECT queue, state, COUNT(*) FROM queue_items GROUP BY queue, state \
             ORDER BY queue, state",
            &[],
            |r| {
                let state = r.text(1)?;
                Ok(QueueCount {
                    queue: r.text(0)?,
                    state: QueueState::parse(&state)
                        .ok_or_else(|| SqlError(format!("unknown state {state:?}")))?,
                    items: r.count(2)?,
                })
            },
        )
    }

    fn queue_items(
        &self,
        queue: &str,
        state: Option<QueueState>,
        limit: u64,
    ) -> LResult<Vec<QueueItem>> {
        let clock = D::CLOCK;
        let (condition, values) = match state {
            Some(s) => (
                " AND state = ?2",
                vec![
                    Value::from(queue),
                    Value::from(s.as_str()),
                    Value::from(limit),
                ],
            ),
            None => ("", vec![Value::from(queue), Value::from(limit)]),
        };
        let limit_at = values.len();
        self.rows(
            "cannot read the queue",
            &format!(
                "SELECT {ITEM_COLUMNS}, lease_until - {clock} FROM queue_items \
                 WHERE queue = ?1{condition} ORDER BY seq LIMIT ?{limit_at}"
            ),
            &values,
            item_with_lease,
        )
    }

    fn queue_attempts(&self, queue: &str) -> LResult<Vec<QueueAttempt>> {
        self.rows(
            "cannot read the queue's attempts",
            "SELECT item_key, attempt, machine, run_id, claimed_at, ended_at, outcome \
             FROM queue_attempts WHERE queue = ?1 ORDER BY item_key, attempt",
            params![queue],
            |r| {
                Ok(QueueAttempt {
                    key: r.text(0)?,
                    attempt: r.count(1)?,
                    machine: r.text(2)?,
                    run_id: r.text(3)?,
                    claimed_at: r.text(4)?,
                    ended_at: r.opt_text(5)?,
                    outcome: r.opt_text(6)?,
                })
            },
        )
    }

    fn queue_claim(
        &mut self,
        queue: &str,
        who: &Claimant,
        lease_s: f64,
        at: &str,
    ) -> LResult<Option<QueueItem>> {
        let (clock, skip_locked) = (D::CLOCK, D::SKIP_LOCKED);
        self.write("cannot claim a queue item", |tx| {
            // A run another kuroko took for dead (its heartbeat late) takes no more work.
            let state = tx
                .query_opt(
                    "SELECT state FROM runs WHERE run_id = ?1",
                    params![&who.run_id],
                )?
                .map(|r| r.text(0))
                .transpose()?;
            if state.as_deref() != Some("running") {
                return Err(SqlError(format!(
                    "this run is {} in the ledger (its heartbeat was late, so it was taken for \
                     dead); it takes no more items",
                    state.as_deref().unwrap_or("missing")
                )));
            }
            expire(tx, clock, at)?;
            let Some(next) = tx.query_opt(
                &format!(
                    "SELECT item_key FROM queue_items WHERE queue = ?1 AND state = 'new' \
                     ORDER BY seq LIMIT 1{skip_locked}"
                ),
                params![queue],
            )?
            else {
                return Ok(None);
            };
            let key = next.text(0)?;
            let claimed = tx.execute(
                &format!(
                    "UPDATE queue_items SET state = 'in_progress', owner = ?3, run_id = ?4, \
                     attempt = attempt + 1, lease_until = {clock} + ?5, updated_at = ?6, \
                     failure_kind = NULL, reason = NULL \
                     WHERE queue = ?1 AND item_key = ?2 AND state = 'new'"
                ),
                params![queue, &key, &who.machine, &who.run_id, lease_s, at],
            )?;
            if claimed != 1 {
                return Err(SqlError(format!(
                    "item {key:?} changed while it was being claimed; try again"
                )));
            }
            let row = tx.query_one(
                &format!(
                    "SELECT {ITEM_COLUMNS}, lease_until - {clock} FROM queue_items \
                     WHERE queue = ?1 AND item_key = ?2"
                ),
                params![queue, &key],
            )?;
            let item = item_with_lease(&row)?;
            tx.execute(
                "INSERT INTO queue_attempts (queue, item_key, attempt, machine, run_id, \
                 claimed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![queue, &key, item.attempt, &who.machine, &who.run_id, at],
            )?;
            Ok(Some(item))
        })
    }

    fn queue_end(
        &mut self,
        item: &QueueItem,
        who: &Claimant,
        end: &ItemEnd,
        at: &str,
    ) -> LResult<bool> {
        let (state, kind, reason, outcome) = match end {
            ItemEnd::Done => ("done", None, None, "done"),
            ItemEnd::Failed { kind, reason } => (
                "failed",
                Some(kind.as_str()),
                Some(reason.as_str()),
                "failed",
            ),
        };
        self.write("cannot end the queue item", |tx| {
            let changed = tx.execute(
                "UPDATE queue_items SET state = ?5, failure_kind = ?6, reason = ?7, \
                 lease_until = NULL, updated_at = ?8 WHERE queue = ?1 AND item_key = ?2 \
                 AND attempt = ?3 AND run_id = ?4 AND state = 'in_progress'",
                params![
                    &item.queue,
                    &item.key,
                    item.attempt,
                    &who.run_id,
                    state,
                    kind,
                    reason,
                    at
                ],
            )?;
            if changed == 0 {
                return Ok(false);
            }
            tx.execute(
                "UPDATE queue_attempts SET outcome = ?4, ended_at = ?5 \
                 WHERE queue = ?1 AND item_key = ?2 AND attempt = ?3",
                params![&item.queue, &item.key, item.attempt, outcome, at],
            )?;
            insert_item(
                tx,
                &who.run_id,
                &ItemRecord {
                    key: item.key.clone(),
                    state: match end {
                        ItemEnd::Done => ItemState::Done,
                        ItemEnd::Failed { reason, .. } => ItemState::Failed(reason.clone()),
                    },
                    at: at.to_string(),
                },
            )?;
            Ok(true)
        })
    }

    fn queue_retry(
        &mut self,
        queue: &str,
        keys: &[String],
        at: &str,
    ) -> LResult<Vec<(String, Result<(), String>)>> {
        self.write("cannot put the items back", |tx| {
            change_state(
                tx,
                queue,
                keys,
                &[QueueState::Failed, QueueState::Abandoned],
                &mut |tx, key| {
                    // Only while it is still failed or abandoned (a robot or a person may have
                    // changed it since it was read).
                    tx.execute(
                        "UPDATE queue_items SET state = 'new', lease_until = NULL, \
                         updated_at = ?3 WHERE queue = ?1 AND item_key = ?2 \
                         AND state IN ('failed', 'abandoned')",
                        params![queue, key, at],
                    )
                },
            )
        })
    }

    fn queue_abandon(
        &mut self,
        queue: &str,
        keys: &[String],
        reason: &str,
        at: &str,
    ) -> LResult<Vec<(String, Result<(), String>)>> {
        self.write("cannot take the items out", |tx| {
            change_state(
                tx,
                queue,
                keys,
                &[QueueState::New, QueueState::Failed, QueueState::InProgress],
                &mut |tx, key| {
                    let changed = tx.execute(
                        "UPDATE queue_items SET state = 'abandoned', reason = ?3, \
                         lease_until = NULL, updated_at = ?4 WHERE queue = ?1 AND item_key = ?2 \
                         AND state IN ('new', 'failed', 'in_progress')",
                        params![queue, key, reason, at],
                    )?;
                    if changed == 0 {
                        return Ok(0);
                    }
                    tx.execute(
                        "UPDATE queue_attempts SET outcome = 'abandoned', ended_at = ?3 \
                         WHERE queue = ?1 AND item_key = ?2 AND outcome IS NULL",
                        params![queue, key, at],
                    )?;
                    Ok(1)
                },
            )
        })
    }

    fn expire_leases(&mut self, at: &str) -> LResult<u64> {
        let clock = D::CLOCK;
        // Most opens find nothing to expire: look without the write lock first.
        let any = self.read("cannot look at the leases", |tx| {
            tx.query_opt(
                &format!(
                    "SELECT 1 FROM queue_items WHERE state = 'in_progress' \
                     AND lease_until < {clock} LIMIT 1"
                ),
                &[],
            )
        })?;
        if any.is_none() {
            return Ok(0);
        }
        self.write("cannot abandon items whose lease ran out", |tx| {
            expire(tx, clock, at)
        })
    }
}

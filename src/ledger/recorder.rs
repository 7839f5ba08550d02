//! A run's link to the ledger: written as `running` when it starts, each item recorded the
//! moment the script reports it (so a run killed midway keeps its finished items), a heartbeat
//! while it goes on (so another PC can tell a dead run on a shared ledger, and the queue items
//! it holds keep their lease), finalized when it ends. A dry run records nothing but still knows
//! which items earlier runs did.

use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::mpsc;
use std::thread::JoinHandle;

use super::{
    Address, Claimant, ItemEnd, ItemRecord, ItemState, LResult, LedgerError, QueueItem, RunEnd,
    RunStart, Secrets, Store, liveness_limit, now, open, open_existing,
};

/// The thread that says the run is alive, on its own connection, until it is dropped.
struct Heartbeat {
    stop: mpsc::Sender<()>,
    thread: Option<JoinHandle<()>>,
}

impl Heartbeat {
    fn start(ledger: &Address, run_id: &str) -> Heartbeat {
        let (stop, stopped) = mpsc::channel::<()>();
        let (ledger, run_id) = (ledger.clone(), run_id.to_string());
        let limit = liveness_limit();
        let every = limit / 4;
        // `Recorder::start` wrote the first heartbeat; this thread writes the next ones.
        let thread = std::thread::spawn(move || {
            let mut store = None;
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                if store.is_none() {
                    store = open(&ledger).ok();
                }
                // A failed heartbeat (the database away for a moment) is tried again next time;
                // the run's own writes report a ledger that stays away.
                if let Some(s) = store.as_mut()
                    && s.heartbeat(&run_id, limit.as_secs_f64()).is_err()
                {
                    store = None;
                }
            }
        });
        Heartbeat {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        let _ = self.stop.send(());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

pub struct Recorder {
    /// `None` for a dry run.
    store: Option<RefCell<Box<dyn Store>>>,
    /// Who claims queue items: this run on this machine.
    claimant: Claimant,
    _heartbeat: Option<Heartbeat>,
    run_id: String,
    done_before: HashSet<String>,
    /// Started in an earlier run and never finished: look before doing again.
    unfinished_before: HashSet<String>,
    done_now: RefCell<HashSet<String>>,
    location: String,
    /// The ledger, for a dry run's reads of secrets (a real run uses its own connection).
    address: Address,
}

impl Recorder {
    /// Opens the ledger and writes the run as started.
    pub fn start(ledger: &Address, start: &RunStart) -> LResult<Recorder> {
        let mut store = open(ledger)?;
        let done_before = store.done_keys(&start.scenario_id)?;
        let unfinished_before = store.unfinished_keys(&start.scenario_id)?;
        store.begin_run(start)?;
        store.heartbeat(&start.run_id, liveness_limit().as_secs_f64())?;
        Ok(Recorder {
            location: store.location(),
            store: Some(RefCell::new(store)),
            claimant: Claimant {
                run_id: start.run_id.clone(),
                machine: start.machine.clone(),
            },
            _heartbeat: Some(Heartbeat::start(ledger, &start.run_id)),
            run_id: start.run_id.clone(),
            done_before,
            unfinished_before,
            done_now: RefCell::default(),
            address: ledger.clone(),
        })
    }

    /// For a dry run: nothing is written; items done in earlier runs are still known.
    pub fn read_only(ledger: &Address, scenario_id: &str) -> LResult<Recorder> {
        let (done_before, unfinished_before) = match open_existing(ledger)? {
            Some(store) => (
                store.done_keys(scenario_id)?,
                store.unfinished_keys(scenario_id)?,
            ),
            None => (HashSet::new(), HashSet::new()),
        };
        Ok(Recorder {
            store: None,
            claimant: Claimant {
                run_id: String::new(),
                machine: String::new(),
            },
            _heartbeat: None,
            run_id: String::new(),
            done_before,
            unfinished_before,
            done_now: RefCell::default(),
            location: ledger.to_string(),
            address: ledger.clone(),
        })
    }

    pub fn location(&self) -> &str {
        &self.location
    }

    pub fn writes(&self) -> bool {
        self.store.is_some()
    }

    /// Records a step of an item (started, done or failed), durably, before the script goes on.
    pub fn item(&self, key: &str, state: ItemState) -> LResult<()> {
        let done = state == ItemState::Done;
        // A secret's value is never written down, not even as an item's key or reason.
        let state = match state {
            ItemState::Failed(reason) => ItemState::Failed(clip(&reason)),
            other => other,
        };
        if let Some(store) = &self.store {
            store.borrow_mut().record_item(
                &self.run_id,
                &ItemRecord {
                    key: crate::redact::string(key),
                    state,
                    at: now(),
                },
            )?;
        }
        if done {
            self.done_now.borrow_mut().insert(key.to_string());
        }
        Ok(())
    }

    /// Whether an earlier run started this item and stopped before it was done or failed.
    pub fn is_unfinished(&self, key: &str) -> bool {
        self.unfinished_before.contains(key) && !self.is_done(key)
    }

    /// Whether this scenario has done the item, in this run or an earlier one.
    pub fn is_done(&self, key: &str) -> bool {
        self.done_before.contains(key) || self.done_now.borrow().contains(key)
    }

    /// Claims the oldest new item of `queue` for this run (its lease is kept by the heartbeat);
    /// `None` when the queue is empty.
    pub fn queue_next(&self, queue: &str) -> LResult<Option<QueueItem>> {
        let Some(store) = &self.store else {
            return Err(LedgerError(
                "a dry run takes no items from a queue (that would take them from the robots); \
                 kuroko queue show lists them"
                    .into(),
            ));
        };
        store.borrow_mut().queue_claim(
            queue,
            &self.claimant,
            liveness_limit().as_secs_f64(),
            &now(),
        )
    }

    /// Ends an item this run claimed, and records it as done or failed. `false` when the run
    /// no longer holds it (its lease ran out and it was abandoned).
    pub fn queue_end(&self, item: &QueueItem, end: &ItemEnd) -> LResult<bool> {
        let Some(store) = &self.store else {
            return Ok(false);
        };
        let hidden;
        let end_written = match end {
            ItemEnd::Failed { kind, reason } => {
                hidden = ItemEnd::Failed {
                    kind: *kind,
                    reason: clip(reason),
                };
                &hidden
            }
            ItemEnd::Done => end,
        };
        let ended = store
            .borrow_mut()
            .queue_end(item, &self.claimant, end_written, &now())?;
        if ended && *end == ItemEnd::Done {
            self.done_now.borrow_mut().insert(item.key.clone());
        }
        Ok(ended)
    }

    /// Reads the ledger's secrets (for `secret::get`): on the run's own connection, or for a
    /// dry run on one opened for it. `None` when there is no ledger yet (a dry run's file).
    pub fn read_secrets<T>(
        &self,
        f: impl FnOnce(&dyn Secrets) -> LResult<T>,
    ) -> LResult<Option<T>> {
        match &self.store {
            Some(store) => {
                let store = store.borrow();
                let secrets: &dyn Secrets = &**store;
                f(secrets).map(Some)
            }
            None => match open_existing(&self.address)? {
                Some(store) => {
                    let secrets: &dyn Secrets = &*store;
                    f(secrets).map(Some)
                }
                None => Ok(None),
            },
        }
    }

    pub fn finish(&self, end: &RunEnd) -> LResult<()> {
        let end = RunEnd {
            message: end.message.as_deref().map(clip),
            ..end.clone()
        };
        match &self.store {
            Some(store) => store.borrow_mut().finish_run(&self.run_id, &end),
            None => Ok(()),
        }
    }
}

/// The longest message or failure reason the ledger keeps (a report cell holds 32,767
/// characters; a script may fail with any text).
pub const MAX_MESSAGE_CHARS: usize = 2000;

/// A message cut to `MAX_MESSAGE_CHARS`, marked where it was cut, with the values of secrets
/// the run has read hidden (see `crate::redact`).
fn clip(text: &str) -> String {
    let text = &*crate::redact::text(text);
    if text.chars().count() <= MAX_MESSAGE_CHARS {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(MAX_MESSAGE_CHARS).collect();
    cut.push_str(" …(cut)");
    cut
}

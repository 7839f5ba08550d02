//! A run's link to the ledger: written as `running` when it starts, each item recorded the
//! moment the script reports it (so a run killed midway keeps its finished items), finalized
//! when it ends. A dry run records nothing but still knows which items earlier runs did.

use super::{
    Address, ItemRecord, ItemState, LResult, RunEnd, RunLog, RunStart, now, open, open_existing,
};
use std::cell::RefCell;
use std::collections::HashSet;

pub struct Recorder {
    /// `None` for a dry run.
    store: Option<RefCell<Box<dyn RunLog>>>,
    run_id: String,
    done_before: HashSet<String>,
    /// Started in an earlier run and never finished: look before doing again.
    unfinished_before: HashSet<String>,
    done_now: RefCell<HashSet<String>>,
    location: String,
}

impl Recorder {
    /// Opens the ledger and writes the run as started.
    pub fn start(ledger: &Address, start: &RunStart) -> LResult<Recorder> {
        let mut store: Box<dyn RunLog> = open(ledger)?;
        let done_before = store.done_keys(&start.scenario_id)?;
        let unfinished_before = store.unfinished_keys(&start.scenario_id)?;
        store.begin_run(start)?;
        Ok(Recorder {
            location: store.location(),
            store: Some(RefCell::new(store)),
            run_id: start.run_id.clone(),
            done_before,
            unfinished_before,
            done_now: RefCell::default(),
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
            run_id: String::new(),
            done_before,
            unfinished_before,
            done_now: RefCell::default(),
            location: ledger.to_string(),
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
        let state = match state {
            ItemState::Failed(reason) => ItemState::Failed(clip(&reason)),
            other => other,
        };
        if let Some(store) = &self.store {
            store.borrow_mut().record_item(
                &self.run_id,
                &ItemRecord {
                    key: key.to_string(),
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

/// A message cut to `MAX_MESSAGE_CHARS`, marked where it was cut.
fn clip(text: &str) -> String {
    if text.chars().count() <= MAX_MESSAGE_CHARS {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(MAX_MESSAGE_CHARS).collect();
    cut.push_str(" …(cut)");
    cut
}

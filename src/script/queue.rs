//! `queue::` — work items from the scenario's queue: claimed one at a time (no other robot PC
//! gets the same item), ended as done or failed, each recorded as the run's item.

use crate::ledger::{FailureKind, ItemEnd, QueueItem};
use crate::script::context::{RhaiResult, located, run_context, script_error};
use rhai::plugin::*;
use rhai::{INT, Map};

/// An item as the script sees it: its row (column → value) and `key`.
fn item_map(item: &QueueItem) -> Map {
    let mut map = Map::new();
    if let Ok(serde_json::Value::Object(row)) = serde_json::from_str(&item.data) {
        for (column, value) in row {
            let value = match value {
                serde_json::Value::Null => Dynamic::UNIT,
                serde_json::Value::Bool(b) => Dynamic::from(b),
                serde_json::Value::Number(n) => match n.as_i64() {
                    Some(i) => Dynamic::from(i as INT),
                    None => Dynamic::from(n.as_f64().unwrap_or_default()),
                },
                serde_json::Value::String(s) => Dynamic::from(s),
                other => Dynamic::from(other.to_string()),
            };
            map.insert(column.into(), value);
        }
    }
    map.insert("key".into(), Dynamic::from(item.key.clone()));
    map
}

/// The key of an item given as the map `queue::next()` returned, or as its key.
fn key_of(item: &Dynamic) -> RhaiResult<String> {
    if let Some(map) = item.read_lock::<Map>() {
        return match map.get("key") {
            Some(key) if !key.is_unit() => Ok(key.to_string()),
            _ => Err(script_error(
                "this map has no \"key\": pass the item queue::next() returned",
            )),
        };
    }
    if item.is_unit() {
        return Err(script_error(
            "the item is () — queue::next() returns () when the queue is empty; stop there",
        ));
    }
    Ok(item.to_string())
}

#[export_module]
pub mod queue_api {
    use super::*;

    /// Takes the next item from the scenario's work queue (`[queue] name = "…"` in
    /// scenario.toml, filled by `kuroko queue add`) and returns it as a map of its row plus
    /// `key`; returns `()` when no item waits. No other run, on this PC or another, gets the
    /// same item. End each with `queue::done` or `queue::failed`: an item the run leaves
    /// unended (it failed or was stopped midway) is set aside as abandoned for a person to
    /// check, never retried by itself.
    ///
    /// ```rhai
    /// loop {
    ///     let item = queue::next();
    ///     if item == () { break; }
    ///     // ... enter item["氏名"], item["住所"] ...
    ///     queue::done(item);
    /// }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn next(ctx: NativeCallContext) -> RhaiResult<Dynamic> {
        located(&ctx, || {
            let run = run_context(&ctx)?;
            Ok(match run.queue_next()? {
                Some(item) => Dynamic::from_map(item_map(&item)),
                None => Dynamic::UNIT,
            })
        })
    }

    /// Ends an item from `queue::next()` as done: it counts as the run's item (time saved), in
    /// the same step. Takes the item map (or its key). Returns how many items are done so far.
    ///
    /// ```rhai
    /// let item = queue::next();
    /// if item != () { queue::done(item); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn done(ctx: NativeCallContext, item: Dynamic) -> RhaiResult<INT> {
        located(&ctx, || {
            let run = run_context(&ctx)?;
            let key = key_of(&item)?;
            Ok(run.queue_end(&key, ItemEnd::Done)? as INT)
        })
    }

    /// Ends an item from `queue::next()` as failed, with the reason, as an application failure
    /// (the system misbehaved; a person may retry it with `kuroko queue retry`). Returns how
    /// many items have failed so far.
    ///
    /// ```rhai
    /// let item = queue::next();
    /// if item != () { queue::failed(item, "業務システムが応答しません"); }
    /// ```
    #[rhai_fn(name = "failed", return_raw)]
    pub fn failed(ctx: NativeCallContext, item: Dynamic, reason: &str) -> RhaiResult<INT> {
        located(&ctx, || fail(&ctx, &item, reason, FailureKind::Application))
    }

    /// Ends an item as failed, saying which kind: `#{ kind: "business" }` when the data is
    /// wrong (住所不明: a person fixes the data) or `#{ kind: "application" }` when the system
    /// misbehaved.
    ///
    /// ```rhai
    /// let item = queue::next();
    /// if item != () { queue::failed(item, "住所不明", #{ kind: "business" }); }
    /// ```
    #[rhai_fn(name = "failed", return_raw)]
    pub fn failed_with(
        ctx: NativeCallContext,
        item: Dynamic,
        reason: &str,
        options: Map,
    ) -> RhaiResult<INT> {
        located(&ctx, || {
            let mut kind = FailureKind::Application;
            for (name, value) in &options {
                match name.as_str() {
                    "kind" => {
                        let text = value.to_string();
                        kind = FailureKind::parse(&text).ok_or_else(|| {
                            script_error(format!(
                                "kind {text:?}: expected \"business\" (the data is wrong) or \
                                 \"application\" (the system misbehaved)"
                            ))
                        })?;
                    }
                    other => {
                        return Err(script_error(format!(
                            "unknown option {other:?} for queue::failed (it takes kind)"
                        )));
                    }
                }
            }
            fail(&ctx, &item, reason, kind)
        })
    }
}

fn fail(
    ctx: &NativeCallContext,
    item: &Dynamic,
    reason: &str,
    kind: FailureKind,
) -> RhaiResult<INT> {
    let run = run_context(ctx)?;
    let key = key_of(item)?;
    if reason.trim().is_empty() {
        return Err(script_error(
            "say why the item failed (a person reads it in the queue)",
        ));
    }
    Ok(run.queue_end(
        &key,
        ItemEnd::Failed {
            kind,
            reason: reason.to_string(),
        },
    )? as INT)
}

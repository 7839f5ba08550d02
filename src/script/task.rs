//! `task::` — items processed (the basis of time saved) and run variables.

use crate::script::context::{RhaiResult, located, run_context, script_error};
use rhai::INT;
use rhai::plugin::*;

fn key_text(key: &Dynamic) -> RhaiResult<String> {
    if key.is_unit() {
        return Err(script_error(
            "the item key is empty (()); use e.g. the application number",
        ));
    }
    let text = key.to_string();
    if text.trim().is_empty() {
        return Err(script_error(
            "the item key is an empty string; use e.g. the application number",
        ));
    }
    let chars = text.chars().count();
    if chars > MAX_KEY_CHARS {
        return Err(script_error(format!(
            "the item key is {chars} characters long; keys are at most {MAX_KEY_CHARS} (use e.g. the application number)"
        )));
    }
    Ok(text)
}

/// The longest item key (the ledger keeps every key, and the report lists failed ones).
const MAX_KEY_CHARS: usize = 256;

#[export_module]
pub mod task_api {
    use super::*;

    /// Records that one item (one application, one row) was processed. The key identifies it
    /// (a number or text, e.g. the 受付番号); the count is what time saved is computed from.
    /// Returns how many items are done so far in this run.
    ///
    /// ```rhai
    /// task::item_done("R6-000123");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn item_done(ctx: NativeCallContext, key: Dynamic) -> RhaiResult<INT> {
        located(&ctx, || {
            let run = run_context(&ctx)?;
            let key = key_text(&key)?;
            Ok(run.item_done(key)? as INT)
        })
    }

    /// Says how many items this run has in all (e.g. the rows read), so the launcher can show
    /// "12 / 60" and a better estimate of the time left. Call it again when the number changes.
    ///
    /// ```rhai
    /// let rows = sheet::read("input/申請.xlsx");
    /// task::set_total(rows.len());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn set_total(ctx: NativeCallContext, items: INT) -> RhaiResult<()> {
        located(&ctx, || {
            let items = u64::try_from(items).map_err(|_| {
                script_error(format!(
                    "the number of items must be 0 or more, not {items}"
                ))
            })?;
            run_context(&ctx)?.set_total(items);
            Ok(())
        })
    }

    /// Records that one item could not be processed, and why; the run goes on. Failed items
    /// count toward no time saved. Returns how many items have failed so far.
    ///
    /// ```rhai
    /// task::item_failed("R6-000124", "address not found in the system");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn item_failed(ctx: NativeCallContext, key: Dynamic, reason: &str) -> RhaiResult<INT> {
        located(&ctx, || {
            let run = run_context(&ctx)?;
            let key = key_text(&key)?;
            Ok(run.item_failed(key, reason.to_string())? as INT)
        })
    }

    /// Whether this scenario has already done the item with this key — in this run or in an
    /// earlier one recorded in the ledger (also one that was stopped or interrupted). Use it to
    /// re-run after a stop without entering anything twice. A dry run reads the ledger too.
    ///
    /// ```rhai
    /// for row in sheet::read("input/申請.xlsx") {
    ///     let no = row["受付番号"];
    ///     if task::is_done(no) { continue; }   // entered by an earlier run
    ///     // ... enter the application ...
    ///     task::item_done(no);
    /// }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn is_done(ctx: NativeCallContext, key: Dynamic) -> RhaiResult<bool> {
        located(&ctx, || {
            let run = run_context(&ctx)?;
            let key = key_text(&key)?;
            Ok(run.recorder.is_done(&key))
        })
    }

    /// Records that the step which cannot be undone is about to happen for this item (e.g.
    /// pressing 登録). If the run is stopped or killed before `item_done`/`item_failed`, the
    /// next run's `task::is_unfinished(key)` is true: the item may or may not have been
    /// registered, and the script should look in the target system before entering it again.
    ///
    /// ```rhai
    /// task::item_started("R6-000123");
    /// // screen::click_image("images/登録.png"); screen::wait_for("images/登録しました.png");
    /// task::item_done("R6-000123");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn item_started(ctx: NativeCallContext, key: Dynamic) -> RhaiResult<()> {
        located(&ctx, || {
            let run = run_context(&ctx)?;
            let key = key_text(&key)?;
            run.recorder
                .item(&key, crate::ledger::ItemState::Started)
                .map_err(|e| script_error(format!("item {key:?} could not be recorded: {e}")))?;
            run.events
                .emit(crate::events::RunEvent::ItemStarted { key });
            Ok(())
        })
    }

    /// Whether an earlier run of this scenario called `task::item_started(key)` and then
    /// stopped (a stop request, a failure, a killed process) before the item was done or
    /// failed. Such an item may already be in the target system: check there first.
    ///
    /// ```rhai
    /// let no = "R6-000123";
    /// if task::is_unfinished(no) {
    ///     log::warn(`${no}: the last run stopped while registering it; looking it up first`);
    /// }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn is_unfinished(ctx: NativeCallContext, key: Dynamic) -> RhaiResult<bool> {
        located(&ctx, || {
            let run = run_context(&ctx)?;
            let key = key_text(&key)?;
            Ok(run.recorder.is_unfinished(&key))
        })
    }

    /// A run variable given with `kuroko run ... --var name=value`; an error if it was not given.
    ///
    /// ```rhai
    /// let month = task::get_var("month");   // kuroko run scenarios/x --var month=2024-04
    /// ```
    #[rhai_fn(name = "get_var", return_raw)]
    pub fn get_var(ctx: NativeCallContext, name: &str) -> RhaiResult<Dynamic> {
        located(&ctx, || {
            let run = run_context(&ctx)?;
            run.vars.get(name).cloned().ok_or_else(|| {
                let given: Vec<String> = run.vars.keys().map(|k| k.to_string()).collect();
                script_error(format!(
                    "no run variable {name:?} (given: {}); pass it with --var {name}=...",
                    if given.is_empty() {
                        "none".to_string()
                    } else {
                        given.join(", ")
                    }
                ))
            })
        })
    }

    /// A run variable, or `default` when it was not given.
    ///
    /// ```rhai
    /// let limit = task::get_var("limit", "100").parse_int();
    /// ```
    #[rhai_fn(name = "get_var", return_raw)]
    pub fn var_or(ctx: NativeCallContext, name: &str, default: Dynamic) -> RhaiResult<Dynamic> {
        located(&ctx, || {
            let run = run_context(&ctx)?;
            Ok(run.vars.get(name).cloned().unwrap_or(default))
        })
    }
}

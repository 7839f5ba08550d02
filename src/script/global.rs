//! Functions without a namespace: `sleep` and `fail`.

use crate::script::context::{RhaiResult, located, run_context, script_error};
use rhai::INT;
use rhai::plugin::*;
use std::time::Duration;

#[export_module]
pub mod global_api {
    use super::*;

    /// Waits `ms` milliseconds. A stop request ends the wait at once; a dry run does not wait.
    ///
    /// ```rhai
    /// keyboard::press("Enter");
    /// sleep(500);   // give the system half a second to save
    /// ```
    #[rhai_fn(return_raw)]
    pub fn sleep(ctx: NativeCallContext, ms: INT) -> RhaiResult<()> {
        located(&ctx, || {
            let run = run_context(&ctx)?;
            if !(0..=86_400_000).contains(&ms) {
                return Err(script_error(format!(
                    "sleep({ms}): milliseconds must be between 0 and 86400000"
                )));
            }
            run.action(format!("sleep {ms} ms"));
            run.sleep(Duration::from_millis(ms as u64))
        })
    }

    /// Ends the run as failed with `message` (shown to the clerk, kept in the run log, with a
    /// screenshot of the screen at that moment).
    ///
    /// ```rhai
    /// if !window::exists("住民記録") {
    ///     fail("the 住民記録 system is not open");
    /// }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn fail(message: &str) -> RhaiResult<()> {
        Err(script_error(message.to_string()))
    }
}

//! `log::` — messages for the run log and the terminal (`print` and `debug` go there too).

use crate::events::Level;
use crate::script::context::{RhaiResult, located, run_context};
use rhai::plugin::*;

#[export_module]
pub mod log_api {
    use super::*;

    /// Writes an informational line to the run log and the terminal.
    ///
    /// ```rhai
    /// log::info("starting the April batch");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn info(ctx: NativeCallContext, message: &str) -> RhaiResult<()> {
        located(&ctx, || {
            run_context(&ctx)?.log(Level::Info, message);
            Ok(())
        })
    }

    /// Writes a warning: something the clerk should look at, though the run goes on.
    ///
    /// ```rhai
    /// log::warn("row 12 has no birth date; left blank");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn warn(ctx: NativeCallContext, message: &str) -> RhaiResult<()> {
        located(&ctx, || {
            run_context(&ctx)?.log(Level::Warn, message);
            Ok(())
        })
    }
}

//! Exit codes, in one place, because clerks' batch files and the launcher branch on them.

/// The run succeeded (or `check` found no problem).
pub const SUCCEEDED: i32 = 0;
/// The run failed: a script error, `fail(...)`, a timeout, or `check` found problems.
pub const FAILED: i32 = 1;
/// The command line, the manifest or the scenario path is wrong; nothing was run.
pub const USAGE: i32 = 2;
/// The run was stopped by a person or the launcher: Ctrl+C, the abort hotkey, the
/// failsafe corner, or SIGTERM.
pub const ABORTED: i32 = 3;
/// The environment is missing something the run needs (no display, run folder not writable).
pub const ENVIRONMENT: i32 = 4;

//! Builds the Rhai engine every scenario runs in: kuroko's API and nothing else that reaches
//! outside (no module loading, no `eval`), limits on operations and call depth, the
//! abort signal checked between operations, and `print`/`debug` sent to the run log.

mod errors;
mod lint;
pub mod reference;

use std::rc::Rc;

use rhai::{AST, Dynamic, Engine, Scope};

pub use errors::{Failure, ScriptError, from_eval, from_parse};
pub use lint::lint;

use crate::events::Level;
use crate::script::RunContext;

/// Operation limit when the manifest sets none: far above a real scenario's needs (a row
/// typed into a form is a few hundred operations), low enough to end an endless loop.
pub const DEFAULT_MAX_OPERATIONS: u64 = 100_000_000;

/// Memory limit when the manifest sets none: the heap the whole run may hold, far above what a
/// real scenario needs (a 100,000-row table is tens of MB), far below what a clerk's PC has.
pub const DEFAULT_MAX_MEMORY_MB: u64 = 1024;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_operations: u64,
    /// The process's heap, checked between script operations.
    pub max_memory_mb: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_operations: DEFAULT_MAX_OPERATIONS,
            max_memory_mb: DEFAULT_MAX_MEMORY_MB,
        }
    }
}

/// An engine with the sandbox and limits; `run` is the context bound functions use (none for
/// `check` and `docs`, which never call them).
pub fn build(run: Option<Rc<RunContext>>, limits: Limits) -> Engine {
    let mut engine = Engine::new();
    engine.set_module_resolver(rhai::module_resolvers::DummyModuleResolver::new());
    engine.disable_symbol("eval");
    // Undefined variables and namespaces are compile errors, found by `check` before a run.
    engine.set_strict_variables(true);
    // `goto` is reserved by Rhai for a statement it does not have; kuroko's pages need it as
    // a method name (`b.goto(url)`, as in every browser automation tool).
    #[allow(deprecated)]
    engine.on_parse_token(|token, _, _| match token {
        rhai::Token::Reserved(word) if word.as_str() == "goto" => rhai::Token::Identifier(word),
        other => other,
    });
    engine.set_max_operations(limits.max_operations);
    engine.set_max_call_levels(64);
    engine.set_max_expr_depths(128, 64);
    // No string/array/map size limits: Rhai enforces them by walking the whole value after
    // every change, which made building a 100,000-row table quadratic (over 2 minutes, measured
    // with benches/sheets.rs). Instead the heap the process holds is checked between
    // operations (one atomic load); with the operation limit and the run timeout it bounds
    // runaway scripts.
    crate::script::register(&mut engine);
    if let Some(run) = run {
        let abort = run.abort.clone();
        let max_bytes =
            usize::try_from(limits.max_memory_mb.saturating_mul(1 << 20)).unwrap_or(usize::MAX);
        engine.on_progress(move |_| {
            if crate::memory::held_bytes() > max_bytes && !abort.is_requested() {
                abort.request(crate::abort::AbortReason::Memory {
                    limit_mb: limits.max_memory_mb,
                });
            }
            abort.is_requested().then(|| Dynamic::from("aborted"))
        });
        let printer = run.clone();
        engine.on_print(move |text| printer.log(Level::Info, text));
        let debugger = run.clone();
        engine.on_debug(move |text, _source, pos| {
            debugger.log(
                Level::Info,
                format!(
                    "debug ({}:{}): {text}",
                    pos.line().unwrap_or(0),
                    pos.position().unwrap_or(0)
                ),
            )
        });
        engine.set_default_tag(Dynamic::from(run));
    }
    engine
}

/// The scope every script starts with: the constant map `VARS` of run variables.
pub fn scope(vars: rhai::Map) -> Scope<'static> {
    let mut scope = Scope::new();
    scope.push_constant("VARS", vars);
    scope
}

/// Compiles a script; `file` is how errors name it.
pub fn compile(engine: &Engine, file: &str, source: &str) -> Result<AST, ScriptError> {
    // A variable (not a constant) at compile time, so the optimizer does not fold in an empty map.
    let mut compile_scope = Scope::new();
    compile_scope.push("VARS", rhai::Map::new());
    engine
        .compile_with_scope(&compile_scope, source)
        .map_err(|e| from_parse(file, &e))
}

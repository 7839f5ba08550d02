//! Turning Rhai's errors into what a scenario author needs: `file:line:column: message`, the
//! innermost failing call first, and for a call with wrong argument types, the signatures
//! that do exist.

use std::fmt;

use rhai::{EvalAltResult, ParseError, Position};

/// A script problem with its place in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        } else {
            write!(f, "{}: {}", self.file, self.message)
        }
    }
}

impl ScriptError {
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.file, self.line, self.column)
    }
}

/// How a script run ended when it did not succeed.
#[derive(Debug, Clone)]
pub enum Failure {
    /// Stopped through the abort signal; `at` is where the script was.
    Aborted {
        at: ScriptError,
    },
    Failed(ScriptError),
}

fn place(pos: Position) -> (usize, usize) {
    (pos.line().unwrap_or(0), pos.position().unwrap_or(0))
}

pub fn from_parse(file: &str, e: &ParseError) -> ScriptError {
    let (line, column) = place(e.position());
    ScriptError {
        file: file.to_string(),
        line,
        column,
        message: format!("syntax error: {}", e.err_type()),
    }
}

/// Strips Rhai's own " (line x, position y)" suffix; we print positions ourselves.
fn without_position(text: String) -> String {
    match text.rfind(" (line ") {
        Some(i) if text.ends_with(')') => text[..i].to_string(),
        _ => text,
    }
}

/// `signatures` are the API's own (e.g. "mouse::click(x: i64, y: i64)"), used to explain a
/// call with the wrong argument types.
pub fn from_eval(file: &str, e: &EvalAltResult, signatures: &[String]) -> Failure {
    let mut err = e;
    let mut called_from = Vec::new();
    while let EvalAltResult::ErrorInFunctionCall(name, _, inner, pos) = err {
        let (l, c) = place(*pos);
        called_from.push(format!("in `{name}` called at {l}:{c}"));
        err = inner;
    }
    let (line, column) = place(err.position());
    let mut message = match err {
        EvalAltResult::ErrorRuntime(value, _) => value.to_string(),
        EvalAltResult::ErrorTooManyOperations(_) => {
            "the script ran more operations than allowed (an endless loop?); raise `max_operations` in scenario.toml if the work is really that long".into()
        }
        EvalAltResult::ErrorStackOverflow(_) => {
            "functions call each other too deeply (endless recursion?)".into()
        }
        EvalAltResult::ErrorFunctionNotFound(sig, _) => function_not_found(sig, signatures),
        EvalAltResult::ErrorModuleNotFound(name, _) => format!(
            "`import {name:?}` is not allowed: scenarios cannot load modules (the sandbox allows only kuroko's own functions)"
        ),
        other => without_position(other.to_string()),
    };
    if !called_from.is_empty() {
        message.push_str(&format!(" ({})", called_from.join(", ")));
    }
    let at = ScriptError {
        file: file.to_string(),
        line,
        column,
        message,
    };
    if matches!(err, EvalAltResult::ErrorTerminated(..)) {
        Failure::Aborted { at }
    } else {
        Failure::Failed(at)
    }
}

fn function_not_found(sig: &str, signatures: &[String]) -> String {
    let name = sig.split([' ', '(']).next().unwrap_or(sig);
    let same_name: Vec<&String> = signatures
        .iter()
        .filter(|s| s.split('(').next() == Some(name))
        .collect();
    if same_name.is_empty() {
        let names: Vec<&str> = signatures
            .iter()
            .filter_map(|s| s.split('(').next())
            .collect();
        format!("no function {sig}{}", crate::suggest::hint(name, names))
    } else {
        format!(
            "wrong arguments: {sig}; expected {}",
            same_name
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" or ")
        )
    }
}

//! The one error type for everything that stops a command before or around a run (the run's
//! own outcome is `events::Outcome`). It wraps the lower layers' own errors (scenario, script,
//! ledger) and knows each one's exit code; nothing below the commands imports it.

use std::path::PathBuf;

use crate::exit;
use crate::scenario::ScenarioError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{message}")]
    Usage { message: String },

    /// The scenario does not load (not found, a bad `scenario.toml`, unreadable).
    #[error(transparent)]
    Scenario(#[from] ScenarioError),

    #[error("{0}")]
    Script(crate::engine::ScriptError),

    #[error("{count} problem(s) found")]
    CheckFailed { count: usize },

    #[error("desktop unavailable: {message}")]
    Desktop { message: String },

    #[error("{message}")]
    Ledger { message: String },

    /// The launcher's web server could not start or stopped.
    #[error("{message}")]
    Server { message: String },

    /// An input file (e.g. a ledger import) was refused; nothing was changed.
    #[error("{message}")]
    Refused { message: String },

    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub fn code(&self) -> i32 {
        match self {
            Error::Usage { .. }
            | Error::Scenario(
                ScenarioError::NotFound { .. }
                | ScenarioError::Manifest { .. }
                | ScenarioError::Text { .. },
            ) => exit::USAGE,
            Error::Scenario(ScenarioError::Io { .. }) => exit::ENVIRONMENT,
            Error::Script(_) | Error::CheckFailed { .. } | Error::Refused { .. } => exit::FAILED,
            Error::Desktop { .. }
            | Error::Io { .. }
            | Error::Ledger { .. }
            | Error::Server { .. } => exit::ENVIRONMENT,
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage {
            message: message.into(),
        }
    }
}

impl From<crate::ledger::LedgerError> for Error {
    fn from(e: crate::ledger::LedgerError) -> Self {
        Error::Ledger { message: e.0 }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

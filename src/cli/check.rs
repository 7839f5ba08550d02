//! `kuroko check`: every problem in a scenario's manifest and script, with file:line:column,
//! without touching the desktop.

use std::path::PathBuf;

use crate::engine::{self, Limits};
use crate::error::{Error, Result};
use crate::run::display_path;
use crate::scenario::{SCRIPT_FILE, Scenario, ScenarioError};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A scenario folder or a .rhai file.
    path: PathBuf,
}

/// `kuroko check` of a folder (what `kuroko record` runs on what it wrote).
pub fn check_folder(path: &std::path::Path) -> Result<i32> {
    execute(Args {
        path: path.to_path_buf(),
    })
}

pub fn execute(args: Args) -> Result<i32> {
    let mut problems: Vec<String> = Vec::new();
    let (script_path, loaded) = match Scenario::load(&args.path) {
        Ok(scenario) => (scenario.script_path.clone(), Some(scenario)),
        Err(ScenarioError::Manifest {
            path,
            problems: found,
        }) => {
            problems.extend(found.iter().map(|p| {
                format!(
                    "{}:{}:{}: {}",
                    display_path(&path),
                    p.line,
                    p.column,
                    p.message
                )
            }));
            (args.path.join(SCRIPT_FILE), None)
        }
        Err(e) => return Err(e.into()),
    };
    let label = display_path(&script_path);
    let source = match loaded {
        Some(scenario) => scenario.script()?,
        // A broken manifest: the script is still checked.
        None => crate::scenario::read_text(&script_path)?,
    };
    let engine = engine::build(None, Limits::default());
    if let Err(e) = engine::compile(&engine, &label, &source) {
        problems.push(e.to_string());
    }
    let api = engine::reference::collect();
    let base = script_path.parent().map(std::path::Path::to_path_buf);
    let found = engine::lint(&label, &source, &api, base.as_deref());
    problems.extend(found.iter().map(|e| e.to_string()));

    if problems.is_empty() {
        println!("ok: {}", display_path(&args.path));
        Ok(crate::exit::SUCCEEDED)
    } else {
        for p in &problems {
            eprintln!("{p}");
        }
        Err(Error::CheckFailed {
            count: problems.len(),
        })
    }
}

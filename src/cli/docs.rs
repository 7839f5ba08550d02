//! `kuroko docs`: write the scripting reference generated from the API's doc comments.

use std::path::PathBuf;

use crate::error::{Error, Result};

pub const REFERENCE_FILE: &str = "scripting-reference.md";

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The folder to write scripting-reference.md into [default: docs].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

pub fn execute(args: Args) -> Result<i32> {
    let dir = args.out.unwrap_or_else(|| PathBuf::from("docs"));
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let path = dir.join(REFERENCE_FILE);
    crate::files::write_atomic(&path, crate::docs::markdown().as_bytes()).map_err(Error::usage)?;
    println!("{}", path.display());
    Ok(crate::exit::SUCCEEDED)
}

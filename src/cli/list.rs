//! `kuroko list`: the saved scenarios in a folder, with their baselines.

use std::path::PathBuf;

use crate::error::Result;
use crate::exit;
use crate::scenario;
use crate::text_table;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The folder holding scenario folders [default: scenarios].
    dir: Option<PathBuf>,
}

pub fn execute(args: Args) -> Result<i32> {
    let dir = args.dir.unwrap_or_else(super::default_scenarios_dir);
    let mut broken = 0;
    let rows: Vec<Vec<String>> = scenario::list(&dir)?
        .into_iter()
        .filter_map(|s| match s {
            Ok(s) => {
                let m = &s.manifest;
                Some(vec![
                    m.id.clone(),
                    m.name.clone(),
                    m.department.clone(),
                    m.task.clone(),
                    format!("{}", m.manual_minutes_per_item),
                    m.mode.as_str().to_string(),
                ])
            }
            Err(e) => {
                broken += 1;
                eprintln!("kuroko: {e}");
                None
            }
        })
        .collect();
    let header = ["id", "name", "department", "task", "min/item", "mode"].map(String::from);
    print!("{}", text_table::table(&header, &rows, &[]));
    if rows.is_empty() && broken == 0 {
        eprintln!("no scenarios in {}", dir.display());
    }
    Ok(if broken > 0 {
        exit::FAILED
    } else {
        exit::SUCCEEDED
    })
}

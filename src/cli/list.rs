//! `kuroko list`: the saved scenarios in a folder, with their baselines.

use std::path::PathBuf;

use crate::error::Result;
use crate::exit;
use crate::scenario;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The folder holding scenario folders [default: scenarios].
    dir: Option<PathBuf>,
}

pub fn execute(args: Args) -> Result<i32> {
    let dir = args.dir.unwrap_or_else(super::default_scenarios_dir);
    let mut broken = 0;
    let rows: Vec<[String; 6]> = scenario::list(&dir)?
        .into_iter()
        .filter_map(|s| match s {
            Ok(s) => {
                let m = &s.manifest;
                Some([
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
    print!("{}", crate::cli::list::table(&header, &rows));
    if rows.is_empty() && broken == 0 {
        eprintln!("no scenarios in {}", dir.display());
    }
    Ok(if broken > 0 {
        exit::FAILED
    } else {
        exit::SUCCEEDED
    })
}

/// Display width: East Asian wide characters take two terminal columns.
pub fn width(text: &str) -> usize {
    text.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F
            | 0x2E80..=0x303E
            | 0x3041..=0x33FF
            | 0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xA000..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6
            | 0x20000..=0x3FFFD => 2,
            _ => 1,
        })
        .sum()
}

/// A plain aligned table.
pub fn table<const N: usize>(header: &[String; N], rows: &[[String; N]]) -> String {
    let mut widths: [usize; N] = std::array::from_fn(|i| width(&header[i]));
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(width(cell));
        }
    }
    let line = |cells: &[String; N]| {
        let mut s = String::new();
        for (i, cell) in cells.iter().enumerate() {
            s.push_str(cell);
            if i + 1 < N {
                s.push_str(&" ".repeat(widths[i] - width(cell) + 2));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(header);
    for row in rows {
        out.push_str(&line(row));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_japanese_as_two_columns() {
        assert_eq!(width("市民課"), 6);
        let t = table(
            &["a".into(), "b".into()],
            &[["市民課".into(), "x".into()], ["ab".into(), "y".into()]],
        );
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[1], "市民課  x");
        assert_eq!(lines[2], "ab      y");
    }
}

//! `kuroko record <dir>`: records a task done once on this desktop and writes it as a scenario
//! folder that `kuroko check` passes; with `--data`, one recorded application becomes a loop
//! over every row of the sheet.

use std::path::{Path, PathBuf};

use crate::abort::AbortSignal;
use crate::error::{Error, Result};
use crate::record::script::{self, Data, DataCell, Metadata};
use crate::sheets::{ReadOptions, Value};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The scenario folder to write (new, or empty).
    dir: PathBuf,
    /// The scenario's name as clerks see it [default: the folder's name].
    #[arg(long)]
    name: Option<String>,
    /// The scenario id (a-z, 0-9, '-', '_') [default: from the folder's name].
    #[arg(long)]
    id: Option<String>,
    /// The 課 the time saved counts for.
    #[arg(long, default_value = "")]
    department: String,
    /// The 業務 the time saved counts for.
    #[arg(long, default_value = "")]
    task: String,
    /// A sheet (xlsx, xls, ods, csv) whose first data row is what you type while recording:
    /// the scenario then enters every row. It is copied into the scenario's input folder.
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// The column that names an item (recorded done once entered) [default: the first].
    #[arg(long, value_name = "COLUMN", requires = "data")]
    key: Option<String>,
}

/// A scenario id from a folder name: its ASCII letters and digits, else one from the time.
fn id_from(dir: &Path) -> String {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let id: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if id.is_empty() {
        format!("recorded-{}", chrono::Local::now().format("%Y%m%d-%H%M"))
    } else {
        id.chars().take(40).collect()
    }
}

fn cell_text(v: &Value) -> Option<(String, bool)> {
    match v {
        Value::Text(t) => Some((t.clone(), true)),
        Value::Int(i) => Some((i.to_string(), false)),
        Value::Float(f) => Some((f.to_string(), false)),
        Value::Date(d) => Some((d.to_string(), false)),
        Value::Bool(_) | Value::Empty => None,
    }
}

/// The first data row of `--data`, checked before anything is recorded.
fn read_data(path: &Path, key: Option<&str>) -> Result<Data> {
    let label = path.display().to_string();
    let table = crate::sheets::read::read(path, &label, &ReadOptions::default())
        .map_err(|e| Error::usage(format!("--data: {e}")))?;
    let Some(row) = table.rows.first() else {
        return Err(Error::usage(format!(
            "--data {label}: the sheet has no data row under its header: type the first row's \
             values while recording"
        )));
    };
    let key = match key {
        Some(k) if table.headers.iter().any(|h| h == k) => k.to_string(),
        Some(k) => {
            return Err(Error::usage(format!(
                "--key {k:?} is not a column of {label}{}; its columns are {}",
                crate::suggest::hint(k, table.headers.iter().map(String::as_str)),
                table.headers.join(", ")
            )));
        }
        None => table.headers.first().cloned().unwrap_or_default(),
    };
    let first_row = table
        .headers
        .iter()
        .zip(row)
        .filter_map(|(column, v)| {
            cell_text(v).map(|(value, text)| DataCell {
                column: column.clone(),
                value,
                text,
            })
        })
        .collect();
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Data {
        path: format!("input/{file}"),
        first_row,
        key,
    })
}

fn write(target: &Path, bytes: &[u8]) -> Result<()> {
    crate::files::write_atomic(target, bytes).map_err(|message| Error::Server {
        message: format!("{}: {message}", target.display()),
    })
}

pub fn execute(args: Args) -> Result<i32> {
    let dir = args.dir;
    if dir.exists()
        && std::fs::read_dir(&dir)
            .map_err(|e| Error::io(&dir, e))?
            .next()
            .is_some()
    {
        return Err(Error::usage(format!(
            "{} is not empty: record into a new folder (nothing there is overwritten)",
            dir.display()
        )));
    }
    let folder_name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "記録したシナリオ".into());
    let meta = Metadata {
        id: args.id.unwrap_or_else(|| id_from(&dir)),
        name: args.name.unwrap_or(folder_name),
        department: args.department,
        task: args.task,
        recorded_at: chrono::Local::now().format("%Y-%m-%d %H:%M").to_string(),
    };
    // The manifest is checked before the person spends time on the recording.
    crate::scenario::Manifest::parse(&script::scenario_toml(&meta, None)).map_err(|problems| {
        Error::usage(
            problems
                .iter()
                .map(|p| p.message.clone())
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    let data = match &args.data {
        Some(path) => Some(read_data(path, args.key.as_deref())?),
        None => None,
    };

    let desktop_error = |e: crate::desktop::DesktopError| Error::Desktop { message: e.0 };
    let mut desktop = crate::desktop::connect_real().map_err(desktop_error)?;
    let mut capture = crate::desktop::capture::start().map_err(desktop_error)?;
    let abort = AbortSignal::new();
    let stop = abort.clone();
    ctrlc::set_handler(move || stop.request(crate::abort::AbortReason::Signal)).map_err(|e| {
        Error::Server {
            message: format!("cannot catch Ctrl+C: {e}"),
        }
    })?;
    eprintln!(
        "kuroko record: 記録中です。いつもどおり操作してください。Shift+Esc で終了します（Ctrl+C でも）。"
    );
    let mut n = 0;
    let recording = crate::record::record(&mut desktop, &mut *capture, &abort, &mut |step| {
        n += 1;
        let text = script::main_rhai(&Metadata::default(), std::slice::from_ref(step), None);
        if let Some(line) = text.lines().find(|l| l.starts_with("// 1. ")) {
            eprintln!("  {n}. {}", &line["// 1. ".len()..]);
        }
    })
    .map_err(|message| Error::Desktop { message })?;
    drop(capture);
    for note in &recording.notes {
        eprintln!("kuroko record: {note}");
    }
    if recording.steps.is_empty() {
        return Err(Error::Refused {
            message: "nothing was recorded, so no scenario was written".into(),
        });
    }

    std::fs::create_dir_all(dir.join("images")).map_err(|e| Error::io(&dir, e))?;
    for (name, picture) in &recording.images {
        let target = dir.join(name);
        crate::files::write_png(picture, &target).map_err(|message| Error::Server {
            message: format!("{}: {message}", target.display()),
        })?;
    }
    if let (Some(source), Some(d)) = (&args.data, &data) {
        let target = dir.join(&d.path);
        let bytes = std::fs::read(source).map_err(|e| Error::io(source, e))?;
        std::fs::create_dir_all(dir.join("input")).map_err(|e| Error::io(&dir, e))?;
        write(&target, &bytes)?;
    }
    write(
        &dir.join("scenario.toml"),
        script::scenario_toml(&meta, data.as_ref()).as_bytes(),
    )?;
    write(
        &dir.join(crate::scenario::SCRIPT_FILE),
        script::main_rhai(&meta, &recording.steps, data.as_ref()).as_bytes(),
    )?;
    eprintln!(
        "kuroko record: {} 操作を {} に書きました。scenario.toml の manual_minutes_per_item（手作業で1件に何分か）を記入してください。",
        recording.steps.len(),
        dir.display()
    );
    super::check::check_folder(&dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_from_the_folder_name_or_the_time() {
        assert_eq!(
            id_from(Path::new("scenarios/Juminhyo Nyuryoku")),
            "juminhyo-nyuryoku"
        );
        assert!(id_from(Path::new("scenarios/住民票")).starts_with("recorded-"));
        assert_eq!(id_from(Path::new("x/申請-2024_a")), "2024_a");
    }
}

//! Files a scenario asks for before it runs (`[[ask]]` in scenario.toml): the launcher lists
//! what is in the declared input folder and takes uploads into it — only a plain file name,
//! only the declared file types, only up to the size limit, written whole or not at all.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::scenario::{Ask, Scenario};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InputFile {
    pub name: String,
    pub bytes: u64,
    /// Local time, `YYYY-MM-DD HH:MM`.
    pub modified: String,
}

/// Why a file was refused, and the HTTP status that says so.
#[derive(Debug, PartialEq)]
pub struct Refusal {
    pub status: u16,
    pub message: String,
}

fn refuse(status: u16, message: String) -> Refusal {
    Refusal { status, message }
}

pub fn ask<'a>(scenario: &'a Scenario, var: &str) -> Option<&'a Ask> {
    scenario.manifest.ask.iter().find(|a| a.var == var)
}

/// The files the ask offers, newest first.
pub fn list(scenario: &Scenario, ask: &Ask) -> Vec<InputFile> {
    let folder = scenario.folder(&ask.folder);
    let mut files: Vec<(std::time::SystemTime, InputFile)> = std::fs::read_dir(&folder)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let meta = e.metadata().ok()?;
            (meta.is_file() && acceptable_name(&name) && ask.accepts(&name)).then_some(())?;
            let modified = meta.modified().ok()?;
            Some((
                modified,
                InputFile {
                    name,
                    bytes: meta.len(),
                    modified: chrono::DateTime::<chrono::Local>::from(modified)
                        .format("%Y-%m-%d %H:%M")
                        .to_string(),
                },
            ))
        })
        .collect();
    files.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.name.cmp(&b.1.name)));
    files.into_iter().map(|(_, f)| f).collect()
}

/// A file name a clerk may give: no path, no control characters, no leading dot, no
/// trailing dot or space (Windows drops them), at most 200 bytes.
pub fn acceptable_name(name: &str) -> bool {
    super::evidence::plain_name(name)
        && !name.chars().any(char::is_control)
        && !name.ends_with(['.', ' '])
        && name.trim() == name
}

/// The run variable's value for a chosen file: its path relative to the scenario folder,
/// after checking it is one the ask offers.
pub fn chosen(scenario: &Scenario, ask: &Ask, name: &str) -> Result<String, Refusal> {
    if !acceptable_name(name) || !ask.accepts(name) {
        return Err(refuse(
            400,
            format!(
                "{}: {name:?} is not a {} file name",
                ask.label,
                ask.extensions.join("/")
            ),
        ));
    }
    if !scenario.folder(&ask.folder).join(name).is_file() {
        return Err(refuse(
            400,
            format!("{}: {name:?} is not in {}", ask.label, ask.folder),
        ));
    }
    Ok(format!(
        "{}/{name}",
        ask.folder.trim_end_matches(['/', '\\'])
    ))
}

/// Writes an upload into the ask's folder: to a hidden temporary file first, then linked
/// under its name, so the file is whole or absent, and an existing file is never replaced.
pub fn save(
    scenario: &Scenario,
    ask: &Ask,
    name: &str,
    bytes: &[u8],
) -> Result<InputFile, Refusal> {
    if !acceptable_name(name) {
        return Err(refuse(
            400,
            format!("{name:?}: give a plain file name, without a folder"),
        ));
    }
    if !ask.accepts(name) {
        return Err(refuse(
            400,
            format!(
                "{name:?}: {} takes only {} files",
                ask.label,
                ask.extensions.join(", ")
            ),
        ));
    }
    if bytes.len() as u64 > ask.max_bytes() {
        return Err(refuse(
            413,
            format!(
                "{name:?} is larger than {} MB, the limit for {}",
                ask.max_mb, ask.label
            ),
        ));
    }
    let folder = scenario.folder(&ask.folder);
    let io = |what: &str, path: &Path, e: std::io::Error| {
        refuse(500, format!("{what} {}: {e}", path.display()))
    };
    std::fs::create_dir_all(&folder).map_err(|e| io("cannot make", &folder, e))?;
    let target = folder.join(name);
    if target.exists() {
        return Err(refuse(
            409,
            format!(
                "{name:?} is already in {}: rename the file, or choose the one there",
                ask.folder
            ),
        ));
    }
    let temp = temp_path(&folder);
    let written = write_synced(&temp, bytes).map_err(|e| io("cannot write", &temp, e));
    let linked = written.and_then(|_| match std::fs::hard_link(&temp, &target) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(refuse(
            409,
            format!("{name:?} is already in {}", ask.folder),
        )),
        Err(e) => Err(io("cannot save", &target, e)),
    });
    let _ = std::fs::remove_file(&temp);
    linked?;
    Ok(list(scenario, ask)
        .into_iter()
        .find(|f| f.name == name)
        .unwrap_or(InputFile {
            name: name.to_string(),
            bytes: bytes.len() as u64,
            modified: String::new(),
        }))
}

fn temp_path(folder: &Path) -> PathBuf {
    let mut n = [0u8; 8];
    let _ = getrandom::fill(&mut n);
    folder.join(format!(".upload-{}.part", u64::from_le_bytes(n)))
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(name: &str) -> Scenario {
        let dir = std::env::temp_dir().join(format!("kuroko-inputs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("scenario.toml"),
            "id = \"x\"\nname = \"x\"\nmanual_minutes_per_item = 1\ninputs = [\"input\"]\n\
             [[ask]]\nvar = \"file\"\nlabel = \"申請一覧\"\nfolder = \"input\"\nextensions = [\"csv\"]\nmax_mb = 0.001\n",
        )
        .unwrap();
        std::fs::write(dir.join("main.rhai"), "").unwrap();
        Scenario::load(&dir).unwrap()
    }

    #[test]
    fn an_upload_is_saved_whole_under_a_plain_name_or_refused() {
        let s = scenario("upload");
        let ask = &s.manifest.ask[0];
        let saved = save(&s, ask, "四月分.csv", "番号\n1\n".as_bytes()).unwrap();
        assert_eq!((saved.name.as_str(), saved.bytes), ("四月分.csv", 9));
        assert_eq!(chosen(&s, ask, "四月分.csv").unwrap(), "input/四月分.csv");
        let status = |r: Result<InputFile, Refusal>| r.unwrap_err().status;
        assert_eq!(
            status(save(&s, ask, "四月分.csv", b"other")),
            409,
            "never replaced"
        );
        assert_eq!(
            std::fs::read_to_string(s.folder("input").join("四月分.csv")).unwrap(),
            "番号\n1\n"
        );
        for bad in [
            "../up.csv",
            "/tmp/x.csv",
            "a\\b.csv",
            ".hidden.csv",
            "x.csv.",
            "tab\t.csv",
            "",
        ] {
            assert_eq!(status(save(&s, ask, bad, b"1")), 400, "{bad:?}");
        }
        assert_eq!(status(save(&s, ask, "run.exe", b"1")), 400);
        assert_eq!(status(save(&s, ask, "big.csv", &vec![b'1'; 2000])), 413);
        // Nothing else was left in the folder: no temporary files, no refused uploads.
        let names: Vec<String> = list(&s, ask).into_iter().map(|f| f.name).collect();
        assert_eq!(names, ["四月分.csv"]);
        assert_eq!(std::fs::read_dir(s.folder("input")).unwrap().count(), 1);
        assert_eq!(chosen(&s, ask, "nosuch.csv").unwrap_err().status, 400);
        assert_eq!(chosen(&s, ask, "../scenario.toml").unwrap_err().status, 400);
        let _ = std::fs::remove_dir_all(&s.dir);
    }
}

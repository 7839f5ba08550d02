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
        // Hidden characters make a name read as another (a right-to-left override before
        // "gnp.csv" shows it as "vsc.png").
        && !name.chars().any(crate::scenario::is_hidden_control)
        // What Windows cannot hold in a file name.
        && !name.contains(['<', '>', '"', '|', '?', '*'])
        && !windows_device(name)
        && !name.ends_with(['.', ' '])
        && name.trim() == name
}

/// CON, PRN, AUX, NUL, COM1–9 and LPT1–9 (with any extension) are devices on Windows, not files.
fn windows_device(name: &str) -> bool {
    let stem = name
        .split('.')
        .next()
        .unwrap_or(name)
        .trim_end()
        .to_ascii_uppercase();
    matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ((stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.len() == 4
            && stem.as_bytes()[3].is_ascii_digit()
            && stem.as_bytes()[3] != b'0')
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

/// Writes an upload into the ask's folder as it arrives: to a hidden temporary file first
/// (never more than the ask's `max_mb`: the rest is not read), then linked under its name, so
/// the file is whole or absent, and an existing file is never replaced. `declared` is the
/// size the client announced, refused before anything is read when it is too large.
pub fn save(
    scenario: &Scenario,
    ask: &Ask,
    name: &str,
    source: &mut dyn std::io::Read,
    declared: Option<u64>,
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
    let too_large = || {
        refuse(
            413,
            format!(
                "{name:?} is larger than {} MB, the limit for {}",
                ask.max_mb, ask.label
            ),
        )
    };
    if declared.is_some_and(|n| n > ask.max_bytes()) {
        return Err(too_large());
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
    let written = write_synced(&temp, source, ask.max_bytes())
        .map_err(|e| io("cannot write", &temp, e))
        .and_then(|n| {
            if n > ask.max_bytes() {
                Err(too_large())
            } else {
                Ok(n)
            }
        });
    let size = *written.as_ref().unwrap_or(&0);
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
            bytes: size,
            modified: String::new(),
        }))
}

fn temp_path(folder: &Path) -> PathBuf {
    let mut n = [0u8; 8];
    let _ = getrandom::fill(&mut n);
    folder.join(format!(".upload-{}.part", u64::from_le_bytes(n)))
}

/// Copies at most `max + 1` bytes (one more tells that there were more) and syncs them.
fn write_synced(path: &Path, source: &mut dyn std::io::Read, max: u64) -> std::io::Result<u64> {
    use std::io::Read;
    let mut f = std::fs::File::create(path)?;
    let n = std::io::copy(&mut source.take(max + 1), &mut f)?;
    f.sync_all()?;
    Ok(n)
}

/// An upload's body as it arrives from the connection, read on the thread that writes it: the
/// server holds a few chunks at a time, never the whole file.
pub struct Arriving {
    chunks: tokio::sync::mpsc::Receiver<Result<axum::body::Bytes, String>>,
    current: axum::body::Bytes,
}

impl Arriving {
    pub fn new(chunks: tokio::sync::mpsc::Receiver<Result<axum::body::Bytes, String>>) -> Arriving {
        Arriving {
            chunks,
            current: axum::body::Bytes::new(),
        }
    }
}

impl std::io::Read for Arriving {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.chunks.blocking_recv() {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => return Err(std::io::Error::other(e)),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
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
        let saved = save(&s, ask, "四月分.csv", &mut "番号\n1\n".as_bytes(), None).unwrap();
        assert_eq!((saved.name.as_str(), saved.bytes), ("四月分.csv", 9));
        assert_eq!(chosen(&s, ask, "四月分.csv").unwrap(), "input/四月分.csv");
        let status = |r: Result<InputFile, Refusal>| r.unwrap_err().status;
        assert_eq!(
            status(save(&s, ask, "四月分.csv", &mut &b"other"[..], None)),
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
            "CON.csv",
            "nul.csv",
            "COM1.csv",
            "lpt9.data.csv",
            "a?.csv",
            "a*.csv",
            "a|b.csv",
            "a<b>.csv",
            "\"q\".csv",
            "\u{202E}vsc.png.csv",
            "zero\u{200B}width.csv",
        ] {
            assert_eq!(
                status(save(&s, ask, bad, &mut &b"1"[..], None)),
                400,
                "{bad:?}"
            );
        }
        assert_eq!(status(save(&s, ask, "run.exe", &mut &b"1"[..], None)), 400);
        assert_eq!(
            status(save(&s, ask, "big.csv", &mut &[b'1'; 2000][..], None)),
            413
        );
        // Announced as too large: refused before a byte is read.
        let mut endless = std::io::repeat(b'1');
        assert_eq!(
            status(save(&s, ask, "big.csv", &mut endless, Some(1 << 40))),
            413
        );
        // Not announced, and endless: only max_mb + 1 byte is ever read.
        assert_eq!(status(save(&s, ask, "big.csv", &mut endless, None)), 413);
        // Nothing else was left in the folder: no temporary files, no refused uploads.
        let names: Vec<String> = list(&s, ask).into_iter().map(|f| f.name).collect();
        assert_eq!(names, ["四月分.csv"]);
        assert_eq!(std::fs::read_dir(s.folder("input")).unwrap().count(), 1);
        assert_eq!(chosen(&s, ask, "nosuch.csv").unwrap_err().status, 400);
        assert_eq!(chosen(&s, ask, "../scenario.toml").unwrap_err().status, 400);
        let _ = std::fs::remove_dir_all(&s.dir);
    }
}

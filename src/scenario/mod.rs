//! A saved scenario is a folder (`scenario.toml`, `main.rhai`, `images/`); a bare `.rhai`
//! file is an ad-hoc run. This module finds and loads both, and lists a scenarios folder.

mod manifest;

use std::path::{Path, PathBuf};

pub use manifest::{
    Ask, KNOWN_KEYS, MAX_LABEL_CHARS, MAX_UPLOAD_MB, Manifest, Mode, Problem, is_hidden_control,
    line_column,
};

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("no scenario at {}: {reason}", path.display())]
    NotFound { path: PathBuf, reason: String },

    /// Every problem of a `scenario.toml`, each with its line and column.
    #[error("{}", manifest_problems(path, problems))]
    Manifest {
        path: PathBuf,
        problems: Vec<Problem>,
    },

    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A text file that is not UTF-8, or too large to be a scenario's.
    #[error("{}:{line}: {message}", path.display())]
    Text {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// The largest `main.rhai` (Rhai's parser looks up every new variable among all earlier ones,
/// so time grows with the square of the script's length: 10,000 lines check in about 0.6 s).
pub const MAX_SCRIPT_LINES: usize = 10_000;
/// The largest `main.rhai` or `scenario.toml`, in bytes.
pub const MAX_TEXT_BYTES: u64 = 1024 * 1024;

/// Reads a scenario's text file: UTF-8, with or without a BOM. Another encoding is named with
/// the line where UTF-8 stops, and a file past `MAX_TEXT_BYTES` is refused unread.
pub fn read_text(path: &Path) -> Result<String> {
    let size = std::fs::metadata(path)
        .map_err(|e| ScenarioError::io(path, e))?
        .len();
    let text_error = |line: usize, message: String| ScenarioError::Text {
        path: path.to_path_buf(),
        line,
        message,
    };
    if size > MAX_TEXT_BYTES {
        return Err(text_error(
            1,
            format!(
                "the file is {} KB; a scenario's files are at most {} KB",
                size / 1024,
                MAX_TEXT_BYTES / 1024
            ),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| ScenarioError::io(path, e))?;
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    match std::str::from_utf8(body) {
        Ok(text) => Ok(text.to_string()),
        Err(e) => {
            let line = body[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            let likely = if body.starts_with(b"\xFF\xFE") || body.starts_with(b"\xFE\xFF") {
                "UTF-16"
            } else if encoding_rs::SHIFT_JIS
                .decode_without_bom_handling_and_without_replacement(body)
                .is_some()
            {
                "Shift_JIS"
            } else {
                "an encoding other than UTF-8"
            };
            Err(text_error(
                line,
                format!(
                    "not UTF-8 (it looks like {likely}); save it as UTF-8 (in メモ帳: 名前を付けて保存 → 文字コード UTF-8)"
                ),
            ))
        }
    }
}

impl ScenarioError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        ScenarioError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// The scenario folder the error is about, when it names one.
    pub fn folder(&self) -> Option<&Path> {
        match self {
            ScenarioError::Manifest { path, .. } => path.parent(),
            ScenarioError::NotFound { path, .. } => Some(path.as_path()),
            ScenarioError::Io { .. } | ScenarioError::Text { .. } => None,
        }
    }
}

fn manifest_problems(path: &Path, problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("{}:{}:{}: {}", path.display(), p.line, p.column, p.message))
        .collect::<Vec<_>>()
        .join("\n")
}

pub type Result<T, E = ScenarioError> = std::result::Result<T, E>;

pub const MANIFEST_FILE: &str = "scenario.toml";
pub const SCRIPT_FILE: &str = "main.rhai";

/// A loaded scenario: where it lives, its script, its validated manifest.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The scenario folder (for an ad-hoc script: the folder holding it).
    pub dir: PathBuf,
    pub script_path: PathBuf,
    /// `None` for an ad-hoc script.
    pub manifest_path: Option<PathBuf>,
    pub manifest: Manifest,
}

impl Scenario {
    /// Loads a scenario folder or an ad-hoc `.rhai` file.
    pub fn load(path: &Path) -> Result<Scenario> {
        let not_found = |reason: &str| ScenarioError::NotFound {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        };
        if path.is_dir() {
            let manifest_path = path.join(MANIFEST_FILE);
            let script_path = path.join(SCRIPT_FILE);
            if !manifest_path.is_file() {
                return Err(not_found(&format!("the folder has no {MANIFEST_FILE}")));
            }
            if !script_path.is_file() {
                return Err(not_found(&format!("the folder has no {SCRIPT_FILE}")));
            }
            let text = read_text(&manifest_path)?;
            let manifest = Manifest::parse(&text).map_err(|problems| ScenarioError::Manifest {
                path: manifest_path.clone(),
                problems,
            })?;
            Ok(Scenario {
                dir: absolute(path),
                script_path: absolute(&script_path),
                manifest_path: Some(manifest_path),
                manifest,
            })
        } else if path.is_file() {
            if path.extension().and_then(|e| e.to_str()) != Some("rhai") {
                return Err(not_found(
                    "expected a scenario folder or a .rhai script file",
                ));
            }
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("script")
                .to_string();
            let script_path = absolute(path);
            let dir = script_path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from("."));
            Ok(Scenario {
                dir,
                script_path,
                manifest_path: None,
                manifest: Manifest::ad_hoc(&sanitize_id(&stem)),
            })
        } else {
            Err(not_found("no such file or folder"))
        }
    }

    pub fn is_ad_hoc(&self) -> bool {
        self.manifest_path.is_none()
    }

    /// The script's source text (UTF-8, at most `MAX_SCRIPT_LINES` lines).
    pub fn script(&self) -> Result<String> {
        let text = read_text(&self.script_path)?;
        let lines = text.lines().count();
        if lines > MAX_SCRIPT_LINES {
            return Err(ScenarioError::Text {
                path: self.script_path.clone(),
                line: MAX_SCRIPT_LINES + 1,
                message: format!(
                    "the script has {lines} lines; a script is at most {MAX_SCRIPT_LINES} lines \
                     (put data in a spreadsheet or CSV and read it with sheet::read)"
                ),
            });
        }
        Ok(text)
    }

    /// Resolves a declared folder (relative to the scenario folder, or absolute).
    pub fn folder(&self, declared: &str) -> PathBuf {
        let p = Path::new(declared);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.dir.join(p)
        }
    }
}

/// Every scenario folder directly under `dir`, sorted by folder name; broken ones as errors.
pub fn list(dir: &Path) -> Result<Vec<Result<Scenario>>> {
    let entries = std::fs::read_dir(dir).map_err(|e| ScenarioError::io(dir, e))?;
    let mut folders: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.join(MANIFEST_FILE).is_file())
        .collect();
    folders.sort();
    Ok(folders.iter().map(|f| Scenario::load(f)).collect())
}

fn absolute(path: &Path) -> PathBuf {
    dunce::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn sanitize_id(stem: &str) -> String {
    let id: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if id.is_empty() { "script".into() } else { id }
}

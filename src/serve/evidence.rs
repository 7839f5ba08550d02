//! Which files the page may show: a run's log, events and screenshots (and its web trace:
//! `web-trace/trace.json` and its small pictures), from run folders under the runs root only,
//! and reports the launcher wrote itself. Names are plain file names; a
//! `../`, an absolute path or anything outside those folders is simply not found.

use std::path::{Path, PathBuf};

/// A file name with no path in it: no separators, not `.`/`..`, no leading dot, no NUL.
pub fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0', ':'])
}

/// The content type of an evidence file; `None` for files the page does not show.
pub fn content_type(name: &str) -> Option<&'static str> {
    let ext = Path::new(name).extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "log" | "txt" => Some("text/plain; charset=utf-8"),
        "jsonl" => Some("application/x-ndjson; charset=utf-8"),
        "png" => Some("image/png"),
        "jpg" => Some("image/jpeg"),
        "json" => Some("application/json"),
        // A failed web page's HTML is shown as text: served as a page, its scripts would run
        // in the launcher's own origin.
        "html" => Some("text/plain; charset=utf-8"),
        _ => None,
    }
}

/// `run_dir/name`, when `run_dir` really lies under `root` (after resolving links) and the
/// file is a plain evidence file that exists.
pub fn resolve(root: &Path, run_dir: &Path, name: &str) -> Option<PathBuf> {
    if !plain_name(name) || content_type(name).is_none() {
        return None;
    }
    let file = dunce::canonicalize(run_dir.join(name)).ok()?;
    (within(root, &file) && file.is_file()).then_some(file)
}

/// The run's web trace folder (the last web steps with their pictures).
pub const TRACE_DIR: &str = "web-trace";

/// `run_dir/web-trace/name`, under the same rules as `resolve`.
pub fn resolve_trace(root: &Path, run_dir: &Path, name: &str) -> Option<PathBuf> {
    resolve(root, &run_dir.join(TRACE_DIR), name)
}

/// Whether the run kept a web trace.
pub fn has_trace(dir: &Path) -> bool {
    dir.join(TRACE_DIR).join("trace.json").is_file()
}

/// Whether `path` lies under `root` once both are resolved (links, `..`); false when either
/// does not exist.
pub fn within(root: &Path, path: &Path) -> bool {
    match (dunce::canonicalize(root), dunce::canonicalize(path)) {
        (Ok(root), Ok(path)) => path.starts_with(root),
        _ => false,
    }
}

/// The evidence files in a run folder the page may show, by name.
pub fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| plain_name(n) && content_type(n).is_some())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_evidence_files_inside_the_runs_root() {
        let base = std::env::temp_dir().join(format!("kuroko-evidence-{}", std::process::id()));
        let root = base.join("runs");
        let run = root.join("launcher-1/request-1/r1");
        std::fs::create_dir_all(&run).unwrap();
        std::fs::write(run.join("run.log"), "ok").unwrap();
        std::fs::write(run.join("failure.png"), "png").unwrap();
        std::fs::write(run.join("secret.toml"), "no").unwrap();
        std::fs::write(base.join("outside.log"), "no").unwrap();
        assert_eq!(
            resolve(&root, &run, "run.log"),
            dunce::canonicalize(run.join("run.log")).ok()
        );
        assert!(resolve(&root, &run, "failure.png").is_some());
        for bad in [
            "secret.toml",
            "../../../outside.log",
            "/etc/passwd",
            "..",
            ".hidden.log",
            "nope.log",
        ] {
            assert_eq!(resolve(&root, &run, bad), None, "{bad}");
        }
        // A run folder outside the root (a ledger row pointing elsewhere) is not served.
        assert_eq!(resolve(&root, &base, "outside.log"), None);
        let _ = std::fs::remove_dir_all(&base);
    }
}

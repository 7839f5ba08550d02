//! The run folder: where a run's log, events and failure screenshot are kept for the clerk and
//! the ICT office. Files appear whole or not at all (written beside, then renamed).

use std::io::Write;
use std::path::{Path, PathBuf};

use image::RgbaImage;

/// kuroko's data folder: `$XDG_DATA_HOME/kuroko`, else `~/.local/share/kuroko`.
pub fn data_dir() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(std::env::temp_dir)
        .join("kuroko")
}

/// The default parent of run folders: `$KUROKO_RUNS_DIR`, else `<data folder>/runs`.
pub fn default_runs_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("KUROKO_RUNS_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    data_dir().join("runs")
}

/// A new, unique run id: local time, scenario id, process id.
pub fn new_run_id(scenario_id: &str) -> String {
    format!(
        "{}-{scenario_id}-{}",
        chrono::Local::now().format("%Y%m%d-%H%M%S%.3f"),
        std::process::id()
    )
    .replace('.', "")
}

/// Writes `bytes` to `target` through a temporary file in the same folder and a rename.
pub fn write_atomic(target: &Path, bytes: &[u8]) -> Result<(), String> {
    let dir = target.parent().unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = std::fs::File::create(&temp)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        })
        .and_then(|_| std::fs::rename(&temp, target));
    result.map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        format!("cannot write {}: {e}", target.display())
    })
}

/// Encodes a PNG and writes it atomically.
pub fn write_png(image: &RgbaImage, target: &Path) -> Result<(), String> {
    let mut bytes = Vec::new();
    image
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .map_err(|e| format!("cannot encode PNG: {e}"))?;
    write_atomic(target, &bytes)
}

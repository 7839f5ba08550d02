//! Where kuroko keeps its files, and the one way it writes a file: whole or not at all (written
//! beside the target, synced to disk, then renamed over it), so a crash or a full disk never
//! leaves a half-written report, export, screenshot or sheet.

use std::io::Write;
use std::path::{Path, PathBuf};

use image::RgbaImage;

/// kuroko's data folder: on Windows `%LOCALAPPDATA%\kuroko` (per user, not roaming: a ledger
/// must not travel between PCs); elsewhere `$XDG_DATA_HOME/kuroko`, else
/// `~/.local/share/kuroko`.
pub fn data_dir() -> PathBuf {
    let set = |name: &str| std::env::var_os(name).filter(|d| !d.is_empty());
    let base = if cfg!(windows) {
        set("LOCALAPPDATA").map(PathBuf::from)
    } else {
        set("XDG_DATA_HOME")
            .map(PathBuf::from)
            .or_else(|| set("HOME").map(|h| PathBuf::from(h).join(".local/share")))
    };
    base.unwrap_or_else(std::env::temp_dir).join("kuroko")
}

/// The default parent of run folders: `$KUROKO_RUNS_DIR`, else `<data folder>/runs`.
pub fn default_runs_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("KUROKO_RUNS_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    data_dir().join("runs")
}

/// Writes a file whole or not at all: `fill` writes the content to the temporary path it is
/// given (beside `target`, so the rename cannot cross file systems); that file is synced to disk,
/// then renamed over `target`, and the folder is synced so the rename itself survives a power
/// loss. On any error the temporary file is removed and `target` is left as it was.
pub fn replace_file<T>(
    target: &Path,
    fill: impl FnOnce(&Path) -> Result<T, String>,
) -> Result<T, String> {
    let temp = temp_beside(target);
    let result = fill(&temp).and_then(|value| {
        std::fs::OpenOptions::new()
            .write(true)
            .open(&temp)
            .and_then(|f| f.sync_all())
            .and_then(|_| std::fs::rename(&temp, target))
            .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
        sync_folder(target);
        Ok(value)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Writes `bytes` to `target` whole or not at all (see `replace_file`).
pub fn write_atomic(target: &Path, bytes: &[u8]) -> Result<(), String> {
    replace_file(target, |temp| {
        std::fs::File::create(temp)
            .and_then(|mut f| f.write_all(bytes))
            .map_err(|e| format!("cannot write {}: {e}", target.display()))
    })
}

/// `.<name>.<pid>.<n>.tmp.<extension>` in the target's folder (the extension kept for writers
/// that look at it).
fn temp_beside(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let extension = target
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    // Unique per call, so two writers of one file in one process (two downloads, two threads)
    // never share a temporary file; the last rename wins, whole.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    target.with_file_name(format!(".{name}.{}.{n}.tmp{extension}", std::process::id()))
}

/// Makes a rename in `target`'s folder durable (Unix; Windows has no folder handles to sync).
fn sync_folder(target: &Path) {
    #[cfg(unix)]
    {
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = target;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_folder_is_the_systems_per_user_place() {
        let dir = data_dir();
        assert!(dir.ends_with("kuroko"));
        if cfg!(windows) {
            let local = std::env::var_os("LOCALAPPDATA").expect("Windows sets LOCALAPPDATA");
            assert_eq!(dir, PathBuf::from(local).join("kuroko"));
        }
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("kuroko-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("report.xlsx");
        write_atomic(&target, b"old").unwrap();
        let failed = replace_file(&target, |temp| {
            std::fs::write(temp, b"half").unwrap();
            Err::<(), _>("disk full".to_string())
        });
        assert_eq!(failed.unwrap_err(), "disk full");
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        write_atomic(&target, b"new").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["report.xlsx"]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

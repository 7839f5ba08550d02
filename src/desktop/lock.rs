//! One run drives a desktop at a time — also across processes: two launchers, or a clerk's
//! `kuroko run` beside the launcher's, would otherwise type into each other's windows. A run
//! holds an exclusive lock on a file named after its display from its first desktop call to its
//! end (the operating system lets go when the process ends, however it ends); a run that never
//! touches the desktop never takes it.

use std::fs::File;
use std::path::{Path, PathBuf};

/// Held while a run drives the desktop.
#[derive(Debug)]
pub struct DesktopLock {
    _file: File,
}

/// The lock file for this session's desktop (one per X display).
pub fn path(data_dir: &Path) -> PathBuf {
    let display = std::env::var("DISPLAY").unwrap_or_default();
    let key: String = display
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    data_dir.join(format!("desktop{key}.lock"))
}

/// Takes the lock if nobody holds it; otherwise `Err` with what the holder wrote about itself.
/// The lock is std's file lock (`flock` on Unix, `LockFileEx` on Windows); the holder's
/// description is kept in a file beside it, because Windows does not let others read a locked
/// file.
pub fn try_take(path: &Path, holder: &str) -> std::io::Result<Result<DesktopLock, String>> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    let about = path.with_extension("holder");
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let who = std::fs::read_to_string(&about).unwrap_or_default();
            return Ok(Err(who.trim().to_string()));
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(e),
    }
    std::fs::write(&about, holder.as_bytes())?;
    Ok(Ok(DesktopLock { _file: file }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_is_told_who_holds_the_desktop_until_it_is_let_go() {
        let dir = std::env::temp_dir().join(format!("kuroko-lock-{}", std::process::id()));
        let path = dir.join("desktop_0.lock");
        let first = try_take(&path, "pid 1 住民票").unwrap().unwrap();
        assert_eq!(
            try_take(&path, "pid 2").unwrap().unwrap_err(),
            "pid 1 住民票"
        );
        drop(first);
        let again = try_take(&path, "pid 2 転入").unwrap();
        assert!(again.is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

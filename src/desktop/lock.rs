//! One run drives a desktop at a time — also across processes: two launchers, or a clerk's
//! `kuroko run` beside the launcher's, would otherwise type into each other's windows. A run
//! holds an exclusive lock on a file named after its display from its first desktop call to its
//! end (the operating system lets go when the process ends, however it ends); a run that never
//! touches the desktop never takes it.

use std::fs::File;
use std::io::{Read, Seek, Write};
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
pub fn try_take(path: &Path, holder: &str) -> std::io::Result<Result<DesktopLock, String>> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    if !lock_exclusive(&file)? {
        let mut who = String::new();
        let _ = file.read_to_string(&mut who);
        return Ok(Err(who.trim().to_string()));
    }
    file.set_len(0)?;
    file.rewind()?;
    file.write_all(holder.as_bytes())?;
    file.flush()?;
    Ok(Ok(DesktopLock { _file: file }))
}

#[cfg(unix)]
fn lock_exclusive(file: &File) -> std::io::Result<bool> {
    use std::os::fd::AsRawFd;
    // SAFETY: flock(2) on a file descriptor this function borrows for the call.
    let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if r == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(e)
    }
}

#[cfg(not(unix))]
fn lock_exclusive(file: &File) -> std::io::Result<bool> {
    // Windows: LockFileEx belongs with the Windows backend; until then every run may go.
    let _ = file;
    Ok(true)
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

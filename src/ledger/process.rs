//! Who is running: the machine, the OS user, and an identity for this process that survives
//! pid reuse and reboots, so a run whose process died can be told from one still going.

use serde::Serialize;

/// A process as the ledger remembers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    pub pid: i64,
    /// Something that differs between two processes that had the same pid: on Linux the boot
    /// id and the process start time, on Windows the creation time. Empty where the platform
    /// gives nothing to compare.
    pub started: String,
}

/// This process.
pub fn current() -> Identity {
    let pid = std::process::id() as i64;
    Identity {
        pid,
        started: start_mark(pid).unwrap_or_default(),
    }
}

/// Whether the process that wrote a `running` record is still running on this machine.
pub fn is_alive(who: &Identity) -> bool {
    if who.started.is_empty() {
        // Nothing to compare: assume it runs rather than call a live run interrupted.
        return !cfg!(any(target_os = "linux", windows));
    }
    start_mark(who.pid).as_deref() == Some(who.started.as_str())
}

/// For a ledger several PCs share: whether a `running` record may still be running. Its
/// process is alive here, or it was written on another PC (two robots can have the same name)
/// or, on Linux, before this PC last booted: only its heartbeat can tell those, so they are
/// left to it (`recover_stale`).
pub fn is_alive_or_elsewhere(who: &Identity) -> bool {
    match (mark_host(&who.started), host_mark()) {
        (Some(theirs), Some(ours)) if theirs != ours => true,
        _ => is_alive(who),
    }
}

/// The PC part of a start mark: the boot id (Linux, `boot:start`) or the machine GUID
/// (Windows, `win:guid:created`).
fn mark_host(started: &str) -> Option<&str> {
    let host = match started.strip_prefix("win:") {
        Some(rest) => rest.rsplit_once(':')?.0,
        None => started.split_once(':')?.0,
    };
    (!host.is_empty()).then_some(host)
}

/// This PC's part of a start mark.
fn host_mark() -> Option<String> {
    let here = start_mark(std::process::id() as i64)?;
    mark_host(&here).map(str::to_string)
}

#[cfg(target_os = "linux")]
fn start_mark(pid: i64) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at field 3; starttime is 22.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let start_time = after_name.split_whitespace().nth(19)?;
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    Some(format!("{}:{start_time}", boot.trim()))
}

/// On Windows: the process's creation time, if it is still running (a handle to an ended
/// process can still be opened while someone holds one, so its exit code is asked too).
#[cfg(windows)]
fn start_mark(pid: i64) -> Option<String> {
    use windows_sys::Win32::Foundation::{CloseHandle, FILETIME, STILL_ACTIVE};
    use windows_sys::Win32::System::Threading::{
        GetExitCodeProcess, GetProcessTimes, OpenProcess, PROCESS_QUERY_LIMITED_INFORMATION,
    };
    let pid = u32::try_from(pid).ok()?;
    // SAFETY: a handle opened here, used for two queries into local variables, and closed.
    unsafe {
        let handle = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid);
        if handle.is_null() {
            return None;
        }
        let zero = FILETIME {
            dwLowDateTime: 0,
            dwHighDateTime: 0,
        };
        let (mut created, mut exited, mut kernel, mut user) = (zero, zero, zero, zero);
        let mut code = 0u32;
        let known = GetProcessTimes(handle, &mut created, &mut exited, &mut kernel, &mut user) != 0
            && GetExitCodeProcess(handle, &mut code) != 0;
        CloseHandle(handle);
        (known && code == STILL_ACTIVE as u32).then(|| {
            format!(
                "win:{}:{}",
                machine_guid(),
                (u64::from(created.dwHighDateTime) << 32) | u64::from(created.dwLowDateTime)
            )
        })
    }
}

/// This PC's machine GUID (set when Windows is installed; empty if it cannot be read).
#[cfg(windows)]
fn machine_guid() -> &'static str {
    use windows_sys::Win32::System::Registry::{
        HKEY_LOCAL_MACHINE, RRF_RT_REG_SZ, RRF_SUBKEY_WOW6464KEY, RegGetValueW,
    };
    static GUID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    GUID.get_or_init(|| {
        let wide = |s: &str| s.encode_utf16().chain([0]).collect::<Vec<u16>>();
        let (key, value) = (
            wide(r"SOFTWARE\Microsoft\Cryptography"),
            wide("MachineGuid"),
        );
        let mut buf = [0u16; 128];
        let mut size = (buf.len() * 2) as u32;
        // SAFETY: the names are NUL-terminated, and `size` says how many bytes `buf` holds.
        let status = unsafe {
            RegGetValueW(
                HKEY_LOCAL_MACHINE,
                key.as_ptr(),
                value.as_ptr(),
                // The 64-bit view, where Windows keeps it, whatever kuroko's own bitness.
                RRF_RT_REG_SZ | RRF_SUBKEY_WOW6464KEY,
                std::ptr::null_mut(),
                buf.as_mut_ptr().cast(),
                &mut size,
            )
        };
        if status != 0 {
            return String::new();
        }
        let len = buf.iter().position(|&c| c == 0).unwrap_or(buf.len());
        String::from_utf16_lossy(&buf[..len]).replace(':', "")
    })
}

#[cfg(not(any(target_os = "linux", windows)))]
fn start_mark(_pid: i64) -> Option<String> {
    None
}

/// The machine's name, as the ledger records it.
/// The machine's name in the ledger: `$KUROKO_MACHINE` (an agent's `--name`, given to its runs),
/// else the host name.
pub fn machine_name() -> String {
    std::env::var("KUROKO_MACHINE")
        .ok()
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| gethostname::gethostname().to_string_lossy().into_owned())
}

/// The OS user running kuroko.
pub fn os_user() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| "unknown".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_reused_pid_is_not() {
        let me = current();
        assert!(is_alive(&me));
        if cfg!(any(target_os = "linux", windows)) {
            assert!(!me.started.is_empty());
            let other = Identity {
                started: format!("{}x", me.started),
                ..me.clone()
            };
            assert!(!is_alive(&other));
            let gone = Identity {
                pid: i32::MAX as i64,
                ..me
            };
            assert!(!is_alive(&gone));
        }
    }

    #[test]
    fn a_run_of_another_pc_with_the_same_name_is_left_to_its_heartbeat() {
        assert_eq!(mark_host("6f1c-2a:12345"), Some("6f1c-2a"));
        assert_eq!(mark_host("win:4c4c-44:133000000"), Some("4c4c-44"));
        assert_eq!(mark_host("win::133000000"), None);
        assert_eq!(mark_host(""), None);
        let me = current();
        if cfg!(any(target_os = "linux", windows)) {
            assert!(host_mark().is_some());
            // Dead here: a pid that is not running, written on this PC.
            let here_dead = Identity {
                pid: i32::MAX as i64,
                ..me.clone()
            };
            assert!(!is_alive_or_elsewhere(&here_dead));
            // The same, written by a PC of another boot / machine GUID.
            let elsewhere = Identity {
                pid: i32::MAX as i64,
                started: if cfg!(windows) {
                    "win:another-pc:1".into()
                } else {
                    "another-boot:1".into()
                },
            };
            assert!(is_alive_or_elsewhere(&elsewhere));
            assert!(!is_alive(&elsewhere));
        }
        assert!(is_alive_or_elsewhere(&me));
    }
}

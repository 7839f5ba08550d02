//! Windows only: a process kuroko starts and must not outlive it (the browser it drives, an
//! agent's runs) is put in a job object that ends it (and every process it starts) when the
//! job's last handle closes — when kuroko ends, also when it is killed. On Linux the pipe and
//! `PR_SET_PDEATHSIG` do the same.

use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};
use std::process::Child;

use windows_sys::Win32::System::JobObjects::{
    AssignProcessToJobObject, CreateJobObjectW, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JobObjectExtendedLimitInformation,
    SetInformationJobObject,
};

/// A job that kills its processes when dropped (or when kuroko's process ends).
pub struct KillOnClose(#[allow(dead_code)] OwnedHandle);

/// Puts `child` in a new kill-on-close job.
pub fn contain(child: &Child) -> Result<KillOnClose, String> {
    // SAFETY: plain Win32 calls on handles this function owns or borrows.
    unsafe {
        let raw = CreateJobObjectW(std::ptr::null(), std::ptr::null());
        if raw.is_null() {
            return Err(format!(
                "CreateJobObjectW failed: {}",
                std::io::Error::last_os_error()
            ));
        }
        let job = OwnedHandle::from_raw_handle(raw);
        let mut info = JOBOBJECT_EXTENDED_LIMIT_INFORMATION::default();
        info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
        let set = SetInformationJobObject(
            job.as_raw_handle(),
            JobObjectExtendedLimitInformation,
            (&raw const info).cast(),
            std::mem::size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
        );
        if set == 0 {
            return Err(format!(
                "SetInformationJobObject failed: {}",
                std::io::Error::last_os_error()
            ));
        }
        if AssignProcessToJobObject(job.as_raw_handle(), child.as_raw_handle()) == 0 {
            return Err(format!(
                "AssignProcessToJobObject failed: {}",
                std::io::Error::last_os_error()
            ));
        }
        Ok(KillOnClose(job))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// A process in the job ends when the job is dropped (Wine implements kill-on-close).
    #[test]
    fn a_contained_process_ends_with_its_job() {
        let mut child = std::process::Command::new("cmd.exe")
            .args(["/c", "more"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let job = contain(&child).unwrap();
        std::thread::sleep(Duration::from_millis(200));
        assert!(
            child.try_wait().unwrap().is_none(),
            "it ended before the job did"
        );
        drop(job);
        let deadline = Instant::now() + Duration::from_secs(10);
        while child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "the process outlived its job");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

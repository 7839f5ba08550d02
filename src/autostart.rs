//! Starting the clerk launcher when the clerk logs on, for the current user only and without
//! administrator rights: on Windows a value under HKCU\Software\Microsoft\Windows\CurrentVersion\Run,
//! on Linux desktops an XDG autostart entry (~/.config/autostart/kuroko.desktop).

use std::path::Path;

/// The value's name (Windows) or the entry's file stem (Linux).
const NAME: &str = "kuroko";

/// The command line that starts the launcher at logon.
fn command_line(exe: &Path, scenarios: &Path) -> String {
    format!(
        "\"{}\" serve --open --scenarios \"{}\"",
        exe.display(),
        scenarios.display()
    )
}

/// Registers `exe serve --open --scenarios <scenarios>` to run at logon; returns where.
pub fn enable(exe: &Path, scenarios: &Path) -> Result<String, String> {
    let command = command_line(exe, scenarios);
    if command.contains(['\n', '\r', '\0']) {
        return Err("a folder name with a line break cannot be started at logon".into());
    }
    imp::enable(&command)
}

/// Removes the registration; Ok(false) when there was none.
pub fn disable() -> Result<bool, String> {
    imp::disable()
}

#[cfg(windows)]
mod imp {
    use windows_sys::Win32::Foundation::{ERROR_FILE_NOT_FOUND, ERROR_SUCCESS};
    use windows_sys::Win32::System::Registry::{
        HKEY, HKEY_CURRENT_USER, KEY_SET_VALUE, REG_OPTION_NON_VOLATILE, REG_SZ, RegCloseKey,
        RegCreateKeyExW, RegDeleteValueW, RegSetValueExW,
    };

    fn wide(s: &str) -> Vec<u16> {
        s.encode_utf16().chain(std::iter::once(0)).collect()
    }

    const RUN: &str = r"Software\Microsoft\Windows\CurrentVersion\Run";

    fn open_run() -> Result<HKEY, String> {
        let mut key: HKEY = std::ptr::null_mut();
        // SAFETY: opens (creating if needed) the current user's Run key for writing.
        let status = unsafe {
            RegCreateKeyExW(
                HKEY_CURRENT_USER,
                wide(RUN).as_ptr(),
                0,
                std::ptr::null(),
                REG_OPTION_NON_VOLATILE,
                KEY_SET_VALUE,
                std::ptr::null(),
                &mut key,
                std::ptr::null_mut(),
            )
        };
        if status != ERROR_SUCCESS {
            return Err(format!(
                "cannot open HKEY_CURRENT_USER\\{RUN} (Windows error {status})"
            ));
        }
        Ok(key)
    }

    pub fn enable(command: &str) -> Result<String, String> {
        let key = open_run()?;
        let data = wide(command);
        // SAFETY: a REG_SZ value of the UTF-16 string with its NUL, in bytes.
        let status = unsafe {
            let status = RegSetValueExW(
                key,
                wide(super::NAME).as_ptr(),
                0,
                REG_SZ,
                data.as_ptr().cast(),
                (data.len() * 2) as u32,
            );
            RegCloseKey(key);
            status
        };
        if status != ERROR_SUCCESS {
            return Err(format!(
                "cannot write the logon entry (Windows error {status})"
            ));
        }
        Ok(format!("HKEY_CURRENT_USER\\{RUN}\\{}", super::NAME))
    }

    pub fn disable() -> Result<bool, String> {
        let key = open_run()?;
        // SAFETY: deletes one value of the key opened above, then closes it.
        let status = unsafe {
            let status = RegDeleteValueW(key, wide(super::NAME).as_ptr());
            RegCloseKey(key);
            status
        };
        match status {
            ERROR_SUCCESS => Ok(true),
            ERROR_FILE_NOT_FOUND => Ok(false),
            other => Err(format!(
                "cannot remove the logon entry (Windows error {other})"
            )),
        }
    }
}

#[cfg(not(windows))]
mod imp {
    use std::path::PathBuf;

    fn entry() -> Result<PathBuf, String> {
        let config = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
            .ok_or("neither XDG_CONFIG_HOME nor HOME is set")?;
        Ok(config
            .join("autostart")
            .join(format!("{}.desktop", super::NAME)))
    }

    pub fn enable(command: &str) -> Result<String, String> {
        let path = entry()?;
        let text = format!(
            "[Desktop Entry]\nType=Application\nName=kuroko 起動画面\nComment=kuroko の起動画面（シナリオの実行と停止）\nExec={}\nX-GNOME-Autostart-enabled=true\n",
            command.replace('%', "%%")
        );
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        crate::files::write_atomic(&path, text.as_bytes())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(path.display().to_string())
    }

    pub fn disable() -> Result<bool, String> {
        let path = entry()?;
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }
}

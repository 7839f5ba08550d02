//! Which files a script may touch: it reads inside its scenario folder and its declared input
//! and output folders, and writes only inside its declared output folders. Paths are resolved
//! (symlinks and `..` included) before they are checked. On Windows, the path forms that name
//! something other than a file in a folder — network shares, devices (`CON`, `NUL`, `COM1`),
//! alternate data streams (`a.txt:x`) and drive-relative paths (`C:foo`) — are refused first.

use std::path::{Component, Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Sandbox {
    /// Relative paths in scripts are relative to this folder.
    base: PathBuf,
    read_roots: Vec<PathBuf>,
    write_roots: Vec<PathBuf>,
}

impl Sandbox {
    /// `base` is the scenario folder; `inputs`/`outputs` are the declared folders, resolved.
    /// Output folders are created if missing.
    pub fn new(base: &Path, inputs: &[PathBuf], outputs: &[PathBuf]) -> Result<Sandbox, String> {
        let base = canonical(base).map_err(|e| format!("{}: {e}", base.display()))?;
        let mut write_roots = Vec::new();
        for out in outputs {
            std::fs::create_dir_all(out)
                .map_err(|e| format!("cannot create output folder {}: {e}", out.display()))?;
            write_roots.push(canonical(out).map_err(|e| format!("{}: {e}", out.display()))?);
        }
        let mut read_roots = vec![base.clone()];
        for input in inputs {
            // A declared input folder that does not exist yet simply grants nothing.
            if let Ok(p) = canonical(input) {
                read_roots.push(p);
            }
        }
        read_roots.extend(write_roots.iter().cloned());
        Ok(Sandbox {
            base,
            read_roots,
            write_roots,
        })
    }

    /// Resolves a path the script wants to read; it must exist and lie inside an allowed folder.
    pub fn readable(&self, path: &str) -> Result<PathBuf, String> {
        let joined = self.join(path)?;
        let resolved = canonical(&joined)
            .map_err(|_| format!("file not found: {path:?} (looked for {})", joined.display()))?;
        if self.read_roots.iter().any(|r| resolved.starts_with(r)) {
            Ok(resolved)
        } else {
            Err(format!(
                "reading {path:?} is not allowed: scripts may read only inside {}",
                list(&self.read_roots)
            ))
        }
    }

    /// Resolves a path the script wants to write; its folder must lie inside an output folder.
    pub fn writable(&self, path: &str) -> Result<PathBuf, String> {
        let joined = lexical_normal(&self.join(path)?);
        let (Some(parent), Some(name)) = (joined.parent(), joined.file_name()) else {
            return Err(format!("{path:?} is not a file path"));
        };
        // The nearest folder that exists must already lie inside an output folder, so no
        // folder is ever created outside one.
        let mut existing = parent;
        while !existing.exists() {
            existing = existing.parent().ok_or_else(|| self.write_refusal(path))?;
        }
        let anchor = canonical(existing).map_err(|e| format!("{}: {e}", existing.display()))?;
        if !self.write_roots.iter().any(|r| anchor.starts_with(r)) {
            return Err(self.write_refusal(path));
        }
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create folder {}: {e}", parent.display()))?;
        let parent = canonical(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        if !self.write_roots.iter().any(|r| parent.starts_with(r)) {
            return Err(self.write_refusal(path));
        }
        let target = parent.join(name);
        if target.is_dir() {
            return Err(format!("{path:?} is a folder, not a file"));
        }
        Ok(target)
    }

    fn write_refusal(&self, path: &str) -> String {
        if self.write_roots.is_empty() {
            format!(
                "writing {path:?} is not allowed: this scenario declares no output folders (add `outputs = [\"output\"]` to scenario.toml)"
            )
        } else {
            format!(
                "writing {path:?} is not allowed: scripts may write only inside {}",
                list(&self.write_roots)
            )
        }
    }

    fn join(&self, path: &str) -> Result<PathBuf, String> {
        if path.trim().is_empty() {
            return Err("the path is empty".into());
        }
        #[cfg(windows)]
        if let Some(reason) = windows_refusal(path) {
            return Err(format!("{path:?} is not allowed: {reason}"));
        }
        let p = Path::new(path);
        Ok(if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base.join(p)
        })
    }
}

/// Why Windows would take `path` as something other than a file in a folder, if it would.
/// (A pure function of the text, so its rules are tested on every system.)
#[cfg_attr(not(windows), allow(dead_code))]
pub(crate) fn windows_refusal(path: &str) -> Option<&'static str> {
    let p = path.replace('/', "\\");
    let mut rest = p.as_str();
    if let Some(after) = rest.strip_prefix("\\\\") {
        // \\?\C:\... is a long local path (what canonicalize returns); anything else after
        // \\ is a share (\\server\share, \\?\UNC\...) or a device (\\.\PhysicalDrive0).
        match after.strip_prefix("?\\") {
            Some(local) if has_drive(local) && local[2..].starts_with('\\') => rest = &local[2..],
            Some(other)
                if other
                    .get(..3)
                    .is_some_and(|s| s.eq_ignore_ascii_case("UNC")) =>
            {
                return Some("scripts may not use network paths (\\\\server\\share)");
            }
            Some(_) => return Some("scripts may not use device paths (\\\\?\\…)"),
            None if after.starts_with(".\\") || after.starts_with("?") => {
                return Some("scripts may not use device paths (\\\\.\\…)");
            }
            None => return Some("scripts may not use network paths (\\\\server\\share)"),
        }
    } else if has_drive(rest) {
        if !rest[2..].starts_with('\\') {
            return Some(
                "a drive-relative path (like C:file) depends on the current folder of that drive; write C:\\folder\\file or a path inside the scenario",
            );
        }
        rest = &rest[2..];
    }
    for component in rest.split('\\') {
        if component.contains(':') {
            return Some(
                "a name with \":\" is an alternate data stream, which scripts may not use",
            );
        }
        let stem = component.split('.').next().unwrap_or("");
        let stem = stem.trim_end_matches([' ', '.']).to_ascii_uppercase();
        let device = matches!(
            stem.as_str(),
            "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$"
        ) || ((stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.len() == 4
            && stem.as_bytes()[3].is_ascii_digit()
            && stem.as_bytes()[3] != b'0');
        if device {
            return Some("CON, PRN, AUX, NUL, COM1-9 and LPT1-9 are devices on Windows, not files");
        }
    }
    None
}

fn has_drive(p: &str) -> bool {
    let b = p.as_bytes();
    b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':'
}

pub(crate) fn canonical(p: &Path) -> std::io::Result<PathBuf> {
    dunce::canonicalize(p)
}

/// Removes `.` and `..` without touching the file system.
fn lexical_normal(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn list(roots: &[PathBuf]) -> String {
    roots
        .iter()
        .map(|r| r.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_path_forms_that_are_not_files_in_folders_are_recognised() {
        for (path, why) in [
            (r"\\server\share\x.txt", "network"),
            ("//server/share/x.txt", "network"),
            (r"\\?\UNC\server\share\x", "network"),
            (r"\\.\PhysicalDrive0", "device"),
            (r"\\?\GLOBALROOT\Device\x", "device"),
            ("C:secret.txt", "drive-relative"),
            ("c:..\\x", "drive-relative"),
            ("output/a.txt:hidden", "alternate data stream"),
            ("images/ok.png:Zone.Identifier", "alternate data stream"),
            (r"C:\x\a.txt::$DATA", "alternate data stream"),
            ("output/CON", "devices"),
            ("output/nul.txt", "devices"),
            ("COM1", "devices"),
            ("output/lpt9.log", "devices"),
            ("output/Aux .txt", "devices"),
            (r"\\?\C:\x\con", "devices"),
        ] {
            let got = windows_refusal(path).unwrap_or_else(|| panic!("{path:?} accepted"));
            assert!(got.contains(why), "{path:?}: {got}");
        }
        for path in [
            "output/a.png",
            "Output/Sub/A.PNG",
            r"C:\Users\clerk\scenario\output\a.xlsx",
            r"\\?\C:\Users\clerk\scenario\output\a.xlsx",
            "output/com10.txt",
            "output/console.txt",
            "output/COM0.txt",
            "../secret.txt",
            "出力/申請.xlsx",
        ] {
            assert_eq!(windows_refusal(path), None, "{path:?}");
        }
    }

    fn setup() -> (PathBuf, Sandbox) {
        let dir = std::env::temp_dir().join(format!(
            "kuroko-sandbox-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("scenario/images")).unwrap();
        std::fs::write(dir.join("scenario/images/ok.png"), b"x").unwrap();
        std::fs::write(dir.join("secret.txt"), b"x").unwrap();
        let sb = Sandbox::new(&dir.join("scenario"), &[], &[dir.join("scenario/output")]).unwrap();
        (dir, sb)
    }

    #[test]
    fn reads_inside_and_refuses_outside() {
        let (dir, sb) = setup();
        assert!(sb.readable("images/ok.png").is_ok());
        assert!(
            sb.readable("../secret.txt")
                .unwrap_err()
                .contains("not allowed")
        );
        let secret = dir.join("secret.txt").canonicalize().unwrap();
        assert!(
            sb.readable(&secret.display().to_string())
                .unwrap_err()
                .contains("not allowed")
        );
        #[cfg(unix)]
        assert!(
            sb.readable("/etc/passwd")
                .unwrap_err()
                .contains("not allowed")
        );
        assert!(
            sb.readable("images/missing.png")
                .unwrap_err()
                .contains("not found")
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn writes_only_into_outputs() {
        let (dir, sb) = setup();
        assert!(sb.writable("output/a.png").is_ok());
        assert!(sb.writable("output/sub/b.png").is_ok());
        assert!(
            sb.writable("main.rhai")
                .unwrap_err()
                .contains("not allowed")
        );
        assert!(
            sb.writable("output/../../x.png")
                .unwrap_err()
                .contains("not allowed")
        );
        assert!(
            sb.writable("/tmp/x.png")
                .unwrap_err()
                .contains("not allowed")
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    /// The path forms of Windows, on its file system (run under Wine by test-windows.sh).
    #[cfg(windows)]
    #[test]
    fn every_windows_path_form_is_refused_outside_the_allowed_folders() {
        let (dir, sb) = setup();
        let outside = dir.join("a long folder name");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret document.txt"), b"x").unwrap();
        let refused = |r: Result<PathBuf, String>| r.unwrap_err().contains("not allowed");

        // Mixed case and forward slashes: inside allowed, outside refused.
        assert!(sb.readable("IMAGES/OK.PNG").is_ok());
        assert!(sb.writable("Output/Sub/a.png").is_ok());
        assert!(refused(sb.readable("Images/../../SECRET.TXT")));
        assert!(refused(sb.writable("OUTPUT/../../x.png")));
        // \\?\ prefixes, as canonicalize returns them.
        let secret = dir
            .join("secret.txt")
            .canonicalize()
            .unwrap()
            .display()
            .to_string();
        assert!(secret.starts_with(r"\\?\"), "{secret}");
        assert!(refused(sb.readable(&secret)));
        assert!(refused(
            sb.readable(
                &secret
                    .trim_start_matches(r"\\?\")
                    .to_uppercase()
                    .replace('\\', "/")
            )
        ));
        let inside = dir.join("scenario/images/ok.png").canonicalize().unwrap();
        assert!(sb.readable(&inside.display().to_string()).is_ok());
        // 8.3 short names.
        let long = outside.join("secret document.txt").canonicalize().unwrap();
        let short = short_name(&long);
        assert_ne!(
            short,
            long.display().to_string(),
            "no 8.3 name to test with"
        );
        assert!(refused(sb.readable(&short)), "{short}");
        let short_dir = short_name(&outside.canonicalize().unwrap());
        assert!(
            refused(sb.writable(&format!("{short_dir}\\x.txt"))),
            "{short_dir}"
        );
        // Alternate data streams, devices, shares, drive-relative paths.
        for path in [
            "output/a.txt:hidden",
            "images/ok.png:Zone.Identifier",
            "output/CON",
            "output/nul.txt",
            "COM1",
            "output/LPT1.log",
            r"\\server\share\x.txt",
            "//server/share/x.txt",
            r"\\?\UNC\server\share\x.txt",
            r"\\.\PhysicalDrive0",
            "C:secret.txt",
        ] {
            assert!(refused(sb.readable(path)), "read {path}");
            assert!(refused(sb.writable(path)), "write {path}");
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    #[cfg(windows)]
    fn short_name(p: &Path) -> String {
        use std::os::windows::ffi::OsStrExt;
        let wide: Vec<u16> = p.as_os_str().encode_wide().chain(Some(0)).collect();
        let mut buf = vec![0u16; 1024];
        // SAFETY: a NUL-terminated path and a buffer of the length given.
        let n = unsafe {
            windows_sys::Win32::Storage::FileSystem::GetShortPathNameW(
                wide.as_ptr(),
                buf.as_mut_ptr(),
                buf.len() as u32,
            )
        };
        String::from_utf16_lossy(&buf[..n as usize])
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_out_of_the_output_folder_is_refused() {
        let (dir, sb) = setup();
        std::os::unix::fs::symlink(&dir, dir.join("scenario/output/escape")).unwrap();
        assert!(
            sb.writable("output/escape/x.png")
                .unwrap_err()
                .contains("not allowed")
        );
        assert!(
            sb.readable("output/escape/secret.txt")
                .unwrap_err()
                .contains("not allowed")
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}

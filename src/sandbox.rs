//! Which files a script may touch: it reads inside its scenario folder and its declared input
//! and output folders, and writes only inside its declared output folders. Paths are resolved
//! (symlinks and `..` included) before they are checked.

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
        let p = Path::new(path);
        Ok(if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base.join(p)
        })
    }
}

fn canonical(p: &Path) -> std::io::Result<PathBuf> {
    std::fs::canonicalize(p)
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

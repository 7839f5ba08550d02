//! Secrets at rest: each PC that reads secrets has an X25519 key pair (age) whose private half
//! stays in a file on that PC, outside the ledger; a secret is one age ciphertext encrypted to
//! every registered robot's public key, so the ledger (a SQLite file or a shared PostgreSQL)
//! holds nothing a reader of the database could use. Also the rule for secret names. No Rhai,
//! no ledger: the commands and the script API put these pieces together.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use age::secrecy::ExposeSecret;

/// The longest secret value accepted (a password or an API token, not a document).
pub const MAX_VALUE_BYTES: usize = 4096;

/// This PC's private key for secrets, read from its file.
pub struct Identity {
    key: age::x25519::Identity,
    path: PathBuf,
}

impl Identity {
    /// The public half, `age1…`: what the ledger keeps as this PC's recipient.
    pub fn public_key(&self) -> String {
        self.key.to_public().to_string()
    }

    /// The file it was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Where this PC's private key lives: `$KUROKO_IDENTITY`, else `identity.txt` in kuroko's data
/// folder (see `files::data_dir`).
pub fn identity_path() -> PathBuf {
    match std::env::var_os("KUROKO_IDENTITY").filter(|p| !p.is_empty()) {
        Some(path) => PathBuf::from(path),
        None => crate::files::data_dir().join("identity.txt"),
    }
}

/// This PC's key, if it has one.
pub fn load() -> Result<Option<Identity>, String> {
    load_from(&identity_path())
}

/// This PC's key, created (and written, readable by this user only) if it has none yet.
/// `true` when it was created now.
pub fn load_or_create() -> Result<(Identity, bool), String> {
    let path = identity_path();
    if let Some(identity) = load_from(&path)? {
        return Ok((identity, false));
    }
    create_at(&path)?;
    // Two kuroko starting at once on one PC (two agents' first start) may both have made a key;
    // the file holds the one whose rename came last, and that is the one both use.
    let identity = load_from(&path)?
        .ok_or_else(|| format!("{} vanished after it was written", path.display()))?;
    Ok((identity, true))
}

fn load_from(path: &Path) -> Result<Option<Identity>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(format!(
                "cannot read this PC's key for secrets {}: {e}",
                path.display()
            ));
        }
    };
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .ok_or_else(|| {
            format!(
                "{} holds no key for secrets (no AGE-SECRET-KEY- line); move it away and a new \
                 key is made on next use (secrets must then be set again)",
                path.display()
            )
        })?;
    let key = age::x25519::Identity::from_str(line)
        .map_err(|e| format!("{}: the key for secrets is damaged ({e})", path.display()))?;
    Ok(Some(Identity {
        key,
        path: path.to_path_buf(),
    }))
}

fn create_at(path: &Path) -> Result<Identity, String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the folder {}: {e}", dir.display()))?;
    }
    let key = age::x25519::Identity::generate();
    let text = format!(
        "# kuroko: this PC's key for reading secrets. Keep it on this PC only; whoever has it can\n\
         # read every secret set for this PC. Lost: a new one is made, then set the secrets again.\n\
         # created: {}\n# public key: {}\n{}\n",
        chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        key.to_public(),
        key.to_string().expose_secret()
    );
    crate::files::replace_file(path, |temp| {
        let mut file =
            private_file(temp).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        file.write_all(text.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    })?;
    Ok(Identity {
        key,
        path: path.to_path_buf(),
    })
}

/// A new file only this user can read (mode 0600 from the start on Unix; on Windows the data
/// folder is in the user's own profile, which other users cannot read).
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Encrypts `value` to every public key (`age1…`), as base64 text for the ledger.
pub fn encrypt(value: &str, public_keys: &[&str]) -> Result<String, String> {
    use base64::Engine;
    let recipients = public_keys
        .iter()
        .map(|k| {
            age::x25519::Recipient::from_str(k)
                .map_err(|e| format!("{k:?} is not a public key for secrets: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if recipients.is_empty() {
        return Err("no public key to encrypt to".into());
    }
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
            .map_err(|e| format!("cannot encrypt: {e}"))?;
    let mut out = Vec::new();
    let mut writer = encryptor
        .wrap_output(&mut out)
        .map_err(|e| format!("cannot encrypt: {e}"))?;
    writer
        .write_all(value.as_bytes())
        .and_then(|_| writer.finish().map(|_| ()))
        .map_err(|e| format!("cannot encrypt: {e}"))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(out))
}

/// Why a value could not be decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecryptError {
    /// It was not encrypted to this PC's key.
    NotForThisKey,
    /// The stored text is not an age ciphertext (damaged, or written by something else).
    Damaged(String),
}

/// Decrypts a value `encrypt` made, with this PC's key.
pub fn decrypt(identity: &Identity, ciphertext: &str) -> Result<String, DecryptError> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(ciphertext.trim())
        .map_err(|e| DecryptError::Damaged(format!("not base64: {e}")))?;
    let decryptor = age::Decryptor::new_buffered(&bytes[..])
        .map_err(|e| DecryptError::Damaged(e.to_string()))?;
    let mut reader = decryptor
        .decrypt(std::iter::once(&identity.key as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => DecryptError::NotForThisKey,
            other => DecryptError::Damaged(other.to_string()),
        })?;
    let mut value = Vec::new();
    reader
        .by_ref()
        .take(MAX_VALUE_BYTES as u64 + 1)
        .read_to_end(&mut value)
        .map_err(|e| DecryptError::Damaged(e.to_string()))?;
    String::from_utf8(value).map_err(|_| DecryptError::Damaged("not UTF-8 text".into()))
}

/// Checks a secret's name: 1–64 characters, letters (Japanese too), digits, `_`, `-` and `.`,
/// so it is easy to type in a script and never looks like a value or an option.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a secret needs a name, e.g. 住基システム.password".into());
    }
    if name.chars().count() > 64 {
        return Err(format!(
            "the secret name {name:?} is too long (at most 64 characters)"
        ));
    }
    if name.starts_with('-') {
        return Err(format!(
            "the secret name {name:?} must not start with '-' (it would read as an option)"
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        return Err(format!(
            "the secret name {name:?} has {c:?}: use letters (Japanese too), digits, '_', '-' \
             and '.', e.g. 住基システム.password"
        ));
    }
    Ok(())
}

/// Checks a value before it is encrypted: not empty, not too long, one line.
pub fn check_value(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("the value is empty; nothing was set".into());
    }
    if value.len() > MAX_VALUE_BYTES {
        return Err(format!(
            "the value is longer than {MAX_VALUE_BYTES} bytes; nothing was set"
        ));
    }
    if value.contains(['\n', '\r']) {
        return Err("the value has a line break; nothing was set".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kuroko-vault-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join("identity.txt")
    }

    #[test]
    fn a_value_round_trips_for_each_recipient_and_not_for_another_key() {
        let (a, b, c) = (temp("a"), temp("b"), temp("c"));
        let (ia, ib, ic) = (
            create_at(&a).unwrap(),
            create_at(&b).unwrap(),
            create_at(&c).unwrap(),
        );
        let value = "深谷-Pa55\"word\\";
        let sealed = encrypt(value, &[&ia.public_key(), &ib.public_key()]).unwrap();
        assert!(!sealed.contains(value) && !sealed.contains("Pa55"));
        assert_eq!(decrypt(&ia, &sealed).unwrap(), value);
        assert_eq!(decrypt(&ib, &sealed).unwrap(), value);
        assert_eq!(decrypt(&ic, &sealed), Err(DecryptError::NotForThisKey));
        assert!(
            encrypt(value, &["age1nope"])
                .unwrap_err()
                .contains("not a public key")
        );
        assert!(encrypt(value, &[]).is_err());
        // Read back from its file, the key still opens it.
        let again = load_from(&a).unwrap().unwrap();
        assert_eq!(again.public_key(), ia.public_key());
        assert_eq!(decrypt(&again, &sealed).unwrap(), value);
        // A damaged ciphertext is told apart from another key's.
        let mut broken = sealed.clone();
        broken.replace_range(10..14, "AAAA");
        assert!(matches!(
            decrypt(&ia, &broken),
            Err(DecryptError::Damaged(_))
        ));
        assert!(matches!(
            decrypt(&ia, "not base64!"),
            Err(DecryptError::Damaged(_))
        ));
        for p in [a, b, c] {
            let _ = std::fs::remove_dir_all(p.parent().unwrap());
        }
    }

    #[cfg(unix)]
    #[test]
    fn the_key_file_is_readable_by_its_user_only_and_says_what_it_is() {
        use std::os::unix::fs::PermissionsExt;
        let path = temp("mode");
        let identity = create_at(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(&identity.public_key()));
        assert!(text.contains("AGE-SECRET-KEY-1"));
        // No temporary file is left beside it.
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["identity.txt"]);
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn a_missing_key_is_none_and_a_damaged_one_is_explained() {
        let path = temp("damaged");
        assert!(load_from(&path).unwrap().is_none());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "hello").unwrap();
        let e = load_from(&path).err().unwrap();
        assert!(e.contains("no AGE-SECRET-KEY-"), "{e}");
        std::fs::write(&path, "AGE-SECRET-KEY-1QQQ").unwrap();
        let e = load_from(&path).err().unwrap();
        assert!(e.contains("damaged"), "{e}");
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn names_and_values_are_checked_with_reasons() {
        for ok in ["db.password", "住基システム.パスワード", "A_b-1"] {
            assert_eq!(check_name(ok), Ok(()), "{ok}");
        }
        for (bad, says) in [
            ("", "needs a name"),
            ("a b", "' '"),
            ("-x", "option"),
            ("a/b", "'/'"),
            ("x=1", "'='"),
        ] {
            let e = check_name(bad).unwrap_err();
            assert!(e.contains(says), "{bad:?}: {e}");
        }
        assert!(
            check_name(&"a".repeat(65))
                .unwrap_err()
                .contains("too long")
        );
        assert!(check_value("").unwrap_err().contains("empty"));
        assert!(check_value("a\nb").unwrap_err().contains("line break"));
        assert!(check_value(&"x".repeat(MAX_VALUE_BYTES + 1)).is_err());
        assert_eq!(check_value("pa55 深谷"), Ok(()));
    }
}

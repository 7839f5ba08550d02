//! Key names as scripts write them ("Enter", "Ctrl", "F5", "a") and their parsing, shared by
//! every backend so a name means the same key on X11, on Windows and in a dry run.

use std::fmt;

use crate::suggest;

/// A key that is not a character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NamedKey {
    Enter,
    Tab,
    Escape,
    Backspace,
    Delete,
    Insert,
    Home,
    End,
    PageUp,
    PageDown,
    Up,
    Down,
    Left,
    Right,
    Space,
    Shift,
    Ctrl,
    Alt,
    Meta,
    CapsLock,
    NumLock,
    ScrollLock,
    PrintScreen,
    Pause,
    /// 半角/全角 on a Japanese keyboard.
    ZenkakuHankaku,
    /// 変換
    Henkan,
    /// 無変換
    Muhenkan,
    /// ひらがな/カタカナ
    HiraganaKatakana,
    /// F1 ..= F24
    F(u8),
}

/// A key as the script names it: a named key or a single character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    Named(NamedKey),
    Char(char),
}

/// (canonical name, aliases, key) — the canonical name is what the docs and errors show.
const NAMES: &[(&str, &[&str], NamedKey)] = &[
    ("Enter", &["Return"], NamedKey::Enter),
    ("Tab", &[], NamedKey::Tab),
    ("Escape", &["Esc"], NamedKey::Escape),
    ("Backspace", &["BS"], NamedKey::Backspace),
    ("Delete", &["Del"], NamedKey::Delete),
    ("Insert", &["Ins"], NamedKey::Insert),
    ("Home", &[], NamedKey::Home),
    ("End", &[], NamedKey::End),
    ("PageUp", &["PgUp"], NamedKey::PageUp),
    ("PageDown", &["PgDn"], NamedKey::PageDown),
    ("Up", &["ArrowUp"], NamedKey::Up),
    ("Down", &["ArrowDown"], NamedKey::Down),
    ("Left", &["ArrowLeft"], NamedKey::Left),
    ("Right", &["ArrowRight"], NamedKey::Right),
    ("Space", &[], NamedKey::Space),
    ("Shift", &[], NamedKey::Shift),
    ("Ctrl", &["Control"], NamedKey::Ctrl),
    ("Alt", &[], NamedKey::Alt),
    ("Meta", &["Super", "Win", "Windows", "Cmd"], NamedKey::Meta),
    ("CapsLock", &[], NamedKey::CapsLock),
    ("NumLock", &[], NamedKey::NumLock),
    ("ScrollLock", &[], NamedKey::ScrollLock),
    ("PrintScreen", &["PrtSc", "Print"], NamedKey::PrintScreen),
    ("Pause", &["Break"], NamedKey::Pause),
    (
        "ZenkakuHankaku",
        &["Hankaku", "Zenkaku", "半角/全角"],
        NamedKey::ZenkakuHankaku,
    ),
    ("Henkan", &["変換"], NamedKey::Henkan),
    ("Muhenkan", &["無変換"], NamedKey::Muhenkan),
    (
        "HiraganaKatakana",
        &["Kana", "ひらがな"],
        NamedKey::HiraganaKatakana,
    ),
];

impl Key {
    /// Parses a key name, case-insensitively. Single characters stand for themselves
    /// (letters are lowercase keys; hold "Shift" for capitals).
    pub fn parse(name: &str) -> Result<Key, String> {
        let mut chars = name.chars();
        if let (Some(c), None) = (chars.next(), chars.clone().next()) {
            if c == ' ' {
                return Ok(Key::Named(NamedKey::Space));
            }
            return Ok(Key::Char(c.to_lowercase().next().unwrap_or(c)));
        }
        let lower = name.to_lowercase();
        for (canonical, aliases, key) in NAMES {
            if canonical.to_lowercase() == lower
                || aliases.iter().any(|a| a.to_lowercase() == lower)
            {
                return Ok(Key::Named(*key));
            }
        }
        if let Some(n) = lower.strip_prefix('f').and_then(|n| n.parse::<u8>().ok())
            && (1..=24).contains(&n)
        {
            return Ok(Key::Named(NamedKey::F(n)));
        }
        let candidates = all_names();
        Err(format!(
            "unknown key name {name:?}{}; key names are {}, F1-F24, or a single character",
            suggest::hint(name, candidates.iter().map(String::as_str)),
            NAMES
                .iter()
                .map(|(n, _, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

fn all_names() -> Vec<String> {
    let mut names: Vec<String> = NAMES
        .iter()
        .flat_map(|(n, aliases, _)| std::iter::once(*n).chain(aliases.iter().copied()))
        .map(String::from)
        .collect();
    names.extend((1..=24).map(|n| format!("F{n}")));
    names
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Char(c) => write!(f, "{c}"),
            Key::Named(NamedKey::F(n)) => write!(f, "F{n}"),
            Key::Named(named) => {
                let name = NAMES
                    .iter()
                    .find(|(_, _, k)| k == named)
                    .map(|(n, _, _)| *n)
                    .unwrap_or("?");
                f.write_str(name)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_aliases_and_characters() {
        assert_eq!(Key::parse("Enter"), Ok(Key::Named(NamedKey::Enter)));
        assert_eq!(Key::parse("return"), Ok(Key::Named(NamedKey::Enter)));
        assert_eq!(Key::parse("CTRL"), Ok(Key::Named(NamedKey::Ctrl)));
        assert_eq!(Key::parse("f5"), Ok(Key::Named(NamedKey::F(5))));
        assert_eq!(Key::parse("A"), Ok(Key::Char('a')));
        assert_eq!(Key::parse("/"), Ok(Key::Char('/')));
        assert_eq!(Key::parse("変換"), Ok(Key::Named(NamedKey::Henkan)));
    }

    #[test]
    fn unknown_names_get_a_hint() {
        let err = Key::parse("Entr").unwrap_err();
        assert!(
            err.contains("\"Entr\"") && err.contains("did you mean `Enter`"),
            "{err}"
        );
        assert!(Key::parse("F25").is_err());
        assert!(Key::parse("").is_err());
    }

    #[test]
    fn displays_canonical_names() {
        assert_eq!(Key::parse("esc").unwrap().to_string(), "Escape");
        assert_eq!(Key::parse("F12").unwrap().to_string(), "F12");
    }
}

//! How text gets into a field exactly, on any backend: characters the keyboard layout has go
//! out as key events; any other text (kanji, kana, ㈱, 𠮷 …) is pasted through the clipboard,
//! whose earlier contents are put back afterwards. Newlines and tabs are always the Enter and
//! Tab keys. Reading a field back (select all, copy) lets a script check what arrived.

use std::time::Duration;

use super::{ClipboardSnapshot, DResult, Desktop, DesktopError, Key, NamedKey};

/// How to type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Key events when the layout has every character of a line, else paste.
    Auto,
    /// Key events only (characters the layout lacks go through a remapped key).
    Keys,
    /// The clipboard and Ctrl+V, for every line.
    Paste,
}

impl Method {
    pub fn parse(name: &str) -> Result<Method, String> {
        match name {
            "auto" => Ok(Method::Auto),
            "keys" => Ok(Method::Keys),
            "paste" => Ok(Method::Paste),
            _ => Err(format!(
                "unknown typing method {name:?}; use \"auto\", \"keys\" or \"paste\""
            )),
        }
    }
}

/// One step of typing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Keys(String),
    Paste(String),
    Press(NamedKey),
}

/// Characters typed as keys between two abort checks.
const KEY_CHUNK: usize = 8;
/// Characters pasted at once (an X11 property of this size needs no incremental transfer).
const PASTE_CHUNK: usize = 16_384;

/// Splits text into steps: lines and tab-separated cells as keys or pastes, with Enter and
/// Tab between them.
pub fn plan(text: &str, method: Method, has_key: &mut dyn FnMut(char) -> bool) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut segment = String::new();
    let mut flush = |segment: &mut String, pieces: &mut Vec<Piece>| {
        if segment.is_empty() {
            return;
        }
        let chars: Vec<char> = segment.chars().collect();
        let paste = match method {
            Method::Paste => true,
            Method::Keys => false,
            Method::Auto => !chars.iter().all(|c| has_key(*c)),
        };
        let (size, make): (usize, fn(String) -> Piece) = if paste {
            (PASTE_CHUNK, Piece::Paste)
        } else {
            (KEY_CHUNK, Piece::Keys)
        };
        for chunk in chars.chunks(size) {
            pieces.push(make(chunk.iter().collect()));
        }
        segment.clear();
    };
    for c in text.chars() {
        match c {
            '\n' | '\t' => {
                flush(&mut segment, &mut pieces);
                pieces.push(Piece::Press(if c == '\n' {
                    NamedKey::Enter
                } else {
                    NamedKey::Tab
                }));
            }
            '\r' => {}
            _ => segment.push(c),
        }
    }
    flush(&mut segment, &mut pieces);
    pieces
}

/// How long an application may take to read a paste or answer a copy.
const CLIPBOARD_TIMEOUT: Duration = Duration::from_secs(3);

/// `modifier`+`key` (Ctrl+A); the modifier is released even when the key fails.
pub(crate) fn chord(desktop: &mut Desktop, modifier: NamedKey, key: char) -> DResult<()> {
    let (m, k) = (Key::Named(modifier), Key::Char(key));
    desktop.keyboard.key_down(m)?;
    let pressed = desktop
        .keyboard
        .key_down(k)
        .and_then(|_| desktop.keyboard.key_up(k));
    let released = desktop.keyboard.key_up(m);
    pressed.and(released)
}

/// The clipboard as it was before typing began, kept to be put back.
#[derive(Default)]
pub struct Saved(Option<ClipboardSnapshot>);

impl Saved {
    fn ensure(&mut self, desktop: &mut Desktop) -> DResult<()> {
        if self.0.is_none() {
            self.0 = Some(desktop.clipboard.snapshot()?);
        }
        Ok(())
    }

    /// Puts the clipboard back; returns the formats that could not be saved, if any.
    pub fn restore(self, desktop: &mut Desktop) -> DResult<Vec<String>> {
        match self.0 {
            Some(snapshot) => {
                let left_out = snapshot.left_out.clone();
                desktop.clipboard.restore(snapshot)?;
                Ok(left_out)
            }
            None => Ok(Vec::new()),
        }
    }
}

/// Performs one step.
pub fn perform(desktop: &mut Desktop, piece: &Piece, saved: &mut Saved) -> DResult<()> {
    match piece {
        Piece::Keys(text) => desktop.keyboard.type_text(text),
        Piece::Press(key) => {
            desktop.keyboard.key_down(Key::Named(*key))?;
            desktop.keyboard.key_up(Key::Named(*key))
        }
        Piece::Paste(text) => {
            saved.ensure(desktop)?;
            let mark = desktop.clipboard.offer_text(text)?;
            chord(desktop, NamedKey::Ctrl, 'v')?;
            if desktop.clipboard.wait_taken(mark, CLIPBOARD_TIMEOUT)? {
                Ok(())
            } else {
                Err(DesktopError::new(format!(
                    "the focused window did not take the pasted text within {} s (is a text field focused, and does it paste with Ctrl+V?)",
                    CLIPBOARD_TIMEOUT.as_secs()
                )))
            }
        }
    }
}

/// Reads the focused field back: select all, copy, read the clipboard; then moves the caret
/// to the end (so the selection does not swallow what is typed next).
pub fn read_field(desktop: &mut Desktop, saved: &mut Saved) -> DResult<Option<String>> {
    saved.ensure(desktop)?;
    desktop.clipboard.clear()?;
    chord(desktop, NamedKey::Ctrl, 'a')?;
    chord(desktop, NamedKey::Ctrl, 'c')?;
    let text = desktop.clipboard.wait_copied(CLIPBOARD_TIMEOUT)?;
    desktop.keyboard.key_down(Key::Named(NamedKey::End))?;
    desktop.keyboard.key_up(Key::Named(NamedKey::End))?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ascii(c: char) -> bool {
        c.is_ascii()
    }

    #[test]
    fn auto_types_ascii_lines_and_pastes_the_others() {
        let p = plan("Sato Hanako\n佐藤 花子\t1-2", Method::Auto, &mut ascii);
        assert_eq!(
            p,
            [
                Piece::Keys("Sato Han".into()),
                Piece::Keys("ako".into()),
                Piece::Press(NamedKey::Enter),
                Piece::Paste("佐藤 花子".into()),
                Piece::Press(NamedKey::Tab),
                Piece::Keys("1-2".into()),
            ]
        );
    }

    #[test]
    fn forced_methods_and_long_pastes() {
        assert_eq!(
            plan("abc", Method::Paste, &mut ascii),
            [Piece::Paste("abc".into())]
        );
        assert_eq!(
            plan("𠮷野", Method::Keys, &mut ascii),
            [Piece::Keys("𠮷野".into())]
        );
        let long = "髙".repeat(PASTE_CHUNK + 1);
        let p = plan(&long, Method::Auto, &mut ascii);
        assert_eq!(p.len(), 2);
        assert_eq!(p[1], Piece::Paste("髙".into()));
        assert!(plan("", Method::Auto, &mut ascii).is_empty());
        assert_eq!(
            plan("a\r\nb", Method::Auto, &mut ascii),
            [
                Piece::Keys("a".into()),
                Piece::Press(NamedKey::Enter),
                Piece::Keys("b".into())
            ]
        );
    }
}

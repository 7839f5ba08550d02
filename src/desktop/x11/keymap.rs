//! Which keycode (and whether Shift) produces a character with the keyboard map the X server
//! has now. Typing through keys that already exist never changes the keymap, which is what
//! keeps ASCII typing exact in GTK and Qt alike.

use std::collections::HashMap;

use x11rb::connection::Connection;
use x11rb::protocol::xproto::ConnectionExt as _;

use crate::desktop::{DResult, DesktopError};

pub const XK_SHIFT_L: u32 = 0xffe1;

/// Where a keysym sits on the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPosition {
    pub keycode: u8,
    pub shift: bool,
}

#[derive(Debug, Default)]
pub struct Keymap {
    positions: HashMap<u32, KeyPosition>,
}

impl Keymap {
    pub fn load(conn: &impl Connection) -> DResult<Keymap> {
        let setup = conn.setup();
        let (min, max) = (setup.min_keycode, setup.max_keycode);
        let reply = conn
            .get_keyboard_mapping(min, max - min + 1)
            .map_err(|e| DesktopError::new(format!("cannot read the keyboard map: {e}")))?
            .reply()
            .map_err(|e| DesktopError::new(format!("cannot read the keyboard map: {e}")))?;
        let per = reply.keysyms_per_keycode as usize;
        let mut positions = HashMap::new();
        // Level 0 (plain) wins over level 1 (Shift); lower keycodes win among equals.
        for level in 0..per.min(2) {
            for (i, chunk) in reply.keysyms.chunks(per).enumerate() {
                let mut sym = chunk[level];
                // A letter key lists only its lowercase keysym; its Shift level is the capital.
                if level == 1 && sym == 0 {
                    sym = upper_latin(chunk[0]).unwrap_or(0);
                }
                if sym != 0 {
                    positions.entry(sym).or_insert(KeyPosition {
                        keycode: min + i as u8,
                        shift: level == 1,
                    });
                }
            }
        }
        Ok(Keymap { positions })
    }

    pub fn position(&self, keysym: u32) -> Option<KeyPosition> {
        self.positions.get(&keysym).copied()
    }
}

fn upper_latin(sym: u32) -> Option<u32> {
    (0x61..=0x7a).contains(&sym).then(|| sym - 0x20)
}

/// The X keysym for a character (Latin-1 maps to itself, the rest to 0x0100_0000 + code point).
pub fn keysym_for_char(c: char) -> u32 {
    match c {
        '\n' | '\r' => 0xff0d,
        '\t' => 0xff09,
        '\u{8}' => 0xff08,
        c if (' '..='~').contains(&c) || ('\u{a0}'..='\u{ff}').contains(&c) => c as u32,
        c => 0x0100_0000 + c as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keysyms_follow_the_x11_rules() {
        assert_eq!(keysym_for_char('a'), 0x61);
        assert_eq!(keysym_for_char('é'), 0xe9);
        assert_eq!(keysym_for_char('\n'), 0xff0d);
        assert_eq!(keysym_for_char('山'), 0x0100_5c71);
    }
}

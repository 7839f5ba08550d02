//! Keyboard and mouse on X11 through enigo (x11rb backend, XTEST). Characters the keymap
//! already has are typed as their own key (with Shift where needed), so the keymap never
//! changes under the application; only other characters fall back to enigo's remapping.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::Ordering;

use enigo::{Axis, Coordinate, Direction, Enigo, Keyboard as _, Mouse as _, Settings};

use super::keymap::{KeyPosition, Keymap, XK_SHIFT_L, keysym_for_char};
use super::{Commanded, pack};
use crate::desktop::{Button, DResult, DesktopError, Key, Mouse, NamedKey};

struct Shared {
    enigo: Enigo,
    keymap: Keymap,
    shift: Option<u8>,
}

pub struct X11Keyboard {
    shared: Rc<RefCell<Shared>>,
    held: Vec<Key>,
    /// Turns the IME off for the keys that type, and back on when the keyboard goes.
    ime: super::ime::ImeGuard,
}

pub struct X11Mouse {
    shared: Rc<RefCell<Shared>>,
    held: Vec<Button>,
    commanded: Commanded,
}

pub fn connect(commanded: Commanded) -> DResult<(X11Keyboard, X11Mouse)> {
    let (conn, _) = super::open()?;
    let keymap = Keymap::load(&conn)?;
    drop(conn);
    let settings = Settings {
        release_keys_when_dropped: true,
        ..Settings::default()
    };
    let enigo = super::retry(|| Enigo::new(&settings)).map_err(|e| {
        DesktopError::new(format!("cannot start keyboard/mouse input (XTEST): {e}"))
    })?;
    let shift = keymap.position(XK_SHIFT_L).map(|p| p.keycode);
    let shared = Rc::new(RefCell::new(Shared {
        enigo,
        keymap,
        shift,
    }));
    Ok((
        X11Keyboard {
            shared: shared.clone(),
            held: Vec::new(),
            ime: super::ime::ImeGuard::default(),
        },
        X11Mouse {
            shared,
            held: Vec::new(),
            commanded,
        },
    ))
}

fn input_error(what: &str, e: enigo::InputError) -> DesktopError {
    DesktopError::new(format!("{what} failed: {e}"))
}

impl Shared {
    fn raw(&mut self, keycode: u8, direction: Direction) -> DResult<()> {
        self.enigo
            .raw(keycode as u16, direction)
            .map_err(|e| input_error("key event", e))
    }

    /// Presses or releases a key that the keymap has, holding Shift around it if needed.
    fn positioned(&mut self, pos: KeyPosition, direction: Direction) -> DResult<()> {
        let shift = if pos.shift { self.shift } else { None };
        if let (Some(s), Direction::Press | Direction::Click) = (shift, direction) {
            self.raw(s, Direction::Press)?;
        }
        self.raw(pos.keycode, direction)?;
        if let (Some(s), Direction::Release | Direction::Click) = (shift, direction) {
            self.raw(s, Direction::Release)?;
        }
        Ok(())
    }

    fn char_key(&mut self, c: char, direction: Direction) -> DResult<()> {
        match self.keymap.position(keysym_for_char(c)) {
            Some(pos) => self.positioned(pos, direction),
            None => self
                .enigo
                .key(enigo::Key::Unicode(c), direction)
                .map_err(|e| input_error(&format!("typing {c:?}"), e)),
        }
    }

    fn key(&mut self, key: Key, direction: Direction) -> DResult<()> {
        match key {
            Key::Char(c) => self.char_key(c, direction),
            Key::Named(named) => self
                .enigo
                .key(enigo_key(named), direction)
                .map_err(|e| input_error(&format!("key {key}"), e)),
        }
    }
}

fn enigo_key(key: NamedKey) -> enigo::Key {
    use enigo::Key as E;
    match key {
        NamedKey::Enter => E::Return,
        NamedKey::Tab => E::Tab,
        NamedKey::Escape => E::Escape,
        NamedKey::Backspace => E::Backspace,
        NamedKey::Delete => E::Delete,
        NamedKey::Insert => E::Insert,
        NamedKey::Home => E::Home,
        NamedKey::End => E::End,
        NamedKey::PageUp => E::PageUp,
        NamedKey::PageDown => E::PageDown,
        NamedKey::Up => E::UpArrow,
        NamedKey::Down => E::DownArrow,
        NamedKey::Left => E::LeftArrow,
        NamedKey::Right => E::RightArrow,
        NamedKey::Space => E::Space,
        NamedKey::Shift => E::Shift,
        NamedKey::Ctrl => E::Control,
        NamedKey::Alt => E::Alt,
        NamedKey::Meta => E::Meta,
        NamedKey::CapsLock => E::CapsLock,
        NamedKey::NumLock => E::Numlock,
        NamedKey::ScrollLock => E::ScrollLock,
        NamedKey::PrintScreen => E::PrintScr,
        NamedKey::Pause => E::Pause,
        NamedKey::ZenkakuHankaku => E::Other(0xff2a),
        NamedKey::Henkan => E::Other(0xff23),
        NamedKey::Muhenkan => E::Other(0xff22),
        NamedKey::HiraganaKatakana => E::Other(0xff27),
        NamedKey::F(n) => E::Other(0xffbe + u32::from(n) - 1),
    }
}

impl crate::desktop::Keyboard for X11Keyboard {
    fn type_text(&mut self, text: &str) -> DResult<()> {
        if text.chars().any(|c| !c.is_control()) {
            self.ime.before_typing();
        }
        let mut shared = self.shared.borrow_mut();
        for c in text.chars() {
            shared.char_key(c, Direction::Click)?;
        }
        Ok(())
    }

    fn key_down(&mut self, key: Key) -> DResult<()> {
        self.shared.borrow_mut().key(key, Direction::Press)?;
        self.held.push(key);
        Ok(())
    }

    fn key_up(&mut self, key: Key) -> DResult<()> {
        self.shared.borrow_mut().key(key, Direction::Release)?;
        self.held.retain(|k| *k != key);
        Ok(())
    }

    fn has_key_for(&mut self, c: char) -> bool {
        self.shared
            .borrow()
            .keymap
            .position(keysym_for_char(c))
            .is_some()
    }

    fn release_all(&mut self) -> DResult<()> {
        let mut first_error = None;
        while let Some(key) = self.held.pop() {
            if let Err(e) = self.shared.borrow_mut().key(key, Direction::Release) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

fn enigo_button(button: Button) -> enigo::Button {
    match button {
        Button::Left => enigo::Button::Left,
        Button::Right => enigo::Button::Right,
        Button::Middle => enigo::Button::Middle,
    }
}

impl Mouse for X11Mouse {
    fn move_to(&mut self, x: i32, y: i32) -> DResult<()> {
        self.commanded.store(pack(x, y), Ordering::SeqCst);
        self.shared
            .borrow_mut()
            .enigo
            .move_mouse(x, y, Coordinate::Abs)
            .map_err(|e| input_error("moving the pointer", e))
    }

    fn button_down(&mut self, button: Button) -> DResult<()> {
        self.shared
            .borrow_mut()
            .enigo
            .button(enigo_button(button), Direction::Press)
            .map_err(|e| input_error("pressing a mouse button", e))?;
        self.held.push(button);
        Ok(())
    }

    fn button_up(&mut self, button: Button) -> DResult<()> {
        self.shared
            .borrow_mut()
            .enigo
            .button(enigo_button(button), Direction::Release)
            .map_err(|e| input_error("releasing a mouse button", e))?;
        self.held.retain(|b| *b != button);
        Ok(())
    }

    fn scroll(&mut self, notches: i32) -> DResult<()> {
        self.shared
            .borrow_mut()
            .enigo
            .scroll(notches, Axis::Vertical)
            .map_err(|e| input_error("scrolling", e))
    }

    fn position(&mut self) -> DResult<(i32, i32)> {
        self.shared
            .borrow()
            .enigo
            .location()
            .map_err(|e| input_error("reading the pointer position", e))
    }

    fn release_all(&mut self) -> DResult<()> {
        let mut first_error = None;
        while let Some(button) = self.held.pop() {
            if let Err(e) = self.button_up(button) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

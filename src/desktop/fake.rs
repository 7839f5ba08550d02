//! A desktop that exists only in memory: it records every action and serves a PNG (or a plain
//! grey picture) as the screen. `--dry-run` uses it, and so do fast tests; the X11 tests are
//! what prove the real backend.

use std::cell::RefCell;
use std::rc::Rc;

use image::{Rgba, RgbaImage};

use super::*;

/// The shared record of what the fake desktop was asked to do.
pub type ActionLog = Rc<RefCell<Vec<String>>>;

struct State {
    log: ActionLog,
    pointer: (i32, i32),
    held_keys: Vec<Key>,
    held_buttons: Vec<Button>,
    screen: RgbaImage,
    windows: Vec<WindowInfo>,
    /// In a dry run every window a script waits for "exists", so the script can go on.
    invent_windows: bool,
}

type Shared = Rc<RefCell<State>>;

/// Builds a fake desktop. `screen`: what captures return (default: 1920x1080 grey).
pub fn desktop(screen: Option<RgbaImage>, invent_windows: bool) -> (Desktop, ActionLog) {
    let log: ActionLog = Rc::default();
    let screen =
        screen.unwrap_or_else(|| RgbaImage::from_pixel(1920, 1080, Rgba([128, 128, 128, 255])));
    let pointer = (screen.width() as i32 / 2, screen.height() as i32 / 2);
    let state: Shared = Rc::new(RefCell::new(State {
        log: log.clone(),
        pointer,
        held_keys: Vec::new(),
        held_buttons: Vec::new(),
        screen,
        windows: Vec::new(),
        invent_windows,
    }));
    let desktop = Desktop {
        keyboard: Box::new(Fake(state.clone())),
        mouse: Box::new(Fake(state.clone())),
        screen: Box::new(Fake(state.clone())),
        windows: Box::new(Fake(state.clone())),
        clipboard: Box::new(FakeClipboard::default()),
        controls: Box::new(FakeControls::new(Vec::new(), log.clone())),
        stop_triggers: Box::new(Fake(state)),
        backend: Backend::Fake,
    };
    (desktop, log)
}

struct Fake(Shared);

impl Fake {
    fn record(&self, action: String) {
        self.0.borrow().log.borrow_mut().push(action);
    }
}

impl Keyboard for Fake {
    fn type_text(&mut self, text: &str) -> DResult<()> {
        self.record(format!("type {text:?}"));
        Ok(())
    }
    fn key_down(&mut self, key: Key) -> DResult<()> {
        self.0.borrow_mut().held_keys.push(key);
        self.record(format!("key_down {key}"));
        Ok(())
    }
    fn key_up(&mut self, key: Key) -> DResult<()> {
        self.0.borrow_mut().held_keys.retain(|k| *k != key);
        self.record(format!("key_up {key}"));
        Ok(())
    }
    fn release_all(&mut self) -> DResult<()> {
        let held = std::mem::take(&mut self.0.borrow_mut().held_keys);
        for key in held.into_iter().rev() {
            self.record(format!("key_up {key} (released)"));
        }
        Ok(())
    }
}

impl Mouse for Fake {
    fn move_to(&mut self, x: i32, y: i32) -> DResult<()> {
        self.0.borrow_mut().pointer = (x, y);
        self.record(format!("move_to {x} {y}"));
        Ok(())
    }
    fn button_down(&mut self, button: Button) -> DResult<()> {
        self.0.borrow_mut().held_buttons.push(button);
        self.record(format!("button_down {button:?}"));
        Ok(())
    }
    fn button_up(&mut self, button: Button) -> DResult<()> {
        self.0.borrow_mut().held_buttons.retain(|b| *b != button);
        self.record(format!("button_up {button:?}"));
        Ok(())
    }
    fn scroll(&mut self, notches: i32) -> DResult<()> {
        self.record(format!("scroll {notches}"));
        Ok(())
    }
    fn position(&mut self) -> DResult<(i32, i32)> {
        Ok(self.0.borrow().pointer)
    }
    fn release_all(&mut self) -> DResult<()> {
        let held = std::mem::take(&mut self.0.borrow_mut().held_buttons);
        for button in held {
            self.record(format!("button_up {button:?} (released)"));
        }
        Ok(())
    }
}

impl Screen for Fake {
    fn size(&mut self) -> DResult<(u32, u32)> {
        Ok(self.0.borrow().screen.dimensions())
    }
    fn capture(&mut self) -> DResult<RgbaImage> {
        Ok(self.0.borrow().screen.clone())
    }
}

impl Windows for Fake {
    fn list(&mut self) -> DResult<Vec<WindowInfo>> {
        Ok(self.0.borrow().windows.clone())
    }
    fn activate(&mut self, window: &WindowInfo) -> DResult<()> {
        self.record(format!("activate {:?}", window.title));
        Ok(())
    }
    fn find(&mut self, title_part: &str) -> DResult<Option<WindowInfo>> {
        let mut state = self.0.borrow_mut();
        if let Some(w) = state
            .windows
            .iter()
            .rev()
            .find(|w| w.title.contains(title_part))
        {
            return Ok(Some(w.clone()));
        }
        if !state.invent_windows {
            return Ok(None);
        }
        let (w, h) = state.screen.dimensions();
        let window = WindowInfo {
            id: state.windows.len() as u64 + 1,
            title: title_part.to_string(),
            x: 0,
            y: 0,
            width: w,
            height: h,
        };
        state.windows.push(window.clone());
        Ok(Some(window))
    }
}

impl StopTriggers for Fake {
    fn start(&mut self, _abort: &AbortSignal, _settings: &StopSettings) -> DResult<Vec<String>> {
        Ok(Vec::new())
    }
}

/// An in-memory clipboard: what is offered is "taken" at once; nothing is ever copied by an
/// application, so reading a field back finds nothing.
#[derive(Default)]
struct FakeClipboard {
    text: Option<String>,
}

impl crate::desktop::Clipboard for FakeClipboard {
    fn text(&mut self) -> DResult<Option<String>> {
        Ok(self.text.clone())
    }
    fn offer_text(&mut self, text: &str) -> DResult<u64> {
        self.text = Some(text.to_string());
        Ok(0)
    }
    fn wait_taken(&mut self, _mark: u64, _timeout: std::time::Duration) -> DResult<bool> {
        Ok(true)
    }
    fn clear(&mut self) -> DResult<()> {
        self.text = None;
        Ok(())
    }
    fn wait_copied(&mut self, _timeout: std::time::Duration) -> DResult<Option<String>> {
        Ok(None)
    }
    fn snapshot(&mut self) -> DResult<crate::desktop::ClipboardSnapshot> {
        let mut s = crate::desktop::ClipboardSnapshot::default();
        if let Some(t) = &self.text {
            s.had_owner = true;
            s.formats.insert(0, (0, 8, t.as_bytes().to_vec()));
        }
        Ok(s)
    }
    fn restore(&mut self, snapshot: crate::desktop::ClipboardSnapshot) -> DResult<()> {
        self.text = snapshot
            .formats
            .get(&0)
            .map(|(_, _, b)| String::from_utf8_lossy(b).into_owned());
        Ok(())
    }
}

/// An accessibility tree held in memory: a test gives it the controls; pressing and setting
/// text are recorded in the action log, and set texts are read back.
pub struct FakeControls {
    controls: Vec<crate::desktop::ui::Control>,
    texts: HashMap<String, String>,
    log: ActionLog,
}

impl FakeControls {
    pub fn new(controls: Vec<crate::desktop::ui::Control>, log: ActionLog) -> FakeControls {
        FakeControls {
            controls,
            texts: HashMap::new(),
            log,
        }
    }
}

impl crate::desktop::ui::Controls for FakeControls {
    fn kind(&self) -> &'static str {
        "fake controls"
    }
    fn controls(&mut self, window: Option<&str>) -> DResult<Vec<crate::desktop::ui::Control>> {
        Ok(self
            .controls
            .iter()
            .filter(|c| window.is_none_or(|w| c.window.contains(w)))
            .cloned()
            .collect())
    }
    fn press(&mut self, control: &crate::desktop::ui::Control) -> DResult<bool> {
        self.log
            .borrow_mut()
            .push(format!("press {} {:?}", control.role, control.name));
        Ok(control.role != crate::desktop::ui::Role::Label)
    }
    fn set_text(&mut self, control: &crate::desktop::ui::Control, text: &str) -> DResult<bool> {
        if control.role != crate::desktop::ui::Role::Text {
            return Ok(false);
        }
        self.log
            .borrow_mut()
            .push(format!("set_text {:?} {text:?}", control.handle));
        self.texts.insert(control.handle.clone(), text.to_string());
        Ok(true)
    }
    fn text(&mut self, control: &crate::desktop::ui::Control) -> DResult<String> {
        Ok(self
            .texts
            .get(&control.handle)
            .cloned()
            .unwrap_or_else(|| control.name.clone()))
    }
}

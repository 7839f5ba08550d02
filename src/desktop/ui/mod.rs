//! Controls by role and name (`ui::`): one small trait over each system's accessibility tree
//! (AT-SPI on Linux, the Win32 control tree on Windows, an in-memory tree for dry runs and fast
//! tests), so a click names its button instead of its picture. UI Automation can plug in behind
//! the same trait; Wine's is stubs, so none ships untested.

pub mod select;

use crate::geometry::Rect;

use super::DResult;

/// kuroko's names for the kinds of control, mapped to each system's own roles.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Role {
    Button,
    /// A text field (single or multi-line, password fields too).
    Text,
    Check,
    Radio,
    Combo,
    List,
    ListItem,
    MenuItem,
    Tab,
    /// Static text, e.g. the 氏名 beside a field.
    Label,
    /// A top-level window or dialog.
    Window,
    /// Anything else, by the system's own name for it (shown by `kuroko inspect`).
    Other(String),
}

impl Role {
    /// The names a selector's `role` accepts, in the order the docs list them.
    pub const NAMES: &'static [&'static str] = &[
        "button",
        "text",
        "check",
        "radio",
        "combo",
        "list",
        "list_item",
        "menu_item",
        "tab",
        "label",
        "window",
    ];

    pub fn parse(name: &str) -> Option<Role> {
        Some(match name {
            "button" => Role::Button,
            "text" => Role::Text,
            "check" => Role::Check,
            "radio" => Role::Radio,
            "combo" => Role::Combo,
            "list" => Role::List,
            "list_item" => Role::ListItem,
            "menu_item" => Role::MenuItem,
            "tab" => Role::Tab,
            "label" => Role::Label,
            "window" => Role::Window,
            _ => return None,
        })
    }

    pub fn as_str(&self) -> &str {
        match self {
            Role::Button => "button",
            Role::Text => "text",
            Role::Check => "check",
            Role::Radio => "radio",
            Role::Combo => "combo",
            Role::List => "list",
            Role::ListItem => "list_item",
            Role::MenuItem => "menu_item",
            Role::Tab => "tab",
            Role::Label => "label",
            Role::Window => "window",
            Role::Other(name) => name,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One control as a backend reports it. Only controls that are showing and have a size on the
/// screen are reported.
#[derive(Debug, Clone, PartialEq)]
pub struct Control {
    /// The backend's own reference (an AT-SPI object, a window handle); opaque to everyone else.
    pub handle: String,
    /// The title of its top-level window.
    pub window: String,
    pub role: Role,
    /// The system's own role or class name (for `kuroko inspect` and error messages).
    pub platform_role: String,
    /// What a person reads on or beside it: a button's caption, a field's label. Mnemonic marks
    /// (`&`, `_`) are removed.
    pub name: String,
    /// The automation or widget id, when the program set one ("" otherwise).
    pub id: String,
    /// On the screen, in pixels.
    pub rect: Rect,
    pub enabled: bool,
    /// A password field: its text cannot be read back (Windows hides it from other programs,
    /// toolkits show bullets), and is never shown.
    pub password: bool,
    /// It has the keyboard focus (where typing goes).
    pub focused: bool,
}

impl Control {
    pub fn centre(&self) -> (i32, i32) {
        (
            self.rect.x as i32 + self.rect.w as i32 / 2,
            self.rect.y as i32 + self.rect.h as i32 / 2,
        )
    }
}

/// The control a click at `point` lands on, among `controls` as `Controls::controls` lists
/// them: in the topmost window there, the smallest control holding the point.
pub fn at_point(controls: &[Control], point: (i32, i32)) -> Option<&Control> {
    let holds = |c: &Control| {
        let r = &c.rect;
        point.0 >= r.x as i32
            && point.1 >= r.y as i32
            && point.0 < (r.x + r.w) as i32
            && point.1 < (r.y + r.h) as i32
    };
    let window = controls
        .iter()
        .rev()
        .find(|c| c.role == Role::Window && holds(c))?;
    controls
        .iter()
        .filter(|c| c.window == window.window && holds(c))
        .min_by_key(|c| c.rect.w as u64 * c.rect.h as u64)
}

/// A system's accessibility tree.
pub trait Controls {
    /// The system's name for its tree, for messages ("AT-SPI", "Win32 controls").
    fn kind(&self) -> &'static str;
    /// The controls of every showing top-level window whose title contains `window` (every
    /// window when `None`), each window's controls in the order the system lists them (the
    /// window itself first), windows from the bottom of the stack to the top.
    fn controls(&mut self, window: Option<&str>) -> DResult<Vec<Control>>;
    /// Performs the control's own action (press, toggle, select). `Ok(false)` when it has
    /// none: the caller clicks its centre.
    fn press(&mut self, control: &Control) -> DResult<bool>;
    /// Replaces the control's text. `Ok(false)` when it cannot be set that way: the caller
    /// focuses it and types.
    fn set_text(&mut self, control: &Control, text: &str) -> DResult<bool>;
    /// The control's text: a field's contents, else its name.
    fn text(&mut self, control: &Control) -> DResult<String>;
}

/// How a backend is connected.
pub type Connector = fn() -> DResult<Box<dyn Controls>>;

/// Connects a backend the first time a script asks for a control, so a run that never calls
/// `ui::` needs no accessibility service. A failed connection gives its message to the calls
/// of the next second and is tried again after that (the accessibility bus of a session that
/// is still starting comes up a moment later).
pub struct Lazy {
    kind: &'static str,
    connect: Connector,
    backend: Option<Box<dyn Controls>>,
    /// The last failure and when it happened.
    failed: Option<(super::DesktopError, std::time::Instant)>,
}

/// How long a failed connection's message stands before the next try.
const RECONNECT_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

impl Lazy {
    pub fn new(kind: &'static str, connect: Connector) -> Lazy {
        Lazy {
            kind,
            connect,
            backend: None,
            failed: None,
        }
    }

    fn backend(&mut self) -> DResult<&mut Box<dyn Controls>> {
        if self.backend.is_none() {
            if let Some((e, at)) = &self.failed
                && at.elapsed() < RECONNECT_AFTER
            {
                return Err(e.clone());
            }
            match (self.connect)() {
                Ok(backend) => {
                    self.backend = Some(backend);
                    self.failed = None;
                }
                Err(e) => {
                    self.failed = Some((e.clone(), std::time::Instant::now()));
                    return Err(e);
                }
            }
        }
        self.backend
            .as_mut()
            .ok_or_else(|| super::DesktopError::new(format!("{} is not connected", self.kind)))
    }
}

impl Controls for Lazy {
    fn kind(&self) -> &'static str {
        self.kind
    }
    fn controls(&mut self, window: Option<&str>) -> DResult<Vec<Control>> {
        self.backend()?.controls(window)
    }
    fn press(&mut self, control: &Control) -> DResult<bool> {
        self.backend()?.press(control)
    }
    fn set_text(&mut self, control: &Control, text: &str) -> DResult<bool> {
        self.backend()?.set_text(control, text)
    }
    fn text(&mut self, control: &Control) -> DResult<String> {
        self.backend()?.text(control)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    static TRIES: AtomicUsize = AtomicUsize::new(0);

    /// Fails the first time, as a session's accessibility bus that is still starting does.
    fn late_bus() -> DResult<Box<dyn Controls>> {
        if TRIES.fetch_add(1, Ordering::SeqCst) == 0 {
            return Err(crate::desktop::DesktopError::new(
                "no accessibility bus yet",
            ));
        }
        Ok(Box::new(crate::desktop::fake::FakeControls::new(
            Vec::new(),
            Default::default(),
        )))
    }

    #[test]
    fn a_failed_connection_is_tried_again_after_a_second_not_on_every_call() {
        let mut lazy = Lazy::new("test", late_bus);
        let first = lazy.controls(None).unwrap_err();
        assert!(first.0.contains("no accessibility bus yet"), "{first}");
        // Within the second: the same message, no new try.
        assert!(lazy.controls(None).is_err());
        assert_eq!(TRIES.load(Ordering::SeqCst), 1);
        std::thread::sleep(RECONNECT_AFTER + std::time::Duration::from_millis(50));
        assert_eq!(lazy.controls(None).unwrap(), Vec::new());
        assert_eq!(TRIES.load(Ordering::SeqCst), 2);
        // Connected: no more tries.
        lazy.controls(None).unwrap();
        assert_eq!(TRIES.load(Ordering::SeqCst), 2);
    }
}

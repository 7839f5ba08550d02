//! Top-level windows on X11: listed and activated through EWMH when a window manager runs,
//! and, on a bare X server (Xvfb with no window manager), found among the root's mapped
//! children and focused directly with SetInputFocus.

use std::time::{Duration, Instant};

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    Atom, AtomEnum, ClientMessageEvent, ConfigureWindowAux, ConnectionExt as _, EventMask,
    InputFocus, MapState, StackMode, Window,
};
use x11rb::rust_connection::RustConnection;

use crate::desktop::{DResult, DesktopError, WindowInfo, Windows};

struct Atoms {
    net_client_list: Atom,
    net_active_window: Atom,
    net_wm_name: Atom,
    net_supported: Atom,
    utf8_string: Atom,
}

pub struct X11Windows {
    conn: RustConnection,
    root: Window,
    atoms: Atoms,
}

fn err(what: &str, e: impl std::fmt::Display) -> DesktopError {
    DesktopError::new(format!("{what}: {e}"))
}

impl X11Windows {
    pub fn connect() -> DResult<X11Windows> {
        let (conn, screen) = super::open()?;
        let root = conn.setup().roots[screen].root;
        let intern = |name: &str| -> DResult<Atom> {
            Ok(conn
                .intern_atom(false, name.as_bytes())
                .map_err(|e| err("intern atom", e))?
                .reply()
                .map_err(|e| err("intern atom", e))?
                .atom)
        };
        let atoms = Atoms {
            net_client_list: intern("_NET_CLIENT_LIST")?,
            net_active_window: intern("_NET_ACTIVE_WINDOW")?,
            net_wm_name: intern("_NET_WM_NAME")?,
            net_supported: intern("_NET_SUPPORTED")?,
            utf8_string: intern("UTF8_STRING")?,
        };
        Ok(X11Windows { conn, root, atoms })
    }

    fn property_u32s(&self, window: Window, property: Atom, kind: AtomEnum) -> Vec<u32> {
        self.conn
            .get_property(false, window, property, kind, 0, u32::MAX / 4)
            .ok()
            .and_then(|c| c.reply().ok())
            .and_then(|r| r.value32().map(|v| v.collect()))
            .unwrap_or_default()
    }

    /// The window manager's EWMH support for activation, if one runs.
    fn wm_supports_activation(&self) -> bool {
        self.property_u32s(self.root, self.atoms.net_supported, AtomEnum::ATOM)
            .contains(&self.atoms.net_active_window)
    }

    fn title(&self, window: Window) -> String {
        let get = |property: Atom, kind: Atom| {
            self.conn
                .get_property(false, window, property, kind, 0, 1024)
                .ok()
                .and_then(|c| c.reply().ok())
                .map(|r| r.value)
                .unwrap_or_default()
        };
        let utf8 = get(self.atoms.net_wm_name, self.atoms.utf8_string);
        if !utf8.is_empty() {
            return String::from_utf8_lossy(&utf8).into_owned();
        }
        let latin1 = get(AtomEnum::WM_NAME.into(), AtomEnum::STRING.into());
        latin1.iter().map(|&b| b as char).collect()
    }

    fn info(&self, window: Window) -> Option<WindowInfo> {
        let attrs = self.conn.get_window_attributes(window).ok()?.reply().ok()?;
        // Override-redirect windows are menus, tooltips and the IME's candidate window: never
        // a program's window (a window manager does not list them either).
        if attrs.map_state != MapState::VIEWABLE || attrs.override_redirect {
            return None;
        }
        let title = self.title(window);
        if title.is_empty() {
            return None;
        }
        let geometry = self.conn.get_geometry(window).ok()?.reply().ok()?;
        let origin = self
            .conn
            .translate_coordinates(window, self.root, 0, 0)
            .ok()?
            .reply()
            .ok()?;
        Some(WindowInfo {
            id: window.into(),
            title,
            x: origin.dst_x.into(),
            y: origin.dst_y.into(),
            width: geometry.width.into(),
            height: geometry.height.into(),
        })
    }

    /// Whether `id` has the keyboard: the X input focus is on it or inside it and, where a
    /// window manager runs, it is also the active window.
    fn has_focus(&self, id: Window) -> bool {
        if self.wm_supports_activation() {
            let active =
                self.property_u32s(self.root, self.atoms.net_active_window, AtomEnum::WINDOW);
            if active.first() != Some(&id) {
                return false;
            }
        }
        let Some(mut focus) = self
            .conn
            .get_input_focus()
            .ok()
            .and_then(|c| c.reply().ok())
            .map(|r| r.focus)
        else {
            return false;
        };
        // The focus may sit on a child of the window (or, for PointerRoot, on none).
        for _ in 0..16 {
            if focus == id {
                return true;
            }
            match self
                .conn
                .query_tree(focus)
                .ok()
                .and_then(|c| c.reply().ok())
            {
                Some(tree) if tree.parent != x11rb::NONE && tree.parent != self.root => {
                    focus = tree.parent
                }
                _ => return false,
            }
        }
        false
    }

    fn request_activation(&self, id: Window) -> DResult<()> {
        let sent = if self.wm_supports_activation() {
            // Source indication 2 = a pager/tool acting for the user, which WMs obey.
            let event =
                ClientMessageEvent::new(32, id, self.atoms.net_active_window, [2u32, 0, 0, 0, 0]);
            self.conn.send_event(
                false,
                self.root,
                EventMask::SUBSTRUCTURE_REDIRECT | EventMask::SUBSTRUCTURE_NOTIFY,
                event,
            )
        } else {
            self.conn
                .configure_window(id, &ConfigureWindowAux::new().stack_mode(StackMode::ABOVE))
                .and_then(|_| {
                    self.conn
                        .set_input_focus(InputFocus::PARENT, id, x11rb::CURRENT_TIME)
                })
        };
        sent.map_err(|e| err("activating the window", e))?;
        self.conn
            .flush()
            .map_err(|e| err("activating the window", e))
    }
}

impl Windows for X11Windows {
    fn list(&mut self) -> DResult<Vec<WindowInfo>> {
        let managed = self.property_u32s(self.root, self.atoms.net_client_list, AtomEnum::WINDOW);
        let candidates = if managed.is_empty() {
            self.conn
                .query_tree(self.root)
                .map_err(|e| err("listing windows", e))?
                .reply()
                .map_err(|e| err("listing windows", e))?
                .children
        } else {
            managed
        };
        Ok(candidates
            .into_iter()
            .filter_map(|w| self.info(w))
            .collect())
    }

    fn activate(&mut self, window: &WindowInfo) -> DResult<()> {
        let id = window.id as Window;
        // A window that appears meanwhile may take the focus (window managers focus new
        // windows), so the focus must still be there a moment later; else ask again.
        for _ in 0..3 {
            self.request_activation(id)?;
            let deadline = Instant::now() + Duration::from_secs(2);
            while Instant::now() < deadline && !self.has_focus(id) {
                std::thread::sleep(Duration::from_millis(10));
            }
            std::thread::sleep(Duration::from_millis(50));
            if self.has_focus(id) {
                return Ok(());
            }
        }
        Err(DesktopError::new(format!(
            "the window {:?} did not keep the keyboard focus (another window takes it)",
            window.title
        )))
    }
}

//! The IME of the window kuroko types into, on X11. Japanese Linux desktops run fcitx5 with an
//! IME such as Mozc, and keep it on; keys sent while it is on go into its composition (`abc`
//! becomes あｂｃ, a space converts). So before keys that type, the focused input context's IME
//! is turned off through fcitx5's controller on the session bus, and turned back on when the
//! run ends if the same window still has the focus (fcitx5 acts only on the focused window).
//! Without a session bus or fcitx5 there is nothing to guard. Pasted text and `ui::set_text`
//! never pass through the IME.

use std::time::Duration;

use futures_lite::future::block_on;
use x11rb::protocol::xproto::ConnectionExt as _;
use x11rb::rust_connection::RustConnection;
use zbus::Connection;

const FCITX: &str = "org.fcitx.Fcitx5";
const CONTROLLER: &str = "/controller";
const INTERFACE: &str = "org.fcitx.Fcitx.Controller1";
/// fcitx5's State(): 2 means an input method (not the plain keyboard) is active.
const ACTIVE: i32 = 2;
/// A busy fcitx5 must not stall the typing for long.
const CALL_TIMEOUT: Duration = Duration::from_millis(500);

/// Turns the IME off for kuroko's keys and back on at the end.
#[derive(Default)]
pub struct ImeGuard {
    /// The session bus and an X connection (for the focus), once asked; `None` inside when
    /// there is nothing to guard (no bus, no fcitx5, no display).
    session: Option<Option<(Connection, RustConnection)>>,
    /// The focused window kuroko turned the IME off in.
    closed_in: Option<u32>,
}

impl ImeGuard {
    fn session(&mut self) -> Option<&(Connection, RustConnection)> {
        self.session
            .get_or_insert_with(|| {
                std::env::var_os("DBUS_SESSION_BUS_ADDRESS")?;
                let bus = block_on(async {
                    let bus = zbus::connection::Builder::session()
                        .ok()?
                        .method_timeout(CALL_TIMEOUT)
                        .build()
                        .await
                        .ok()?;
                    // Only a running fcitx5: a question to one that is merely installed would
                    // start it (D-Bus activation) on a desktop that uses another IME or none.
                    let running: bool = bus
                        .call_method(
                            Some("org.freedesktop.DBus"),
                            "/org/freedesktop/DBus",
                            Some("org.freedesktop.DBus"),
                            "NameHasOwner",
                            &(FCITX,),
                        )
                        .await
                        .ok()?
                        .body()
                        .deserialize()
                        .ok()?;
                    running.then_some(bus)
                })?;
                let (x, _) = super::open().ok()?;
                Some((bus, x))
            })
            .as_ref()
    }

    fn call(&mut self, method: &str) -> Option<zbus::Message> {
        let (bus, _) = self.session()?;
        let reply =
            block_on(bus.call_method(Some(FCITX), CONTROLLER, Some(INTERFACE), method, &()));
        match reply {
            Ok(reply) => Some(reply),
            Err(zbus::Error::MethodError(name, _, _))
                if name.as_str() == "org.freedesktop.DBus.Error.ServiceUnknown" =>
            {
                // No fcitx5 on this desktop: never ask again.
                self.session = Some(None);
                None
            }
            Err(_) => None,
        }
    }

    fn focus(&mut self) -> Option<u32> {
        let (_, x) = self.session()?;
        x.get_input_focus().ok()?.reply().ok().map(|r| r.focus)
    }

    /// Before keys that type: the focused window's IME off, if it is on.
    pub fn before_typing(&mut self) {
        let Some(state) = self.call("State") else {
            return;
        };
        if state.body().deserialize::<i32>().ok() == Some(ACTIVE)
            && self.call("Deactivate").is_some()
        {
            self.closed_in = self.focus();
        }
    }

    /// The IME back on where kuroko turned it off, if that window still has the focus.
    pub fn restore(&mut self) {
        let Some(window) = self.closed_in.take() else {
            return;
        };
        if self.focus() == Some(window) {
            self.call("Activate");
        }
    }
}

impl Drop for ImeGuard {
    fn drop(&mut self) {
        self.restore();
    }
}

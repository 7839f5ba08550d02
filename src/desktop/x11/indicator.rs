//! The "recording" indicator of `kuroko record` on X11: a small red strip at the lower right of
//! the screen, above every window, that clicks pass through — so the person recording always
//! sees that kuroko is watching, and how to stop it.
//!
//! It is an override-redirect window (no window manager places, decorates or lists it) on a
//! connection and thread of its own, raised again twice a second because a window opened later
//! would otherwise cover it. It has a WM_CLASS but no title, so window lists and the recorder's
//! new-window waits never see it. Core X fonts have no Japanese, so it says "REC" in the
//! server's built-in "fixed" font; a red bar alone is shown where even that is missing.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use x11rb::connection::{Connection, RequestConnection as _};
use x11rb::protocol::shape::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{
    Arc, AtomEnum, ConfigureWindowAux, ConnectionExt as _, CreateGCAux, CreateWindowAux, PropMode,
    StackMode, WindowClass,
};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;

const WIDTH: u16 = 230;
const HEIGHT: u16 = 24;
const TEXT: &[u8] = b"REC   kuroko   Shift+Esc = stop";

/// The indicator on the screen; dropping it takes it away.
pub struct Indicator {
    stop: Sender<()>,
    thread: Option<JoinHandle<()>>,
}

impl Indicator {
    /// Shows the indicator; `None` when the display cannot show it (recording goes on).
    pub fn show() -> Option<Indicator> {
        let (conn, screen) = super::open().ok()?;
        let window = create(&conn, screen)?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("kuroko-record-indicator".into())
            .spawn(move || {
                loop {
                    draw(&conn, window.0, window.1, window.2);
                    let _ = conn.configure_window(
                        window.0,
                        &ConfigureWindowAux::new().stack_mode(StackMode::ABOVE),
                    );
                    let _ = conn.flush();
                    // Expose events are answered by the next redraw.
                    while let Ok(Some(_)) = conn.poll_for_event() {}
                    match stopped.recv_timeout(Duration::from_millis(500)) {
                        Err(RecvTimeoutError::Timeout) => {}
                        _ => break,
                    }
                }
                let _ = conn.destroy_window(window.0);
                let _ = conn.sync();
            })
            .ok()?;
        Some(Indicator {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Indicator {
    fn drop(&mut self) {
        let _ = self.stop.send(());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Creates and maps the window; returns it with its graphics context and whether the font
/// opened.
fn create(conn: &RustConnection, screen: usize) -> Option<(u32, u32, bool)> {
    let s = conn.setup().roots.get(screen)?;
    let red = conn
        .alloc_color(s.default_colormap, 0xC800, 0x2000, 0x2000)
        .ok()?
        .reply()
        .map(|c| c.pixel)
        .unwrap_or(s.black_pixel);
    let window = conn.generate_id().ok()?;
    let x = i16::try_from(s.width_in_pixels.saturating_sub(WIDTH + 8)).unwrap_or(0);
    let y = i16::try_from(s.height_in_pixels.saturating_sub(HEIGHT + 8)).unwrap_or(0);
    conn.create_window(
        x11rb::COPY_DEPTH_FROM_PARENT,
        window,
        s.root,
        x,
        y,
        WIDTH,
        HEIGHT,
        0,
        WindowClass::INPUT_OUTPUT,
        x11rb::COPY_FROM_PARENT,
        &CreateWindowAux::new()
            .background_pixel(red)
            .override_redirect(1)
            .event_mask(x11rb::protocol::xproto::EventMask::EXPOSURE),
    )
    .ok()?
    .check()
    .ok()?;
    // WM_CLASS: instance and class, each NUL-terminated.
    let _ = conn.change_property8(
        PropMode::REPLACE,
        window,
        AtomEnum::WM_CLASS,
        AtomEnum::STRING,
        b"kuroko-record-indicator\0Kuroko\0",
    );
    // Clicks go through to the window underneath: an empty input region (SHAPE 1.1).
    if conn
        .extension_information(shape::X11_EXTENSION_NAME)
        .ok()
        .flatten()
        .is_some()
    {
        let _ = conn.shape_rectangles(
            shape::SO::SET,
            shape::SK::INPUT,
            x11rb::protocol::xproto::ClipOrdering::UNSORTED,
            window,
            0,
            0,
            &[],
        );
    }
    let gc = conn.generate_id().ok()?;
    let font = conn.generate_id().ok()?;
    let has_font = conn
        .open_font(font, b"fixed")
        .ok()
        .and_then(|c| c.check().ok())
        .is_some();
    let mut aux = CreateGCAux::new().foreground(s.white_pixel).background(red);
    if has_font {
        aux = aux.font(font);
    }
    conn.create_gc(gc, window, &aux).ok()?;
    conn.map_window(window).ok()?;
    conn.flush().ok()?;
    Some((window, gc, has_font))
}

fn draw(conn: &RustConnection, window: u32, gc: u32, has_font: bool) {
    let _ = conn.clear_area(false, window, 0, 0, 0, 0);
    let d = HEIGHT as i16 - 10;
    let _ = conn.poly_fill_arc(
        window,
        gc,
        &[Arc {
            x: 8,
            y: 5,
            width: d as u16,
            height: d as u16,
            angle1: 0,
            angle2: 360 * 64,
        }],
    );
    if has_font {
        let _ = conn.image_text8(window, gc, 14 + d, HEIGHT as i16 / 2 + 5, TEXT);
    }
}

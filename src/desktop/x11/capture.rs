//! Screen capture on X11 over one persistent connection (xcap opens a new one per capture and
//! fails now and then under load). A failed capture reconnects and retries before giving up.

use image::RgbaImage;
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt as _, ImageFormat, ImageOrder};
use x11rb::rust_connection::RustConnection;

use crate::desktop::{DResult, DesktopError, Screen};

pub struct X11Screen {
    conn: RustConnection,
    screen: usize,
}

impl X11Screen {
    pub fn connect() -> DResult<X11Screen> {
        let (conn, screen) = super::open()?;
        Ok(X11Screen { conn, screen })
    }

    fn grab(&self) -> Result<RgbaImage, String> {
        let setup = self.conn.setup();
        let root = &setup.roots[self.screen];
        let (w, h) = (root.width_in_pixels, root.height_in_pixels);
        let reply = self
            .conn
            .get_image(ImageFormat::Z_PIXMAP, root.root, 0, 0, w, h, !0)
            .map_err(|e| e.to_string())?
            .reply()
            .map_err(|e| e.to_string())?;
        let bpp = setup
            .pixmap_formats
            .iter()
            .find(|f| f.depth == reply.depth)
            .map(|f| f.bits_per_pixel)
            .unwrap_or(0);
        if bpp != 32 || setup.image_byte_order != ImageOrder::LSB_FIRST {
            return Err(format!(
                "unsupported pixel format (depth {}, {bpp} bits per pixel); run the display at 24-bit colour",
                reply.depth
            ));
        }
        let mut rgba = reply.data;
        if rgba.len() < w as usize * h as usize * 4 {
            return Err("the X server returned a short image".into());
        }
        rgba.truncate(w as usize * h as usize * 4);
        for px in rgba.chunks_exact_mut(4) {
            px.swap(0, 2); // BGRX -> RGBX
            px[3] = 255;
        }
        RgbaImage::from_raw(w.into(), h.into(), rgba).ok_or_else(|| "bad image size".into())
    }
}

impl Screen for X11Screen {
    fn size(&mut self) -> DResult<(u32, u32)> {
        let root = &self.conn.setup().roots[self.screen];
        Ok((root.width_in_pixels.into(), root.height_in_pixels.into()))
    }

    fn capture(&mut self) -> DResult<RgbaImage> {
        let mut last_error = String::new();
        for attempt in 0..3 {
            match self.grab() {
                Ok(image) => return Ok(image),
                Err(e) => last_error = e,
            }
            std::thread::sleep(std::time::Duration::from_millis(20 * (attempt + 1)));
            if let Ok(fresh) = X11Screen::connect() {
                *self = fresh;
            }
        }
        Err(DesktopError::new(format!(
            "screen capture failed 3 times: {last_error}"
        )))
    }
}

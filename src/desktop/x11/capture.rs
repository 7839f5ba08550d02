//! Screen capture on X11 over one persistent connection, through MIT-SHM where the server has it
//! (the server writes the pixels straight into memory shared with us, as mss does), else plain
//! GetImage. Any capture that fails reconnects and retries before the run is told.

use std::fs::File;

use image::RgbaImage;
use memmap2::Mmap;
use x11rb::connection::Connection;
use x11rb::protocol::shm;
use x11rb::protocol::xproto::{ConnectionExt as _, ImageFormat, ImageOrder};
use x11rb::rust_connection::RustConnection;

use crate::desktop::{DResult, DesktopError, Rect, Screen};

/// A shared-memory segment the server fills.
struct Segment {
    id: shm::Seg,
    map: Mmap,
}

pub struct X11Screen {
    conn: RustConnection,
    screen: usize,
    segment: Option<Segment>,
}

impl X11Screen {
    pub fn connect() -> DResult<X11Screen> {
        let (conn, screen) = super::open()?;
        let mut me = X11Screen {
            conn,
            screen,
            segment: None,
        };
        if std::env::var("KUROKO_CAPTURE").as_deref() != Ok("getimage") {
            me.segment = me.create_segment().ok();
        }
        Ok(me)
    }

    fn root_size(&self) -> (u16, u16) {
        let root = &self.conn.setup().roots[self.screen];
        (root.width_in_pixels, root.height_in_pixels)
    }

    /// A segment for a whole screen, created by the server (MIT-SHM 1.2) and mapped here.
    fn create_segment(&self) -> Result<Segment, String> {
        let version = shm::query_version(&self.conn)
            .map_err(|e| e.to_string())?
            .reply()
            .map_err(|e| e.to_string())?;
        if (version.major_version, version.minor_version) < (1, 2) {
            return Err("MIT-SHM 1.2 is not available".into());
        }
        let (w, h) = self.root_size();
        let size = w as u32 * h as u32 * 4;
        let id = self.conn.generate_id().map_err(|e| e.to_string())?;
        let reply = shm::create_segment(&self.conn, id, size, false)
            .map_err(|e| e.to_string())?
            .reply()
            .map_err(|e| e.to_string())?;
        let file = File::from(reply.shm_fd);
        // SAFETY: the segment is only written by the X server while a ShmGetImage request runs,
        // and it is read here only after that request's reply has arrived.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| e.to_string())?;
        if map.len() < size as usize {
            return Err("the shared segment is smaller than the screen".into());
        }
        Ok(Segment { id, map })
    }

    fn check_format(&self, depth: u8) -> Result<(), String> {
        let setup = self.conn.setup();
        let bpp = setup
            .pixmap_formats
            .iter()
            .find(|f| f.depth == depth)
            .map(|f| f.bits_per_pixel)
            .unwrap_or(0);
        if bpp != 32 || setup.image_byte_order != ImageOrder::LSB_FIRST {
            return Err(format!(
                "unsupported pixel format (depth {depth}, {bpp} bits per pixel); run the display at 24-bit colour"
            ));
        }
        Ok(())
    }

    fn grab(&self, r: Rect) -> Result<RgbaImage, String> {
        let root = self.conn.setup().roots[self.screen].root;
        let (x, y, w, h) = (r.x as i16, r.y as i16, r.w as u16, r.h as u16);
        let bytes = r.w as usize * r.h as usize * 4;
        let rgba = match &self.segment {
            Some(seg) => {
                let reply = shm::get_image(
                    &self.conn,
                    root,
                    x,
                    y,
                    w,
                    h,
                    !0,
                    ImageFormat::Z_PIXMAP.into(),
                    seg.id,
                    0,
                )
                .map_err(|e| e.to_string())?
                .reply()
                .map_err(|e| e.to_string())?;
                self.check_format(reply.depth)?;
                bgrx_to_rgba(&seg.map[..bytes])
            }
            None => {
                let reply = self
                    .conn
                    .get_image(ImageFormat::Z_PIXMAP, root, x, y, w, h, !0)
                    .map_err(|e| e.to_string())?
                    .reply()
                    .map_err(|e| e.to_string())?;
                self.check_format(reply.depth)?;
                if reply.data.len() < bytes {
                    return Err("the X server returned a short image".into());
                }
                bgrx_to_rgba(&reply.data[..bytes])
            }
        };
        RgbaImage::from_raw(r.w, r.h, rgba).ok_or_else(|| "bad image size".into())
    }

    fn grab_with_retry(&mut self, r: Rect) -> DResult<RgbaImage> {
        let mut last_error = String::new();
        for attempt in 0..3 {
            match self.grab(r) {
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

/// X's little-endian 32-bit pixels (B, G, R, pad) to RGBA: a plain copy out of the shared
/// segment, then an in-place swap over whole 32-bit words, which vectorises (a byte-wise swap
/// is a third slower on a full-HD frame). `bytemuck` views the bytes as words without `unsafe`;
/// an unaligned head or tail (none in practice) is swapped pixel by pixel.
fn bgrx_to_rgba(src: &[u8]) -> Vec<u8> {
    #[inline(always)]
    fn swap(p: u32) -> u32 {
        let p = u32::from_le(p);
        u32::to_le(((p >> 16) & 0xff) | (p & 0xff00) | ((p & 0xff) << 16) | 0xff00_0000)
    }
    let mut out = src[..src.len() / 4 * 4].to_vec();
    let (head, words, tail) = bytemuck::pod_align_to_mut::<u8, u32>(&mut out);
    for w in words.iter_mut() {
        *w = swap(*w);
    }
    for bytes in [head, tail] {
        for px in bytes.chunks_exact_mut(4) {
            let p = swap(u32::from_ne_bytes([px[0], px[1], px[2], px[3]]));
            px.copy_from_slice(&p.to_ne_bytes());
        }
    }
    out
}

impl Screen for X11Screen {
    fn size(&mut self) -> DResult<(u32, u32)> {
        let (w, h) = self.root_size();
        Ok((w.into(), h.into()))
    }

    fn capture(&mut self) -> DResult<RgbaImage> {
        let (w, h) = self.root_size();
        self.grab_with_retry(Rect {
            x: 0,
            y: 0,
            w: w.into(),
            h: h.into(),
        })
    }

    fn capture_region(&mut self, region: Rect) -> DResult<RgbaImage> {
        self.grab_with_retry(region)
    }
}

impl Drop for X11Screen {
    fn drop(&mut self) {
        if let Some(seg) = &self.segment {
            let _ = shm::detach(&self.conn, seg.id);
            let _ = self.conn.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn converts_x_pixels_to_rgba() {
        assert_eq!(
            super::bgrx_to_rgba(&[1, 2, 3, 0, 10, 20, 30, 99]),
            vec![3, 2, 1, 255, 30, 20, 10, 255]
        );
    }
}

//! Screen capture through GDI `BitBlt` into a DIB section: it works on every Windows since XP,
//! over RDP and under Wine. The primary monitor is the script's screen (its top-left corner is
//! (0, 0) in the coordinates the mouse uses); a region is copied alone, not cut from a full
//! capture.

use image::RgbaImage;
use windows_sys::Win32::Graphics::Gdi::{
    BI_RGB, BITMAPINFO, BITMAPINFOHEADER, BitBlt, CAPTUREBLT, CreateCompatibleDC, CreateDIBSection,
    DIB_RGB_COLORS, DeleteDC, DeleteObject, GetDC, HBITMAP, HDC, HGDIOBJ, ReleaseDC, SRCCOPY,
    SelectObject,
};
use windows_sys::Win32::UI::WindowsAndMessaging::{GetSystemMetrics, SM_CXSCREEN, SM_CYSCREEN};

use crate::desktop::{DResult, DesktopError, Rect, Screen};

/// The primary monitor through GDI.
pub struct GdiScreen;

/// The GDI objects of one capture, released in reverse order whatever happens.
struct Objects {
    screen: HDC,
    memory: HDC,
    bitmap: HBITMAP,
    previous: HGDIOBJ,
}

impl Drop for Objects {
    fn drop(&mut self) {
        // SAFETY: each handle was created for this capture and is released once.
        unsafe {
            if !self.previous.is_null() {
                SelectObject(self.memory, self.previous);
            }
            if !self.bitmap.is_null() {
                DeleteObject(self.bitmap as HGDIOBJ);
            }
            if !self.memory.is_null() {
                DeleteDC(self.memory);
            }
            if !self.screen.is_null() {
                ReleaseDC(std::ptr::null_mut(), self.screen);
            }
        }
    }
}

fn failed(what: &str) -> DesktopError {
    DesktopError::new(format!(
        "screen capture failed at {what} ({}): the screen may be locked, or the session \
         disconnected (a minimised RDP window shows nothing to capture)",
        super::last_error()
    ))
}

/// Copies `region` of the screen (physical pixels) into an RGBA image.
pub fn grab(region: Rect) -> DResult<RgbaImage> {
    let (w, h) = (region.w as i32, region.h as i32);
    if w <= 0 || h <= 0 {
        return Err(DesktopError::new("screen capture of an empty region"));
    }
    // SAFETY: GDI calls on objects owned by `objects`; the DIB's memory is read only while the
    // bitmap exists, within its w*h*4 bytes.
    unsafe {
        let mut objects = Objects {
            screen: GetDC(std::ptr::null_mut()),
            memory: std::ptr::null_mut(),
            bitmap: std::ptr::null_mut(),
            previous: std::ptr::null_mut(),
        };
        if objects.screen.is_null() {
            return Err(failed("GetDC"));
        }
        objects.memory = CreateCompatibleDC(objects.screen);
        if objects.memory.is_null() {
            return Err(failed("CreateCompatibleDC"));
        }
        let mut info: BITMAPINFO = std::mem::zeroed();
        info.bmiHeader = BITMAPINFOHEADER {
            biSize: std::mem::size_of::<BITMAPINFOHEADER>() as u32,
            biWidth: w,
            biHeight: -h, // top-down rows
            biPlanes: 1,
            biBitCount: 32,
            biCompression: BI_RGB,
            ..std::mem::zeroed()
        };
        let mut bits: *mut core::ffi::c_void = std::ptr::null_mut();
        objects.bitmap = CreateDIBSection(
            objects.memory,
            &info,
            DIB_RGB_COLORS,
            &mut bits,
            std::ptr::null_mut(),
            0,
        );
        if objects.bitmap.is_null() || bits.is_null() {
            return Err(failed("CreateDIBSection"));
        }
        objects.previous = SelectObject(objects.memory, objects.bitmap as HGDIOBJ);
        if BitBlt(
            objects.memory,
            0,
            0,
            w,
            h,
            objects.screen,
            region.x as i32,
            region.y as i32,
            SRCCOPY | CAPTUREBLT,
        ) == 0
        {
            return Err(failed("BitBlt"));
        }
        let len = (w as usize) * (h as usize) * 4;
        let bgra = std::slice::from_raw_parts(bits as *const u8, len);
        let mut rgba = Vec::with_capacity(len);
        for px in bgra.chunks_exact(4) {
            rgba.extend_from_slice(&[px[2], px[1], px[0], 255]);
        }
        RgbaImage::from_raw(region.w, region.h, rgba)
            .ok_or_else(|| DesktopError::new("screen capture: wrong buffer size"))
    }
}

impl Screen for GdiScreen {
    fn size(&mut self) -> DResult<(u32, u32)> {
        // SAFETY: plain queries; physical pixels since kuroko declares itself DPI-aware.
        let (w, h) = unsafe { (GetSystemMetrics(SM_CXSCREEN), GetSystemMetrics(SM_CYSCREEN)) };
        if w <= 0 || h <= 0 {
            return Err(DesktopError::new(
                "Windows reports no screen (a service session or a disconnected RDP session)",
            ));
        }
        Ok((w as u32, h as u32))
    }

    fn capture(&mut self) -> DResult<RgbaImage> {
        let (w, h) = self.size()?;
        grab(Rect { x: 0, y: 0, w, h })
    }

    fn capture_region(&mut self, region: Rect) -> DResult<RgbaImage> {
        grab(region)
    }
}

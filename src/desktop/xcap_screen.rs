//! Screen capture through xcap: the portable path (Windows, macOS, Wayland) and, on X11, the
//! fallback chosen with `KUROKO_CAPTURE=xcap`. xcap fails now and then under load, so every
//! capture is retried before the run is told.

use std::time::Duration;

use image::RgbaImage;
use xcap::Monitor;

use super::{DResult, DesktopError, Screen};

/// Captures the primary monitor.
pub struct XcapScreen;

impl XcapScreen {
    fn primary() -> Result<Monitor, String> {
        let monitors = Monitor::all().map_err(|e| e.to_string())?;
        let primary = monitors
            .iter()
            .position(|m| m.is_primary().unwrap_or(false))
            .unwrap_or(0);
        monitors
            .into_iter()
            .nth(primary)
            .ok_or_else(|| "no monitor found".to_string())
    }

    fn retry<T>(what: &str, f: impl Fn() -> Result<T, String>) -> DResult<T> {
        let mut last = String::new();
        for attempt in 0..5u64 {
            match f() {
                Ok(v) => return Ok(v),
                Err(e) => last = e,
            }
            std::thread::sleep(Duration::from_millis(20 * (attempt + 1)));
        }
        Err(DesktopError::new(format!("{what} failed 5 times: {last}")))
    }
}

impl Screen for XcapScreen {
    fn size(&mut self) -> DResult<(u32, u32)> {
        Self::retry("reading the screen size", || {
            let m = Self::primary()?;
            Ok((
                m.width().map_err(|e| e.to_string())?,
                m.height().map_err(|e| e.to_string())?,
            ))
        })
    }

    fn capture(&mut self) -> DResult<RgbaImage> {
        Self::retry("screen capture (xcap)", || {
            Self::primary()?.capture_image().map_err(|e| e.to_string())
        })
    }
}

//! `screen::` — the screen's size, single pixels and screenshots.

use crate::api::context::{RhaiResult, located, run_context, script_error};
use crate::api::coordinate;
use rhai::INT;
use rhai::plugin::*;

#[export_module]
pub mod screen_api {
    use super::*;

    /// The screen size in pixels, as `#{width, height}`.
    ///
    /// ```rhai
    /// let s = screen::size();
    /// mouse::move_to(s.width / 2, s.height / 2);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn size(ctx: NativeCallContext) -> RhaiResult<rhai::Map> {
        located(&ctx, || {
            let run = run_context(&ctx)?;
            let (w, h) = run.with_desktop(|d| d.screen.size())?;
            let mut map = rhai::Map::new();
            map.insert("width".into(), (w as INT).into());
            map.insert("height".into(), (h as INT).into());
            Ok(map)
        })
    }

    /// Saves a screenshot of the whole screen as PNG. The path must lie in one of the
    /// scenario's declared output folders; the file appears complete or not at all.
    ///
    /// ```rhai
    /// screen::save("output/before-save.png");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn save(ctx: NativeCallContext, path: &str) -> RhaiResult<()> {
        located(&ctx, || {
            let run = run_context(&ctx)?;
            let target = run.sandbox.writable(path).map_err(script_error)?;
            run.action(format!("screenshot {}", target.display()));
            let image = run.with_desktop(|d| d.screen.capture())?;
            crate::run::evidence::write_png(&image, &target).map_err(script_error)
        })
    }

    /// The colour of one pixel, as `#{r, g, b, hex}` (hex like `"#1e90ff"`).
    ///
    /// ```rhai
    /// let p = screen::pixel(10, 10);
    /// if p.hex == "#ffffff" { log::info("white"); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn pixel(ctx: NativeCallContext, x: INT, y: INT) -> RhaiResult<rhai::Map> {
        located(&ctx, || {
            let run = run_context(&ctx)?;
            let (xi, yi) = (coordinate("x", x)?, coordinate("y", y)?);
            let image = run.with_desktop(|d| d.screen.capture())?;
            if xi < 0 || yi < 0 || xi as u32 >= image.width() || yi as u32 >= image.height() {
                return Err(script_error(format!(
                    "pixel({x}, {y}) is outside the {}x{} screen",
                    image.width(),
                    image.height()
                )));
            }
            let [r, g, b, _] = image.get_pixel(xi as u32, yi as u32).0;
            let mut map = rhai::Map::new();
            map.insert("r".into(), (r as INT).into());
            map.insert("g".into(), (g as INT).into());
            map.insert("b".into(), (b as INT).into());
            map.insert("hex".into(), format!("#{r:02x}{g:02x}{b:02x}").into());
            Ok(map)
        })
    }
}

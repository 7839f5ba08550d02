//! `screen::` — the screen's size, single pixels and screenshots.

use crate::script::context::{RhaiResult, located, run_context, script_error};
use crate::script::coordinate;
use rhai::INT;
use rhai::Map;
use rhai::plugin::*;

use crate::script::images::{DEFAULT_TIMEOUT_S, Query, match_map};

fn query(
    ctx: &NativeCallContext,
    path: &str,
    opts: &Map,
) -> RhaiResult<(std::rc::Rc<crate::script::RunContext>, Query)> {
    let run = run_context(ctx)?;
    let q = Query::parse(&run, path, opts)?;
    Ok((run, q))
}

fn find_impl(ctx: &NativeCallContext, path: &str, opts: &Map) -> RhaiResult<Dynamic> {
    let (run, q) = query(ctx, path, opts)?;
    run.action(format!("find {path}"));
    let found = match q.timeout {
        Some(t) => q.wait(&run, t)?.ok(),
        None => q.look(&run)?.0.matches.first().copied(),
    };
    Ok(found.map_or(Dynamic::UNIT, |m| match_map(&m).into()))
}

fn find_all_impl(ctx: &NativeCallContext, path: &str, opts: &Map) -> RhaiResult<rhai::Array> {
    let (run, q) = query(ctx, path, opts)?;
    run.action(format!("find_all {path}"));
    Ok(q.look_all(&run)?
        .matches
        .iter()
        .map(|m| match_map(m).into())
        .collect())
}

fn wait_for_impl(ctx: &NativeCallContext, path: &str, opts: &Map) -> RhaiResult<Map> {
    let (run, q) = query(ctx, path, opts)?;
    let timeout = q
        .timeout
        .unwrap_or(std::time::Duration::from_secs_f64(DEFAULT_TIMEOUT_S));
    run.action(format!(
        "wait for image {path} (up to {} s)",
        timeout.as_secs_f64()
    ));
    match q.wait(&run, timeout)? {
        Ok(m) => Ok(match_map(&m)),
        Err((best, screen)) => Err(script_error(q.not_found(
            &run,
            &format!("did not appear within {} s", timeout.as_secs_f64()),
            best,
            screen,
        ))),
    }
}

fn wait_gone_impl(ctx: &NativeCallContext, path: &str, opts: &Map) -> RhaiResult<()> {
    let (run, q) = query(ctx, path, opts)?;
    let timeout = q
        .timeout
        .unwrap_or(std::time::Duration::from_secs_f64(DEFAULT_TIMEOUT_S));
    run.action(format!(
        "wait until image {path} is gone (up to {} s)",
        timeout.as_secs_f64()
    ));
    if q.wait_gone(&run, timeout)? {
        Ok(())
    } else {
        Err(script_error(format!(
            "{path} was still on the screen after {} s",
            timeout.as_secs_f64()
        )))
    }
}

fn exists_impl(ctx: &NativeCallContext, path: &str, opts: &Map) -> RhaiResult<bool> {
    Ok(!find_impl(ctx, path, opts)?.is_unit())
}

fn click_image_impl(ctx: &NativeCallContext, path: &str, opts: &Map) -> RhaiResult<Map> {
    let (run, q) = query(ctx, path, opts)?;
    let timeout = q
        .timeout
        .unwrap_or(std::time::Duration::from_secs_f64(DEFAULT_TIMEOUT_S));
    let m = match q.wait(&run, timeout)? {
        Ok(m) => m,
        Err((best, screen)) => {
            return Err(script_error(q.not_found(
                &run,
                &format!(
                    "was not found within {} s, so nothing was clicked",
                    timeout.as_secs_f64()
                ),
                best,
                screen,
            )));
        }
    };
    let x = (m.x + m.w / 2) as i32 + q.offset.0;
    let y = (m.y + m.h / 2) as i32 + q.offset.1;
    run.action(format!(
        "click_image {path} at {x} {y} (score {:.3})",
        m.score
    ));
    run.with_desktop(|d| {
        d.mouse.move_to(x, y)?;
        d.mouse.button_down(crate::desktop::Button::Left)?;
        d.mouse.button_up(crate::desktop::Button::Left)
    })?;
    Ok(match_map(&m))
}

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
            crate::files::write_png(&image, &target).map_err(script_error)
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

    /// Looks for the picture `path` (a PNG in the scenario folder) on the screen once, and
    /// returns where it is as `#{x, y, w, h, cx, cy, score, scale}` (`cx`, `cy`: its centre),
    /// or `()` when it is not there. A look-alike that differs in one letter is not a match.
    ///
    /// ```rhai
    /// let ok = screen::find("images/ok.png");
    /// if ok != () { mouse::click(ok.cx, ok.cy); }
    /// ```
    #[rhai_fn(name = "find", return_raw)]
    pub fn find(ctx: NativeCallContext, path: &str) -> RhaiResult<Dynamic> {
        located(&ctx, || find_impl(&ctx, path, &Map::new()))
    }

    /// `screen::find` with options: `confidence` (0..1, default 0.9), `region`
    /// (`#{x, y, w, h}`: search only there), `timeout_s` (keep looking up to this long),
    /// `scales` (`"auto"` for displays at 125 %, 150 %, ... or an array like `[1.0, 1.25]`),
    /// `grayscale` (`true`: ignore colour).
    ///
    /// ```rhai
    /// let m = screen::find("images/save.png", #{ confidence: 0.95, region: #{ x: 0, y: 600, w: 800, h: 200 } });
    /// let m2 = screen::find("images/save.png", #{ scales: "auto", timeout_s: 3 });
    /// ```
    #[rhai_fn(name = "find", return_raw)]
    pub fn find_with(ctx: NativeCallContext, path: &str, opts: Map) -> RhaiResult<Dynamic> {
        located(&ctx, || find_impl(&ctx, path, &opts))
    }

    /// Every place the picture appears, as an array of match maps (non-overlapping, best first).
    ///
    /// ```rhai
    /// let boxes = screen::find_all("images/checkbox.png");
    /// for b in boxes { mouse::click(b.cx, b.cy); }
    /// ```
    #[rhai_fn(name = "find_all", return_raw)]
    pub fn find_all(ctx: NativeCallContext, path: &str) -> RhaiResult<rhai::Array> {
        located(&ctx, || find_all_impl(&ctx, path, &Map::new()))
    }

    /// `screen::find_all` with options (see `screen::find`).
    ///
    /// ```rhai
    /// let rows = screen::find_all("images/row-marker.png", #{ confidence: 0.95 });
    /// ```
    #[rhai_fn(name = "find_all", return_raw)]
    pub fn find_all_with(ctx: NativeCallContext, path: &str, opts: Map) -> RhaiResult<rhai::Array> {
        located(&ctx, || find_all_impl(&ctx, path, &opts))
    }

    /// Waits until the picture appears (default up to 10 s) and returns its match map as soon
    /// as it does. After the timeout it is an error that gives the best score seen and saves
    /// the screen in the run folder.
    ///
    /// ```rhai
    /// screen::wait_for("images/saved.png");
    /// ```
    #[rhai_fn(name = "wait_for", return_raw)]
    pub fn wait_for(ctx: NativeCallContext, path: &str) -> RhaiResult<Map> {
        located(&ctx, || wait_for_impl(&ctx, path, &Map::new()))
    }

    /// `screen::wait_for` with options (see `screen::find`; `timeout_s` sets the wait).
    ///
    /// ```rhai
    /// screen::wait_for("images/result-list.png", #{ timeout_s: 60 });
    /// ```
    #[rhai_fn(name = "wait_for", return_raw)]
    pub fn wait_for_with(ctx: NativeCallContext, path: &str, opts: Map) -> RhaiResult<Map> {
        located(&ctx, || wait_for_impl(&ctx, path, &opts))
    }

    /// Waits until the picture is no longer on the screen (default up to 10 s), e.g. a
    /// "処理中" (processing) message; an error if it is still there at the timeout.
    ///
    /// ```rhai
    /// screen::wait_gone("images/processing.png");
    /// ```
    #[rhai_fn(name = "wait_gone", return_raw)]
    pub fn wait_gone(ctx: NativeCallContext, path: &str) -> RhaiResult<()> {
        located(&ctx, || wait_gone_impl(&ctx, path, &Map::new()))
    }

    /// `screen::wait_gone` with options (see `screen::find`).
    ///
    /// ```rhai
    /// screen::wait_gone("images/processing.png", #{ timeout_s: 120 });
    /// ```
    #[rhai_fn(name = "wait_gone", return_raw)]
    pub fn wait_gone_with(ctx: NativeCallContext, path: &str, opts: Map) -> RhaiResult<()> {
        located(&ctx, || wait_gone_impl(&ctx, path, &opts))
    }

    /// Whether the picture is on the screen now.
    ///
    /// ```rhai
    /// if screen::exists("images/error-icon.png") { fail("the system shows an error"); }
    /// ```
    #[rhai_fn(name = "exists", return_raw)]
    pub fn exists(ctx: NativeCallContext, path: &str) -> RhaiResult<bool> {
        located(&ctx, || exists_impl(&ctx, path, &Map::new()))
    }

    /// `screen::exists` with options (see `screen::find`).
    ///
    /// ```rhai
    /// let shown = screen::exists("images/dialog.png", #{ timeout_s: 2 });
    /// ```
    #[rhai_fn(name = "exists", return_raw)]
    pub fn exists_with(ctx: NativeCallContext, path: &str, opts: Map) -> RhaiResult<bool> {
        located(&ctx, || exists_impl(&ctx, path, &opts))
    }

    /// Waits for the picture (default up to 10 s) and clicks its centre; returns the match.
    /// Nothing is clicked when it does not appear: that is an error with the best score seen.
    ///
    /// ```rhai
    /// screen::click_image("images/new.png");
    /// ```
    #[rhai_fn(name = "click_image", return_raw)]
    pub fn click_image(ctx: NativeCallContext, path: &str) -> RhaiResult<Map> {
        located(&ctx, || click_image_impl(&ctx, path, &Map::new()))
    }

    /// `screen::click_image` with options (see `screen::find`), plus `offset` (`#{x, y}`,
    /// pixels from the centre: click beside the picture, e.g. into the field after a label).
    ///
    /// ```rhai
    /// screen::click_image("images/name-label.png", #{ offset: #{ x: 120, y: 0 } });
    /// ```
    #[rhai_fn(name = "click_image", return_raw)]
    pub fn click_image_with(ctx: NativeCallContext, path: &str, opts: Map) -> RhaiResult<Map> {
        located(&ctx, || click_image_impl(&ctx, path, &opts))
    }
}

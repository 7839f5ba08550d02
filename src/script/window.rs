//! `window::` — finding, waiting for and activating windows by part of their title.

use crate::desktop::WindowInfo;
use crate::script::context::{RhaiResult, RunContext, located, run_context, script_error};
use rhai::plugin::*;
use rhai::{FLOAT, INT};
use std::time::{Duration, Instant};

fn to_map(w: &WindowInfo) -> rhai::Map {
    let mut map = rhai::Map::new();
    map.insert("id".into(), (w.id as INT).into());
    map.insert("title".into(), w.title.clone().into());
    map.insert("x".into(), (w.x as INT).into());
    map.insert("y".into(), (w.y as INT).into());
    map.insert("w".into(), (w.width as INT).into());
    map.insert("h".into(), (w.height as INT).into());
    map
}

fn open_titles(run: &RunContext) -> String {
    let titles: Vec<String> = run
        .with_desktop(|d| d.windows.list())
        .map(|ws| ws.into_iter().map(|w| format!("{:?}", w.title)).collect())
        .unwrap_or_default();
    if titles.is_empty() {
        "no titled window is open".into()
    } else {
        format!("open windows: {}", titles.join(", "))
    }
}

fn wait_for(ctx: &NativeCallContext, title_part: &str, timeout_s: FLOAT) -> RhaiResult<rhai::Map> {
    let run = run_context(ctx)?;
    if !(timeout_s.is_finite() && (0.0..=86_400.0).contains(&timeout_s)) {
        return Err(script_error(format!(
            "timeout_s = {timeout_s} must be between 0 and 86400 seconds"
        )));
    }
    run.action(format!(
        "wait for window {title_part:?} (up to {timeout_s} s)"
    ));
    let deadline = Instant::now() + Duration::from_secs_f64(timeout_s);
    loop {
        if let Some(window) = run.with_desktop(|d| d.windows.find(title_part))? {
            return Ok(to_map(&window));
        }
        if Instant::now() >= deadline {
            return Err(script_error(format!(
                "no window with {title_part:?} in its title appeared within {timeout_s} s; {}",
                open_titles(&run)
            )));
        }
        run.abort
            .sleep(Duration::from_millis(100))
            .map_err(|_| crate::script::context::aborted())?;
    }
}

#[export_module]
pub mod window_api {
    use super::*;

    /// Every visible top-level window with a title, as maps `#{id, title, x, y, w, h}`.
    ///
    /// ```rhai
    /// for w in window::list() {
    ///     log::info(w.title);
    /// }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn list(ctx: NativeCallContext) -> RhaiResult<rhai::Array> {
        located(&ctx, || {
            let run = run_context(&ctx)?;
            let windows = run.with_desktop(|d| d.windows.list())?;
            Ok(windows.iter().map(|w| to_map(w).into()).collect())
        })
    }

    /// Whether a window whose title contains `title_part` is open now.
    ///
    /// ```rhai
    /// if window::exists("エラー") { fail("the system shows an error dialog"); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn exists(ctx: NativeCallContext, title_part: &str) -> RhaiResult<bool> {
        located(&ctx, || {
            let run = run_context(&ctx)?;
            Ok(run.with_desktop(|d| d.windows.find(title_part))?.is_some())
        })
    }

    /// Brings the window whose title contains `title_part` to the front and gives it the
    /// keyboard focus; returns it as a map. It is an error if no such window is open (the
    /// message lists the open ones); use `window::wait` first for a window still starting.
    ///
    /// ```rhai
    /// window::activate("住民記録");
    /// keyboard::type_text("12345");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn activate(ctx: NativeCallContext, title_part: &str) -> RhaiResult<rhai::Map> {
        located(&ctx, || {
            let run = run_context(&ctx)?;
            run.action(format!("activate {title_part:?}"));
            let Some(window) = run.with_desktop(|d| d.windows.find(title_part))? else {
                return Err(script_error(format!(
                    "no window with {title_part:?} in its title; {}",
                    open_titles(&run)
                )));
            };
            run.with_desktop(|d| d.windows.activate(&window))?;
            Ok(to_map(&window))
        })
    }

    /// Waits up to `timeout_s` seconds for a window whose title contains `title_part` and
    /// returns it as a map; an error after the timeout (listing the open windows).
    ///
    /// ```rhai
    /// let w = window::wait("申請入力", 10);
    /// mouse::click(w.x + 50, w.y + 80);
    /// ```
    #[rhai_fn(name = "wait", return_raw)]
    pub fn wait_int(
        ctx: NativeCallContext,
        title_part: &str,
        timeout_s: INT,
    ) -> RhaiResult<rhai::Map> {
        located(&ctx, || wait_for(&ctx, title_part, timeout_s as FLOAT))
    }

    /// `window::wait` with a fractional timeout in seconds.
    ///
    /// ```rhai
    /// window::wait("確認", 2.5);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn wait(
        ctx: NativeCallContext,
        title_part: &str,
        timeout_s: FLOAT,
    ) -> RhaiResult<rhai::Map> {
        located(&ctx, || wait_for(&ctx, title_part, timeout_s))
    }
}

//! `mouse::` — pointer moves, clicks, drags and the wheel.

use crate::desktop::Button;
use crate::script::context::{RhaiResult, RunContext, located, run_context};
use crate::script::coordinate;
use rhai::INT;
use rhai::plugin::*;
use std::time::Duration;

fn point(x: INT, y: INT) -> RhaiResult<(i32, i32)> {
    Ok((coordinate("x", x)?, coordinate("y", y)?))
}

fn click_here(run: &RunContext, button: Button, times: u32) -> RhaiResult<()> {
    for i in 0..times {
        if i > 0 {
            run.sleep(Duration::from_millis(40))?;
        }
        run.with_desktop(|d| {
            d.mouse.button_down(button)?;
            d.mouse.button_up(button)
        })?;
    }
    Ok(())
}

fn click_at(
    ctx: &NativeCallContext,
    what: &str,
    button: Button,
    times: u32,
    at: Option<(INT, INT)>,
) -> RhaiResult<()> {
    let run = run_context(ctx)?;
    match at {
        Some((x, y)) => {
            let (x, y) = point(x, y)?;
            run.action(format!("{what} {x} {y}"));
            run.with_desktop(|d| d.mouse.move_to(x, y))?;
        }
        None => run.action(what.to_string()),
    }
    click_here(&run, button, times)
}

#[export_module]
pub mod mouse_api {
    use super::*;

    /// Moves the pointer to (x, y) without clicking.
    ///
    /// ```rhai
    /// mouse::move_to(640, 400);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn move_to(ctx: NativeCallContext, x: INT, y: INT) -> RhaiResult<()> {
        located(&ctx, || {
            let run = run_context(&ctx)?;
            let (x, y) = point(x, y)?;
            run.action(format!("move_to {x} {y}"));
            run.with_desktop(|d| d.mouse.move_to(x, y))
        })
    }

    /// Left-clicks at (x, y).
    ///
    /// ```rhai
    /// mouse::click(320, 240);
    /// ```
    #[rhai_fn(name = "click", return_raw)]
    pub fn click_xy(ctx: NativeCallContext, x: INT, y: INT) -> RhaiResult<()> {
        located(&ctx, || {
            click_at(&ctx, "click", Button::Left, 1, Some((x, y)))
        })
    }

    /// Left-clicks where the pointer is.
    ///
    /// ```rhai
    /// mouse::move_to(320, 240);
    /// mouse::click();
    /// ```
    #[rhai_fn(return_raw)]
    pub fn click(ctx: NativeCallContext) -> RhaiResult<()> {
        located(&ctx, || click_at(&ctx, "click", Button::Left, 1, None))
    }

    /// Double-clicks (left button) at (x, y).
    ///
    /// ```rhai
    /// mouse::double_click(100, 200);
    /// ```
    #[rhai_fn(name = "double_click", return_raw)]
    pub fn double_click_xy(ctx: NativeCallContext, x: INT, y: INT) -> RhaiResult<()> {
        located(&ctx, || {
            click_at(&ctx, "double_click", Button::Left, 2, Some((x, y)))
        })
    }

    /// Double-clicks where the pointer is.
    ///
    /// ```rhai
    /// mouse::double_click();
    /// ```
    #[rhai_fn(return_raw)]
    pub fn double_click(ctx: NativeCallContext) -> RhaiResult<()> {
        located(&ctx, || {
            click_at(&ctx, "double_click", Button::Left, 2, None)
        })
    }

    /// Right-clicks at (x, y), e.g. to open a context menu.
    ///
    /// ```rhai
    /// mouse::right_click(500, 300);
    /// ```
    #[rhai_fn(name = "right_click", return_raw)]
    pub fn right_click_xy(ctx: NativeCallContext, x: INT, y: INT) -> RhaiResult<()> {
        located(&ctx, || {
            click_at(&ctx, "right_click", Button::Right, 1, Some((x, y)))
        })
    }

    /// Right-clicks where the pointer is.
    ///
    /// ```rhai
    /// mouse::right_click();
    /// ```
    #[rhai_fn(return_raw)]
    pub fn right_click(ctx: NativeCallContext) -> RhaiResult<()> {
        located(&ctx, || {
            click_at(&ctx, "right_click", Button::Right, 1, None)
        })
    }

    /// Presses the left button at (x1, y1), moves in small steps to (x2, y2) and releases it.
    /// The button is released even when the run is stopped half-way.
    ///
    /// ```rhai
    /// mouse::drag(100, 100, 400, 100);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn drag(ctx: NativeCallContext, x1: INT, y1: INT, x2: INT, y2: INT) -> RhaiResult<()> {
        located(&ctx, || {
            let run = run_context(&ctx)?;
            let (x1, y1) = point(x1, y1)?;
            let (x2, y2) = point(x2, y2)?;
            run.action(format!("drag {x1} {y1} -> {x2} {y2}"));
            run.with_desktop(|d| {
                d.mouse.move_to(x1, y1)?;
                d.mouse.button_down(Button::Left)
            })?;
            const STEPS: i32 = 10;
            let moved = (1..=STEPS).try_for_each(|i| {
                run.sleep(Duration::from_millis(10))?;
                let x = x1 + (x2 - x1) * i / STEPS;
                let y = y1 + (y2 - y1) * i / STEPS;
                run.with_desktop(|d| d.mouse.move_to(x, y))
            });
            let released = run
                .connected_desktop(|d| d.mouse.button_up(Button::Left))
                .unwrap_or(Ok(()));
            moved?;
            run.with_desktop(|_| released)
        })
    }

    /// Turns the wheel by `notches`: positive scrolls down, negative up.
    ///
    /// ```rhai
    /// mouse::scroll(3);
    /// mouse::scroll(-3);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn scroll(ctx: NativeCallContext, notches: INT) -> RhaiResult<()> {
        located(&ctx, || {
            let run = run_context(&ctx)?;
            let n = i32::try_from(notches)
                .ok()
                .filter(|n| n.abs() <= 10_000)
                .ok_or_else(|| {
                    crate::script::context::script_error(format!(
                        "scroll({notches}): too many notches"
                    ))
                })?;
            run.action(format!("scroll {n}"));
            run.with_desktop(|d| d.mouse.scroll(n))
        })
    }

    /// Where the pointer is, as `#{x, y}`.
    ///
    /// ```rhai
    /// let p = mouse::position();
    /// log::info(`pointer at ${p.x}, ${p.y}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn position(ctx: NativeCallContext) -> RhaiResult<rhai::Map> {
        located(&ctx, || {
            let run = run_context(&ctx)?;
            let (x, y) = run.with_desktop(|d| d.mouse.position())?;
            let mut map = rhai::Map::new();
            map.insert("x".into(), (x as INT).into());
            map.insert("y".into(), (y as INT).into());
            Ok(map)
        })
    }
}

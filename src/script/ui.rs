//! `ui::` — controls found by their role and name through the system's accessibility tree, so a
//! script names the 登録 button instead of keeping its picture (which breaks with another font
//! or display scale). Every lookup waits for its control; a missing or ambiguous one is an error
//! that names what is there.

use std::time::{Duration, Instant};

use rhai::plugin::*;
use rhai::{FLOAT, INT, Map};

use crate::desktop::NamedKey;
use crate::desktop::typing::Method;
use crate::desktop::ui::select::{self, Anchor, Miss, Selector};
use crate::desktop::ui::{Control, Role};
use crate::geometry::Rect;
use crate::script::context::{RhaiResult, RunContext, located, run_context, script_error};
use crate::script::images::DEFAULT_TIMEOUT_S;

const KEYS: &[&str] = &[
    "window",
    "role",
    "name",
    "name_contains",
    "id",
    "index",
    "near",
    "right_of",
    "below",
    "timeout_s",
];

/// A selector map read, with how long to wait for its control.
struct Query {
    selector: Selector,
    timeout: Option<Duration>,
}

fn text_value(key: &str, value: &Dynamic) -> RhaiResult<String> {
    value
        .clone()
        .into_string()
        .map_err(|t| script_error(format!("selector {key}: expected a string, got {t}")))
}

fn timeout_value(value: &Dynamic) -> RhaiResult<Duration> {
    let seconds = value
        .as_float()
        .or_else(|_| value.as_int().map(|i| i as FLOAT))
        .map_err(|t| script_error(format!("timeout_s: expected a number of seconds, got {t}")))?;
    if !(seconds.is_finite() && (0.0..=86_400.0).contains(&seconds)) {
        return Err(script_error(format!(
            "timeout_s = {seconds} must be between 0 and 86400 seconds"
        )));
    }
    Ok(Duration::from_secs_f64(seconds))
}

impl Query {
    fn parse(map: &Map) -> RhaiResult<Query> {
        let mut selector = Selector::default();
        let mut timeout = None;
        for (key, value) in map {
            match key.as_str() {
                "window" => selector.window = Some(text_value(key, value)?),
                "role" => {
                    let name = text_value(key, value)?;
                    selector.role = Some(Role::parse(&name).ok_or_else(|| {
                        script_error(format!(
                            "role {name:?} is not one kuroko knows{}; roles are {}",
                            crate::suggest::hint(&name, Role::NAMES.iter().copied()),
                            Role::NAMES.join(", ")
                        ))
                    })?);
                }
                "name" => selector.name = Some(text_value(key, value)?),
                "name_contains" => selector.name_contains = Some(text_value(key, value)?),
                "id" => selector.id = Some(text_value(key, value)?),
                "index" => {
                    let i = value.as_int().map_err(|t| {
                        script_error(format!("selector index: expected a number, got {t}"))
                    })?;
                    selector.index = Some(usize::try_from(i).map_err(|_| {
                        script_error(format!("selector index {i} must be 0 or more"))
                    })?);
                }
                "near" | "right_of" | "below" => {
                    let anchor = match key.as_str() {
                        "near" => Anchor::Near,
                        "right_of" => Anchor::RightOf,
                        _ => Anchor::Below,
                    };
                    if let Some((other, _)) = &selector.anchor {
                        return Err(script_error(format!(
                            "a selector takes one label anchor, not both {} and {key}",
                            other.key()
                        )));
                    }
                    selector.anchor = Some((anchor, text_value(key, value)?));
                }
                "timeout_s" => timeout = Some(timeout_value(value)?),
                other => {
                    return Err(script_error(format!(
                        "unknown selector key `{other}`{}; keys are {}",
                        crate::suggest::hint(other, KEYS.iter().copied()),
                        KEYS.join(", ")
                    )));
                }
            }
        }
        let s = &selector;
        if s.role.is_none()
            && s.name.is_none()
            && s.name_contains.is_none()
            && s.id.is_none()
            && s.anchor.is_none()
        {
            return Err(script_error(
                "the selector names no control: give at least one of role, name, \
                 name_contains, id, near, right_of, below",
            ));
        }
        Ok(Query { selector, timeout })
    }

    fn timeout_or_default(&self) -> Duration {
        self.timeout
            .unwrap_or(Duration::from_secs_f64(DEFAULT_TIMEOUT_S))
    }
}

/// One look at the screen.
enum Look {
    Found(Control),
    Missed(Miss),
    /// The accessibility tree did not answer (a program busy or closing): looked again until
    /// the deadline.
    Failed(String),
}

fn look(run: &RunContext, sel: &Selector) -> RhaiResult<Look> {
    let listed = run.with_desktop(|d| Ok(d.controls.controls(sel.window.as_deref())))?;
    let controls = match listed {
        Ok(controls) => controls,
        Err(e) => return Ok(Look::Failed(e.0)),
    };
    if controls.is_empty() && run.dry_run {
        return Ok(Look::Found(invented(run, sel)?));
    }
    Ok(match select::resolve(&controls, sel) {
        Ok(c) => Look::Found(c),
        Err(miss) => Look::Missed(miss),
    })
}

/// A dry run's desktop has no controls: every one a script asks for "is there", at the centre
/// of the screen, so the script can go on.
fn invented(run: &RunContext, sel: &Selector) -> RhaiResult<Control> {
    let (w, h) = run.with_desktop(|d| d.screen.size())?;
    Ok(Control {
        handle: "dry-run".into(),
        window: sel.window.clone().unwrap_or_default(),
        role: sel.role.clone().unwrap_or(Role::Button),
        platform_role: "dry run".into(),
        name: sel
            .name
            .clone()
            .or_else(|| sel.name_contains.clone())
            .unwrap_or_default(),
        id: sel.id.clone().unwrap_or_default(),
        rect: Rect {
            x: w.saturating_sub(100) / 2,
            y: h.saturating_sub(30) / 2,
            w: w.min(100),
            h: h.min(30),
        },
        enabled: true,
        password: false,
        focused: false,
    })
}

fn listed(controls: &[Control]) -> String {
    controls
        .iter()
        .map(select::describe)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The error for a selector that did not give one control.
fn missed(run: &RunContext, sel: &Selector, miss: Miss, waited: Option<Duration>) -> String {
    let kind = run
        .connected_desktop(|d| d.controls.kind())
        .unwrap_or("the accessibility tree");
    let within = waited.map_or(String::new(), |t| format!(" within {} s", t.as_secs_f64()));
    match miss {
        Miss::NotFound { nearest } if nearest.is_empty() => {
            let windows = match &sel.window {
                Some(w) => format!("no window with {w:?} in its title shows controls"),
                None => "no window shows controls".into(),
            };
            format!("{sel} found nothing{within} ({kind}): {windows}")
        }
        Miss::NotFound { nearest } => format!(
            "{sel} found nothing{within} ({kind}); nearest: {}",
            listed(&nearest)
        ),
        Miss::NoAnchor { labels } if labels.is_empty() => {
            let (_, label) = sel.anchor.clone().unwrap_or((Anchor::Near, String::new()));
            format!("{sel}: no label {label:?} is showing{within} ({kind})")
        }
        Miss::NoAnchor { labels } => {
            let (_, label) = sel.anchor.clone().unwrap_or((Anchor::Near, String::new()));
            format!(
                "{sel}: no label {label:?} is showing{within} ({kind}); names there: {}",
                labels
                    .iter()
                    .map(|l| format!("{l:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        Miss::Ambiguous { matches } => format!(
            "{sel} matches {} controls: {}; add index (0 is the first of them, in reading \
             order), or a label anchor (right_of, below, near), or the id",
            matches.len(),
            listed(&matches)
        ),
        Miss::IndexOutOfRange { count } => format!(
            "{sel}: index {} is past the last of the {count} controls it matches (0 is the first)",
            sel.index.unwrap_or(0)
        ),
    }
}

/// Waits up to the query's timeout for its control (enabled, when `usable`); ambiguity is an
/// error at once, since waiting does not make it go away.
fn wait_for(run: &RunContext, q: &Query, usable: bool) -> RhaiResult<Control> {
    let timeout = q.timeout_or_default();
    let deadline = Instant::now() + timeout;
    loop {
        let last = match look(run, &q.selector)? {
            Look::Found(c) if c.enabled || !usable => return Ok(c),
            Look::Found(c) => format!(
                "{} stayed disabled (greyed out) for {} s: {}",
                q.selector,
                timeout.as_secs_f64(),
                select::describe(&c)
            ),
            Look::Missed(miss @ Miss::Ambiguous { .. }) => {
                return Err(script_error(missed(run, &q.selector, miss, None)));
            }
            Look::Missed(miss) => missed(run, &q.selector, miss, Some(timeout)),
            Look::Failed(e) => format!(
                "{} could not be looked up within {} s: {e}",
                q.selector,
                timeout.as_secs_f64()
            ),
        };
        if Instant::now() >= deadline {
            return Err(script_error(last));
        }
        run.sleep(Duration::from_millis(100))?;
    }
}

/// Brings the control's window to the front, as a person's click would.
fn activate_window(run: &RunContext, c: &Control) -> RhaiResult<()> {
    run.with_desktop(|d| match d.windows.find(&c.window)? {
        Some(w) => d.windows.activate(&w),
        None => Ok(()),
    })
}

fn to_map(c: &Control) -> Map {
    let (cx, cy) = c.centre();
    let mut map = Map::new();
    map.insert("x".into(), (c.rect.x as INT).into());
    map.insert("y".into(), (c.rect.y as INT).into());
    map.insert("w".into(), (c.rect.w as INT).into());
    map.insert("h".into(), (c.rect.h as INT).into());
    map.insert("cx".into(), (cx as INT).into());
    map.insert("cy".into(), (cy as INT).into());
    map.insert("role".into(), c.role.as_str().into());
    map.insert("name".into(), c.name.clone().into());
    map.insert("id".into(), c.id.clone().into());
    map.insert("window".into(), c.window.clone().into());
    map.insert("enabled".into(), c.enabled.into());
    map
}

/// Brings the control's window to the front and clicks its centre.
fn click_centre(run: &RunContext, c: &Control) -> RhaiResult<()> {
    let (x, y) = c.centre();
    activate_window(run, c)?;
    run.with_desktop(|d| {
        d.mouse.move_to(x, y)?;
        d.mouse.button_down(crate::desktop::Button::Left)?;
        d.mouse.button_up(crate::desktop::Button::Left)
    })
}

fn click_impl(ctx: &NativeCallContext, sel: &Map) -> RhaiResult<Map> {
    let run = run_context(ctx)?;
    let q = Query::parse(sel)?;
    let c = wait_for(&run, &q, true)?;
    activate_window(&run, &c)?;
    if run.with_desktop(|d| d.controls.press(&c))? {
        run.action(format!("ui click {}", select::describe(&c)));
    } else {
        // No action (a field), or none just now (a toolkit drops a button's actions while it
        // is disabled): clicked as a person would, once it is there and enabled.
        let c = wait_for(&run, &q, true)?;
        let (x, y) = c.centre();
        run.action(format!(
            "ui click {} (at its centre {x} {y})",
            select::describe(&c)
        ));
        click_centre(&run, &c)?;
    }
    Ok(to_map(&c))
}

fn set_text_impl(ctx: &NativeCallContext, sel: &Map, text: &str) -> RhaiResult<()> {
    let run = run_context(ctx)?;
    let q = Query::parse(sel)?;
    let c = wait_for(&run, &q, true)?;
    run.action(format!("ui set_text {} {text:?}", select::describe(&c)));
    if run.dry_run {
        return Ok(());
    }
    let set = run.with_desktop(|d| d.controls.set_text(&c, text))?;
    if set && c.password {
        // Its text cannot be read back, and is never shown.
        return Ok(());
    }
    if set && run.with_desktop(|d| d.controls.text(&c))? == text {
        return Ok(());
    }
    // The control takes no text that way (or changed it): type it as a person would.
    click_centre(&run, &c)?;
    run.with_desktop(|d| crate::desktop::typing::chord(d, NamedKey::Ctrl, 'a'))?;
    crate::script::keyboard::type_with(ctx, text, Method::Auto, false)?;
    if c.password {
        // Its text cannot be read back, and is never shown.
        return Ok(());
    }
    // Typed keys may still be on their way: the field gets a moment to show them.
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let got = run.with_desktop(|d| d.controls.text(&c))?;
        if got == text {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(script_error(format!(
                "the field {} holds {got:?}, not {text:?} as set",
                select::describe(&c)
            )));
        }
        run.sleep(Duration::from_millis(50))?;
    }
}

fn get_text_impl(ctx: &NativeCallContext, sel: &Map) -> RhaiResult<String> {
    let run = run_context(ctx)?;
    let q = Query::parse(sel)?;
    let c = wait_for(&run, &q, false)?;
    run.action(format!("ui get_text {}", select::describe(&c)));
    if c.password {
        return Err(script_error(format!(
            "{} is a password field: its text cannot be read",
            select::describe(&c)
        )));
    }
    run.with_desktop(|d| d.controls.text(&c))
}

fn wait_impl(ctx: &NativeCallContext, sel: &Map, timeout: Option<Duration>) -> RhaiResult<Map> {
    let run = run_context(ctx)?;
    let mut q = Query::parse(sel)?;
    if timeout.is_some() {
        q.timeout = timeout;
    }
    run.action(format!(
        "ui wait for {} (up to {} s)",
        q.selector,
        q.timeout_or_default().as_secs_f64()
    ));
    Ok(to_map(&wait_for(&run, &q, false)?))
}

fn wait_gone_impl(ctx: &NativeCallContext, sel: &Map, timeout: Option<Duration>) -> RhaiResult<()> {
    let run = run_context(ctx)?;
    let mut q = Query::parse(sel)?;
    if timeout.is_some() {
        q.timeout = timeout;
    }
    let timeout = q.timeout_or_default();
    run.action(format!(
        "ui wait until {} is gone (up to {} s)",
        q.selector,
        timeout.as_secs_f64()
    ));
    if run.dry_run {
        return Ok(());
    }
    let deadline = Instant::now() + timeout;
    loop {
        let showing = match look(&run, &q.selector)? {
            Look::Missed(
                Miss::NotFound { .. } | Miss::NoAnchor { .. } | Miss::IndexOutOfRange { .. },
            ) => return Ok(()),
            Look::Found(c) => format!(
                "was still showing after {} s: {}",
                timeout.as_secs_f64(),
                select::describe(&c)
            ),
            Look::Missed(Miss::Ambiguous { matches }) => format!(
                "was still showing after {} s: {}",
                timeout.as_secs_f64(),
                listed(&matches)
            ),
            Look::Failed(e) => format!(
                "could not be looked up within {} s: {e}",
                timeout.as_secs_f64()
            ),
        };
        if Instant::now() >= deadline {
            return Err(script_error(format!("{} {showing}", q.selector)));
        }
        run.sleep(Duration::from_millis(100))?;
    }
}

fn options_timeout(options: &Map) -> RhaiResult<Option<Duration>> {
    let mut timeout = None;
    for (key, value) in options {
        match key.as_str() {
            "timeout_s" => timeout = Some(timeout_value(value)?),
            other => {
                return Err(script_error(format!(
                    "unknown option `{other}`{}; the option is timeout_s",
                    crate::suggest::hint(other, ["timeout_s"].into_iter())
                )));
            }
        }
    }
    Ok(timeout)
}

#[export_module]
pub mod ui_api {
    use super::*;

    /// Clicks a control found by its role and name (see `ui::find` for the selector). It waits
    /// up to 10 s (`timeout_s` in the selector) for the control to show and be enabled, then
    /// uses the control's own action where the system offers one (so the pointer does not
    /// move), else clicks its centre. Returns the control as `ui::find` does. Not found within
    /// the time, or several matching, is an error that names the closest controls.
    ///
    /// ```rhai
    /// ui::click(#{ window: "申請入力", role: "button", name: "登録" });
    /// ui::click(#{ role: "button", name: "検索", right_of: "氏名", timeout_s: 30 });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn click(ctx: NativeCallContext, selector: Map) -> RhaiResult<Map> {
        located(&ctx, || click_impl(&ctx, &selector))
    }

    /// Puts `text` into a text field found by its selector (see `ui::find`), replacing what it
    /// held, and reads it back: an error if the field then holds anything else. The field's
    /// value is set directly where the system allows it (AT-SPI's EditableText, Win32's
    /// WM_SETTEXT: no key events, so a field that reacts only to keys may not notice — use
    /// `keyboard::type_text` there); where it does not, or the field then holds something else,
    /// it is clicked, its text selected (Ctrl+A) and `text` typed as `keyboard::type_text`
    /// does. Japanese comes out exact either way, also with the IME on. A password field is
    /// not read back (no system lets another program read it).
    ///
    /// ```rhai
    /// ui::set_text(#{ window: "申請入力", role: "text", right_of: "氏名" }, "髙橋 𠮷男");
    /// for row in sheet::read("input/申請.xlsx") {
    ///     ui::set_text(#{ role: "text", name: "住所" }, row["住所"]);
    /// }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn set_text(ctx: NativeCallContext, selector: Map, text: &str) -> RhaiResult<()> {
        located(&ctx, || set_text_impl(&ctx, &selector, text))
    }

    /// The text of a control: what a field holds, or a label's or button's caption. Waits up
    /// to 10 s for the control to show (disabled ones too). A password field's text cannot be
    /// read: that is an error.
    ///
    /// ```rhai
    /// let status = ui::get_text(#{ window: "受付", role: "label", name_contains: "登録" });
    /// if status != "登録しました" { fail(`not registered: ${status}`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn get_text(ctx: NativeCallContext, selector: Map) -> RhaiResult<String> {
        located(&ctx, || get_text_impl(&ctx, &selector))
    }

    /// Whether the control is showing now (one look, no wait unless the selector has
    /// `timeout_s`). Several matches count as showing.
    ///
    /// ```rhai
    /// if ui::exists(#{ window: "エラー", role: "button", name: "OK" }) {
    ///     ui::click(#{ window: "エラー", role: "button", name: "OK" });
    /// }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn exists(ctx: NativeCallContext, selector: Map) -> RhaiResult<bool> {
        located(&ctx, || {
            let run = run_context(&ctx)?;
            let q = Query::parse(&selector)?;
            let deadline = Instant::now() + q.timeout.unwrap_or_default();
            loop {
                match look(&run, &q.selector)? {
                    Look::Found(_) | Look::Missed(Miss::Ambiguous { .. }) => return Ok(true),
                    Look::Failed(e) if Instant::now() >= deadline => {
                        return Err(script_error(format!(
                            "{} could not be looked up: {e}",
                            q.selector
                        )));
                    }
                    Look::Missed(_) if Instant::now() >= deadline => return Ok(false),
                    _ => run.sleep(Duration::from_millis(100))?,
                }
            }
        })
    }

    /// Finds one control and returns it as `#{x, y, w, h, cx, cy, role, name, id, window,
    /// enabled}` (screen pixels; `cx, cy` is the centre). Waits up to 10 s for it.
    ///
    /// The selector is a map; every key given must hold:
    /// - `window`: part of the title of the control's window;
    /// - `role`: `"button"`, `"text"` (a text field), `"check"`, `"radio"`, `"combo"`,
    ///   `"list"`, `"list_item"`, `"menu_item"`, `"tab"`, `"label"`, `"window"`;
    /// - `name`: its name, whole (a button's caption, a field's label; a trailing `：` does not
    ///   count); `name_contains`: part of it;
    /// - `id`: the automation or widget id the program gave it (a Win32 control id);
    /// - `right_of`, `below`, `near`: the name of a label it sits right of (on the same line),
    ///   below, or nearest to — the closest one wins;
    /// - `index`: which of several matches, 0 being the first in reading order;
    /// - `timeout_s`: how long to wait for it (default 10).
    ///
    /// `kuroko inspect` prints the selector of the control under the pointer. On Linux the
    /// controls come from AT-SPI (GTK, Qt with `QT_LINUX_ACCESSIBILITY_ALWAYS_ON=1`,
    /// LibreOffice), on Windows from the Win32 control tree (classic Win32, VB6, WinForms). In
    /// a dry run every control "is there" at the centre of the screen.
    ///
    /// ```rhai
    /// let b = ui::find(#{ window: "申請入力", role: "button", name: "登録" });
    /// log::info(`登録 is at ${b.cx}, ${b.cy}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn find(ctx: NativeCallContext, selector: Map) -> RhaiResult<Map> {
        located(&ctx, || {
            let run = run_context(&ctx)?;
            let q = Query::parse(&selector)?;
            run.action(format!("ui find {}", q.selector));
            Ok(to_map(&wait_for(&run, &q, false)?))
        })
    }

    /// Waits up to 10 s (or the selector's `timeout_s`) for a control to show and returns it
    /// as `ui::find` does; an error after the timeout naming the closest controls.
    ///
    /// ```rhai
    /// ui::wait(#{ window: "照会結果", role: "label", name_contains: "件" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn wait(ctx: NativeCallContext, selector: Map) -> RhaiResult<Map> {
        located(&ctx, || wait_impl(&ctx, &selector, None))
    }

    /// `ui::wait` with options: `timeout_s`.
    ///
    /// ```rhai
    /// ui::wait(#{ window: "受付", role: "label", name: "登録しました" }, #{ timeout_s: 60 });
    /// ```
    #[rhai_fn(name = "wait", return_raw)]
    pub fn wait_with(ctx: NativeCallContext, selector: Map, options: Map) -> RhaiResult<Map> {
        located(&ctx, || {
            wait_impl(&ctx, &selector, options_timeout(&options)?)
        })
    }

    /// Waits until no control matches the selector (a 処理中 message, a closing dialog); an
    /// error if one still shows after 10 s (or `timeout_s`).
    ///
    /// ```rhai
    /// ui::wait_gone(#{ window: "受付", role: "label", name: "保存中…" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn wait_gone(ctx: NativeCallContext, selector: Map) -> RhaiResult<()> {
        located(&ctx, || wait_gone_impl(&ctx, &selector, None))
    }

    /// `ui::wait_gone` with options: `timeout_s`.
    ///
    /// ```rhai
    /// ui::wait_gone(#{ role: "label", name: "処理中" }, #{ timeout_s: 120 });
    /// ```
    #[rhai_fn(name = "wait_gone", return_raw)]
    pub fn wait_gone_with(ctx: NativeCallContext, selector: Map, options: Map) -> RhaiResult<()> {
        located(&ctx, || {
            wait_gone_impl(&ctx, &selector, options_timeout(&options)?)
        })
    }
}

//! `web::` — browser-based business systems (標準準拠システム) driven through the page itself:
//! locators by role, label, text and placeholder instead of pictures, each step waiting until
//! its element is ready. Every step is an action in the run log and one of the last 20 steps of
//! the run's web trace; a step that fails keeps a screenshot and the page's HTML in the run
//! folder.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rhai::plugin::*;
use rhai::{Array, FLOAT, INT, Map};

use crate::browser::{self, Act, Browser, Locator, Page, WebError};
use crate::events::Level;
use crate::script::context::{RhaiResult, RunContext, aborted, located, run_context, script_error};

/// How long a step waits for its element when neither the step nor `web::open` says.
const DEFAULT_TIMEOUT_S: f64 = 30.0;
/// Steps the trace keeps.
const TRACE_STEPS: usize = 20;

/// One web step, for the trace.
pub struct Step {
    n: u64,
    action: String,
    locator: String,
    ms: u64,
    error: Option<String>,
    page: Page,
    picture: Option<Arc<String>>,
}

/// The run's browsers and its last web steps.
#[derive(Default)]
pub struct WebState {
    browsers: Vec<Arc<Browser>>,
    steps: VecDeque<Step>,
    /// Browsers opened by the run so far.
    opened: u64,
    counted: u64,
    failures: u32,
}

impl WebState {
    /// Writes the trace (the last steps, each with a small picture of the page) into the run
    /// folder and closes every browser kuroko started. Called when the run ends, however it
    /// ends.
    pub fn finish(&mut self, run_dir: &Path) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(last) = self.steps.back_mut()
            && let Some(p) = last.page.latest_frame()
        {
            last.picture = Some(p);
        }
        if !self.steps.is_empty()
            && let Err(e) = write_trace(run_dir, &self.steps)
        {
            problems.push(format!("the web trace could not be written: {e}"));
        }
        self.steps.clear();
        for b in self.browsers.drain(..) {
            b.close();
        }
        problems
    }
}

fn write_trace(run_dir: &Path, steps: &VecDeque<Step>) -> Result<(), String> {
    use base64::Engine;
    let dir = run_dir.join("web-trace");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut list = Vec::new();
    for s in steps {
        let picture = match &s.picture {
            Some(data) => {
                let name = format!("{:04}.jpg", s.n);
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(data.as_bytes())
                    .map_err(|e| e.to_string())?;
                crate::files::write_atomic(&dir.join(&name), &bytes)?;
                Some(name)
            }
            None => None,
        };
        list.push(serde_json::json!({
            "step": s.n, "action": s.action, "locator": s.locator, "ms": s.ms,
            "ok": s.error.is_none(), "error": s.error, "picture": picture,
        }));
    }
    // Each text redacted before it is escaped into JSON (a locator quoting a secret holds it
    // escaped once more there).
    let mut list = serde_json::Value::Array(list);
    crate::redact::json(&mut list);
    let text = serde_json::to_string_pretty(&list).map_err(|e| e.to_string())?;
    crate::files::write_atomic(&dir.join("trace.json"), text.as_bytes())
}

/// Turns a step's failure into the script's error; a missing element or a timeout also keeps
/// a screenshot and the page's HTML in the run folder, named in the message.
fn fail(run: &RunContext, page: &Page, doing: &str, e: WebError) -> Box<EvalAltResult> {
    if e.aborted || run.abort.is_requested() {
        return aborted();
    }
    let mut message = format!("{doing}: {}", e.message);
    if e.evidence {
        let n = {
            let mut web = run.web.borrow_mut();
            web.failures += 1;
            web.failures
        };
        let mut kept = Vec::new();
        if let Ok(png) = page.screenshot() {
            let name = format!("web-failure-{n}.png");
            if crate::files::write_atomic(&run.run_dir.join(&name), &png).is_ok() {
                kept.push(name);
            }
        }
        if let Ok(html) = page.html() {
            // A page that shows a secret it was given keeps it hidden here too.
            let html = crate::redact::string(&html);
            let name = format!("web-failure-{n}.html");
            if crate::files::write_atomic(&run.run_dir.join(&name), html.as_bytes()).is_ok() {
                kept.push(name);
            }
        }
        if !kept.is_empty() {
            message.push_str(&format!(" (kept in the run folder: {})", kept.join(", ")));
        }
    }
    script_error(message)
}

/// Runs one step: logs it, times it, adds it to the trace, and turns its error into a script
/// error at the caller's line.
fn step<T>(
    ctx: &NativeCallContext,
    page: &Page,
    action: &str,
    locator: &str,
    body: impl FnOnce(&RunContext) -> Result<T, WebError>,
) -> RhaiResult<T> {
    located(ctx, || {
        let run = run_context(ctx)?;
        run.check_abort()?;
        let shown = if locator.is_empty() {
            format!("web {action}")
        } else {
            format!("web {action} {locator}")
        };
        run.action(shown.clone());
        {
            // The previous step's picture: the page as it was when this step began.
            let mut web = run.web.borrow_mut();
            if let Some(last) = web.steps.back_mut()
                && let Some(p) = last.page.latest_frame()
            {
                last.picture = Some(p);
            }
        }
        let started = Instant::now();
        let result = body(&run);
        {
            let mut web = run.web.borrow_mut();
            web.counted += 1;
            let n = web.counted;
            let picture = page.latest_frame();
            web.steps.push_back(Step {
                n,
                action: action.to_string(),
                locator: locator.to_string(),
                ms: started.elapsed().as_millis() as u64,
                error: result.as_ref().err().map(|e| e.message.clone()),
                page: page.clone(),
                picture,
            });
            while web.steps.len() > TRACE_STEPS {
                web.steps.pop_front();
            }
        }
        result.map_err(|e| fail(&run, page, &shown, e))
    })
}

/// A step on one element: checks the locator and the options (at the caller's line), then runs
/// `body` as a step (`shown` is what the log and the trace name).
#[allow(clippy::too_many_arguments)]
fn on<T>(
    ctx: &NativeCallContext,
    page: &Page,
    action: &str,
    shown: &str,
    loc: &str,
    opts: &Map,
    own: &[&str],
    body: impl FnOnce(&Page, &Locator, &Act, &RunContext) -> Result<T, WebError>,
) -> RhaiResult<T> {
    let l = located(ctx, || locator(loc))?;
    let a = located(ctx, || act(opts, own))?;
    step(ctx, page, action, shown, |run| body(page, &l, &a, run))
}

fn locator(text: &str) -> RhaiResult<Locator> {
    Locator::parse(text).map_err(script_error)
}

fn seconds(key: &str, v: &Dynamic) -> RhaiResult<Duration> {
    let s = v
        .as_float()
        .or_else(|_| v.as_int().map(|i| i as FLOAT))
        .map_err(|t| {
            script_error(format!(
                "option {key}: expected a number of seconds, got {t}"
            ))
        })?;
    if !(s.is_finite() && (0.0..=86_400.0).contains(&s)) {
        return Err(script_error(format!(
            "option {key} = {s} must be between 0 and 86400 seconds"
        )));
    }
    Ok(Duration::from_secs_f64(s))
}

/// The options every step takes (`timeout_s`, `nth`, `has_text`), and the step's own ones.
fn act(opts: &Map, own: &[&str]) -> RhaiResult<Act> {
    let mut a = Act::default();
    for (key, value) in opts {
        match key.as_str() {
            "timeout_s" => a.timeout = Some(seconds(key, value)?),
            "nth" => a.nth = Some(value.as_int().map_err(|t| {
                script_error(format!(
                    "option nth: expected a whole number (0 = the first, -1 = the last), got {t}"
                ))
            })?),
            "has_text" => a.has_text = Some(value.to_string()),
            k if own.contains(&k) => {}
            other => {
                let mut known = vec!["timeout_s", "nth", "has_text"];
                known.extend(own);
                return Err(script_error(format!(
                    "unknown option {other:?}{} (options: {})",
                    crate::suggest::hint(other, known.iter().copied()),
                    known.join(", ")
                )));
            }
        }
    }
    Ok(a)
}

/// A file name a download may be saved as on any system.
fn safe_file_name(suggested: &str) -> String {
    let cleaned: String = suggested
        .chars()
        .map(|c| {
            if c.is_control() || "<>:\"/\\|?*".contains(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim().trim_matches('.').trim().to_string();
    let stem = cleaned.split('.').next().unwrap_or("").to_ascii_uppercase();
    let reserved = ["CON", "PRN", "AUX", "NUL"].contains(&stem.as_str())
        || ((stem.starts_with("COM") || stem.starts_with("LPT")) && stem.len() == 4);
    match (cleaned.is_empty(), reserved) {
        (true, _) => "download".into(),
        (false, true) => format!("_{cleaned}"),
        _ => cleaned,
    }
}

fn open_options(run: &RunContext, opts: &Map) -> RhaiResult<(browser::OpenOptions, bool)> {
    // Each browser of the run has its own profile and log: a second one started on the first
    // one's profile would hand itself over to it and end.
    let suffix = match run.web.borrow().opened {
        0 => String::new(),
        n => format!("-{}", n + 1),
    };
    let mut choice = None;
    let mut headless = false;
    let mut profile = None;
    let mut timeout = Duration::from_secs_f64(DEFAULT_TIMEOUT_S);
    for (key, value) in opts {
        match key.as_str() {
            "browser" => choice = Some(value.to_string()),
            "headless" => {
                headless = value.as_bool().map_err(|t| {
                    script_error(format!("option headless: expected true or false, got {t}"))
                })?
            }
            "profile" => profile = Some(value.to_string()),
            "timeout_s" => timeout = seconds(key, value)?,
            other => {
                let known = ["browser", "headless", "profile", "timeout_s"];
                return Err(script_error(format!(
                    "unknown option {other:?}{} (options: {})",
                    crate::suggest::hint(other, known.iter().copied()),
                    known.join(", ")
                )));
            }
        }
    }
    let (profile_dir, temporary) = match profile {
        Some(name) => {
            let ok = !name.is_empty()
                && name.chars().count() <= 64
                && name
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
                && !name.starts_with('-');
            if !ok {
                return Err(script_error(format!(
                    "profile {name:?}: a profile name is 1–64 letters, digits, - or _"
                )));
            }
            (
                crate::files::data_dir().join("browser-profiles").join(name),
                false,
            )
        }
        None => (run.run_dir.join(format!("browser-profile{suffix}")), true),
    };
    Ok((
        browser::OpenOptions {
            launch: browser::launch::LaunchOptions {
                browser: choice,
                headless,
                profile: profile_dir,
                temporary_profile: temporary,
                log: run.run_dir.join(format!("browser{suffix}.log")),
            },
            downloads: run.run_dir.join("downloads"),
            timeout,
        },
        headless,
    ))
}

/// A dry run must not act on a real system.
fn refuse_dry_run(run: &RunContext) -> RhaiResult<()> {
    if run.dry_run {
        return Err(script_error(
            "web:: steps do not run in a dry run (they would act on the real system); run the \
             scenario without --dry-run against a test system",
        ));
    }
    Ok(())
}

/// Decodes `%XX` in a file address's path.
fn percent_decoded(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(v) = path
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The addresses a script may open: web systems (http, https), `about:blank`, and files the
/// sandbox lets it read (`file://` inside its scenario, input and output folders) — a page
/// opened in the browser could otherwise read any file on the PC.
fn checked_url(run: &RunContext, url: &str) -> RhaiResult<()> {
    let lower = url.trim().to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") || lower == "about:blank" {
        return Ok(());
    }
    if let Some(rest) = url.trim().strip_prefix("file://") {
        let path = rest.split(['?', '#']).next().unwrap_or("");
        // file:///C:/x on Windows.
        let path = match path.strip_prefix('/') {
            Some(p) if cfg!(windows) && p.as_bytes().get(1) == Some(&b':') => p,
            _ => path,
        };
        run.sandbox
            .readable(&percent_decoded(path))
            .map_err(|e| script_error(format!("{url}: {e}")))?;
        return Ok(());
    }
    Err(script_error(format!(
        "{url:?}: kuroko opens http:// and https:// addresses (and file:// pages inside the \
         scenario's folders)"
    )))
}

fn open_browser(ctx: &NativeCallContext, url: &str, opts: &Map) -> RhaiResult<Page> {
    located(ctx, || {
        let run = run_context(ctx)?;
        run.check_abort()?;
        refuse_dry_run(&run)?;
        checked_url(&run, url)?;
        let (options, headless) = open_options(&run, opts)?;
        if !headless {
            // A browser window on the desktop: take the desktop (one run at a time) and arm
            // the hotkey and the screen corner, as for any desktop step.
            run.with_desktop(|_| Ok(()))?;
        }
        run.action(format!("web open {url}"));
        let (b, page, took) = Browser::open(url, &options, &run.abort).map_err(|e| {
            if e.aborted || run.abort.is_requested() {
                aborted()
            } else {
                script_error(format!("web::open {url}: {}", e.message))
            }
        })?;
        run.log(
            Level::Info,
            format!(
                "browser started{} and {url} loaded in {} ms",
                if headless { " (headless)" } else { "" },
                took.as_millis()
            ),
        );
        let mut web = run.web.borrow_mut();
        web.opened += 1;
        web.browsers.push(b);
        Ok(page)
    })
}

fn moved_download(
    run: &RunContext,
    from: &Path,
    suggested: &str,
    save_as: Option<String>,
) -> Result<String, WebError> {
    let relative = save_as.unwrap_or_else(|| format!("output/{}", safe_file_name(suggested)));
    let target = run.sandbox.writable(&relative).map_err(WebError::new)?;
    crate::files::replace_file(&target, |temp| {
        std::fs::copy(from, temp)
            .map(|_| ())
            .map_err(|e| format!("cannot save the download as {relative}: {e}"))
    })
    .map_err(WebError::new)?;
    let _ = std::fs::remove_file(from);
    Ok(relative)
}

fn paths_of(run: &RunContext, files: &Dynamic) -> RhaiResult<Vec<PathBuf>> {
    let list: Vec<String> = if files.is_array() {
        files
            .clone()
            .into_array()
            .unwrap_or_default()
            .iter()
            .map(|f| f.to_string())
            .collect()
    } else {
        vec![files.to_string()]
    };
    list.iter()
        .map(|p| run.sandbox.readable(p).map_err(script_error))
        .collect()
}

fn to_rows(keys: &[String], rows: Vec<Vec<String>>) -> Array {
    rows.into_iter()
        .map(|r| {
            let mut m = Map::new();
            for (k, v) in keys.iter().zip(r) {
                m.insert(k.as_str().into(), v.into());
            }
            Dynamic::from_map(m)
        })
        .collect()
}

pub fn register_types(engine: &mut rhai::Engine) {
    engine.register_type_with_name::<Page>("WebPage");
}

#[export_module]
pub mod web_api {
    use super::*;

    /// Starts a browser kuroko controls, opens `url` (http://, https://, or a file:// page
    /// inside the scenario's folders) and returns its page once loaded. The browser is closed
    /// when the run ends, however it ends. The first browser found is used:
    /// Edge or Chrome on Windows, Chromium, Chrome or Edge elsewhere (`KUROKO_BROWSER` can
    /// name another). See `web::open(url, opts)` for the options.
    ///
    /// ```rhai
    /// let b = web::open("http://127.0.0.1:8080/");
    /// b.fill("label=ユーザーID", "kuroko");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn open(ctx: NativeCallContext, url: &str) -> RhaiResult<Page> {
        open_browser(&ctx, url, &Map::new())
    }

    /// `web::open` with options: `browser` ("chromium", "chrome" or "edge"; the PC's
    /// administrator can name another program with `KUROKO_BROWSER`), `headless` (no window; default false, so the clerk can watch), `profile` (a
    /// name: a profile folder kuroko keeps between runs, so a login can persist where the
    /// office allows it; default a fresh profile removed after the run), `timeout_s` (how
    /// long each step waits for its element; default 30).
    ///
    /// ```rhai
    /// let b = web::open("http://127.0.0.1:8080/", #{ browser: "edge", headless: true, timeout_s: 60 });
    /// ```
    #[rhai_fn(name = "open", return_raw)]
    pub fn open_with(ctx: NativeCallContext, url: &str, opts: Map) -> RhaiResult<Page> {
        open_browser(&ctx, url, &opts)
    }

    /// Attaches to a browser the clerk started with a debugging port (for example
    /// `msedge.exe --remote-debugging-port=9222`) and returns its first tab. kuroko leaves
    /// that browser open when the run ends.
    ///
    /// ```rhai
    /// let b = web::attach(9222);
    /// log::info(b.title());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn attach(ctx: NativeCallContext, port: INT) -> RhaiResult<Page> {
        located(&ctx, || {
            let run = run_context(&ctx)?;
            refuse_dry_run(&run)?;
            let port = u16::try_from(port)
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| script_error(format!("{port} is not a port number")))?;
            run.action(format!("web attach {port}"));
            let (b, page) = Browser::attach(
                port,
                Duration::from_secs_f64(DEFAULT_TIMEOUT_S),
                run.run_dir.join("downloads"),
                &run.abort,
            )
            .map_err(|e| {
                if e.aborted {
                    aborted()
                } else {
                    script_error(format!("web::attach {port}: {}", e.message))
                }
            })?;
            run.web.borrow_mut().browsers.push(b);
            Ok(page)
        })
    }

    /// Goes to `url` and waits until the page has loaded (in a frame object: loads it in the
    /// frame).
    ///
    /// ```rhai
    /// b.goto("http://127.0.0.1:8080/main");
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn goto(ctx: NativeCallContext, page: &mut Page, url: &str) -> RhaiResult<()> {
        let run = run_context(&ctx)?;
        located(&ctx, || checked_url(&run, url))?;
        let p = page.clone();
        step(&ctx, &p, "goto", url, |_| p.goto(url, p.timeout))
    }

    /// The address of the page (or frame) now.
    ///
    /// ```rhai
    /// if !b.url().contains("/main") { fail("not logged in"); }
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn url(ctx: NativeCallContext, page: &mut Page) -> RhaiResult<String> {
        let p = page.clone();
        step(&ctx, &p, "url", "", |_| p.url())
    }

    /// The title of the page (or frame's document).
    ///
    /// ```rhai
    /// log::info(b.title());
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn title(ctx: NativeCallContext, page: &mut Page) -> RhaiResult<String> {
        let p = page.clone();
        step(&ctx, &p, "title", "", |_| p.title())
    }

    /// Closes the page: a popup or tab closes; the first page of a browser kuroko started
    /// closes that browser.
    ///
    /// ```rhai
    /// b.close();
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn close(ctx: NativeCallContext, page: &mut Page) -> RhaiResult<()> {
        let p = page.clone();
        step(&ctx, &p, "close", "", |run| {
            let mut web = run.web.borrow_mut();
            let main = web
                .browsers
                .iter()
                .position(|b| Arc::ptr_eq(b, p.browser()) && b.launched);
            match main {
                Some(i) if p.is_first_tab() => {
                    let b = web.browsers.remove(i);
                    drop(web);
                    b.close();
                    Ok(())
                }
                _ => p.close(),
            }
        })
    }

    /// Clicks the element `loc` finds, once it is visible, enabled, not moving and not covered
    /// (a loading overlay is waited out). Locators: `css=` (or a bare CSS selector),
    /// `xpath=` (or `//…`), `text=登録` (whole text, else part; `text="登録"` whole only),
    /// `role=button[name="登録"]` (ARIA role and accessible name; `name*=` for part of it),
    /// `label=氏名` (`<label>`, aria-label, or the `<th>`/`<td>` just before the field's
    /// cell), `placeholder=…`. White space, including 全角 spaces, is ignored when texts are
    /// compared. Several matches are an error that lists them; see `click(loc, opts)`.
    ///
    /// ```rhai
    /// b.click("role=button[name=\"登録\"]");
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn click(ctx: NativeCallContext, page: &mut Page, loc: &str) -> RhaiResult<()> {
        click_with(ctx, page, loc, Map::new())
    }

    /// `click` with options, which every step takes: `timeout_s` (how long to wait for the
    /// element), `nth` (which of several matches: 0 = the first, -1 = the last) and
    /// `has_text` (only elements whose text contains this).
    ///
    /// ```rhai
    /// b.click("text=選択", #{ nth: 0, has_text: "仲町", timeout_s: 10 });
    /// ```
    #[rhai_fn(global, name = "click", return_raw)]
    pub fn click_with(
        ctx: NativeCallContext,
        page: &mut Page,
        loc: &str,
        opts: Map,
    ) -> RhaiResult<()> {
        on(&ctx, page, "click", loc, loc, &opts, &[], |p, l, a, _| {
            p.click(l, a)
        })
    }

    /// Double-clicks the element (waiting as `click` does).
    ///
    /// ```rhai
    /// b.dblclick("text=A-001");
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn dblclick(ctx: NativeCallContext, page: &mut Page, loc: &str) -> RhaiResult<()> {
        on(
            &ctx,
            page,
            "dblclick",
            loc,
            loc,
            &Map::new(),
            &[],
            |p, l, a, _| p.dblclick(l, a),
        )
    }

    /// Puts `text` into the field exactly (any Unicode: 𠮷, 髙, half-width kana), replacing
    /// what it held, with no IME and no clipboard involved; then checks the field holds
    /// exactly that. Waits until the field is visible, enabled, editable and not covered.
    ///
    /// ```rhai
    /// b.fill("label=氏名", "𠮷田 花子");
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn fill(ctx: NativeCallContext, page: &mut Page, loc: &str, text: &str) -> RhaiResult<()> {
        fill_with(ctx, page, loc, text, Map::new())
    }

    /// `fill` with the step options and `verify: false` (accept what the page makes of the
    /// text, e.g. a field that inserts a hyphen).
    ///
    /// ```rhai
    /// b.fill("label=郵便番号", "3660825", #{ verify: false });
    /// ```
    #[rhai_fn(global, name = "fill", return_raw)]
    pub fn fill_with(
        ctx: NativeCallContext,
        page: &mut Page,
        loc: &str,
        text: &str,
        opts: Map,
    ) -> RhaiResult<()> {
        let verify = match opts.get("verify") {
            None => true,
            Some(v) => v.as_bool().map_err(|t| {
                script_error(format!("option verify: expected true or false, got {t}"))
            })?,
        };
        // The log and the trace show what was filled, like keyboard::type_text (a secret's
        // value as ***, see crate::redact).
        let shown = format!("{loc} {text:?}");
        on(
            &ctx,
            page,
            "fill",
            &shown,
            loc,
            &opts,
            &["verify"],
            |p, l, a, _| p.fill(l, text, a, verify),
        )
    }

    /// Focuses the element and presses a key or chord: a character, `Enter`, `Tab`,
    /// `Escape`, `Backspace`, `Delete`, arrows, `Home`/`End`, `PageUp`/`PageDown`, `F1`–`F12`,
    /// with `Control+`, `Shift+`, `Alt+`, `Meta+`.
    ///
    /// ```rhai
    /// b.press("label=受付番号", "Enter");
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn press(ctx: NativeCallContext, page: &mut Page, loc: &str, key: &str) -> RhaiResult<()> {
        press_with(ctx, page, loc, key, Map::new())
    }

    /// `press` with the step options.
    ///
    /// ```rhai
    /// b.press("css=input", "Tab", #{ nth: 0 });
    /// ```
    #[rhai_fn(global, name = "press", return_raw)]
    pub fn press_with(
        ctx: NativeCallContext,
        page: &mut Page,
        loc: &str,
        key: &str,
        opts: Map,
    ) -> RhaiResult<()> {
        let shown = format!("{loc} {key}");
        on(
            &ctx,
            page,
            "press",
            &shown,
            loc,
            &opts,
            &[],
            |p, l, a, _| p.press(l, key, a),
        )
    }

    /// Chooses the option of a drop-down list (`<select>`) whose text (or value) is
    /// `option_text`; returns its text. An option that is not there is an error listing the
    /// options.
    ///
    /// ```rhai
    /// b.select("label=使用目的", "年金");
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn select(
        ctx: NativeCallContext,
        page: &mut Page,
        loc: &str,
        option_text: &str,
    ) -> RhaiResult<String> {
        select_with(ctx, page, loc, option_text, Map::new())
    }

    /// `select` with the step options.
    ///
    /// ```rhai
    /// b.select("css=select", "2通", #{ nth: 0 });
    /// ```
    #[rhai_fn(global, name = "select", return_raw)]
    pub fn select_with(
        ctx: NativeCallContext,
        page: &mut Page,
        loc: &str,
        option_text: &str,
        opts: Map,
    ) -> RhaiResult<String> {
        let shown = format!("{loc} {option_text}");
        on(
            &ctx,
            page,
            "select",
            &shown,
            loc,
            &opts,
            &[],
            |p, l, a, _| p.select(l, option_text, a),
        )
    }

    /// Ticks a check box (or chooses a radio button) unless it already is; an error when
    /// clicking it did not tick it.
    ///
    /// ```rhai
    /// b.check("label=本籍・筆頭者の記載");
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn check(ctx: NativeCallContext, page: &mut Page, loc: &str) -> RhaiResult<()> {
        check_with(ctx, page, loc, Map::new())
    }

    /// `check` with the step options.
    ///
    /// ```rhai
    /// b.check("css=input[type=radio]", #{ nth: 1 });
    /// ```
    #[rhai_fn(global, name = "check", return_raw)]
    pub fn check_with(
        ctx: NativeCallContext,
        page: &mut Page,
        loc: &str,
        opts: Map,
    ) -> RhaiResult<()> {
        on(&ctx, page, "check", loc, loc, &opts, &[], |p, l, a, _| {
            p.set_checked(l, true, a)
        })
    }

    /// Clears a check box unless it already is clear.
    ///
    /// ```rhai
    /// b.uncheck("label=本籍・筆頭者の記載");
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn uncheck(ctx: NativeCallContext, page: &mut Page, loc: &str) -> RhaiResult<()> {
        uncheck_with(ctx, page, loc, Map::new())
    }

    /// `uncheck` with the step options.
    ///
    /// ```rhai
    /// b.uncheck("css=input[type=checkbox]", #{ nth: 0 });
    /// ```
    #[rhai_fn(global, name = "uncheck", return_raw)]
    pub fn uncheck_with(
        ctx: NativeCallContext,
        page: &mut Page,
        loc: &str,
        opts: Map,
    ) -> RhaiResult<()> {
        on(&ctx, page, "uncheck", loc, loc, &opts, &[], |p, l, a, _| {
            p.set_checked(l, false, a)
        })
    }

    /// The text the element shows (its rendered text, without surrounding white space), once
    /// it is there.
    ///
    /// ```rhai
    /// let message = b.text("css=#message");
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn text(ctx: NativeCallContext, page: &mut Page, loc: &str) -> RhaiResult<String> {
        text_with(ctx, page, loc, Map::new())
    }

    /// `text` with the step options.
    ///
    /// ```rhai
    /// let first = b.text("css=td", #{ nth: 0 });
    /// ```
    #[rhai_fn(global, name = "text", return_raw)]
    pub fn text_with(
        ctx: NativeCallContext,
        page: &mut Page,
        loc: &str,
        opts: Map,
    ) -> RhaiResult<String> {
        on(&ctx, page, "text", loc, loc, &opts, &[], |p, l, a, _| {
            p.text(l, a)
        })
    }

    /// The value of a form field (input, text area, drop-down list), exactly.
    ///
    /// ```rhai
    /// let zip = b.value("label=郵便番号");
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn value(ctx: NativeCallContext, page: &mut Page, loc: &str) -> RhaiResult<String> {
        value_with(ctx, page, loc, Map::new())
    }

    /// `value` with the step options.
    ///
    /// ```rhai
    /// let v = b.value("css=input", #{ nth: 2 });
    /// ```
    #[rhai_fn(global, name = "value", return_raw)]
    pub fn value_with(
        ctx: NativeCallContext,
        page: &mut Page,
        loc: &str,
        opts: Map,
    ) -> RhaiResult<String> {
        on(&ctx, page, "value", loc, loc, &opts, &[], |p, l, a, _| {
            p.value(l, a)
        })
    }

    /// An attribute of the element, or `()` when it has none.
    ///
    /// ```rhai
    /// let href = b.attr("text=次へ", "href");
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn attr(
        ctx: NativeCallContext,
        page: &mut Page,
        loc: &str,
        name: &str,
    ) -> RhaiResult<Dynamic> {
        attr_with(ctx, page, loc, name, Map::new())
    }

    /// `attr` with the step options.
    ///
    /// ```rhai
    /// let id = b.attr("css=input", "name", #{ nth: 0 });
    /// ```
    #[rhai_fn(global, name = "attr", return_raw)]
    pub fn attr_with(
        ctx: NativeCallContext,
        page: &mut Page,
        loc: &str,
        name: &str,
        opts: Map,
    ) -> RhaiResult<Dynamic> {
        on(&ctx, page, "attr", loc, loc, &opts, &[], |p, l, a, _| {
            p.attr(l, name, a)
        })
        .map(|v| v.map(Dynamic::from).unwrap_or(Dynamic::UNIT))
    }

    /// Whether an element matches now (no waiting).
    ///
    /// ```rhai
    /// if b.exists("text=該当するデータはありません") { log::info("not registered yet"); }
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn exists(ctx: NativeCallContext, page: &mut Page, loc: &str) -> RhaiResult<bool> {
        exists_with(ctx, page, loc, Map::new())
    }

    /// `exists` with `has_text` (and `nth`: whether there are more than `nth` matches).
    ///
    /// ```rhai
    /// let shown = b.exists("css=tr", #{ has_text: "A-001" });
    /// ```
    #[rhai_fn(global, name = "exists", return_raw)]
    pub fn exists_with(
        ctx: NativeCallContext,
        page: &mut Page,
        loc: &str,
        opts: Map,
    ) -> RhaiResult<bool> {
        on(&ctx, page, "exists", loc, loc, &opts, &[], |p, l, a, _| {
            // nth here: are there more than nth matches?
            let nth = a.nth.unwrap_or(0).max(0) as u64;
            let all = Act {
                nth: None,
                ..a.clone()
            };
            Ok(p.count(l, &all)? > nth)
        })
    }

    /// How many elements match now (no waiting).
    ///
    /// ```rhai
    /// let rows = b.count("css=#registrations tbody tr");
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn count(ctx: NativeCallContext, page: &mut Page, loc: &str) -> RhaiResult<INT> {
        count_with(ctx, page, loc, Map::new())
    }

    /// `count` with `has_text`.
    ///
    /// ```rhai
    /// let n = b.count("css=tr", #{ has_text: "深谷市" });
    /// ```
    #[rhai_fn(global, name = "count", return_raw)]
    pub fn count_with(
        ctx: NativeCallContext,
        page: &mut Page,
        loc: &str,
        opts: Map,
    ) -> RhaiResult<INT> {
        on(&ctx, page, "count", loc, loc, &opts, &[], |p, l, a, _| {
            Ok(p.count(l, a)? as INT)
        })
    }

    /// Waits until an element is visible (an error after the step timeout, naming what was
    /// seen last).
    ///
    /// ```rhai
    /// b.wait_for("text=登録しました");
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn wait_for(ctx: NativeCallContext, page: &mut Page, loc: &str) -> RhaiResult<()> {
        wait_for_with(ctx, page, loc, Map::new())
    }

    /// `wait_for` with `state` ("visible" — the default —, "attached", "hidden" or
    /// "detached") and the step options.
    ///
    /// ```rhai
    /// b.wait_for("css=#overlay", #{ state: "hidden", timeout_s: 60 });
    /// ```
    #[rhai_fn(global, name = "wait_for", return_raw)]
    pub fn wait_for_with(
        ctx: NativeCallContext,
        page: &mut Page,
        loc: &str,
        opts: Map,
    ) -> RhaiResult<()> {
        let state = match opts.get("state") {
            None => browser::State::Visible,
            Some(s) => browser::State::parse(&s.to_string()).ok_or_else(|| {
                script_error(format!(
                    "option state: {s:?}; use \"visible\", \"attached\", \"hidden\" or \"detached\""
                ))
            })?,
        };
        on(
            &ctx,
            page,
            "wait_for",
            loc,
            loc,
            &opts,
            &["state"],
            |p, l, a, _| p.wait_for(l, state, a),
        )
    }

    /// Waits until no element matching `loc` is visible (gone, or hidden).
    ///
    /// ```rhai
    /// b.wait_gone("text=保存中");
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn wait_gone(ctx: NativeCallContext, page: &mut Page, loc: &str) -> RhaiResult<()> {
        wait_gone_with(ctx, page, loc, Map::new())
    }

    /// `wait_gone` with the step options.
    ///
    /// ```rhai
    /// b.wait_gone("css=#overlay", #{ timeout_s: 120 });
    /// ```
    #[rhai_fn(global, name = "wait_gone", return_raw)]
    pub fn wait_gone_with(
        ctx: NativeCallContext,
        page: &mut Page,
        loc: &str,
        opts: Map,
    ) -> RhaiResult<()> {
        on(
            &ctx,
            page,
            "wait_gone",
            loc,
            loc,
            &opts,
            &[],
            |p, l, a, _| p.wait_for(l, browser::State::Hidden, a),
        )
    }

    /// Waits until the page's address contains `part` and returns the address.
    ///
    /// ```rhai
    /// b.wait_url("/main");
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn wait_url(ctx: NativeCallContext, page: &mut Page, part: &str) -> RhaiResult<String> {
        wait_url_with(ctx, page, part, Map::new())
    }

    /// `wait_url` with `timeout_s`.
    ///
    /// ```rhai
    /// b.wait_url("/list", #{ timeout_s: 10 });
    /// ```
    #[rhai_fn(global, name = "wait_url", return_raw)]
    pub fn wait_url_with(
        ctx: NativeCallContext,
        page: &mut Page,
        part: &str,
        opts: Map,
    ) -> RhaiResult<String> {
        let a = act(&opts, &[])?;
        let p = page.clone();
        step(&ctx, &p, "wait_url", part, |_| p.wait_url(part, &a))
    }

    /// An HTML table as an array of maps keyed by its header cells (`列1`, `列2`… where a
    /// column has no header), each value exactly the text the cell shows. The table keeps its
    /// column order when written with `sheet::write`.
    ///
    /// ```rhai
    /// let rows = b.table("css=#registrations");
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn table(ctx: NativeCallContext, page: &mut Page, loc: &str) -> RhaiResult<Array> {
        table_with(ctx, page, loc, Map::new())
    }

    /// `table` with `next`: the locator of the 次へ link or button, followed through every
    /// page of results until it is gone or disabled; the rows of all pages are returned.
    ///
    /// ```rhai
    /// let all = b.table("css=#registrations", #{ next: "text=次へ" });
    /// ```
    #[rhai_fn(global, name = "table", return_raw)]
    pub fn table_with(
        ctx: NativeCallContext,
        page: &mut Page,
        loc: &str,
        opts: Map,
    ) -> RhaiResult<Array> {
        let next = match opts.get("next") {
            Some(n) => Some(located(&ctx, || locator(&n.to_string()))?),
            None => None,
        };
        let (keys, rows) = on(
            &ctx,
            page,
            "table",
            loc,
            loc,
            &opts,
            &["next"],
            |p, l, a, _| p.table(l, next.as_ref(), a),
        )?;
        let run = run_context(&ctx)?;
        run.column_orders.borrow_mut().push(keys.clone());
        Ok(to_rows(&keys, rows))
    }

    /// Clicks the element, waits for the download it starts, and saves the file under
    /// `output/` with the name the site gave it; returns that path (for `sheet::read`, which
    /// reads Shift_JIS CSV as well).
    ///
    /// ```rhai
    /// let csv = b.download("text=CSV出力");
    /// let rows = sheet::read(csv);
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn download(ctx: NativeCallContext, page: &mut Page, loc: &str) -> RhaiResult<String> {
        download_with(ctx, page, loc, Map::new())
    }

    /// `download` with `save_as` (a path in an output folder) and the step options.
    ///
    /// ```rhai
    /// let csv = b.download("text=CSV出力", #{ save_as: "output/一覧.csv", timeout_s: 120 });
    /// ```
    #[rhai_fn(global, name = "download", return_raw)]
    pub fn download_with(
        ctx: NativeCallContext,
        page: &mut Page,
        loc: &str,
        opts: Map,
    ) -> RhaiResult<String> {
        let save_as = opts.get("save_as").map(|v| v.to_string());
        on(
            &ctx,
            page,
            "download",
            loc,
            loc,
            &opts,
            &["save_as"],
            |p, l, a, run| {
                let (file, suggested) = p.download(l, a)?;
                moved_download(run, &file, &suggested, save_as)
            },
        )
    }

    /// Gives a file field (`<input type=file>`) the file at `path` (or an array of paths),
    /// read from the scenario's folders.
    ///
    /// ```rhai
    /// b.upload("label=取込ファイル", "input/転入.csv");
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn upload(
        ctx: NativeCallContext,
        page: &mut Page,
        loc: &str,
        path: Dynamic,
    ) -> RhaiResult<()> {
        upload_with(ctx, page, loc, path, Map::new())
    }

    /// `upload` with the step options.
    ///
    /// ```rhai
    /// b.upload("css=input[type=file]", ["input/a.csv", "input/b.csv"], #{ nth: 0 });
    /// ```
    #[rhai_fn(global, name = "upload", return_raw)]
    pub fn upload_with(
        ctx: NativeCallContext,
        page: &mut Page,
        loc: &str,
        path: Dynamic,
        opts: Map,
    ) -> RhaiResult<()> {
        let run = run_context(&ctx)?;
        let files = located(&ctx, || paths_of(&run, &path))?;
        on(&ctx, page, "upload", loc, loc, &opts, &[], |p, l, a, _| {
            let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
            p.upload(l, &refs, a)
        })
    }

    /// Saves a PNG picture of the page in an output folder.
    ///
    /// ```rhai
    /// b.screenshot("output/登録結果.png");
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn screenshot(ctx: NativeCallContext, page: &mut Page, path: &str) -> RhaiResult<()> {
        let p = page.clone();
        step(&ctx, &p, "screenshot", path, |run| {
            let target = run.sandbox.writable(path).map_err(WebError::new)?;
            let png = p.screenshot()?;
            crate::files::write_atomic(&target, &png).map_err(WebError::new)
        })
    }

    /// A page-like object for the frame or iframe `loc` finds (legacy `<frameset>` frames
    /// too): every step on it looks inside that frame. Frames of frames: call `frame` on it.
    ///
    /// ```rhai
    /// let menu = b.frame("css=frame[name=menu]");
    /// menu.click("text=交付申請入力");
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn frame(ctx: NativeCallContext, page: &mut Page, loc: &str) -> RhaiResult<Page> {
        frame_with(ctx, page, loc, Map::new())
    }

    /// `frame` with the step options.
    ///
    /// ```rhai
    /// let f = b.frame("css=iframe", #{ nth: 1 });
    /// ```
    #[rhai_fn(global, name = "frame", return_raw)]
    pub fn frame_with(
        ctx: NativeCallContext,
        page: &mut Page,
        loc: &str,
        opts: Map,
    ) -> RhaiResult<Page> {
        on(&ctx, page, "frame", loc, loc, &opts, &[], |p, l, a, _| {
            p.frame(l, a)
        })
    }

    /// Clicks the element and returns the window or tab it opens, as a page (once loaded).
    ///
    /// ```rhai
    /// let w = form.popup("text=住所検索");
    /// w.fill("placeholder=町名を入力", "仲町");
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn popup(ctx: NativeCallContext, page: &mut Page, loc: &str) -> RhaiResult<Page> {
        popup_with(ctx, page, loc, Map::new())
    }

    /// `popup` with the step options.
    ///
    /// ```rhai
    /// let w = b.popup("text=住所検索", #{ timeout_s: 10 });
    /// ```
    #[rhai_fn(global, name = "popup", return_raw)]
    pub fn popup_with(
        ctx: NativeCallContext,
        page: &mut Page,
        loc: &str,
        opts: Map,
    ) -> RhaiResult<Page> {
        on(&ctx, page, "popup", loc, loc, &opts, &[], |p, l, a, _| {
            p.popup(l, a)
        })
    }

    /// Arms the answer to the page's next dialog (alert, confirm, prompt): "accept" (OK) or
    /// "dismiss" (キャンセル). A dialog nobody armed is dismissed and is a script error that
    /// quotes its text.
    ///
    /// ```rhai
    /// b.on_dialog("accept");
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn on_dialog(ctx: NativeCallContext, page: &mut Page, answer: &str) -> RhaiResult<()> {
        arm(&ctx, page, answer, None, None)
    }

    /// `on_dialog` that also checks the dialog's text: a dialog whose text does not contain
    /// `expected_text` is dismissed and is a script error.
    ///
    /// ```rhai
    /// b.on_dialog("accept", "この内容で登録しますか");
    /// b.click("text=登録");
    /// ```
    #[rhai_fn(global, name = "on_dialog", return_raw)]
    pub fn on_dialog_text(
        ctx: NativeCallContext,
        page: &mut Page,
        answer: &str,
        expected_text: &str,
    ) -> RhaiResult<()> {
        arm(&ctx, page, answer, Some(expected_text), None)
    }

    /// `on_dialog` for a prompt: `#{ prompt: "…" }` is typed into it before it is accepted.
    ///
    /// ```rhai
    /// b.on_dialog("accept", "理由", #{ prompt: "転居のため" });
    /// ```
    #[rhai_fn(global, name = "on_dialog", return_raw)]
    pub fn on_dialog_prompt(
        ctx: NativeCallContext,
        page: &mut Page,
        answer: &str,
        expected_text: &str,
        opts: Map,
    ) -> RhaiResult<()> {
        let mut prompt = None;
        for (k, v) in &opts {
            match k.as_str() {
                "prompt" => prompt = Some(v.to_string()),
                other => {
                    return Err(script_error(format!(
                        "unknown option {other:?} (options: prompt)"
                    )));
                }
            }
        }
        arm(&ctx, page, answer, Some(expected_text), prompt)
    }
}

fn arm(
    ctx: &NativeCallContext,
    page: &Page,
    answer: &str,
    expected: Option<&str>,
    prompt: Option<String>,
) -> RhaiResult<()> {
    located(ctx, || {
        let accept = match answer {
            "accept" => true,
            "dismiss" => false,
            other => {
                return Err(script_error(format!(
                    "on_dialog({other:?}): answer \"accept\" (OK) or \"dismiss\" (キャンセル)"
                )));
            }
        };
        let run = run_context(ctx)?;
        run.action(format!(
            "web on_dialog {answer}{}",
            expected.map(|e| format!(" {e:?}")).unwrap_or_default()
        ));
        page.on_dialog(
            accept,
            expected.filter(|e| !e.is_empty()).map(String::from),
            prompt,
        );
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_names_are_safe_everywhere() {
        assert_eq!(safe_file_name("登録一覧.csv"), "登録一覧.csv");
        assert_eq!(safe_file_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_file_name("a:b?.csv"), "a_b_.csv");
        assert_eq!(safe_file_name("CON.csv"), "_CON.csv");
        assert_eq!(safe_file_name("com1"), "_com1");
        assert_eq!(safe_file_name(" .. "), "download");
    }
}

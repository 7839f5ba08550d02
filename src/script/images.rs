//! Image search for scripts: options parsing, one look at the screen, waiting, and the maps
//! scripts get back. The `screen::find*`, `wait_*`, `exists` and `click_image` functions are
//! thin wrappers over this.

use std::rc::Rc;
use std::time::{Duration, Instant};

use image::RgbaImage;
use rhai::{Dynamic, FLOAT, INT, Map};

use super::context::{RhaiResult, RunContext, aborted, script_error};
use crate::events::Level;
use crate::geometry::Rect;
use crate::vision::{self, AUTO_SCALES, Found, Match, SearchOptions};

/// How long `wait_for`, `wait_gone` and `click_image` wait when no `timeout_s` is given.
pub const DEFAULT_TIMEOUT_S: f64 = 10.0;
/// Pause between looks while waiting.
const POLL: Duration = Duration::from_millis(100);

const OPTION_KEYS: &[&str] = &[
    "confidence",
    "region",
    "timeout_s",
    "scales",
    "grayscale",
    "offset",
];

/// A wait's outcome: the match, or the best seen and the last screen.
pub type Waited = Result<Match, (Option<Match>, Option<RgbaImage>)>;

/// One image request from a script.
pub struct Query {
    pub label: String,
    pub template: Rc<RgbaImage>,
    pub search: SearchOptions,
    pub timeout: Option<Duration>,
    pub offset: (i32, i32),
}

fn number(key: &str, v: &Dynamic) -> RhaiResult<f64> {
    if let Ok(f) = v.as_float() {
        return Ok(f);
    }
    v.as_int()
        .map(|i| i as f64)
        .map_err(|t| script_error(format!("option {key}: expected a number, got {t}")))
}

fn int_field(key: &str, map: &Map, field: &str) -> RhaiResult<i64> {
    let v = map
        .get(field)
        .ok_or_else(|| script_error(format!("option {key}: missing `{field}`")))?;
    Ok(number(&format!("{key}.{field}"), v)?.round() as i64)
}

impl Query {
    pub fn parse(run: &RunContext, path: &str, opts: &Map) -> RhaiResult<Query> {
        let template = run.template(path)?;
        let mut search = SearchOptions::default();
        let mut timeout = None;
        let mut offset = (0, 0);
        for (key, value) in opts {
            match key.as_str() {
                "confidence" => search.confidence = number(key, value)? as f32,
                "grayscale" => {
                    search.grayscale = value.as_bool().map_err(|t| {
                        script_error(format!("option grayscale: expected true or false, got {t}"))
                    })?
                }
                "timeout_s" => {
                    let t = number(key, value)?;
                    if !(0.0..=86_400.0).contains(&t) {
                        return Err(script_error(format!(
                            "option timeout_s = {t} must be between 0 and 86400"
                        )));
                    }
                    timeout = Some(Duration::from_secs_f64(t));
                }
                "scales" => {
                    search.scales = if value.is_string() {
                        let s = value.to_string();
                        if s != "auto" {
                            return Err(script_error(format!(
                                "option scales: {s:?}; use \"auto\" or an array like [1.0, 1.25]"
                            )));
                        }
                        AUTO_SCALES.to_vec()
                    } else {
                        let arr = value.clone().into_array().map_err(|t| {
                            script_error(format!(
                                "option scales: expected \"auto\" or an array of numbers, got {t}"
                            ))
                        })?;
                        if arr.is_empty() {
                            return Err(script_error("option scales: the array is empty"));
                        }
                        arr.iter()
                            .map(|v| number("scales", v))
                            .collect::<RhaiResult<Vec<f64>>>()?
                    }
                }
                "region" => {
                    let m = value.read_lock::<Map>().ok_or_else(|| {
                        script_error("option region: expected a map #{x, y, w, h}")
                    })?;
                    let (x, y, w, h) = (
                        int_field(key, &m, "x")?,
                        int_field(key, &m, "y")?,
                        int_field(key, &m, "w")?,
                        int_field(key, &m, "h")?,
                    );
                    if x < 0
                        || y < 0
                        || w <= 0
                        || h <= 0
                        || x > u32::MAX as i64
                        || y > u32::MAX as i64
                    {
                        return Err(script_error(format!(
                            "option region: #{{x: {x}, y: {y}, w: {w}, h: {h}}} is not a rectangle on the screen"
                        )));
                    }
                    search.region = Some(Rect {
                        x: x as u32,
                        y: y as u32,
                        w: w.min(u32::MAX as i64) as u32,
                        h: h.min(u32::MAX as i64) as u32,
                    });
                }
                "offset" => {
                    let m = value
                        .read_lock::<Map>()
                        .ok_or_else(|| script_error("option offset: expected a map #{x, y}"))?;
                    offset = (
                        int_field(key, &m, "x")? as i32,
                        int_field(key, &m, "y")? as i32,
                    );
                }
                other => {
                    return Err(script_error(format!(
                        "unknown option `{other}`{}; options are {}",
                        crate::suggest::hint(other, OPTION_KEYS.iter().copied()),
                        OPTION_KEYS.join(", ")
                    )));
                }
            }
        }
        if !(0.0..=1.0).contains(&search.confidence) {
            return Err(script_error(format!(
                "option confidence = {} must be between 0 and 1",
                search.confidence
            )));
        }
        Ok(Query {
            label: path.to_string(),
            template,
            search,
            timeout,
            offset,
        })
    }

    /// Looks at the screen once.
    pub fn look(&self, run: &RunContext) -> RhaiResult<(Found, Option<RgbaImage>)> {
        if run.pretend_images {
            let (w, h) = run.with_desktop(|d| d.screen.size())?;
            let area = self.search.region.unwrap_or(Rect { x: 0, y: 0, w, h });
            let (tw, th) = (self.template.width(), self.template.height());
            let m = Match {
                x: area.x + area.w.saturating_sub(tw) / 2,
                y: area.y + area.h.saturating_sub(th) / 2,
                w: tw,
                h: th,
                score: 1.0,
                scale: 1.0,
            };
            run.log(
                Level::Info,
                format!(
                    "dry run: pretending {} is on the screen at {},{}",
                    self.label, m.x, m.y
                ),
            );
            return Ok((
                Found {
                    matches: vec![m],
                    best: Some(m),
                },
                None,
            ));
        }
        self.capture_and_search(run, false)
    }

    /// Every match, non-overlapping, best first (one look).
    pub fn look_all(&self, run: &RunContext) -> RhaiResult<Found> {
        if run.pretend_images {
            return self.look(run).map(|(f, _)| f);
        }
        self.capture_and_search(run, true).map(|(f, _)| f)
    }

    /// Captures the screen (or just the region, checked to lie on it) and searches it; match
    /// positions are screen positions.
    fn capture_and_search(
        &self,
        run: &RunContext,
        all: bool,
    ) -> RhaiResult<(Found, Option<RgbaImage>)> {
        let (screen, origin) = match self.search.region {
            Some(r) => {
                let (w, h) = run.with_desktop(|d| d.screen.size())?;
                if r.x as u64 + r.w as u64 > w as u64 || r.y as u64 + r.h as u64 > h as u64 {
                    return Err(script_error(format!(
                        "option region: {},{} {}x{} is not inside the {w}x{h} screen",
                        r.x, r.y, r.w, r.h
                    )));
                }
                (
                    run.with_desktop(|d| d.screen.capture_region(r))?,
                    (r.x, r.y),
                )
            }
            None => (run.with_desktop(|d| d.screen.capture())?, (0, 0)),
        };
        let opts = SearchOptions {
            region: None,
            ..self.search.clone()
        };
        let search = if all { vision::find_all } else { vision::find };
        let mut found = search(&screen, &self.template, &opts)
            .map_err(|e| script_error(format!("{}: {e}", self.label)))?;
        found.shift(origin);
        Ok((found, Some(screen)))
    }

    /// Looks until the template appears (`Ok(Some)`) or the timeout passes (`Ok(None)`, with
    /// the best match seen and the last screen).
    pub fn wait(&self, run: &RunContext, timeout: Duration) -> RhaiResult<Waited> {
        let deadline = Instant::now() + timeout;
        let mut best: Option<Match> = None;
        loop {
            let started = Instant::now();
            let (found, screen) = self.look(run)?;
            if let Some(m) = found.matches.first() {
                return Ok(Ok(*m));
            }
            if let Some(b) = found.best
                && best.is_none_or(|o| b.score > o.score)
            {
                best = Some(b);
            }
            if Instant::now() >= deadline {
                return Ok(Err((best, screen)));
            }
            let pause = POLL.saturating_sub(started.elapsed());
            run.abort
                .sleep(pause.min(deadline.saturating_duration_since(Instant::now())))
                .map_err(|_| aborted())?;
        }
    }

    /// Looks until the template is gone; `false` if it was still there at the timeout.
    pub fn wait_gone(&self, run: &RunContext, timeout: Duration) -> RhaiResult<bool> {
        if run.pretend_images {
            return Ok(true);
        }
        let deadline = Instant::now() + timeout;
        loop {
            let started = Instant::now();
            let (found, _) = self.look(run)?;
            if found.matches.is_empty() {
                return Ok(true);
            }
            if Instant::now() >= deadline {
                return Ok(false);
            }
            let pause = POLL.saturating_sub(started.elapsed());
            run.abort.sleep(pause).map_err(|_| aborted())?;
        }
    }

    /// The explanation when a template was not found: best score, and a saved screenshot.
    pub fn not_found(
        &self,
        run: &RunContext,
        what: &str,
        best: Option<Match>,
        screen: Option<RgbaImage>,
    ) -> String {
        let mut msg = format!("{} {what}", self.label);
        match best {
            Some(b) => msg.push_str(&format!(
                " (best score {:.3} at {},{} scale {}; needs {})",
                b.score, b.x, b.y, b.scale, self.search.confidence
            )),
            None => msg.push_str(" (nothing similar on the screen)"),
        }
        let similar = best.is_some_and(|b| b.score >= SIMILAR);
        let mut saved = None;
        if let Some(screen) = screen {
            let n = std::fs::read_dir(&run.run_dir)
                .map(|d| d.count())
                .unwrap_or(0);
            let path = run.run_dir.join(format!("not-found-{n}.png"));
            if crate::files::write_png(&screen, &path).is_ok() {
                msg.push_str(&format!("; the screen is saved in {}", path.display()));
                saved = Some(path);
            }
        }
        if similar {
            // Something like it is there, but not it: the classic picture taken on another PC.
            msg.push_str(
                ". Something similar is on the screen, so the picture was probably taken where \
                 the screen looks different: another PC, another font (e.g. Noto Sans CJK instead \
                 of the font it was cut in), or another display scale (125 %, 150 %)",
            );
            if let Some(path) = &saved {
                msg.push_str(&format!(
                    ". To see the scores: `kuroko locate {} --in {}`; to re-capture it, cut the \
                     button out of that saved screen and save it over the picture",
                    self.label,
                    path.display()
                ));
            }
        }
        msg
    }
}

/// A best score from here up means something like the picture is on the screen.
const SIMILAR: f32 = 0.5;

/// The map scripts get for a match: #{x, y, w, h, score, scale, cx, cy}.
pub fn match_map(m: &Match) -> Map {
    let mut map = Map::new();
    map.insert("x".into(), (m.x as INT).into());
    map.insert("y".into(), (m.y as INT).into());
    map.insert("w".into(), (m.w as INT).into());
    map.insert("h".into(), (m.h as INT).into());
    map.insert("cx".into(), ((m.x + m.w / 2) as INT).into());
    map.insert("cy".into(), ((m.y + m.h / 2) as INT).into());
    map.insert(
        "score".into(),
        ((m.score as f64 * 1000.0).round() / 1000.0 as FLOAT).into(),
    );
    map.insert("scale".into(), (m.scale as FLOAT).into());
    map
}

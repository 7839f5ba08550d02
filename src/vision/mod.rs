//! Finding a template image on the screen: pure functions on `image` buffers, no OS code.
//!
//! How: correlation (zero-mean NCC, as OpenCV's TM_CCOEFF_NORMED) on a reduced-resolution copy
//! of the screen finds the promising places; each is refined level by level to the exact pixel;
//! the best is then checked pixel by pixel in colour (`verify`), so a look-alike that differs in
//! one letter is refused even through lossy compression. Other display scales are handled by
//! scaling the template (`scales`).

mod image_ops;
mod ncc;
mod verify;

use image::RgbaImage;

pub use image_ops::{Gray, Rect};
use ncc::Kernel;

/// The default `confidence`: a match must score at least this (0..1).
pub const DEFAULT_CONFIDENCE: f32 = 0.9;

/// Display scales tried by `scales: "auto"`, most common first.
pub const AUTO_SCALES: &[f64] = &[1.0, 1.25, 1.5, 1.75, 2.0, 0.8, 0.67, 0.5];

#[derive(Debug, Clone)]
pub struct SearchOptions {
    pub confidence: f32,
    /// Only this part of the screen is searched.
    pub region: Option<Rect>,
    /// Template scales to try, in order; the first that reaches `confidence` wins.
    pub scales: Vec<f64>,
    /// Compare brightness only (colour differences are ignored).
    pub grayscale: bool,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            confidence: DEFAULT_CONFIDENCE,
            region: None,
            scales: vec![1.0],
            grayscale: false,
        }
    }
}

/// A place on the screen that shows the template.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Match {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    /// min(correlation, pixel likeness), 0..1.
    pub score: f32,
    pub scale: f64,
}

impl Match {
    pub fn rect(&self) -> Rect {
        Rect {
            x: self.x,
            y: self.y,
            w: self.w,
            h: self.h,
        }
    }
}

/// What a search found: the matches at or above the confidence, and the best score seen
/// (to tell a user how close a miss was).
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub matches: Vec<Match>,
    pub best: Option<Match>,
}

impl Found {
    /// Moves every position by `origin` (results of a search in a captured region).
    pub fn shift(&mut self, origin: (u32, u32)) {
        for m in self.matches.iter_mut().chain(self.best.iter_mut()) {
            m.x += origin.0;
            m.y += origin.1;
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SearchError {
    #[error("the template is empty")]
    EmptyTemplate,
    #[error("the template ({tw}x{th}) is larger than the area searched ({w}x{h})")]
    TemplateTooLarge { tw: u32, th: u32, w: u32, h: u32 },
    #[error("the template is a single flat colour; image search needs some detail in it")]
    FlatTemplate,
    #[error("region {x},{y} {w}x{h} is not inside the {sw}x{sh} screen")]
    RegionOutside {
        x: u32,
        y: u32,
        w: u32,
        h: u32,
        sw: u32,
        sh: u32,
    },
    #[error("confidence {0} must be between 0 and 1")]
    BadConfidence(f32),
    #[error("scale {0} must be between 0.25 and 4")]
    BadScale(f64),
}

/// Checks options against the screen; returns the area to search.
fn area(screen: &RgbaImage, opts: &SearchOptions) -> Result<Rect, SearchError> {
    if !(0.0..=1.0).contains(&opts.confidence) {
        return Err(SearchError::BadConfidence(opts.confidence));
    }
    if let Some(s) = opts.scales.iter().find(|s| !(0.25..=4.0).contains(*s)) {
        return Err(SearchError::BadScale(*s));
    }
    let full = Rect::of(screen);
    match opts.region {
        None => Ok(full),
        Some(r) => {
            if r.w == 0
                || r.h == 0
                || r.x as u64 + r.w as u64 > full.w as u64
                || r.y as u64 + r.h as u64 > full.h as u64
            {
                Err(SearchError::RegionOutside {
                    x: r.x,
                    y: r.y,
                    w: r.w,
                    h: r.h,
                    sw: full.w,
                    sh: full.h,
                })
            } else {
                Ok(r)
            }
        }
    }
}

/// The best match (at or above the confidence) and the best score seen.
pub fn find(
    screen: &RgbaImage,
    template: &RgbaImage,
    opts: &SearchOptions,
) -> Result<Found, SearchError> {
    search(screen, template, opts, false)
}

/// Every non-overlapping match at or above the confidence, best first.
pub fn find_all(
    screen: &RgbaImage,
    template: &RgbaImage,
    opts: &SearchOptions,
) -> Result<Found, SearchError> {
    search(screen, template, opts, true)
}

fn search(
    screen: &RgbaImage,
    template: &RgbaImage,
    opts: &SearchOptions,
    all: bool,
) -> Result<Found, SearchError> {
    if template.width() == 0 || template.height() == 0 {
        return Err(SearchError::EmptyTemplate);
    }
    let region = area(screen, opts)?;
    let mut found = Found::default();
    let mut any_fit = false;
    // The screen's reduced copies, shared by every scale tried.
    let mut levels: Vec<(usize, Gray)> = Vec::new();
    for &scale in &opts.scales {
        let scaled;
        let tpl = if (scale - 1.0).abs() < 1e-9 {
            template
        } else {
            scaled = image_ops::resize(template, scale);
            &scaled
        };
        if tpl.width() > region.w || tpl.height() > region.h {
            continue;
        }
        any_fit = true;
        let at_scale = search_scale(screen, region, tpl, scale, opts, all, &mut levels)?;
        for m in at_scale.matches {
            if !found.matches.iter().any(|o| o.rect().overlaps(&m.rect())) {
                found.matches.push(m);
            }
        }
        if let Some(b) = at_scale.best
            && found.best.is_none_or(|fb| b.score > fb.score)
        {
            found.best = Some(b);
        }
        if !all && !found.matches.is_empty() {
            break;
        }
    }
    if !any_fit {
        return Err(SearchError::TemplateTooLarge {
            tw: template.width(),
            th: template.height(),
            w: region.w,
            h: region.h,
        });
    }
    found.matches.sort_by(|a, b| b.score.total_cmp(&a.score));
    if !all {
        found.matches.truncate(1);
    }
    Ok(found)
}

/// The reduction for the coarse map: as coarse as the template stays recognisable.
fn coarse_factor(tw: u32, th: u32) -> usize {
    let mut f = 1;
    for candidate in [2usize, 4, 8] {
        let (w, h) = (tw as usize / candidate, th as usize / candidate);
        if w >= 6 && h >= 5 && w * h >= 40 {
            f = candidate;
        }
    }
    f
}

/// A place being refined: its correlation and full-resolution position.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    score: f32,
    x: i64,
    y: i64,
}

fn search_scale(
    screen: &RgbaImage,
    region: Rect,
    tpl: &RgbaImage,
    scale: f64,
    opts: &SearchOptions,
    all: bool,
    levels: &mut Vec<(usize, Gray)>,
) -> Result<Found, SearchError> {
    let f = coarse_factor(tpl.width(), tpl.height());
    let full_t = image_ops::gray(tpl, Rect::of(tpl), 1);
    let full_kernel = Kernel::new(&full_t).ok_or(SearchError::FlatTemplate)?;

    // Coarse map over the whole region.
    let (kernel, coarse_f) = match Kernel::coarse(&image_ops::gray_phase_averaged(tpl, f)) {
        Some(k) if f > 1 => (k, f),
        _ => (Kernel::coarse(&full_t).unwrap_or(full_kernel), 1),
    };
    if !levels.iter().any(|(l, _)| *l == coarse_f) {
        levels.push((coarse_f, image_ops::gray(screen, region, coarse_f)));
    }
    let coarse_s = &levels
        .iter()
        .find(|(l, _)| *l == coarse_f)
        .expect("just added")
        .1;
    let Some(map) = ncc::score_map(coarse_s, &kernel) else {
        return Ok(Found::default());
    };
    let floor = if all {
        (opts.confidence - 0.35).max(0.3)
    } else {
        0.0
    };
    let peaks = ncc::peaks(&map, floor, if all { 2.0 } else { 0.5 });
    if peaks.is_empty() {
        return Ok(Found::default());
    }
    // As many candidates as about 600,000 multiply-adds of the first refining step allow (8 to
    // 16): that step tries every offset within half a block plus one around each.
    let first_refine = (2 * (coarse_f / 2 + 1) + 1).pow(2)
        * (tpl.width() as usize * tpl.height() as usize)
        / (coarse_f * coarse_f / 4).max(1);
    let keep = if all {
        512
    } else {
        (600_000 / first_refine.max(1)).clamp(8, 16)
    };
    let mut candidates: Vec<Candidate> = peaks
        .iter()
        .take(keep)
        .map(|&(s, x, y)| Candidate {
            score: s,
            x: region.x as i64 + (x * coarse_f) as i64,
            y: region.y as i64 + (y * coarse_f) as i64,
        })
        .collect();

    // Refine level by level: at each, try ±2 steps around each candidate, keep the promising.
    let mut level = coarse_f;
    while level > 1 {
        level /= 2;
        let t = image_ops::gray(tpl, Rect::of(tpl), level);
        let Some(k) = Kernel::new(&t) else { continue };
        let reach = if level == 1 && coarse_f > 2 {
            1
        } else {
            level as i64 + 1
        };
        for c in candidates.iter_mut() {
            *c = refine(screen, region, &k, level, reach, *c);
        }
        candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
        let best = candidates.first().map_or(0.0, |c| c.score);
        // Before the full-resolution step keep only those close to the best.
        let next_is_full = level == 2 || (level > 1 && level / 2 == 1);
        let margin = if next_is_full { 0.1 } else { 0.25 };
        candidates.retain(|c| all || c.score >= best - margin);
        if !all {
            candidates.truncate(if next_is_full || level == 1 { 3 } else { 8 });
        }
    }
    if coarse_f == 1 {
        candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    }

    // Verify pixel by pixel; the score is the lower of correlation and likeness.
    let mut found = Found::default();
    for c in candidates {
        if c.score < opts.confidence && found.best.is_some_and(|b| b.score >= c.score) {
            continue;
        }
        let rect = Rect {
            x: c.x as u32,
            y: c.y as u32,
            w: tpl.width(),
            h: tpl.height(),
        };
        let soft = (scale - 1.0).abs() > 1e-9;
        let like = verify::likeness(screen, rect, tpl, opts.grayscale, soft);
        let m = Match {
            x: rect.x,
            y: rect.y,
            w: rect.w,
            h: rect.h,
            score: c.score.min(like).clamp(0.0, 1.0),
            scale,
        };
        if found.best.is_none_or(|b| m.score > b.score) {
            found.best = Some(m);
        }
        if m.score >= opts.confidence && !found.matches.iter().any(|o| o.rect().overlaps(&rect)) {
            found.matches.push(m);
        }
    }
    Ok(found)
}

/// The best position near `c`, by NCC at `level`: within `reach` pixels, which the previous,
/// twice as coarse level leaves uncertain (about `level` + 1; 1 at full resolution, which follows
/// a level that already tried every pixel offset).
fn refine(
    screen: &RgbaImage,
    region: Rect,
    k: &Kernel,
    level: usize,
    reach: i64,
    c: Candidate,
) -> Candidate {
    let l = level as i64;
    let (tw, th) = ((k.w * level) as i64, (k.h * level) as i64);
    let (rx0, ry0) = (region.x as i64, region.y as i64);
    let (rx1, ry1) = (rx0 + region.w as i64 - tw, ry0 + region.h as i64 - th);
    let x0 = (c.x - reach).clamp(rx0, rx1);
    let y0 = (c.y - reach).clamp(ry0, ry1);
    let x1 = (c.x + reach).clamp(rx0, rx1);
    let y1 = (c.y + reach).clamp(ry0, ry1);
    let mut best = Candidate {
        score: f32::MIN,
        ..c
    };
    // The window's gray once, at full resolution; each phase (offset mod level) is reduced from it.
    let window = Rect {
        x: x0 as u32,
        y: y0 as u32,
        w: (x1 - x0 + tw) as u32,
        h: (y1 - y0 + th) as u32,
    };
    let full = image_ops::gray(screen, window, 1);
    let summed = (level > 1).then(|| image_ops::Summed::new(&full));
    for py in 0..l.min(y1 - y0 + 1) {
        for px in 0..l.min(x1 - x0 + 1) {
            let steps_x = ((x1 - x0 - px) / l + 1) as usize;
            let steps_y = ((y1 - y0 - py) / l + 1) as usize;
            let reduced;
            let g = match &summed {
                Some(s) => {
                    reduced = s.reduce(
                        px as usize,
                        py as usize,
                        level,
                        (steps_x - 1) + k.w,
                        (steps_y - 1) + k.h,
                    );
                    &reduced
                }
                None => &full,
            };
            for sy in 0..steps_y {
                for sx in 0..steps_x {
                    let s = ncc::score_at(g, k, sx, sy);
                    if s > best.score {
                        best = Candidate {
                            score: s,
                            x: x0 + px + sx as i64 * l,
                            y: y0 + py + sy as i64 * l,
                        };
                    }
                }
            }
        }
    }
    best
}

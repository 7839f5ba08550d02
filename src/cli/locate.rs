//! `kuroko locate`: where a template is on a screenshot (or the screen) and how well it matches,
//! for the ICT office to see why a picture is or is not found; optionally a copy of the
//! screenshot with the matches boxed.

use std::path::PathBuf;
use std::time::Instant;

use image::{Rgba, RgbaImage};

use crate::error::{Error, Result};
use crate::exit;
use crate::vision::{self, AUTO_SCALES, DEFAULT_CONFIDENCE, Match, Rect, SearchOptions};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The picture to look for (PNG).
    template: PathBuf,
    /// A screenshot to search instead of the screen.
    #[arg(long = "in", value_name = "PNG")]
    screenshot: Option<PathBuf>,
    /// The score a match needs, 0..1.
    #[arg(long, default_value_t = DEFAULT_CONFIDENCE)]
    confidence: f32,
    /// Every match, not only the best.
    #[arg(long)]
    all: bool,
    /// Write the screenshot with matches boxed in green (and the best miss in red).
    #[arg(long, value_name = "PNG")]
    annotate: Option<PathBuf>,
    /// Display scales to try: "auto" or a list like 1,1.25,1.5.
    #[arg(long, default_value = "1")]
    scales: String,
    /// Ignore colour.
    #[arg(long)]
    grayscale: bool,
    /// Search only x,y,w,h.
    #[arg(long, value_name = "X,Y,W,H")]
    region: Option<String>,
}

fn parse_scales(text: &str) -> Result<Vec<f64>> {
    if text == "auto" {
        return Ok(AUTO_SCALES.to_vec());
    }
    text.split(',')
        .map(|s| {
            s.trim().parse::<f64>().map_err(|_| {
                Error::usage(format!(
                    "--scales {text:?}: use \"auto\" or numbers like 1,1.25"
                ))
            })
        })
        .collect()
}

fn parse_region(text: &str) -> Result<Rect> {
    let parts: Vec<u32> = text
        .split(',')
        .filter_map(|p| p.trim().parse().ok())
        .collect();
    match parts[..] {
        [x, y, w, h] => Ok(Rect { x, y, w, h }),
        _ => Err(Error::usage(format!(
            "--region {text:?}: expected X,Y,W,H in pixels"
        ))),
    }
}

fn open_png(path: &PathBuf, what: &str) -> Result<RgbaImage> {
    image::open(path)
        .map(|i| i.to_rgba8())
        .map_err(|e| Error::usage(format!("cannot read the {what} {}: {e}", path.display())))
}

fn describe(m: &Match) -> String {
    format!(
        "x={} y={} w={} h={} centre=({}, {}) score={:.3} scale={}",
        m.x,
        m.y,
        m.w,
        m.h,
        m.x + m.w / 2,
        m.y + m.h / 2,
        m.score,
        m.scale
    )
}

fn draw_box(img: &mut RgbaImage, m: &Match, colour: Rgba<u8>) {
    let (w, h) = img.dimensions();
    for t in 0..2u32 {
        let (x0, y0) = (m.x.saturating_sub(t + 1), m.y.saturating_sub(t + 1));
        let (x1, y1) = ((m.x + m.w + t).min(w - 1), (m.y + m.h + t).min(h - 1));
        for x in x0..=x1 {
            img.put_pixel(x, y0, colour);
            img.put_pixel(x, y1, colour);
        }
        for y in y0..=y1 {
            img.put_pixel(x0, y, colour);
            img.put_pixel(x1, y, colour);
        }
    }
}

pub fn execute(args: Args) -> Result<i32> {
    let template = open_png(&args.template, "template")?;
    let screen = match &args.screenshot {
        Some(path) => open_png(path, "screenshot")?,
        None => {
            let mut desktop =
                crate::desktop::connect_real().map_err(|e| Error::Desktop { message: e.0 })?;
            desktop
                .screen
                .capture()
                .map_err(|e| Error::Desktop { message: e.0 })?
        }
    };
    let opts = SearchOptions {
        confidence: args.confidence,
        region: args.region.as_deref().map(parse_region).transpose()?,
        scales: parse_scales(&args.scales)?,
        grayscale: args.grayscale,
    };
    let started = Instant::now();
    let found = if args.all {
        vision::find_all(&screen, &template, &opts)
    } else {
        vision::find(&screen, &template, &opts)
    }
    .map_err(|e| Error::usage(format!("{}: {e}", args.template.display())))?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    for (i, m) in found.matches.iter().enumerate() {
        println!("match {}: {}", i + 1, describe(m));
    }
    if found.matches.is_empty() {
        match &found.best {
            Some(b) => println!(
                "not found: the best place scores {:.3} (needs {}): {}",
                b.score,
                opts.confidence,
                describe(b)
            ),
            None => println!("not found: nothing similar"),
        }
    }
    println!(
        "searched {}x{} in {ms:.1} ms",
        screen.width(),
        screen.height()
    );
    if let Some(out) = &args.annotate {
        let mut picture = screen.clone();
        if found.matches.is_empty()
            && let Some(b) = &found.best
        {
            draw_box(&mut picture, b, Rgba([230, 40, 40, 255]));
        }
        for m in &found.matches {
            draw_box(&mut picture, m, Rgba([40, 200, 60, 255]));
        }
        crate::files::write_png(&picture, out).map_err(Error::usage)?;
        println!("annotated: {}", out.display());
    }
    Ok(if found.matches.is_empty() {
        exit::FAILED
    } else {
        exit::SUCCEEDED
    })
}

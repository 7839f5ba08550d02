//! Image search on the peers' scenes and harder cases of our own: exact positions, near misses
//! refused, other display scales, regions, find_all, and a lossy (JPEG) remote desktop.

use std::path::Path;

use image::RgbaImage;
use kuroko::vision::{self, AUTO_SCALES, Rect, SearchError, SearchOptions};

use crate::support::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vision");

fn load(name: &str) -> RgbaImage {
    image::open(Path::new(FIXTURES).join(name))
        .unwrap()
        .to_rgba8()
}

fn truth(name: &str) -> (u32, u32) {
    let t: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(FIXTURES).join("truth.json")).unwrap(),
    )
    .unwrap();
    (
        t[name]["x"].as_u64().unwrap() as u32,
        t[name]["y"].as_u64().unwrap() as u32,
    )
}

fn best(screen: &RgbaImage, tpl: &RgbaImage, opts: &SearchOptions) -> Option<vision::Match> {
    vision::find(screen, tpl, opts)
        .unwrap()
        .matches
        .first()
        .copied()
}

/// The scene through a lossy remote desktop: JPEG at `quality`, made with ImageMagick.
fn jpeg(quality: u32) -> RgbaImage {
    let dir = temp_dir(&format!("vision_jpeg_{quality}"));
    let jpg = dir.join("scene.jpg");
    let status = std::process::Command::new("convert")
        .arg(Path::new(FIXTURES).join("scene.png"))
        .args(["-quality", &quality.to_string()])
        .arg(&jpg)
        .status()
        .expect("ImageMagick `convert` is needed (scripts/test.sh installs it)");
    assert!(status.success());
    let png = dir.join("scene-after-jpeg.png");
    assert!(
        std::process::Command::new("convert")
            .arg(&jpg)
            .arg(&png)
            .status()
            .unwrap()
            .success()
    );
    image::open(&png).unwrap().to_rgba8()
}

#[test]
fn every_true_template_is_found_at_its_exact_position() {
    let scene = load("scene.png");
    for name in ["button", "icon", "label"] {
        let m = best(
            &scene,
            &load(&format!("tpl_{name}.png")),
            &SearchOptions::default(),
        )
        .unwrap_or_else(|| panic!("{name} not found"));
        assert_eq!((m.x, m.y), truth(name), "{name}");
        assert!(m.score > 0.99, "{name}: {}", m.score);
    }
}

#[test]
fn the_near_miss_is_refused_though_correlation_loves_it() {
    let scene = load("scene.png");
    let found = vision::find(&scene, &load("tpl_absent.png"), &SearchOptions::default()).unwrap();
    assert!(found.matches.is_empty(), "{:?}", found.matches);
    let best = found.best.unwrap();
    assert_eq!(
        (best.x, best.y),
        truth("button"),
        "the best candidate is the look-alike"
    );
    assert!(best.score < 0.8, "scored {}", best.score);
}

#[test]
fn through_a_lossy_remote_desktop_true_targets_are_found_and_the_near_miss_refused() {
    for quality in [85, 60] {
        let scene = jpeg(quality);
        for name in ["button", "icon", "label"] {
            let m = best(
                &scene,
                &load(&format!("tpl_{name}.png")),
                &SearchOptions::default(),
            )
            .unwrap_or_else(|| panic!("{name} not found at JPEG quality {quality}"));
            assert_eq!((m.x, m.y), truth(name), "{name} q{quality}");
        }
        assert!(
            best(&scene, &load("tpl_absent.png"), &SearchOptions::default()).is_none(),
            "near miss matched at q{quality}"
        );
    }
}

#[test]
fn a_100_percent_template_is_found_on_125_and_150_percent_displays() {
    let button = load("tpl_button.png");
    let (x, y) = truth("button");
    let auto = SearchOptions {
        scales: AUTO_SCALES.to_vec(),
        ..SearchOptions::default()
    };
    for pct in [125u32, 150] {
        let scene = load(&format!("scene_{pct}.png"));
        assert!(
            best(&scene, &button, &SearchOptions::default()).is_none(),
            "a single scale should not match at {pct}%"
        );
        let m = best(&scene, &button, &auto).unwrap_or_else(|| panic!("not found at {pct}%"));
        assert!(
            m.x.abs_diff(x * pct / 100) <= 3 && m.y.abs_diff(y * pct / 100) <= 3,
            "{pct}%: {m:?}"
        );
        assert!((m.scale - pct as f64 / 100.0).abs() < 1e-9);
    }
}

#[test]
fn similar_buttons_are_not_matches_and_find_all_finds_only_the_target() {
    // The scene has 28 grey buttons of the same size and style ("Save", "Cancel", "OK", ...).
    let scene = load("scene.png");
    let all = vision::find_all(&scene, &load("tpl_button.png"), &SearchOptions::default()).unwrap();
    assert_eq!(all.matches.len(), 1, "{:?}", all.matches);
    // Copy the button to a second place: find_all reports both, best first, without overlap.
    let mut twice = scene.clone();
    let button = load("tpl_button.png");
    image::imageops::replace(&mut twice, &button, 100, 100);
    let all = vision::find_all(&twice, &button, &SearchOptions::default()).unwrap();
    let mut at: Vec<(u32, u32)> = all.matches.iter().map(|m| (m.x, m.y)).collect();
    at.sort();
    assert_eq!(at, vec![(100, 100), truth("button")]);
}

/// Glyph columns of a text crop: runs of columns that contain a dark pixel.
fn glyphs(img: &RgbaImage) -> Vec<(u32, u32)> {
    let dark = |x: u32| (0..img.height()).any(|y| img.get_pixel(x, y).0[0] < 120);
    let mut runs = Vec::new();
    let mut start = None;
    for x in 0..img.width() {
        match (dark(x), start) {
            (true, None) => start = Some(x),
            (false, Some(s)) => {
                runs.push((s, x));
                start = None;
            }
            _ => {}
        }
    }
    runs
}

#[test]
fn a_label_differing_in_one_digit_is_refused() {
    // "Resident No. 0012345": swap the last two digits' glyphs -> "...0012354", which occurs nowhere.
    let scene = load("scene.png");
    let label = load("tpl_label.png");
    let text = image::imageops::crop_imm(&label, 0, 10, label.width(), 20).to_image();
    let runs: Vec<(u32, u32)> = glyphs(&text);
    let (a, b) = (runs[runs.len() - 2], runs[runs.len() - 1]);
    assert_eq!(a.1 - a.0, b.1 - b.0, "digits have equal widths");
    let mut changed = label.clone();
    let first = image::imageops::crop_imm(&label, a.0, 0, a.1 - a.0, label.height()).to_image();
    let second = image::imageops::crop_imm(&label, b.0, 0, b.1 - b.0, label.height()).to_image();
    image::imageops::replace(&mut changed, &second, a.0 as i64, 0);
    image::imageops::replace(&mut changed, &first, b.0 as i64, 0);
    assert_ne!(changed, label);
    assert!(
        best(&scene, &changed, &SearchOptions::default()).is_none(),
        "a one-digit change matched"
    );
    assert!(
        best(&jpeg(70), &changed, &SearchOptions::default()).is_none(),
        "a one-digit change matched through JPEG"
    );
    assert!(best(&scene, &label, &SearchOptions::default()).is_some());
}

#[test]
fn a_small_icon_on_a_busy_background_is_found_and_its_recoloured_twin_is_not() {
    // Busy background: the scene's text fields and noise; a 12x12 icon placed on it, and a
    // twin whose centre is another colour elsewhere.
    let mut scene = load("scene.png");
    let icon = RgbaImage::from_fn(12, 12, |x, y| {
        let d = (x as i32 - 6).pow(2) + (y as i32 - 6).pow(2);
        if d < 10 {
            image::Rgba([20, 160, 60, 255])
        } else if d < 30 {
            image::Rgba([250, 250, 250, 255])
        } else {
            image::Rgba([30, 30, 30, 255])
        }
    });
    let twin = RgbaImage::from_fn(12, 12, |x, y| {
        let p = *icon.get_pixel(x, y);
        if p.0 == [20, 160, 60, 255] {
            image::Rgba([200, 40, 40, 255])
        } else {
            p
        }
    });
    image::imageops::replace(&mut scene, &twin, 400, 300);
    image::imageops::replace(&mut scene, &icon, 1200, 640);
    let m = best(&scene, &icon, &SearchOptions::default()).unwrap();
    assert_eq!((m.x, m.y), (1200, 640));
    let all = vision::find_all(&scene, &icon, &SearchOptions::default()).unwrap();
    assert_eq!(all.matches.len(), 1, "{:?}", all.matches);
    // In grayscale mode colour is ignored: green and red of these shades differ in brightness
    // too, so only the true icon still matches.
    let gray = SearchOptions {
        grayscale: true,
        ..SearchOptions::default()
    };
    assert_eq!(
        best(&scene, &icon, &gray).map(|m| (m.x, m.y)),
        Some((1200, 640))
    );
}

#[test]
fn a_region_limits_the_search() {
    let scene = load("scene.png");
    let button = load("tpl_button.png");
    let (x, y) = truth("button");
    let inside = SearchOptions {
        region: Some(Rect {
            x: x - 50,
            y: y - 20,
            w: 200,
            h: 80,
        }),
        ..SearchOptions::default()
    };
    assert_eq!(
        best(&scene, &button, &inside).map(|m| (m.x, m.y)),
        Some((x, y))
    );
    let elsewhere = SearchOptions {
        region: Some(Rect {
            x: 0,
            y: 0,
            w: 800,
            h: 600,
        }),
        ..SearchOptions::default()
    };
    assert!(best(&scene, &button, &elsewhere).is_none());
}

#[test]
fn bad_searches_are_errors_not_panics() {
    let scene = load("scene.png");
    let button = load("tpl_button.png");
    let outside = SearchOptions {
        region: Some(Rect {
            x: 1900,
            y: 0,
            w: 100,
            h: 100,
        }),
        ..SearchOptions::default()
    };
    assert!(matches!(
        vision::find(&scene, &button, &outside),
        Err(SearchError::RegionOutside { .. })
    ));
    let huge = RgbaImage::new(2000, 50);
    assert!(matches!(
        vision::find(&scene, &huge, &SearchOptions::default()),
        Err(SearchError::TemplateTooLarge { .. })
    ));
    let flat = RgbaImage::from_pixel(20, 20, image::Rgba([9, 9, 9, 255]));
    assert!(matches!(
        vision::find(&scene, &flat, &SearchOptions::default()),
        Err(SearchError::FlatTemplate)
    ));
    let bad = SearchOptions {
        confidence: 1.5,
        ..SearchOptions::default()
    };
    assert!(matches!(
        vision::find(&scene, &button, &bad),
        Err(SearchError::BadConfidence(_))
    ));
    assert!(matches!(
        vision::find(&scene, &RgbaImage::new(0, 0), &SearchOptions::default()),
        Err(SearchError::EmptyTemplate)
    ));
}

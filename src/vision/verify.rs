//! The check correlation cannot make: does the found place really show the template, or a
//! look-alike? Correlation scores "Submit" against "Submlt" at 0.99. Here the pixels are compared
//! directly: brightness pixel by pixel, colour in 4×4 blocks (lossy remote desktops keep colour
//! only coarsely). Differences up to the noise compression adds are forgiven, and what is left
//! is summed in 3×3 neighbourhoods: a changed letter is a dense cluster of strong differences,
//! compression noise is not.

use image::RgbaImage;

use super::image_ops::{Gray, Rect, blur3, gray};

/// Brightness difference forgiven at every pixel.
const LUMA_NOISE: i32 = 56;
/// Excess brightness differences in one 3×3 neighbourhood that mean "certainly not the template"
/// (a letter stroke that is there in one and not in the other sums to about 1,000).
const LUMA_CERTAIN: f32 = 900.0;
/// Colour difference (per 4×4 block average of R−G and B−G) forgiven.
const CHROMA_NOISE: i32 = 32;
/// Excess colour difference of one block that means "certainly another colour".
const CHROMA_CERTAIN: f32 = 60.0;

/// 1.0 when `at` on the screen shows the template up to noise, falling to 0.0 as the densest
/// difference grows. `soft`: both sides are blurred first (for templates resampled to another
/// display scale, whose edges never land exactly on the screen's).
pub fn likeness(
    screen: &RgbaImage,
    at: Rect,
    template: &RgbaImage,
    grayscale: bool,
    soft: bool,
) -> f32 {
    let mut s = gray(screen, at, 1);
    let mut t = gray(template, Rect::of(template), 1);
    if soft {
        s = blur3(&s);
        t = blur3(&t);
    }
    let luma = 1.0 - worst_cluster(&s, &t) / LUMA_CERTAIN;
    let chroma = if grayscale {
        1.0
    } else {
        1.0 - worst_colour(screen, at, template) / CHROMA_CERTAIN
    };
    luma.min(chroma).clamp(0.0, 1.0)
}

fn mean(g: &Gray) -> i32 {
    (g.px.iter().map(|&v| v as u64).sum::<u64>() / g.px.len().max(1) as u64) as i32
}

/// The largest sum of excess brightness differences in a 3×3 neighbourhood.
fn worst_cluster(s: &Gray, t: &Gray) -> f32 {
    let offset = mean(s) - mean(t);
    let excess: Vec<i32> =
        s.px.iter()
            .zip(&t.px)
            .map(|(&a, &b)| ((a as i32 - b as i32 - offset).abs() - LUMA_NOISE).max(0))
            .collect();
    let (w, h) = (t.w, t.h);
    let mut worst = 0;
    for y in 0..h.saturating_sub(2) {
        for x in 0..w.saturating_sub(2) {
            let sum: i32 = (0..3)
                .map(|dy| {
                    excess[(y + dy) * w + x..(y + dy) * w + x + 3]
                        .iter()
                        .sum::<i32>()
                })
                .sum();
            worst = worst.max(sum);
        }
    }
    worst as f32
}

/// The largest excess colour difference between 4×4 block averages.
fn worst_colour(screen: &RgbaImage, at: Rect, template: &RgbaImage) -> f32 {
    let block = |img: &RgbaImage, ox: u32, oy: u32, bx: u32, by: u32| {
        let (mut rg, mut bg) = (0i32, 0i32);
        for y in 0..4 {
            for x in 0..4 {
                let p = img.get_pixel(ox + bx * 4 + x, oy + by * 4 + y).0;
                rg += p[0] as i32 - p[1] as i32;
                bg += p[2] as i32 - p[1] as i32;
            }
        }
        (rg / 16, bg / 16)
    };
    let mut worst = 0;
    for by in 0..template.height() / 4 {
        for bx in 0..template.width() / 4 {
            let (a1, b1) = block(screen, at.x, at.y, bx, by);
            let (a2, b2) = block(template, 0, 0, bx, by);
            let d = (a1 - a2).abs().max((b1 - b2).abs());
            worst = worst.max(d - CHROMA_NOISE);
        }
    }
    worst.max(0) as f32
}

//! The pixel work image search needs: grayscale at full or reduced resolution (box averages,
//! one pass over the screen), and template resizing for other display scales.

use image::RgbaImage;

pub use crate::geometry::Rect;

/// An 8-bit grayscale image, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Gray {
    pub w: usize,
    pub h: usize,
    pub px: Vec<u8>,
}

impl Gray {
    pub fn row(&self, y: usize) -> &[u8] {
        &self.px[y * self.w..(y + 1) * self.w]
    }
}

#[inline(always)]
fn luma(p: &[u8]) -> u32 {
    (p[0] as u32 * 77 + p[1] as u32 * 150 + p[2] as u32 * 29 + 128) >> 8
}

/// Grayscale of `region`, each output pixel the average of an `f`×`f` block (f = 1: plain gray).
/// Pixels past the last whole block are dropped.
pub fn gray(img: &RgbaImage, region: Rect, f: usize) -> Gray {
    let (w, h) = (region.w as usize / f, region.h as usize / f);
    let stride = img.width() as usize * 4;
    let raw = img.as_raw();
    let mut px = vec![0u8; w * h];
    let mut sums = vec![0u32; w];
    let area = (f * f) as u32;
    for oy in 0..h {
        sums.iter_mut().for_each(|s| *s = 0);
        for dy in 0..f {
            let y = region.y as usize + oy * f + dy;
            let start = y * stride + region.x as usize * 4;
            let line = &raw[start..start + w * f * 4];
            if f == 1 {
                for (s, p) in sums.iter_mut().zip(line.chunks_exact(4)) {
                    *s += luma(p);
                }
            } else {
                for (s, block) in sums.iter_mut().zip(line.chunks_exact(4 * f)) {
                    *s += block.chunks_exact(4).map(luma).sum::<u32>();
                }
            }
        }
        for (o, s) in px[oy * w..(oy + 1) * w].iter_mut().zip(&sums) {
            *o = ((s + area / 2) / area) as u8;
        }
    }
    Gray { w, h, px }
}

/// A template's coarse level that does not depend on where the template sits on the screen's
/// block grid: the average of its `f`×`f` phase-shifted block averages (a tent filter).
pub fn gray_phase_averaged(img: &RgbaImage, f: usize) -> Gray {
    let full = Rect::of(img);
    let (w, h) = (
        (full.w as usize - (f - 1)) / f,
        (full.h as usize - (f - 1)) / f,
    );
    let mut acc = vec![0u32; w * h];
    for py in 0..f {
        for px in 0..f {
            let r = Rect {
                x: px as u32,
                y: py as u32,
                w: (w * f) as u32,
                h: (h * f) as u32,
            };
            let g = gray(img, r, f);
            for (a, v) in acc.iter_mut().zip(&g.px) {
                *a += *v as u32;
            }
        }
    }
    let n = (f * f) as u32;
    Gray {
        w,
        h,
        px: acc.into_iter().map(|a| ((a + n / 2) / n) as u8).collect(),
    }
}

/// Box blur (3×3) of a gray image, edges clamped.
pub fn blur3(g: &Gray) -> Gray {
    let mut px = vec![0u8; g.px.len()];
    for y in 0..g.h {
        for x in 0..g.w {
            let mut s = 0u32;
            for dy in [-1i64, 0, 1] {
                for dx in [-1i64, 0, 1] {
                    let yy = (y as i64 + dy).clamp(0, g.h as i64 - 1) as usize;
                    let xx = (x as i64 + dx).clamp(0, g.w as i64 - 1) as usize;
                    s += g.px[yy * g.w + xx] as u32;
                }
            }
            px[y * g.w + x] = ((s + 4) / 9) as u8;
        }
    }
    Gray { w: g.w, h: g.h, px }
}

/// Resizes an RGBA image by `scale`: area averaging when shrinking, bilinear when enlarging
/// (what display scaling does to a window's pixels).
pub fn resize(img: &RgbaImage, scale: f64) -> RgbaImage {
    let w = ((img.width() as f64 * scale).round() as u32).max(1);
    let h = ((img.height() as f64 * scale).round() as u32).max(1);
    // Triangle widens its support when shrinking, so it averages areas then.
    image::imageops::resize(img, w, h, image::imageops::FilterType::Triangle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gray_levels_average_blocks() {
        let mut img = RgbaImage::new(4, 2);
        for (x, _, p) in img.enumerate_pixels_mut() {
            let v = if x < 2 { 0 } else { 200 };
            *p = image::Rgba([v, v, v, 255]);
        }
        let full = gray(&img, Rect::of(&img), 1);
        assert_eq!(full.px, vec![0, 0, 200, 200, 0, 0, 200, 200]);
        let half = gray(&img, Rect::of(&img), 2);
        assert_eq!((half.w, half.h, half.px.clone()), (2, 1, vec![0, 200]));
        let region = gray(
            &img,
            Rect {
                x: 1,
                y: 0,
                w: 2,
                h: 2,
            },
            2,
        );
        assert_eq!(region.px, vec![100]);
    }
}

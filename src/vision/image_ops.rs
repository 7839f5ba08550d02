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
/// Pixels past the last whole block are dropped. Written as two passes that vectorise: the
/// block's rows are summed per channel, then each block's channels, then one luma per block
/// (luma is linear, so the luma of the average is the average of the lumas).
pub fn gray(img: &RgbaImage, region: Rect, f: usize) -> Gray {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { gray_avx2(img, region, f) };
    }
    gray_generic(img, region, f)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn gray_avx2(img: &RgbaImage, region: Rect, f: usize) -> Gray {
    gray_generic(img, region, f)
}

#[inline(always)]
fn gray_generic(img: &RgbaImage, region: Rect, f: usize) -> Gray {
    let (w, h) = (region.w as usize / f, region.h as usize / f);
    let stride = img.width() as usize * 4;
    let raw = img.as_raw();
    let mut px = vec![0u8; w * h];
    if f == 1 {
        for y in 0..h {
            let start = (region.y as usize + y) * stride + region.x as usize * 4;
            let line = &raw[start..start + w * 4];
            for (o, p) in px[y * w..(y + 1) * w].iter_mut().zip(line.chunks_exact(4)) {
                *o = luma(p) as u8;
            }
        }
        return Gray { w, h, px };
    }
    // Luma per pixel summed down the block's rows into 16-bit sums (vectorises well), then
    // across each block; f is a power of two, so the mean is a shift.
    match f {
        2 => blocks::<2>(raw, stride, region, w, h, &mut px),
        4 => blocks::<4>(raw, stride, region, w, h, &mut px),
        8 => blocks::<8>(raw, stride, region, w, h, &mut px),
        _ => panic!("reduction factor {f} is not 1, 2, 4 or 8"),
    }
    Gray { w, h, px }
}

#[inline(always)]
fn blocks<const F: usize>(
    raw: &[u8],
    stride: usize,
    region: Rect,
    w: usize,
    h: usize,
    px: &mut [u8],
) {
    let shift = 2 * F.trailing_zeros();
    let round = (1u32 << shift) >> 1;
    let mut sums = vec![0u16; w * F];
    for oy in 0..h {
        sums.iter_mut().for_each(|a| *a = 0);
        for dy in 0..F {
            let start = (region.y as usize + oy * F + dy) * stride + region.x as usize * 4;
            for (a, p) in sums
                .iter_mut()
                .zip(raw[start..start + w * F * 4].chunks_exact(4))
            {
                *a += luma(p) as u16;
            }
        }
        for (o, block) in px[oy * w..(oy + 1) * w]
            .iter_mut()
            .zip(sums.chunks_exact(F))
        {
            let total: u32 = block.iter().map(|&v| v as u32).sum();
            *o = ((total + round) >> shift) as u8;
        }
    }
}

/// Sums over any rectangle of a gray image in O(1), for reducing it at every phase.
pub struct Summed {
    w: usize,
    table: Vec<u32>,
}

impl Summed {
    pub fn new(g: &Gray) -> Summed {
        let w = g.w + 1;
        let mut table = vec![0u32; w * (g.h + 1)];
        for y in 0..g.h {
            let mut run = 0u32;
            for (x, &v) in g.row(y).iter().enumerate() {
                run += v as u32;
                table[(y + 1) * w + x + 1] = table[y * w + x + 1] + run;
            }
        }
        Summed { w, table }
    }

    /// Block means (`f`×`f`) starting at (`ox`, `oy`): `w`×`h` blocks.
    pub fn reduce(&self, ox: usize, oy: usize, f: usize, w: usize, h: usize) -> Gray {
        debug_assert!(f.is_power_of_two());
        let shift = 2 * f.trailing_zeros();
        let round = (1u32 << shift) >> 1;
        let t = &self.table;
        let mut px = Vec::with_capacity(w * h);
        for by in 0..h {
            let (y0, y1) = ((oy + by * f) * self.w, (oy + (by + 1) * f) * self.w);
            for bx in 0..w {
                let (x0, x1) = (ox + bx * f, ox + (bx + 1) * f);
                let sum = t[y1 + x1] + t[y0 + x0] - t[y1 + x0] - t[y0 + x1];
                px.push(((sum + round) >> shift) as u8);
            }
        }
        Gray { w, h, px }
    }
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

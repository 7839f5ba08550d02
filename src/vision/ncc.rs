//! Zero-mean normalised cross-correlation (OpenCV's TM_CCOEFF_NORMED), computed coarse to fine:
//! a full map at a reduced level (window sums from integral images, correlations as SIMD-friendly
//! row sweeps), then a few positions around each promising peak at each finer level.

use super::image_ops::Gray;

/// A template level with its zero-mean coefficients.
pub struct Kernel {
    pub w: usize,
    pub h: usize,
    /// n·T − ΣT, quantised to keep sums within i32.
    coef: Vec<i32>,
    coef_sum: f64,
    /// sqrt(Σ coef² − (Σ coef)² / n)
    coef_norm: f64,
}

impl Kernel {
    /// `None` when the template has (almost) no contrast: correlation means nothing there.
    pub fn new(t: &Gray) -> Option<Kernel> {
        let n = (t.w * t.h) as i64;
        let sum: i64 = t.px.iter().map(|&v| v as i64).sum();
        let centred: Vec<i64> = t.px.iter().map(|&v| v as i64 * n - sum).collect();
        let max = centred.iter().map(|v| v.abs()).max().unwrap_or(0);
        if max == 0 {
            return None;
        }
        // Keep |coef| · 255 · n below 2^31.
        let limit = ((i32::MAX as f64) / (255.0 * n as f64)).min(4095.0);
        let scale = limit / max as f64;
        let coef: Vec<i32> = centred
            .iter()
            .map(|&v| (v as f64 * scale).round() as i32)
            .collect();
        let coef_sum: f64 = coef.iter().map(|&c| c as f64).sum();
        let sq: f64 = coef.iter().map(|&c| c as f64 * c as f64).sum();
        let coef_norm = (sq - coef_sum * coef_sum / n as f64).max(0.0).sqrt();
        // Too little contrast: the quantised template is (nearly) flat.
        let variance =
            t.px.iter()
                .map(|&v| {
                    let d = v as f64 - sum as f64 / n as f64;
                    d * d
                })
                .sum::<f64>()
                / n as f64;
        if coef_norm < 1e-9 || variance < 4.0 {
            return None;
        }
        Some(Kernel {
            w: t.w,
            h: t.h,
            coef,
            coef_sum,
            coef_norm,
        })
    }
}

/// Sums and sums of squares over any rectangle in O(1).
struct Integral {
    w: usize,
    sum: Vec<i64>,
    sq: Vec<i64>,
}

impl Integral {
    fn new(img: &Gray) -> Integral {
        let w = img.w + 1;
        let mut sum = vec![0i64; w * (img.h + 1)];
        let mut sq = vec![0i64; w * (img.h + 1)];
        for y in 0..img.h {
            let (mut rs, mut rq) = (0i64, 0i64);
            for (x, &v) in img.row(y).iter().enumerate() {
                rs += v as i64;
                rq += v as i64 * v as i64;
                sum[(y + 1) * w + x + 1] = sum[y * w + x + 1] + rs;
                sq[(y + 1) * w + x + 1] = sq[y * w + x + 1] + rq;
            }
        }
        Integral { w, sum, sq }
    }

    fn window(&self, x: usize, y: usize, kw: usize, kh: usize) -> (f64, f64) {
        let at = |t: &Vec<i64>, x: usize, y: usize| t[y * self.w + x];
        let s = at(&self.sum, x + kw, y + kh) - at(&self.sum, x, y + kh) - at(&self.sum, x + kw, y)
            + at(&self.sum, x, y);
        let q = at(&self.sq, x + kw, y + kh) - at(&self.sq, x, y + kh) - at(&self.sq, x + kw, y)
            + at(&self.sq, x, y);
        (s as f64, q as f64)
    }
}

/// NCC from a raw correlation and the window statistics.
#[inline]
fn ncc(k: &Kernel, dot: f64, sum: f64, sq: f64) -> f32 {
    let n = (k.w * k.h) as f64;
    let var = sq - sum * sum / n;
    if var <= 1e-6 {
        return 0.0;
    }
    let centred = dot - k.coef_sum * sum / n;
    (centred / (k.coef_norm * var.sqrt())) as f32
}

/// The NCC of the kernel at every position of `img`: a (img.w − k.w + 1) × (img.h − k.h + 1) map.
pub struct ScoreMap {
    pub w: usize,
    pub h: usize,
    pub scores: Vec<f32>,
}

#[inline(always)]
fn axpy(acc: &mut [i32], src: &[u8], coef: i32) {
    for (a, &s) in acc.iter_mut().zip(src) {
        *a += coef * s as i32;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn correlate_rows_avx2(img: &Gray, k: &Kernel, oy: usize, acc: &mut [i32]) {
    correlate_rows_generic(img, k, oy, acc)
}

#[inline(always)]
fn correlate_rows_generic(img: &Gray, k: &Kernel, oy: usize, acc: &mut [i32]) {
    let out_w = acc.len();
    acc.iter_mut().for_each(|a| *a = 0);
    for r in 0..k.h {
        let row = img.row(oy + r);
        for c in 0..k.w {
            let coef = k.coef[r * k.w + c];
            if coef != 0 {
                axpy(acc, &row[c..c + out_w], coef);
            }
        }
    }
}

fn correlate_rows(img: &Gray, k: &Kernel, oy: usize, acc: &mut [i32]) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        unsafe { correlate_rows_avx2(img, k, oy, acc) };
        return;
    }
    correlate_rows_generic(img, k, oy, acc)
}

pub fn score_map(img: &Gray, k: &Kernel) -> Option<ScoreMap> {
    if img.w < k.w || img.h < k.h {
        return None;
    }
    let (w, h) = (img.w - k.w + 1, img.h - k.h + 1);
    let integral = Integral::new(img);
    let mut scores = vec![0f32; w * h];
    let mut acc = vec![0i32; w];
    for oy in 0..h {
        correlate_rows(img, k, oy, &mut acc);
        for (ox, &dot) in acc.iter().enumerate() {
            let (s, q) = integral.window(ox, oy, k.w, k.h);
            scores[oy * w + ox] = ncc(k, dot as f64, s, q);
        }
    }
    Some(ScoreMap { w, h, scores })
}

/// The NCC at one position (exact window sums; for the refining steps).
pub fn score_at(img: &Gray, k: &Kernel, x: usize, y: usize) -> f32 {
    let (mut dot, mut sum, mut sq) = (0i64, 0i64, 0i64);
    for r in 0..k.h {
        let row = &img.row(y + r)[x..x + k.w];
        let coefs = &k.coef[r * k.w..(r + 1) * k.w];
        // Row sums fit i32 by the kernel's quantisation; written to vectorise.
        dot += coefs
            .iter()
            .zip(row)
            .map(|(&c, &v)| c * v as i32)
            .sum::<i32>() as i64;
        sum += row.iter().map(|&v| v as u32).sum::<u32>() as i64;
        sq += row.iter().map(|&v| v as u32 * v as u32).sum::<u32>() as i64;
    }
    ncc(k, dot as f64, sum as f64, sq as f64)
}

/// Local maxima (3×3) of a score map at or above `floor`, best first.
pub fn peaks(map: &ScoreMap, floor: f32) -> Vec<(f32, usize, usize)> {
    let mut out = Vec::new();
    for y in 0..map.h {
        for x in 0..map.w {
            let s = map.scores[y * map.w + x];
            if s < floor {
                continue;
            }
            let mut is_peak = true;
            'n: for ny in y.saturating_sub(1)..(y + 2).min(map.h) {
                for nx in x.saturating_sub(1)..(x + 2).min(map.w) {
                    let o = map.scores[ny * map.w + nx];
                    if o > s || (o == s && (ny, nx) < (y, x)) {
                        is_peak = false;
                        break 'n;
                    }
                }
            }
            if is_peak {
                out.push((s, x, y));
            }
        }
    }
    out.sort_by(|a, b| b.0.total_cmp(&a.0));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(w: usize, h: usize, seed: u32) -> Gray {
        let mut s = seed;
        let px = (0..w * h)
            .map(|_| {
                s = s.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (s >> 16) as u8
            })
            .collect();
        Gray { w, h, px }
    }

    fn crop(g: &Gray, x: usize, y: usize, w: usize, h: usize) -> Gray {
        let px = (0..h)
            .flat_map(|r| g.row(y + r)[x..x + w].to_vec())
            .collect();
        Gray { w, h, px }
    }

    #[test]
    fn finds_a_crop_with_score_one() {
        let img = noise(120, 80, 1);
        let k = Kernel::new(&crop(&img, 37, 21, 16, 9)).unwrap();
        let map = score_map(&img, &k).unwrap();
        let (s, x, y) = peaks(&map, 0.5)[0];
        assert_eq!((x, y), (37, 21));
        assert!(s > 0.999, "{s}");
        assert!((score_at(&img, &k, 37, 21) - s).abs() < 1e-4);
    }

    #[test]
    fn brightness_and_contrast_do_not_matter() {
        let img = noise(60, 40, 2);
        let t = crop(&img, 10, 10, 12, 8);
        let brighter = Gray {
            px: t.px.iter().map(|&v| v / 2 + 60).collect(),
            ..t.clone()
        };
        let k = Kernel::new(&brighter).unwrap();
        assert!(score_at(&img, &k, 10, 10) > 0.99);
    }

    #[test]
    fn a_flat_template_is_refused() {
        assert!(
            Kernel::new(&Gray {
                w: 5,
                h: 5,
                px: vec![128; 25]
            })
            .is_none()
        );
    }
}

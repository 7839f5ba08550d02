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
        Kernel::quantised(t, 4095.0)
    }

    /// For full score maps: coefficients within ±127, so products fit 16 bits and the
    /// correlation sweep runs twice as wide.
    pub fn coarse(t: &Gray) -> Option<Kernel> {
        Kernel::quantised(t, 127.0)
    }

    fn quantised(t: &Gray, max_coef: f64) -> Option<Kernel> {
        let n = (t.w * t.h) as i64;
        let sum: i64 = t.px.iter().map(|&v| v as i64).sum();
        let centred: Vec<i64> = t.px.iter().map(|&v| v as i64 * n - sum).collect();
        let max = centred.iter().map(|v| v.abs()).max().unwrap_or(0);
        if max == 0 {
            return None;
        }
        // Keep |coef| · 255 · n below 2^31.
        let limit = ((i32::MAX as f64) / (255.0 * n as f64)).min(max_coef);
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
    if (-127..=127).contains(&coef) {
        // u8 × i8 fits i16: 16-bit multiplies, twice as many per instruction.
        let c = coef as i16;
        for (a, &s) in acc.iter_mut().zip(src) {
            *a += (c * s as i16) as i32;
        }
    } else {
        for (a, &s) in acc.iter_mut().zip(src) {
            *a += coef * s as i32;
        }
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
    let n = (k.w * k.h) as f32;
    let mut scores = vec![0f32; w * h];
    let mut acc = vec![0i32; w];
    // Window sums slide: column sums over the kernel's height, then along the row.
    let mut col_sum = vec![0u32; img.w];
    let mut col_sq = vec![0u32; img.w];
    for y in 0..k.h {
        for (x, &v) in img.row(y).iter().enumerate() {
            col_sum[x] += v as u32;
            col_sq[x] += v as u32 * v as u32;
        }
    }
    let mut win_sum = vec![0f32; w];
    let mut win_sq = vec![0f32; w];
    for oy in 0..h {
        if oy > 0 {
            let (old, new) = (img.row(oy - 1), img.row(oy + k.h - 1));
            for x in 0..img.w {
                col_sum[x] = col_sum[x] + new[x] as u32 - old[x] as u32;
                col_sq[x] =
                    col_sq[x] + new[x] as u32 * new[x] as u32 - old[x] as u32 * old[x] as u32;
            }
        }
        let (mut s, mut q) = (0u64, 0u64);
        for x in 0..k.w {
            s += col_sum[x] as u64;
            q += col_sq[x] as u64;
        }
        for x in 0..w {
            win_sum[x] = s as f32;
            win_sq[x] = q as f32;
            if x + k.w < img.w {
                s = s + col_sum[x + k.w] as u64 - col_sum[x] as u64;
                q = q + col_sq[x + k.w] as u64 - col_sq[x] as u64;
            }
        }
        correlate_rows(img, k, oy, &mut acc);
        let (coef_sum, coef_norm) = (k.coef_sum as f32, k.coef_norm as f32);
        for (((out, &dot), &s), &q) in scores[oy * w..(oy + 1) * w]
            .iter_mut()
            .zip(&acc)
            .zip(&win_sum)
            .zip(&win_sq)
        {
            let var = q - s * s / n;
            let centred = dot as f32 - coef_sum * s / n;
            *out = if var > 1e-3 {
                centred / (coef_norm * var.sqrt())
            } else {
                0.0
            };
        }
    }
    Some(ScoreMap { w, h, scores })
}

/// The NCC at one position (exact window sums; for the refining steps).
pub fn score_at(img: &Gray, k: &Kernel, x: usize, y: usize) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { score_at_avx2(img, k, x, y) };
    }
    score_at_generic(img, k, x, y)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn score_at_avx2(img: &Gray, k: &Kernel, x: usize, y: usize) -> f32 {
    score_at_generic(img, k, x, y)
}

#[inline(always)]
fn score_at_generic(img: &Gray, k: &Kernel, x: usize, y: usize) -> f32 {
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

/// Local maxima (3×3) of a score map at or above `floor` and within `spread` of the best,
/// best first.
pub fn peaks(map: &ScoreMap, floor: f32, spread: f32) -> Vec<(f32, usize, usize)> {
    let top = map.scores.iter().copied().fold(f32::MIN, f32::max);
    let floor = floor.max(top - spread);
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
        let (s, x, y) = peaks(&map, 0.5, 1.0)[0];
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

//! The picture a recorded click is replayed by, where no control can be named: kuroko cuts it
//! itself, starting from the control's rectangle (or a small box round the click) and growing
//! it toward the upper left — where labels sit — until its own matcher finds it exactly once
//! on the screen. Two identical 登録 buttons become two pictures that each include their own
//! label, so the replay clicks the right one.

use image::RgbaImage;

use crate::geometry::Rect;
use crate::vision::{self, DEFAULT_CONFIDENCE, SearchOptions};

/// The box round a click that starts a crop when the click is on no control.
pub const CLICK_BOX: (u32, u32) = (48, 24);
/// The largest crop tried; past it a picture is more screen than button.
pub const MAX_CROP: (u32, u32) = (640, 360);

/// A picture to click by: where it was cut and the click's offset from its centre.
#[derive(Debug, Clone, PartialEq)]
pub struct Crop {
    pub rect: Rect,
    pub offset: (i32, i32),
}

/// The box of `size` round `point`, inside the screen.
pub fn around(point: (i32, i32), size: (u32, u32), screen: (u32, u32)) -> Rect {
    let w = size.0.min(screen.0);
    let h = size.1.min(screen.1);
    let x = (point.0 - w as i32 / 2).clamp(0, (screen.0 - w) as i32) as u32;
    let y = (point.1 - h as i32 / 2).clamp(0, (screen.1 - h) as i32) as u32;
    Rect { x, y, w, h }
}

/// `start` clipped to the screen, or `None` when nothing of it is on the screen.
fn clipped(start: Rect, (sw, sh): (u32, u32)) -> Option<Rect> {
    let x = start.x.min(sw);
    let y = start.y.min(sh);
    let w = start.w.min(sw - x);
    let h = start.h.min(sh - y);
    (w > 0 && h > 0).then_some(Rect { x, y, w, h })
}

/// How many places on `screen` kuroko's matcher finds `crop` at (capped at 2: "more than one").
fn places(screen: &RgbaImage, crop: Rect) -> usize {
    let template = image::imageops::crop_imm(screen, crop.x, crop.y, crop.w, crop.h).to_image();
    let opts = SearchOptions {
        confidence: DEFAULT_CONFIDENCE,
        region: None,
        scales: vec![1.0],
        grayscale: false,
    };
    vision::find_all(screen, &template, &opts).map_or(usize::MAX, |f| f.matches.len().min(2))
}

/// One axis of a crop (`pos`, `len`) grown by `by` toward 0, the rest toward the far edge
/// `end` once at 0; unchanged at `max` or longer.
fn grown_axis(pos: u32, len: u32, by: u32, end: u32, max: u32) -> (u32, u32) {
    if len >= max {
        return (pos, len);
    }
    let before = by.min(pos);
    let after = (by - before).min(end - (pos + len));
    (pos - before, (len + before + after).min(max))
}

/// Grows `r` by about a quarter of its size (at least 16 px) to the left and up; once at the
/// screen's left or top edge, to the right or down instead. `None` when it cannot grow.
fn grown(r: Rect, (sw, sh): (u32, u32)) -> Option<Rect> {
    let (x, w) = grown_axis(r.x, r.w, (r.w / 4).max(16), sw, MAX_CROP.0);
    let (y, h) = grown_axis(r.y, r.h, (r.h / 4).max(8), sh, MAX_CROP.1);
    let next = Rect { x, y, w, h };
    (next != r).then_some(next)
}

/// The smallest crop grown from `start` that the matcher finds once on `screen`, with the
/// offset of `point` from its centre; `None` when even the largest is not unique (a screen of
/// repeated tiles) or nothing of `start` is on the screen.
pub fn unique_crop(screen: &RgbaImage, start: Rect, point: (i32, i32)) -> Option<Crop> {
    let size = screen.dimensions();
    let mut rect = clipped(start, size)?;
    loop {
        if places(screen, rect) == 1 {
            let centre = (
                rect.x as i32 + rect.w as i32 / 2,
                rect.y as i32 + rect.h as i32 / 2,
            );
            return Some(Crop {
                rect,
                offset: (point.0 - centre.0, point.1 - centre.1),
            });
        }
        rect = grown(rect, size)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgba;

    fn fill(img: &mut RgbaImage, x: u32, y: u32, w: u32, h: u32, c: [u8; 3]) {
        for yy in y..y + h {
            for xx in x..x + w {
                img.put_pixel(xx, yy, Rgba([c[0], c[1], c[2], 255]));
            }
        }
    }

    /// A "button": a green box with a white pattern (the same for both buttons).
    fn button(img: &mut RgbaImage, x: u32, y: u32) {
        fill(img, x, y, 80, 30, [0, 112, 60]);
        for (i, dx) in [10u32, 22, 30, 44, 58].iter().enumerate() {
            fill(
                img,
                x + dx,
                y + 8 + (i as u32 % 2) * 4,
                6,
                12,
                [255, 255, 255],
            );
        }
    }

    /// A "label": dark strokes whose arrangement differs with `seed`.
    fn label(img: &mut RgbaImage, x: u32, y: u32, seed: u32) {
        for i in 0..6u32 {
            let h = 6 + (seed * 7 + i * 5) % 14;
            fill(img, x + i * 11, y + 24 - h, 5, h, [20, 20, 20]);
        }
    }

    fn form() -> RgbaImage {
        let mut img = RgbaImage::from_pixel(640, 400, Rgba([238, 238, 238, 255]));
        label(&mut img, 40, 100, 1);
        button(&mut img, 200, 98);
        label(&mut img, 40, 200, 2);
        button(&mut img, 200, 198);
        img
    }

    #[test]
    fn a_crop_of_a_button_that_is_there_twice_grows_until_it_takes_in_its_label() {
        let img = form();
        let lower = Rect {
            x: 200,
            y: 198,
            w: 80,
            h: 30,
        };
        // The button alone is on the screen twice.
        assert_eq!(places(&img, lower), 2);
        let crop = unique_crop(&img, lower, (245, 215)).unwrap();
        assert!(
            crop.rect.x < 200 && crop.rect.x + crop.rect.w >= 280,
            "{crop:?}"
        );
        assert!(
            crop.rect.y <= 198 && crop.rect.y + crop.rect.h >= 228,
            "{crop:?}"
        );
        // Found once, where it was cut; the click keeps its place on the button.
        let template =
            image::imageops::crop_imm(&img, crop.rect.x, crop.rect.y, crop.rect.w, crop.rect.h)
                .to_image();
        let opts = SearchOptions {
            confidence: DEFAULT_CONFIDENCE,
            region: None,
            scales: vec![1.0],
            grayscale: false,
        };
        let found = vision::find_all(&img, &template, &opts).unwrap();
        assert_eq!(found.matches.len(), 1);
        let m = &found.matches[0];
        let click = (
            (m.x + m.w / 2) as i32 + crop.offset.0,
            (m.y + m.h / 2) as i32 + crop.offset.1,
        );
        assert_eq!(click, (245, 215));
    }

    #[test]
    fn a_unique_button_is_cut_as_it_is_and_a_box_round_a_click_stays_on_the_screen() {
        let mut img = form();
        fill(&mut img, 400, 300, 80, 30, [200, 30, 30]);
        fill(&mut img, 420, 310, 10, 10, [255, 255, 255]);
        let start = Rect {
            x: 400,
            y: 300,
            w: 80,
            h: 30,
        };
        assert_eq!(
            unique_crop(&img, start, (440, 315)).unwrap(),
            Crop {
                rect: start,
                offset: (0, 0)
            }
        );
        assert_eq!(
            around((3, 398), CLICK_BOX, (640, 400)),
            Rect {
                x: 0,
                y: 376,
                w: 48,
                h: 24
            }
        );
        assert!(
            unique_crop(
                &img,
                Rect {
                    x: 700,
                    y: 10,
                    w: 10,
                    h: 10
                },
                (705, 15)
            )
            .is_none()
        );
    }
}

//! Image-search benchmark on the peers' scenes (../shared/bench/peers/make_scene.py): prints one
//! JSON line per case, in the peers' format, so `scripts/bench.sh` can put kuroko beside OpenCV.
//! Usage: cargo bench --bench vision [-- DATA_DIR [REPS]]

use std::time::Instant;

use image::RgbaImage;
use kuroko::vision::{self, AUTO_SCALES, SearchOptions};

fn load(path: &str) -> RgbaImage {
    image::open(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .to_rgba8()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn report(
    case: &str,
    times: Vec<f64>,
    found: Option<vision::Match>,
    best: f32,
    expected: Option<(u32, u32)>,
    tolerance: u32,
) {
    let correct = match (found, expected) {
        (Some(m), Some((x, y))) => m.x.abs_diff(x) <= tolerance && m.y.abs_diff(y) <= tolerance,
        (None, None) => true,
        _ => false,
    };
    println!(
        "{{\"area\": \"vision\", \"tool\": \"kuroko {}\", \"case\": \"{case}\", \"ms_min\": {:.2}, \"ms_median\": {:.2}, \"ms_max\": {:.2}, \"runs\": {}, \"found\": {}, \"correct\": {correct}, \"score\": {:.4}, \"at\": {}}}",
        env!("CARGO_PKG_VERSION"),
        times.iter().cloned().fold(f64::MAX, f64::min),
        median(times.clone()),
        times.iter().cloned().fold(0.0, f64::max),
        times.len(),
        found.is_some(),
        best,
        found
            .map(|m| format!("[{}, {}, {}]", m.x, m.y, m.scale))
            .unwrap_or("null".into()),
    );
}

fn bench(
    case: &str,
    scene: &RgbaImage,
    tpl: &RgbaImage,
    opts: &SearchOptions,
    reps: usize,
    expected: Option<(u32, u32)>,
    tolerance: u32,
) {
    // KUROKO_BENCH_ONLY=button: just that case (for profilers).
    if std::env::var("KUROKO_BENCH_ONLY").is_ok_and(|only| only != case) {
        return;
    }
    vision::find(scene, tpl, opts).unwrap(); // warm-up
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..reps {
        let t = Instant::now();
        let r = vision::find(scene, tpl, opts).unwrap();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        last = Some(r);
    }
    let r = last.unwrap();
    report(
        case,
        times,
        r.matches.first().copied(),
        r.best.map_or(0.0, |b| b.score),
        expected,
        tolerance,
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let data = args
        .first()
        .cloned()
        .unwrap_or_else(|| "/tmp/kuroko-peers-data".into());
    let reps: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(20);
    let truth: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{data}/truth.json"))
            .expect("truth.json (run ../shared/bench/peers/make_scene.py DATA_DIR)"),
    )
    .unwrap();
    let at = |name: &str| {
        truth.get(name).map(|t| {
            (
                t["x"].as_u64().unwrap() as u32,
                t["y"].as_u64().unwrap() as u32,
            )
        })
    };
    let scene = load(&format!("{data}/scene.png"));
    let one = SearchOptions::default();
    for name in ["button", "icon", "label", "absent"] {
        let tpl = load(&format!("{data}/tpl_{name}.png"));
        bench(name, &scene, &tpl, &one, reps, at(name), 0);
    }
    let auto = SearchOptions {
        scales: AUTO_SCALES.to_vec(),
        ..SearchOptions::default()
    };
    let button = load(&format!("{data}/tpl_button.png"));
    let (bx, by) = at("button").unwrap();
    bench(
        "button_auto_scales_at_100pct",
        &scene,
        &button,
        &auto,
        reps,
        Some((bx, by)),
        0,
    );
    for pct in [125u32, 150] {
        let scaled = load(&format!("{data}/scene_{pct}.png"));
        let expected = Some((bx * pct / 100, by * pct / 100));
        bench(
            &format!("button_at_{pct}pct_auto_scales"),
            &scaled,
            &button,
            &auto,
            reps,
            expected,
            3,
        );
        // The same search told the right scale: what "auto" costs on top.
        let known = SearchOptions {
            scales: vec![pct as f64 / 100.0],
            ..SearchOptions::default()
        };
        bench(
            &format!("button_at_{pct}pct_known_scale"),
            &scaled,
            &button,
            &known,
            reps,
            expected,
            3,
        );
    }
    // Through a lossy remote desktop: the scene JPEG-compressed (made with ImageMagick if present).
    for quality in [85, 60] {
        let jpeg = format!("{data}/scene_q{quality}.png");
        if !std::path::Path::new(&jpeg).exists() {
            let tmp = format!("{data}/scene_q{quality}.jpg");
            let ok = std::process::Command::new("convert")
                .args([
                    &format!("{data}/scene.png"),
                    "-quality",
                    &quality.to_string(),
                    &tmp,
                ])
                .status()
                .is_ok_and(|s| s.success())
                && std::process::Command::new("convert")
                    .args([&tmp, &jpeg])
                    .status()
                    .is_ok_and(|s| s.success());
            if !ok {
                eprintln!("(no ImageMagick: skipping the JPEG q{quality} cases)");
                continue;
            }
        }
        let lossy = load(&jpeg);
        for name in ["button", "icon", "label", "absent"] {
            let tpl = load(&format!("{data}/tpl_{name}.png"));
            bench(
                &format!("{name}_jpeg_q{quality}"),
                &lossy,
                &tpl,
                &one,
                reps.min(5),
                at(name),
                0,
            );
        }
    }
}

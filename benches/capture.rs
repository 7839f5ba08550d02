//! Full-screen capture benchmark on $DISPLAY through kuroko's desktop backend: median time per
//! capture, and failures over 1,000 consecutive captures. One JSON line per case, as the peers'.
//! Usage: cargo bench --bench capture [-- REPS]

use std::time::Instant;

fn main() {
    let reps: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200);
    let mut desktop = match kuroko::desktop::connect_real() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("capture bench needs a display: {e}");
            std::process::exit(4);
        }
    };
    let (w, h) = desktop.screen.size().expect("screen size");
    let backend = desktop.backend;
    let mode = match backend {
        kuroko::desktop::Backend::Windows => "gdi".to_string(),
        _ => std::env::var("KUROKO_CAPTURE").unwrap_or_else(|_| "shm".into()),
    };
    let _ = desktop.screen.capture();
    let mut times = Vec::with_capacity(reps);
    let mut failures = 0;
    for _ in 0..reps {
        let t = Instant::now();
        if desktop.screen.capture().is_err() {
            failures += 1;
        }
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{{\"area\": \"capture\", \"tool\": \"kuroko {} {backend} {mode}\", \"size\": \"{w}x{h}\", \"ms_min\": {:.2}, \"ms_median\": {:.2}, \"ms_max\": {:.2}, \"runs\": {reps}, \"failures\": {failures}}}",
        env!("CARGO_PKG_VERSION"),
        times[0],
        times[times.len() / 2],
        times[times.len() - 1]
    );
    let mut failures = 0;
    let t = Instant::now();
    for _ in 0..1000 {
        if desktop.screen.capture().is_err() {
            failures += 1;
        }
    }
    println!(
        "{{\"area\": \"capture\", \"tool\": \"kuroko {} {backend} {mode}\", \"case\": \"1000 consecutive\", \"seconds\": {:.2}, \"failures\": {failures}}}",
        env!("CARGO_PKG_VERSION"),
        t.elapsed().as_secs_f64()
    );
}

//! Spreadsheet throughput through kuroko's own script API: a scenario that `sheet::read`s the
//! peers' ROWS x 10 workbook, and one that builds ROWS rows in Rhai and `sheet::write`s them
//! (as the peers' XlsxWriter case builds them in Python). One JSON line per case.
//! Usage: cargo bench --bench sheets [-- DATA_DIR [ROWS [REPS]]]

use std::path::{Path, PathBuf};
use std::time::Instant;

use kuroko::desktop::StopSettings;
use kuroko::run::{RunOptions, run};
use kuroko::scenario::Scenario;

fn scenario(dir: &Path, data: &Path, script: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("scenario.toml"),
        format!("id = \"sheets-bench\"\nname = \"bench\"\nmanual_minutes_per_item = 0.0\ninputs = [{:?}]\noutputs = [\"out\"]\n", data.display().to_string()),
    )
    .unwrap();
    std::fs::write(dir.join("main.rhai"), script).unwrap();
    dir.to_path_buf()
}

fn timed(dir: &Path, vars: Vec<(String, String)>, reps: usize) -> Vec<f64> {
    let scenario = Scenario::load(dir).unwrap();
    let options = RunOptions {
        dry_run: true,
        vars,
        runs_dir: dir.join("runs"),
        verbose: false,
        stop: StopSettings {
            hotkey: vec![],
            failsafe_corner: false,
        },
        fake_screen: None,
        ledger: kuroko::ledger::Address::File(dir.join("ledger.sqlite3")),
        trigger: kuroko::events::Trigger::Manual,
        stop_file: None,
        drain_file: None,
    };
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            let report = run(&scenario, &options).unwrap();
            assert_eq!(report.outcome.as_str(), "succeeded", "{:?}", report.message);
            t.elapsed().as_secs_f64()
        })
        .collect()
}

fn report(case: &str, rows: usize, mut times: Vec<f64>) {
    times.sort_by(f64::total_cmp);
    println!(
        "{{\"area\": \"sheets\", \"case\": \"{case}\", \"rows\": {rows}, \"s_min\": {:.3}, \"s_median\": {:.3}, \"s_max\": {:.3}, \"runs\": {}}}",
        times[0],
        times[times.len() / 2],
        times[times.len() - 1],
        times.len()
    );
}

const WRITE: &str = r#"
let n = task::get_var("rows").parse_int();
let names = ["髙橋 太郎", "山﨑 花子", "渡邊 一郎", "ﾌｶﾔｼ ﾔﾏﾀﾞ", "冨田 佐知子"];
let start = sheet::date("2021-04-01");
let days = [];
for d in 0..365 { days.push(sheet::add_days(start, d)); }
let rows = [];
for i in 0..n {
    rows.push([i, i * 1.5, names[i % 5], `埼玉県深谷市仲町${i % 30 + 1}-${i % 7 + 1}`, days[i % 365],
               i % 2 == 0, `R${i}`, i % 1000, -i * 0.25, "備考"]);
}
rows.insert(0, ["id", "amount", "氏名", "住所", "受付日", "済", "受付番号", "区分", "調整", "備考"]);
sheet::write("out/written.xlsx", rows);
"#;

const STREAM: &str = r#"
let n = task::get_var("rows").parse_int();
let names = ["髙橋 太郎", "山﨑 花子", "渡邊 一郎", "ﾌｶﾔｼ ﾔﾏﾀﾞ", "冨田 佐知子"];
let start = sheet::date("2021-04-01");
let days = [];
for d in 0..365 { days.push(sheet::add_days(start, d)); }
let w = sheet::writer("out/stream.xlsx", ["id", "amount", "氏名", "住所", "受付日", "済", "受付番号", "区分", "調整", "備考"]);
for i in 0..n {
    sheet::append(w, [i, i * 1.5, names[i % 5], `埼玉県深谷市仲町${i % 30 + 1}-${i % 7 + 1}`, days[i % 365],
                      i % 2 == 0, `R${i}`, i % 1000, -i * 0.25, "備考"]);
}
sheet::close(w);
"#;

/// Peak resident memory of this process so far, in MB (Linux).
fn peak_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    // KUROKO_BENCH_STREAM=ROWS: only the row-by-row writer, in a process of its own, so its
    // peak memory is its own.
    if let Some(rows) = std::env::var("KUROKO_BENCH_STREAM")
        .ok()
        .and_then(|r| r.parse::<usize>().ok())
    {
        let work =
            std::env::temp_dir().join(format!("kuroko-sheets-stream-{}", std::process::id()));
        let dir = scenario(&work, &work, STREAM);
        let t = timed(&dir, vec![("rows".to_string(), rows.to_string())], 1);
        let size = std::fs::metadata(dir.join("out/stream.xlsx"))
            .map(|m| m.len())
            .unwrap_or(0);
        println!(
            "{{\"area\": \"sheets\", \"case\": \"write kuroko {} sheet::writer/append (scenario, streaming)\", \"rows\": {rows}, \"s_median\": {:.3}, \"peak_mb\": {:.1}, \"file_mb\": {:.1}}}",
            env!("CARGO_PKG_VERSION"),
            t[0],
            peak_mb(),
            size as f64 / 1e6
        );
        let _ = std::fs::remove_dir_all(&work);
        return;
    }
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let data = PathBuf::from(
        args.first()
            .cloned()
            .unwrap_or_else(|| "/tmp/kuroko-peers-data".into()),
    );
    let rows: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(100_000);
    let reps: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(3);
    let input = data.join(format!("rows{rows}.xlsx"));
    let work = std::env::temp_dir().join(format!("kuroko-sheets-bench-{}", std::process::id()));
    let vars = vec![
        ("rows".to_string(), rows.to_string()),
        ("input".to_string(), input.display().to_string()),
    ];

    // Write first: it also makes the input when the peers have not (same shape as theirs).
    let writer = scenario(&work.join("write"), &data, WRITE);
    report(
        &format!(
            "write kuroko {} sheet::write (scenario, rows built in Rhai)",
            env!("CARGO_PKG_VERSION")
        ),
        rows,
        timed(&writer, vars.clone(), reps),
    );
    if !input.exists() {
        std::fs::copy(writer.join("out/written.xlsx"), &input).unwrap();
        eprintln!(
            "(no peers' workbook: reading kuroko's own {})",
            input.display()
        );
    }
    let reader = scenario(
        &work.join("read"),
        &data,
        "let rows = sheet::read(task::get_var(\"input\"));\nif rows.len() != task::get_var(\"rows\").parse_int() { fail(`read ${rows.len()} rows`); }\n",
    );
    report(
        &format!(
            "read kuroko {} sheet::read (scenario)",
            env!("CARGO_PKG_VERSION")
        ),
        rows,
        timed(&reader, vars, reps),
    );
    let _ = std::fs::remove_dir_all(&work);
}

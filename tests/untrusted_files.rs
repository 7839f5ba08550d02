//! Files a clerk brings (or uploads through the launcher) are untrusted: a workbook that
//! unpacks to gigabytes, or a sheet used from A1 to XFD1048576, is refused with a message that
//! says what and why, and reading it never takes the PC's memory. Each bomb is built here.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use crate::support::*;

/// What a workbook may unpack to (`sheets::read::MAX_UNPACKED_BYTES`), and a bit more.
const OVER_THE_LIMIT: usize = 160 * 1024 * 1024;

/// A zip named .xlsx whose worksheet part repeats `unit` until it is `size` bytes long.
fn zip_bomb(path: &Path, head: &str, unit: &str, tail: &str, size: usize) {
    let file = std::fs::File::create(path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    zip.start_file("[Content_Types].xml", options).unwrap();
    zip.write_all(b"<?xml version=\"1.0\"?><Types/>").unwrap();
    zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
    zip.write_all(head.as_bytes()).unwrap();
    let chunk = unit.repeat((1 << 20) / unit.len().max(1));
    let mut written = 0;
    while written < size {
        zip.write_all(chunk.as_bytes()).unwrap();
        written += chunk.len();
    }
    zip.write_all(tail.as_bytes()).unwrap();
    zip.finish().unwrap();
}

/// Runs `kuroko run <scenario>` and returns what it said and its peak memory in MB (the
/// child's maximum resident set, from the kernel's accounting via Python's `resource`).
fn run_measured(scenario: &Path) -> (Ran, f64) {
    let parent = scenario.parent().unwrap();
    let report = parent.join("peak.txt");
    let script = "import resource, subprocess, sys\n\
                  r = subprocess.run(sys.argv[2:], capture_output=True)\n\
                  open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n\
                  sys.stdout.buffer.write(r.stdout); sys.stderr.buffer.write(r.stderr); sys.exit(r.returncode)\n";
    let kuroko = kuroko();
    let mut cmd = Command::new("python3");
    cmd.arg("-c")
        .arg(script)
        .arg(&report)
        .arg(kuroko.get_program());
    cmd.args(["run"])
        .arg(scenario)
        .arg("--runs-dir")
        .arg(parent.join("runs"))
        .arg("--ledger")
        .arg(parent.join("ledger.sqlite3"));
    for (k, v) in kuroko.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let ran = Ran::from(cmd.output().unwrap());
    let kb: f64 = std::fs::read_to_string(&report)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (ran, kb / 1024.0)
}

fn reader(dir: &Path, id: &str, file: &str) -> std::path::PathBuf {
    let manifest = MANIFEST
        .replace("\"test\"", &format!("\"{id}\""))
        .replace("outputs = ", "inputs = [\"input\"]\noutputs = ");
    let s = scenario(
        dir,
        id,
        &manifest,
        &format!("let rows = sheet::read(\"input/{file}\");\nlog::info(`${{rows.len()}} rows`);\n"),
    );
    std::fs::create_dir_all(s.join("input")).unwrap();
    s
}

#[test]
fn zip_bombs_are_refused_with_a_message_and_bounded_memory() {
    let dir = temp_dir("untrusted_zip_bombs");
    let sheet_head = "<?xml version=\"1.0\"?><worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>";
    let bombs = [
        // One cell whose text unpacks past the limit.
        (
            "one_cell",
            format!("{sheet_head}<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>"),
            "住所".to_string(),
            "</t></is></c></row></sheetData></worksheet>".to_string(),
        ),
        // Millions of rows.
        (
            "many_rows",
            sheet_head.to_string(),
            "<row><c t=\"n\"><v>1</v></c></row>".to_string(),
            "</sheetData></worksheet>".to_string(),
        ),
        // Nothing but whitespace.
        (
            "whitespace",
            sheet_head.to_string(),
            " ".to_string(),
            "</sheetData></worksheet>".to_string(),
        ),
    ];
    for (name, head, unit, tail) in bombs {
        let s = reader(&dir, &name.replace('_', "-"), "bomb.xlsx");
        let bomb = s.join("input/bomb.xlsx");
        zip_bomb(&bomb, &head, &unit, &tail, OVER_THE_LIMIT);
        let packed = std::fs::metadata(&bomb).unwrap().len();
        let (ran, peak_mb) = run_measured(&s);
        eprintln!("{name}: {packed} bytes packed, peak {peak_mb:.0} MB");
        ran.expect(1)
            .stderr_has("main.rhai:1:")
            .stderr_has("unpacks to more than 128 MB");
        assert!(peak_mb < 300.0, "{name}: {peak_mb:.0} MB");
    }
}

#[test]
fn a_sheet_used_out_to_the_last_cell_is_refused_before_it_is_read() {
    let dir = temp_dir("untrusted_extent");
    let s = reader(&dir, "sparse", "sparse.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "番号").unwrap();
    sheet.write_string(1_048_575, 16_383, "端").unwrap();
    book.save(s.join("input/sparse.xlsx")).unwrap();
    let (ran, peak_mb) = run_measured(&s);
    eprintln!("sparse: peak {peak_mb:.0} MB");
    ran.expect(1)
        .stderr_has("used down to row 1048576")
        .stderr_has("more than 2000000 cells");
    assert!(peak_mb < 300.0, "{peak_mb:.0} MB");

    // A sheet within the limit still reads.
    let ok = reader(&dir, "fine", "fine.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "番号").unwrap();
    for r in 1..=1000u32 {
        sheet.write_number(r, 0, r as f64).unwrap();
    }
    book.save(ok.join("input/fine.xlsx")).unwrap();
    run_scenario(&ok, None, &[])
        .expect(0)
        .stderr_has("1000 rows");
}

//! The report as a manager prints it: the Fukaya-shaped FY2021 history reported as xlsx, opened
//! and printed to PDF by LibreOffice (Debian's, headless, a private profile per test), and read
//! back with poppler — 概要 is one landscape A4 page with the headline before anything else and
//! every 課 named in its chart; the workbook's own XML has value axes from zero and a page
//! setup and print area on every sheet. And the launcher's hours-saved panel opens with the
//! same headline. With KUROKO_DOCS_SCREENSHOT=1, 概要's page is saved as
//! docs/report-overview.png (the README shows it).

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Datelike;

use crate::support::fukaya::{DEPARTMENTS, fukaya_history, history_in};
use crate::support::http::Served;
use crate::support::webdriver::Browser;
use crate::support::*;

/// The sheets in the workbook's order, as each printed page names its own in the footer.
const SHEETS: [&str; 6] = ["概要", "業務別", "課別", "PC別", "実行一覧", "失敗一覧"];

fn import(ledger: &Path, history: &Path) {
    Ran::from(
        kuroko()
            .args(["ledger", "import", "--ledger"])
            .arg(ledger)
            .arg(history)
            .output()
            .unwrap(),
    )
    .expect(0);
}

fn report(ledger: &Path, args: &[&str]) -> Ran {
    let ran = Ran::from(
        kuroko()
            .arg("report")
            .arg("--ledger")
            .arg(ledger)
            .args(args)
            .output()
            .unwrap(),
    );
    ran.expect(0);
    ran
}

fn need(program: &str, package: &str) {
    assert!(
        which(program),
        "{program} is missing: scripts/setup.sh installs {package} (apt-get install {package})"
    );
}

/// Prints `files` to PDF in one LibreOffice start, beside them; the PDFs' paths.
fn print_to_pdf(dir: &Path, files: &[&Path]) -> Vec<PathBuf> {
    need("soffice", "libreoffice-calc-nogui");
    // A profile of its own, so tests at once (and root) never share or hand over to another
    // LibreOffice.
    let profile = dir.join("libreoffice-profile");
    let log = dir.join("soffice.log");
    let mut child = without_session_bus(&mut Command::new("soffice"))
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args([
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
        ])
        .arg(dir)
        .args(files)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(Stdio::from(
            std::fs::File::options().append(true).open(&log).unwrap(),
        ))
        .process_group(0)
        .spawn()
        .expect("soffice starts");
    let started = Instant::now();
    let limit = Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            // soffice hands the work to soffice.bin: end the whole group.
            signal_group(child.id());
            let _ = child.wait();
            panic!(
                "LibreOffice did not print {files:?} to PDF within {limit:?}:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    eprintln!(
        "LibreOffice printed {} file(s) in {:?}",
        files.len(),
        started.elapsed()
    );
    let pdfs: Vec<PathBuf> = files
        .iter()
        .map(|f| dir.join(f.with_extension("pdf").file_name().unwrap()))
        .collect();
    assert!(
        status.success() && pdfs.iter().all(|p| p.is_file()),
        "LibreOffice did not print {files:?} to PDF ({status}):\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    pdfs
}

fn signal_group(pid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", &format!("-{pid}")])
        .status();
}

fn poppler(program: &str, args: &[&str], pdf: &Path) -> String {
    need(program, "poppler-utils");
    let out = Command::new(program)
        .args(args)
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?} {}: {}",
        pdf.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn page_count(pdf: &Path) -> u32 {
    need("pdfinfo", "poppler-utils");
    let out = Command::new("pdfinfo").arg(pdf).output().unwrap();
    let info = String::from_utf8_lossy(&out.stdout);
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("pdfinfo {}: {info}", pdf.display()))
}

/// A page's size in points, from `pdfinfo -f N -l N`.
fn page_size(pdf: &Path, page: u32) -> (f64, f64) {
    let n = page.to_string();
    let out = Command::new("pdfinfo")
        .args(["-f", &n, "-l", &n])
        .arg(pdf)
        .output()
        .unwrap();
    let info = String::from_utf8_lossy(&out.stdout);
    let line = info
        .lines()
        .find(|l| l.starts_with(&format!("Page {page:>4} size:")))
        .unwrap_or_else(|| panic!("no size for page {page}: {info}"));
    let numbers: Vec<f64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    (numbers[1], numbers[2])
}

/// A page's text, laid out as printed (lines top to bottom).
fn page_text(pdf: &Path, page: u32) -> String {
    let n = page.to_string();
    poppler("pdftotext", &["-layout", "-f", &n, "-l", &n], pdf)
}

/// The sheet a printed page belongs to: the one its footer names (period, sheet, page / pages).
fn sheet_of(text: &str) -> &'static str {
    let footer = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    SHEETS
        .into_iter()
        .find(|s| footer.split_whitespace().any(|w| w == *s))
        .unwrap_or_else(|| panic!("a page whose footer names no sheet: {footer:?}\n{text}"))
}

fn zip_text(xlsx: &Path, member: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(xlsx).unwrap()).unwrap();
    let mut text = String::new();
    archive
        .by_name(member)
        .unwrap_or_else(|e| panic!("{member}: {e}"))
        .read_to_string(&mut text)
        .unwrap();
    text
}

/// The text of every `<tag ...>...</tag>` element in `xml`.
fn elements<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    xml.match_indices(&open)
        .map(|(at, _)| {
            let end = xml[at..].find(&close).map(|e| at + e).unwrap_or(xml.len());
            &xml[at..end]
        })
        .collect()
}

/// The workbook as written: page setup, print areas and charts, read from its XML.
fn check_workbook_xml(xlsx: &Path) {
    let workbook = zip_text(xlsx, "xl/workbook.xml");
    for (i, sheet) in SHEETS.iter().enumerate() {
        assert!(
            workbook.contains(&format!("<sheet name=\"{sheet}\" sheetId=\"{}\"", i + 1)),
            "{workbook}"
        );
        let area =
            format!("<definedName name=\"_xlnm.Print_Area\" localSheetId=\"{i}\">{sheet}!$A$1:");
        assert!(
            workbook.contains(&area),
            "no print area on {sheet}: {workbook}"
        );
        let xml = zip_text(xlsx, &format!("xl/worksheets/sheet{}.xml", i + 1));
        let setup = xml
            .split("<pageSetup ")
            .nth(1)
            .and_then(|s| s.split("/>").next())
            .unwrap_or_else(|| panic!("{sheet} has no page setup"));
        assert!(
            setup.contains("paperSize=\"9\"") && setup.contains("orientation=\"landscape\""),
            "{sheet}: A4 landscape: {setup}"
        );
        assert!(
            xml.contains("<pageSetUpPr fitToPage=\"1\"/>"),
            "{sheet} fits to pages"
        );
        let footer = xml.split("<oddFooter>").nth(1).unwrap_or("");
        assert!(
            footer.contains("令和3年度") && footer.contains("&amp;P") && footer.contains("&amp;N"),
            "{sheet}: the period and the page number in the footer: {footer}"
        );
        if i == 0 {
            // fitToWidth and fitToHeight are left out when they are 1: one page, both ways.
            assert!(!setup.contains("fitTo"), "概要 on one page: {setup}");
        } else {
            assert!(
                setup.contains("fitToHeight=\"0\"") && !setup.contains("fitToWidth"),
                "{sheet}: one page wide, as long as needed: {setup}"
            );
            let titles = format!(
                "<definedName name=\"_xlnm.Print_Titles\" localSheetId=\"{i}\">{sheet}!$1:$1<"
            );
            assert!(
                workbook.contains(&titles),
                "{sheet} repeats its header row: {workbook}"
            );
        }
    }
    // Both charts: the value axis from zero, a unit in its title; no category label skipped.
    for chart in ["xl/charts/chart1.xml", "xl/charts/chart2.xml"] {
        let xml = zip_text(xlsx, chart);
        let values = elements(&xml, "c:valAx");
        assert_eq!(values.len(), 1, "{chart}: {xml}");
        for axis in values {
            let scaling = elements(axis, "c:scaling").concat();
            assert!(scaling.contains("<c:min val=\"0\"/>"), "{chart}: {axis}");
            assert!(axis.contains("（時間）</a:t>"), "{chart}: the unit: {axis}");
        }
        assert!(!xml.contains("tickLblSkip"), "{chart}: {xml}");
    }
}

#[test]
fn the_fukaya_fiscal_2021_report_prints_its_headline_on_one_landscape_page() {
    let started = Instant::now();
    let dir = temp_dir("report_print");
    let history = dir.join("history.csv");
    fukaya_history(&history);
    let ledger = dir.join("ledger.sqlite3");
    import(&ledger, &history);
    let xlsx = dir.join("FY2021.xlsx");
    report(
        &ledger,
        &[
            "--fiscal-year",
            "2021",
            "--out",
            &xlsx.display().to_string(),
        ],
    );
    // Nothing ran: a month, and a fiscal year with no year before either.
    let month = dir.join("2019-05.xlsx");
    report(
        &ledger,
        &["--month", "2019-05", "--out", &month.display().to_string()],
    );
    let empty = dir.join("FY2019.xlsx");
    report(
        &ledger,
        &[
            "--fiscal-year",
            "2019",
            "--out",
            &empty.display().to_string(),
        ],
    );
    check_workbook_xml(&xlsx);

    let pdfs = print_to_pdf(&dir, &[&xlsx, &month, &empty]);
    let pdf = &pdfs[0];
    let pages = page_count(pdf);
    let texts: Vec<String> = (1..=pages).map(|p| page_text(pdf, p)).collect();
    let sheets: Vec<&str> = texts.iter().map(|t| sheet_of(t)).collect();
    eprintln!("LibreOffice prints the Fukaya FY2021 report in {pages} pages: {sheets:?}");
    // 概要 alone: the first page, and no other.
    assert_eq!(sheets[0], "概要");
    assert_eq!(
        sheets.iter().filter(|s| **s == "概要").count(),
        1,
        "{sheets:?}"
    );
    let (width, height) = page_size(pdf, 1);
    assert!(
        (width - 841.9).abs() < 1.0 && (height - 595.3).abs() < 1.0,
        "概要 on A4 landscape, not {width} x {height} pt"
    );
    // The headline before anything else: 導入前, 導入後, 削減時間, 削減率, then 実行回数.
    let overview = &texts[0];
    let mut at = 0;
    for figure in ["6,629.0", "407.0", "6,222.0", "93.9", "実行回数"] {
        let found = overview[at..]
            .find(figure)
            .unwrap_or_else(|| panic!("{figure} not after the figures before it:\n{overview}"));
        at += found + figure.len();
    }
    assert!(
        overview.contains("2,301") && overview.contains("22,528"),
        "{overview}"
    );
    // Each 課 twice on 概要: in its table (beside 令和2年度) and on its bar. A chart that
    // skipped every other label left seven of them once.
    assert!(overview.contains("令和2年度（前年度）"), "{overview}");
    for d in DEPARTMENTS {
        assert_eq!(overview.matches(d).count(), 2, "{d} on 概要:\n{overview}");
    }
    // The 課別 sheet's pages name every 課, and the 業務別 sheet repeats its header on each page.
    let departments: String = texts
        .iter()
        .zip(&sheets)
        .filter(|(_, s)| **s == "課別")
        .map(|(t, _)| t.as_str())
        .collect();
    for d in DEPARTMENTS {
        assert!(
            departments.contains(d),
            "{d} is not on 課別:\n{departments}"
        );
    }
    for (text, _) in texts.iter().zip(&sheets).filter(|(_, s)| **s == "業務別") {
        assert!(text.trim_start().starts_with('課'), "{text}");
    }
    assert!(pages <= 20, "{pages} pages (84 before the page setup)");

    // An empty month and an empty fiscal year: one page each for 概要, and say so.
    for (pdf, says) in [
        (&pdfs[1], "2019年5月 (令和元年5月)"),
        (&pdfs[2], "前年度（平成30年度）の記録は台帳にありません。"),
    ] {
        let first = page_text(pdf, 1);
        let second = page_text(pdf, 2);
        assert_eq!((sheet_of(&first), sheet_of(&second)), ("概要", "業務別"));
        assert!(
            first.contains("この期間の実行記録はありません。")
                && first.contains("0.0 時間")
                && first.contains(says),
            "{first}"
        );
    }

    // The picture of the report in the README.
    let png = if std::env::var_os("KUROKO_DOCS_SCREENSHOT").is_some() {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report-overview")
    } else {
        dir.join("report-overview")
    };
    need("pdftoppm", "poppler-utils");
    let rendered = Command::new("pdftoppm")
        .args(["-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile"])
        .arg(pdf)
        .arg(&png)
        .status()
        .unwrap();
    assert!(rendered.success() && png.with_extension("png").is_file());
    eprintln!("printed and checked in {:?}", started.elapsed());
}

#[test]
fn the_launcher_opens_its_hours_saved_panel_with_the_reports_headline() {
    let dir = temp_dir("report_launcher");
    std::fs::create_dir_all(dir.join("scenarios")).unwrap();
    // Fukaya's year as this fiscal year, up to today.
    let today = chrono::Local::now().date_naive();
    let fy = if today.month() >= 4 {
        today.year()
    } else {
        today.year() - 1
    };
    let history = dir.join("history.csv");
    history_in(&history, fy, Some(today));
    let ledger = dir.join("ledger.sqlite3");
    import(&ledger, &history);
    let table = report(
        &ledger,
        &["--fiscal-year", &fy.to_string(), "--format", "table"],
    );
    let headline = table.stdout.lines().nth(2).unwrap().to_string();
    assert_eq!(
        headline,
        concat!(
            "導入前 6,629.0 時間 → 導入後 407.0 時間　削減時間 6,222.0 時間（削減率 93.9%）",
            "　実行回数 2,301 回・処理件数 22,528 件"
        )
    );

    let s = Served::start(&dir, None);
    let summary = s.get("/api/summary").json();
    let year = &summary["fiscal_year"];
    assert_eq!(year["headline"], headline.as_str(), "{summary}");
    assert_eq!(
        (year["runs"].as_u64(), year["items"].as_u64()),
        (Some(2301), Some(22528))
    );
    assert_eq!(
        format!("{:.1}", year["saved_rate"].as_f64().unwrap() * 100.0),
        "93.9"
    );

    let b = Browser::start(&dir);
    b.goto(&s.url);
    b.wait_text("#headline-fy", 30, |t| t == headline);
    b.js("document.getElementById('saved-section').scrollIntoView(); return true");
    b.screenshot(&dir.join("hours-saved.png"));
    b.click("#language");
    b.wait_text("#headline-fy", 30, |t| {
        t == "Before 6,629.0 h → after 407.0 h · saved 6,222.0 h (93.9%) · 2,301 runs, 22,528 items"
    });
    assert_eq!(b.text("#connection"), "", "the page showed an error");
}

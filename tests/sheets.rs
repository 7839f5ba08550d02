//! Spreadsheets through the script API: xlsx and CSV read with types, transformed, written, and
//! read back; Japanese text, dates, empty cells, wide sheets; bad input named precisely.

use std::path::Path;

use calamine::{Data, Reader, open_workbook_auto};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

use crate::support::*;

const MANIFEST_IO: &str = r#"id = "sheets"
name = "表の入出力"
manual_minutes_per_item = 1.0
inputs = ["input"]
outputs = ["output"]
"#;

const NAMES: [&str; 5] = [
    "髙橋 一郎",
    "𠮷田 花子",
    "ｶﾞｯｺｳ ﾀﾛｳ",
    "①番窓口",
    "㈱深谷商事",
];

/// An input workbook: 5 rows x 50 columns, with Japanese text, numbers, dates and gaps.
fn input_workbook(path: &Path) {
    let mut wb = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let ws = wb.add_worksheet();
    ws.set_name("申請").unwrap();
    let mut headers = vec![
        "受付番号".to_string(),
        "氏名".into(),
        "金額".into(),
        "生年月日".into(),
        "受付日時".into(),
        "備考".into(),
    ];
    headers.extend((6..50).map(|i| format!("列{i}")));
    for (c, h) in headers.iter().enumerate() {
        ws.write_string(0, c as u16, h).unwrap();
    }
    for (r, name) in NAMES.iter().enumerate() {
        let row = r as u32 + 1;
        ws.write_number(row, 0, 1000.0 + r as f64).unwrap();
        ws.write_string(row, 1, *name).unwrap();
        ws.write_number(row, 2, 1234.5 * (r as f64 + 1.0)).unwrap();
        // 1900-01-15 is before the 1900-03-01 leap-year quirk; the others after.
        let born = if r == 0 {
            ExcelDateTime::from_ymd(1900, 1, 15).unwrap()
        } else {
            ExcelDateTime::from_ymd(1950 + r as u16, 4, 1).unwrap()
        };
        ws.write_datetime_with_format(row, 3, &born, &date).unwrap();
        let at = ExcelDateTime::from_ymd(2024, 4, 1)
            .unwrap()
            .and_hms(9, 30, 0)
            .unwrap();
        ws.write_datetime_with_format(
            row,
            4,
            &at,
            &Format::new().set_num_format("yyyy-mm-dd hh:mm"),
        )
        .unwrap();
        // 備考 (column F) left empty in the middle of the row; the last column filled.
        ws.write_string(row, 49, format!("end{r}")).unwrap();
    }
    wb.save(path).unwrap();
}

fn read_back(path: &Path, sheet: &str) -> Vec<Vec<Data>> {
    let mut wb = open_workbook_auto(path).unwrap();
    let range = wb.worksheet_range(sheet).unwrap();
    range.rows().map(|r| r.to_vec()).collect()
}

#[test]
fn a_scenario_reads_transforms_and_writes_a_workbook() {
    let dir = temp_dir("sheets_roundtrip");
    let script = r#"
let rows = sheet::read("input/申請.xlsx", #{ sheet: "申請" });
if rows.len() != 5 { fail(`rows: ${rows.len()}`); }
let first = rows[0];
if type_of(first["受付番号"]) != "i64" { fail(`番号 is ${type_of(first["受付番号"])}`); }
if type_of(first["金額"]) != "f64" { fail("金額"); }
if first["備考"] != () { fail("empty cell"); }
if first["生年月日"].to_string() != "1900-01-15" { fail(`born ${first["生年月日"]}`); }
if rows[1]["生年月日"].year != 1951 || rows[1]["生年月日"].month != 4 { fail("date parts"); }
if first["受付日時"].to_string() != "2024-04-01T09:30:00" { fail(`at ${first["受付日時"]}`); }
if first["列49"] != "end0" { fail("50 columns"); }
let out = [];
for row in rows {
    row["確認"] = `${row["氏名"]}様`;
    out.push(row);
    task::item_done(row["受付番号"]);
}
sheet::write("output/結果.xlsx", out, #{ sheet: "結果" });
sheet::write("output/二枚.xlsx", #{ sheets: #{ "結果": out, "エラー": [#{ "番号": 1, "理由": "住所不明" }] } });
"#;
    let s = scenario(&dir, "s", MANIFEST_IO, script);
    std::fs::create_dir_all(s.join("input")).unwrap();
    input_workbook(&s.join("input/申請.xlsx"));
    run_scenario(&s, None, &["--dry-run"])
        .expect(0)
        .stderr_has("5 item(s) done");

    let back = read_back(&s.join("output/結果.xlsx"), "結果");
    // Columns keep the order they were read in; the new one comes last.
    let header: Vec<String> = back[0].iter().map(|d| d.to_string()).collect();
    assert_eq!(
        &header[..5],
        ["受付番号", "氏名", "金額", "生年月日", "受付日時"]
    );
    assert_eq!(header.last().unwrap(), "確認");
    assert_eq!(header.len(), 51);
    for (r, name) in NAMES.iter().enumerate() {
        let row = &back[r + 1];
        assert_eq!(row[0], Data::Float(1000.0 + r as f64));
        assert_eq!(row[1], Data::String(name.to_string()));
        assert_eq!(row[50], Data::String(format!("{name}様")));
        assert_eq!(row[5], Data::Empty);
        let Data::DateTime(born) = &row[3] else {
            panic!("not a date: {:?}", row[3])
        };
        let expected = if r == 0 {
            "1900-01-15".to_string()
        } else {
            format!("{}-04-01", 1950 + r)
        };
        assert_eq!(born.as_datetime().unwrap().date().to_string(), expected);
    }
    let mut wb = open_workbook_auto(s.join("output/二枚.xlsx")).unwrap();
    assert_eq!(wb.sheet_names(), vec!["エラー", "結果"]);
    // Maps keep no order of their own: new columns come in key order unless `columns` says.
    let errors = wb.worksheet_range("エラー").unwrap();
    let col = (0..2)
        .find(|&c| errors.get_value((0, c)) == Some(&Data::String("理由".into())))
        .unwrap();
    assert_eq!(
        errors.get_value((1, col)),
        Some(&Data::String("住所不明".into()))
    );
}

#[test]
fn shift_jis_csv_in_and_out() {
    let dir = temp_dir("sheets_csv");
    let s = scenario(
        &dir,
        "s",
        MANIFEST_IO,
        r#"
let rows = sheet::read("input/export.csv");
if rows[0]["番号"] != "00123" { fail(`code ${rows[0]["番号"]}`); }
if rows[1]["金額"] != 1500 { fail("amount"); }
sheet::write_csv("output/sjis.csv", rows, #{ encoding: "shift_jis" });
sheet::write_csv("output/utf8.csv", rows);
"#,
    );
    std::fs::create_dir_all(s.join("input")).unwrap();
    let text = "番号,氏名,金額\n00123,髙橋 一郎,1200\n00124,ｶﾞｯｺｳ ㈱,1500\n";
    std::fs::write(
        s.join("input/export.csv"),
        encoding_rs::SHIFT_JIS.encode(text).0,
    )
    .unwrap();
    run_scenario(&s, None, &["--dry-run"])
        .expect(0)
        .stderr_has("input/export.csv: read as Shift_JIS");
    let sjis = std::fs::read(s.join("output/sjis.csv")).unwrap();
    assert_eq!(encoding_rs::SHIFT_JIS.decode(&sjis).0, text);
    assert_eq!(
        std::fs::read_to_string(s.join("output/utf8.csv")).unwrap(),
        text
    );
}

#[test]
fn bad_spreadsheets_are_named_precisely_and_nothing_is_written() {
    let dir = temp_dir("sheets_bad");
    let cases: Vec<(&str, &str)> = vec![
        (
            "sheet::read(\"input/broken.xlsx\");",
            "input/broken.xlsx: cannot read the workbook",
        ),
        (
            "sheet::read(\"input/good.xlsx\", #{ sheet: \"申講\" });",
            "no sheet named \"申講\" (did you mean `申請`?)",
        ),
        (
            "sheet::read(\"input/dup.xlsx\");",
            "the name \"氏名\" is used twice (columns B and C)",
        ),
        (
            "sheet::read(\"/etc/passwd\");",
            "reading \"/etc/passwd\" is not allowed",
        ),
        (
            "sheet::read(\"input/good.xlsx\", #{ shet: 1 });",
            "unknown option `shet` (did you mean `sheet`?)",
        ),
        (
            "let r = sheet::read(\"input/good.xlsx\");\nsheet::write(\"input/good.xlsx\", r);",
            "not allowed",
        ),
        (
            "let r = sheet::read(\"input/good.xlsx\");\nsheet::write(\"output/x.xlsx\", [#{ a: [1, 2] }]);",
            "row 1, column \"a\": a array cannot be written",
        ),
        (
            "sheet::write_csv(\"output/x.csv\", [#{ \"氏名\": \"𠮷田\" }], #{ encoding: \"shift_jis\" });",
            "cannot be written in Shift_JIS",
        ),
    ];
    for (i, (script, expected)) in cases.iter().enumerate() {
        let s = scenario(&dir, &format!("s{i}"), MANIFEST_IO, script);
        std::fs::create_dir_all(s.join("input")).unwrap();
        input_workbook(&s.join("input/good.xlsx"));
        let good = std::fs::read(s.join("input/good.xlsx")).unwrap();
        std::fs::write(s.join("input/broken.xlsx"), &good[..good.len() / 2]).unwrap();
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        for (c, h) in ["番号", "氏名", "氏名"].iter().enumerate() {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        wb.save(s.join("input/dup.xlsx")).unwrap();
        run_scenario(&s, None, &["--dry-run"])
            .expect(1)
            .stderr_has(expected);
        let written: Vec<_> = std::fs::read_dir(s.join("output"))
            .map(|d| d.map(|e| e.unwrap().file_name()).collect())
            .unwrap_or_default();
        assert!(written.is_empty(), "case {i} left {written:?} in output/");
    }
}

#[test]
fn sheets_cells_ranges_header_rows_and_given_columns() {
    let dir = temp_dir("sheets_options");
    let script = r#"
let names = sheet::sheets("input/in.xlsx");
if names != ["申請", "Sheet2"] { fail(`sheets ${names}`); }
if sheet::cell("input/in.xlsx", "申請", "B2") != "髙橋 一郎" { fail("cell by name"); }
if sheet::cell("input/in.xlsx", 0, "A3") != 1001 { fail("cell by index"); }
if sheet::cell("input/in.xlsx", 0, "F2") != () { fail("empty cell"); }
let block = sheet::read("input/in.xlsx", #{ range: "A1:B3" });
if block.len() != 2 || block[1]["氏名"] != "𠮷田 花子" || block[0].len() != 2 { fail(`range ${block}`); }
let second = sheet::read("input/in.xlsx", #{ sheet: "Sheet2", header_row: 3 });
if second.len() != 1 || second[0]["code"] != "X1" { fail(`header_row ${second}`); }
let named = sheet::read("input/in.xlsx", #{ sheet: 1, columns: ["a", "b"], header_row: 4 });
if named.len() != 1 || named[0]["a"] != "X1" || named[0]["b"] != 7 { fail(`columns ${named}`); }
"#;
    let s = scenario(&dir, "s", MANIFEST_IO, script);
    std::fs::create_dir_all(s.join("input")).unwrap();
    let path = s.join("input/in.xlsx");
    input_workbook(&path);
    // Add a second sheet whose header is on row 3, by rewriting the workbook with both.
    let mut wb = Workbook::new();
    let first = read_back(&path, "申請");
    let ws = wb.add_worksheet();
    ws.set_name("申請").unwrap();
    for (r, row) in first.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            match v {
                Data::String(t) => {
                    ws.write_string(r as u32, c as u16, t).unwrap();
                }
                Data::Float(f) => {
                    ws.write_number(r as u32, c as u16, *f).unwrap();
                }
                _ => {}
            }
        }
    }
    let ws2 = wb.add_worksheet();
    ws2.write_string(0, 0, "title line").unwrap();
    ws2.write_string(2, 0, "code").unwrap();
    ws2.write_string(2, 1, "count").unwrap();
    ws2.write_string(3, 0, "X1").unwrap();
    ws2.write_number(3, 1, 7).unwrap();
    wb.save(&path).unwrap();
    run_scenario(&s, None, &["--dry-run"]).expect(0);
}

#[test]
fn a_row_by_row_writer_appears_only_when_closed() {
    let dir = temp_dir("sheets_writer");
    let s = scenario(
        &dir,
        "s",
        MANIFEST_IO,
        r#"
let w = sheet::writer("output/all.xlsx", ["番号", "氏名", "日付"], #{ sheet: "全件" });
for i in 0..3000 { sheet::append(w, [i, `氏名${i}`, sheet::add_days(sheet::date("2024-04-01"), i % 30)]); }
sheet::append(w, #{ "番号": 3000, "氏名": "𠮷田" });
if sheet::close(w) != 3001 { fail("count"); }
let forgotten = sheet::writer("output/forgotten.xlsx", ["a"]);
sheet::append(forgotten, [1]);
"#,
    );
    run_scenario(&s, None, &["--dry-run"]).expect(0).stderr_has(
        "output/forgotten.xlsx was never closed with sheet::close: nothing was written",
    );
    let back = read_back(&s.join("output/all.xlsx"), "全件");
    assert_eq!(back.len(), 3002);
    assert_eq!(back[3001][1], Data::String("𠮷田".into()));
    let Data::DateTime(d) = &back[31][2] else {
        panic!("{:?}", back[31][2])
    };
    assert_eq!(d.as_datetime().unwrap().date().to_string(), "2024-04-01");
    assert!(!s.join("output/forgotten.xlsx").exists());
    let leftovers: Vec<_> = std::fs::read_dir(s.join("output"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}

#[test]
fn xls_and_ods_inputs_read_with_their_types() {
    let dir = temp_dir("sheets_xls_ods");
    let script = r#"
for file in ["input/申請.xls", "input/申請.ods"] {
    let rows = sheet::read(file);
    if rows.len() != 3 { fail(`${file}: ${rows.len()} rows`); }
    let a = rows[0];
    if a["受付番号"] != 1001 || type_of(a["受付番号"]) != "i64" { fail(`${file}: number ${a["受付番号"]}`); }
    if a["氏名"] != "髙橋 一郎" || rows[1]["氏名"] != "𠮷田 花子" || rows[2]["氏名"] != "ｶﾞｯｺｳ ﾀﾛｳ" { fail(`${file}: names`); }
    if a["金額"] != 1200.5 || rows[2]["金額"] != 0.25 { fail(`${file}: amounts`); }
    if a["受付日"].to_string() != "2024-04-01" || rows[1]["受付日"].to_string() != "1900-01-15" { fail(`${file}: dates ${a["受付日"]} ${rows[1]["受付日"]}`); }
    if rows[1]["備考"] != () || rows[2]["備考"] != "①" || a["備考"] != "㈱深谷" { fail(`${file}: 備考`); }
    task::item_done(file);
}
"#;
    let s = scenario(&dir, "s", MANIFEST_IO, script);
    std::fs::create_dir_all(s.join("input")).unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sheets");
    for f in ["申請.xls", "申請.ods"] {
        std::fs::copy(fixtures.join(f), s.join("input").join(f)).unwrap();
    }
    run_scenario(&s, None, &["--dry-run"])
        .expect(0)
        .stderr_has("2 item(s) done");
}

#[test]
fn dates_in_the_1904_system_and_protected_workbooks() {
    let dir = temp_dir("sheets_1904_protected");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sheets");
    let s = scenario(
        &dir,
        "dates",
        MANIFEST_IO,
        "let rows = sheet::read(\"input/dates1904.xls\");\nif rows[0][\"日付\"].to_string() != \"2024-04-01\" || rows[1][\"日付\"].to_string() != \"1904-01-02\" { fail(`1904: ${rows}`); }\n",
    );
    std::fs::create_dir_all(s.join("input")).unwrap();
    std::fs::copy(
        fixtures.join("dates1904.xls"),
        s.join("input/dates1904.xls"),
    )
    .unwrap();
    run_scenario(&s, None, &["--dry-run"]).expect(0);

    let p = scenario(
        &dir,
        "protected",
        MANIFEST_IO,
        "sheet::read(\"input/protected.xlsx\");\n",
    );
    std::fs::create_dir_all(p.join("input")).unwrap();
    std::fs::copy(
        fixtures.join("protected.xlsx"),
        p.join("input/protected.xlsx"),
    )
    .unwrap();
    run_scenario(&p, None, &["--dry-run"])
        .expect(1)
        .stderr_has("main.rhai:1:8: input/protected.xlsx: the workbook is password-protected");
}

#[test]
fn formula_cells_give_their_value_and_a_read_file_is_not_overwritten() {
    let dir = temp_dir("sheets_formula");
    let s = scenario(
        &dir,
        "s",
        MANIFEST_IO,
        "let rows = sheet::read(\"output/calc.xlsx\");\nif rows[0][\"double\"] != 4 { fail(`formula gave ${rows[0][\"double\"]}`); }\nsheet::write(\"output/calc.xlsx\", rows);\n",
    );
    std::fs::create_dir_all(s.join("output")).unwrap();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "x").unwrap();
    ws.write_string(0, 1, "double").unwrap();
    ws.write_number(1, 0, 2).unwrap();
    ws.write_formula(1, 1, rust_xlsxwriter::Formula::new("=A2*2").set_result("4"))
        .unwrap();
    wb.save(s.join("output/calc.xlsx")).unwrap();
    let before = std::fs::read(s.join("output/calc.xlsx")).unwrap();
    run_scenario(&s, None, &["--dry-run"])
        .expect(1)
        .stderr_has("main.rhai:3:8: \"output/calc.xlsx\" was read in this run; writing over an input is refused");
    assert_eq!(std::fs::read(s.join("output/calc.xlsx")).unwrap(), before);
}

#[test]
fn a_ragged_csv_or_an_unclosed_quote_is_an_error_with_its_line_unless_lenient() {
    let dir = temp_dir("sheets_ragged");
    let manifest = MANIFEST.replace("outputs = ", "inputs = [\"input\"]\noutputs = ");
    let read = |id: &str, csv: &str, opts: &str| {
        let s = scenario(
            &dir,
            id,
            &manifest,
            &format!(
                "let rows = sheet::read(\"input/a.csv\"{opts});\nfor r in rows {{ log::info(`${{r[\"番号\"]}}|${{r[\"氏名\"]}}`); }}\n"
            ),
        );
        std::fs::create_dir_all(s.join("input")).unwrap();
        std::fs::write(s.join("input/a.csv"), csv).unwrap();
        run_scenario(&s, None, &[])
    };
    // An extra field used to be dropped without a word.
    read("extra", "番号,氏名\n1,山田\n2,佐藤,余分\n", "")
        .expect(1)
        .stderr_has("main.rhai:1:")
        .stderr_has("row 3 has 3 field(s) but the header row has 2");
    // A quote never closed used to swallow the rest of the file into one cell.
    read("quote", "番号,氏名\n1,\"山田\n2,佐藤\n", "")
        .expect(1)
        .stderr_has("line 2: a field opens a quote");
    // Lenient: short rows padded, extra fields dropped, as before.
    read(
        "lenient",
        "番号,氏名\n1\n2,佐藤,余分\n",
        ", #{ lenient: true }",
    )
    .expect(0)
    .stderr_has("1|")
    .stderr_has("2|佐藤");
    // A quoted field with a line break inside is one field, not an error.
    read("multiline", "番号,氏名\n1,\"山田\n太郎\"\n", "")
        .expect(0)
        .stderr_has("1|山田");
}

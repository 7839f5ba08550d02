//! CSV as business systems export it: UTF-8 (with or without BOM) or Shift_JIS (CP932),
//! detected when not given. Text that looks like a plain number or an ISO date gets that type;
//! codes with leading zeros ("00123") stay text.

use std::path::Path;

use encoding_rs::SHIFT_JIS;

use super::{SheetError, value::SheetDate, value::Value};

/// 1-based line of a byte offset.
fn line_of(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn normalise(name: &str) -> Option<&'static str> {
    match name.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
        "utf8" | "utf8bom" => Some("utf-8"),
        "shiftjis" | "sjis" | "cp932" | "windows31j" | "ms932" => Some("shift_jis"),
        _ => None,
    }
}

/// Decodes CSV bytes; returns the text and the encoding used.
pub fn decode(
    bytes: &[u8],
    label: &str,
    encoding: Option<&str>,
) -> Result<(String, &'static str), SheetError> {
    let wanted = match encoding {
        Some(e) => Some(normalise(e).ok_or_else(|| {
            SheetError(format!(
                "{label}: unknown encoding {e:?}; use \"utf-8\" or \"shift_jis\""
            ))
        })?),
        None => None,
    };
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF");
    let utf8 = |b: &[u8]| {
        std::str::from_utf8(b)
            .map(str::to_string)
            .map_err(|e| e.valid_up_to())
    };
    let sjis = |b: &[u8]| {
        SHIFT_JIS
            .decode_without_bom_handling_and_without_replacement(b)
            .map(|c| c.into_owned())
    };
    match wanted {
        Some("utf-8") => utf8(body.unwrap_or(bytes))
            .map(|t| (t, "utf-8"))
            .map_err(|at| SheetError(format!("{label}: not valid UTF-8 at line {} (is it Shift_JIS? then say `encoding: \"shift_jis\"`)", line_of(bytes, at)))),
        Some(_) => sjis(bytes).map(|t| (t, "shift_jis")).ok_or_else(|| {
            let at = first_bad_sjis(bytes);
            SheetError(format!("{label}: not valid Shift_JIS at line {}", line_of(bytes, at)))
        }),
        None => {
            if let Some(b) = body {
                return utf8(b).map(|t| (t, "utf-8")).map_err(|at| {
                    SheetError(format!("{label}: starts as UTF-8 (BOM) but is not valid UTF-8 at line {} — mixed encodings?", line_of(bytes, at + 3)))
                });
            }
            match utf8(bytes) {
                Ok(t) => Ok((t, "utf-8")),
                Err(bad_utf8) => match sjis(bytes) {
                    // Lines that are UTF-8 beside lines that are not: two encodings in one file
                    // (Shift_JIS decoding would turn the UTF-8 ones into nonsense without error).
                    Some(_) if let Some(line) = mixed_line(bytes) => Err(SheetError(format!(
                        "{label}: mixed encodings: line {} is UTF-8 but line {} is not; save it in one encoding",
                        line.0, line.1
                    ))),
                    Some(t) => Ok((t, "shift_jis")),
                    None => Err(SheetError(format!(
                        "{label}: neither UTF-8 (invalid at line {}) nor Shift_JIS (invalid at line {}) — mixed encodings? Save it in one encoding",
                        line_of(bytes, bad_utf8),
                        line_of(bytes, first_bad_sjis(bytes))
                    ))),
                },
            }
        }
    }
}

/// (a UTF-8 line, a non-UTF-8 line), both with non-ASCII text, if the file has both.
fn mixed_line(bytes: &[u8]) -> Option<(usize, usize)> {
    let (mut utf8_line, mut other_line) = (None, None);
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.is_ascii() {
            continue;
        }
        match std::str::from_utf8(line) {
            Ok(_) => utf8_line = utf8_line.or(Some(i + 1)),
            Err(_) => other_line = other_line.or(Some(i + 1)),
        }
    }
    utf8_line.zip(other_line)
}

fn first_bad_sjis(bytes: &[u8]) -> usize {
    let mut decoder = SHIFT_JIS.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(bytes.len() * 3);
    let (result, read) = decoder.decode_to_string_without_replacement(bytes, &mut out, true);
    match result {
        encoding_rs::DecoderResult::Malformed(len, _) => read.saturating_sub(len as usize),
        _ => read,
    }
}

/// A CSV field's value.
pub fn typed(field: &str) -> Value {
    if field.is_empty() {
        return Value::Empty;
    }
    let digits = field.strip_prefix('-').unwrap_or(field);
    let plain_int = !digits.is_empty()
        && digits.len() <= 15
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    if plain_int {
        return field
            .parse()
            .map(Value::Int)
            .unwrap_or_else(|_| Value::Text(field.into()));
    }
    if let Some((int, frac)) = digits.split_once('.')
        && !int.is_empty()
        && !frac.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
        && (int == "0" || !int.starts_with('0'))
        && let Ok(f) = field.parse::<f64>()
    {
        return Value::Float(f);
    }
    if field.len() >= 8
        && field.as_bytes()[0].is_ascii_digit()
        && let Some(d) = SheetDate::parse(field)
    {
        return Value::Date(d);
    }
    Value::Text(field.into())
}

/// All rows of a CSV file as typed values, and the encoding used.
pub fn read_grid(
    path: &Path,
    label: &str,
    encoding: Option<&str>,
) -> Result<(Vec<Vec<Value>>, &'static str), SheetError> {
    let bytes = read_limited(path, label)?;
    grid_from_bytes(&bytes, label, encoding)
}

/// A CSV file's bytes as typed rows, and the encoding used.
pub fn grid_from_bytes(
    bytes: &[u8],
    label: &str,
    encoding: Option<&str>,
) -> Result<(Vec<Vec<Value>>, &'static str), SheetError> {
    let (text, used) = decode(bytes, label, encoding)?;
    if let Some(line) = unclosed_quote(&text) {
        return Err(SheetError(format!(
            "{label}: line {line}: a field opens a quote (\") that is never closed, so the rest of the file would be one cell; close it (a quote inside a quoted field is written twice: \"\")"
        )));
    }
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut grid = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| SheetError(format!("{label}: line {}: {e}", i + 1)))?;
        grid.push(record.iter().map(typed).collect());
    }
    Ok((grid, used))
}

/// The largest CSV read (its rows are held as a table).
pub const MAX_CSV_BYTES: u64 = 128 * 1024 * 1024;

fn read_limited(path: &Path, label: &str) -> Result<Vec<u8>, SheetError> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_CSV_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| SheetError(format!("{label}: {e}")))?;
    if bytes.len() as u64 > MAX_CSV_BYTES {
        return Err(SheetError(format!(
            "{label}: larger than {} MB; kuroko reads CSV files up to that size — split it",
            MAX_CSV_BYTES >> 20
        )));
    }
    Ok(bytes)
}

/// The line where a quoted field starts that is still open at the end of the text (RFC 4180:
/// a quote opens a field only at its start; `""` inside is a quote), if any.
pub fn unclosed_quote(text: &str) -> Option<usize> {
    let mut line = 1;
    let mut opened_at = None;
    let mut field_start = true;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (opened_at.is_some(), c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
            }
            (true, '"') => {
                opened_at = None;
                field_start = false;
            }
            (false, '"') if field_start => {
                opened_at = Some(line);
                field_start = false;
            }
            (false, ',') => field_start = true,
            (false, '\n') => field_start = true,
            (false, '\r') => {}
            (false, _) => field_start = false,
            (true, _) => {}
        }
        if c == '\n' {
            line += 1;
        }
    }
    opened_at
}

/// Every row (below the header) has as many fields as the header row, or the line of the
/// first that does not; a blank line is not a row.
pub fn check_widths(grid: &[Vec<Value>], header_row: u32, label: &str) -> Result<(), SheetError> {
    let header = header_row.saturating_sub(1) as usize;
    let Some(width) = grid.get(header).map(Vec::len) else {
        return Ok(());
    };
    for (i, row) in grid.iter().enumerate().skip(header + 1) {
        if row.len() != width && !row.iter().all(Value::is_empty) {
            return Err(SheetError(format!(
                "{label}: row {} has {} field(s) but the header row has {width}; fix the file, or read it with `lenient: true` to pad short rows and drop extra fields",
                i + 1,
                row.len()
            )));
        }
    }
    Ok(())
}

/// Encodes CSV text for writing; Shift_JIS cannot hold every character (e.g. 𠮷): say which.
pub fn encode(text: &str, label: &str, encoding: Option<&str>) -> Result<Vec<u8>, SheetError> {
    match encoding
        .map(|e| {
            normalise(e).ok_or_else(|| {
                SheetError(format!(
                    "{label}: unknown encoding {e:?}; use \"utf-8\" or \"shift_jis\""
                ))
            })
        })
        .transpose()?
    {
        None | Some("utf-8") => Ok(text.as_bytes().to_vec()),
        Some(_) => {
            if let Some((line_no, c)) = text.lines().enumerate().find_map(|(i, line)| {
                line.chars()
                    .find(|c| SHIFT_JIS.encode(&c.to_string()).2)
                    .map(|c| (i + 1, c))
            }) {
                return Err(SheetError(format!(
                    "{label}: {c:?} (U+{:04X}) on line {line_no} cannot be written in Shift_JIS; write UTF-8 or replace it",
                    c as u32
                )));
            }
            Ok(SHIFT_JIS.encode(text).0.into_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_utf8_bom_and_shift_jis() {
        let (t, e) = decode("番号,氏名\n".as_bytes(), "a.csv", None).unwrap();
        assert_eq!((t.as_str(), e), ("番号,氏名\n", "utf-8"));
        let bom = [b"\xEF\xBB\xBF".as_slice(), "氏名\n".as_bytes()].concat();
        assert_eq!(decode(&bom, "a.csv", None).unwrap().0, "氏名\n");
        let sjis = SHIFT_JIS.encode("髙橋,ｶﾞｯｺｳ,①,㈱\n").0;
        let (t, e) = decode(&sjis, "a.csv", None).unwrap();
        assert_eq!((t.as_str(), e), ("髙橋,ｶﾞｯｺｳ,①,㈱\n", "shift_jis"));
    }

    #[test]
    fn mixed_encodings_are_refused_with_a_line() {
        let mut mixed = "氏名\n山田\n".as_bytes().to_vec();
        mixed.extend_from_slice(&SHIFT_JIS.encode("佐藤\n").0);
        mixed.extend_from_slice("鈴木\n".as_bytes());
        let e = decode(&mixed, "a.csv", None).unwrap_err();
        assert!(
            e.0.contains("mixed encodings") && e.0.contains("line 3 is not"),
            "{e}"
        );
        let mut sjis_first = SHIFT_JIS.encode("氏名\n佐藤\n").0.into_owned();
        sjis_first.extend_from_slice("鈴木\n".as_bytes());
        let e = decode(&sjis_first, "a.csv", None).unwrap_err();
        assert!(
            e.0.contains("mixed encodings") && e.0.contains("line 3 is UTF-8"),
            "{e}"
        );
    }

    #[test]
    fn fields_get_types_but_codes_stay_text() {
        assert_eq!(typed("123"), Value::Int(123));
        assert_eq!(typed("-4"), Value::Int(-4));
        assert_eq!(typed("00123"), Value::Text("00123".into()));
        assert_eq!(typed("1.5"), Value::Float(1.5));
        assert_eq!(
            typed("2024-04-01").clone(),
            Value::Date(SheetDate::parse("2024-04-01").unwrap())
        );
        assert_eq!(typed(""), Value::Empty);
        assert_eq!(typed("090-1234-5678"), Value::Text("090-1234-5678".into()));
    }

    #[test]
    fn a_quote_never_closed_is_found_at_its_line() {
        assert_eq!(unclosed_quote("a,b\n1,\"x\n2,y\n"), Some(2));
        assert_eq!(unclosed_quote("a,b\n1,\"x\n\"\"y\"\n2,z\n"), None);
        assert_eq!(unclosed_quote("a,b\n1,\"say \"\"hi\"\"\"\n"), None);
        // A quote inside an unquoted field is text, as the csv reader takes it.
        assert_eq!(unclosed_quote("a,b\n5\" disk,2\n"), None);
        assert_eq!(unclosed_quote(""), None);
    }

    #[test]
    fn shift_jis_output_names_a_character_it_cannot_hold() {
        assert!(encode("髙橋\n", "o.csv", Some("shift_jis")).is_ok());
        let e = encode("a\n𠮷田\n", "o.csv", Some("shift_jis")).unwrap_err();
        assert!(e.0.contains("'𠮷'") && e.0.contains("line 2"), "{e}");
    }

    mod props {
        use proptest::prelude::*;

        use super::super::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]

            /// Any bytes: typed rows or an error that names the file, never a panic.
            #[test]
            fn any_bytes_read_or_fail_with_the_file_named(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
                match grid_from_bytes(&bytes, "in.csv", None) {
                    Ok((grid, used)) => prop_assert!(used == "utf-8" || used == "shift_jis", "{grid:?}"),
                    Err(e) => prop_assert!(e.0.starts_with("in.csv"), "{e}"),
                }
            }

            /// CSV-shaped text (quotes, commas, line breaks, Japanese): the quote check agrees
            /// with the reader on every text whose quotes are balanced.
            #[test]
            fn csv_shaped_text_never_panics(text in "[a-z0-9\",\r\n 住所ｶﾞ]{0,200}") {
                let unclosed = unclosed_quote(&text);
                let read = grid_from_bytes(text.as_bytes(), "in.csv", Some("utf-8"));
                if unclosed.is_some() {
                    prop_assert!(read.is_err());
                }
            }

            /// Written fields read back the same (what sheet::write_csv makes, sheet::read takes).
            #[test]
            fn fields_written_read_back(rows in proptest::collection::vec(proptest::collection::vec("[a-zA-Z住所 ,\"\n]{1,8}", 3), 1..6)) {
                let mut out = ::csv::Writer::from_writer(Vec::new());
                for r in &rows {
                    out.write_record(r).unwrap();
                }
                let bytes = out.into_inner().unwrap();
                prop_assert_eq!(unclosed_quote(std::str::from_utf8(&bytes).unwrap()), None);
                let (grid, _) = grid_from_bytes(&bytes, "in.csv", None).unwrap();
                let texts: Vec<Vec<String>> = grid
                    .iter()
                    .map(|r| r.iter().map(|v| match v { Value::Text(t) => t.clone(), other => format!("{other:?}") }).collect())
                    .collect();
                prop_assert_eq!(texts, rows);
            }
        }
    }
}

//! Plain aligned tables for the terminal, where Japanese (full-width) characters take two
//! columns: `kuroko list`, `kuroko ledger list` and `kuroko report --format table` share it.

/// Display width: East Asian wide characters take two terminal columns.
pub fn width(text: &str) -> usize {
    text.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F
            | 0x2E80..=0x303E
            | 0x3041..=0x33FF
            | 0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xA000..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6
            | 0x20000..=0x3FFFD => 2,
            _ => 1,
        })
        .sum()
}

/// How a column lines up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    /// Numbers: right-aligned so the digits line up.
    Right,
}

/// An aligned table; `align` may be shorter than the header (the rest is left-aligned).
pub fn table(header: &[String], rows: &[Vec<String>], align: &[Align]) -> String {
    let n = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(n) {
            widths[i] = widths[i].max(width(cell));
        }
    }
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (i, column_width) in widths.iter().enumerate() {
            let cell = cells.get(i).map(String::as_str).unwrap_or("");
            let pad = " ".repeat(column_width - width(cell));
            if align.get(i) == Some(&Align::Right) {
                s.push_str(&pad);
                s.push_str(cell);
            } else {
                s.push_str(cell);
                if i + 1 < n {
                    s.push_str(&pad);
                }
            }
            if i + 1 < n {
                s.push_str("  ");
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(header);
    for row in rows {
        out.push_str(&line(row));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_japanese_as_two_columns() {
        assert_eq!(width("市民課"), 6);
        let t = table(
            &["a".into(), "b".into()],
            &[
                vec!["市民課".into(), "x".into()],
                vec!["ab".into(), "y".into()],
            ],
            &[],
        );
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[1], "市民課  x");
        assert_eq!(lines[2], "ab      y");
    }

    #[test]
    fn numbers_line_up_on_the_right() {
        let t = table(
            &["課".into(), "時間".into()],
            &[
                vec!["税務課".into(), "6,629.0".into()],
                vec!["a".into(), "7.5".into()],
            ],
            &[Align::Left, Align::Right],
        );
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "課         時間");
        assert_eq!(lines[1], "税務課  6,629.0");
        assert_eq!(lines[2], "a           7.5");
    }
}

//! 全角/半角: business systems insist on one or the other. ASCII letters, digits, symbols and
//! the space ↔ their full-width forms; katakana ↔ half-width katakana, with voiced marks
//! composed (ｶﾞ → ガ) and decomposed (パ → ﾊﾟ); kanji, hiragana and everything else untouched.

/// Half-width katakana U+FF61..=U+FF9F and the full-width characters they stand for.
const HALF_KANA: [(char, char); 63] = [
    ('｡', '。'),
    ('｢', '「'),
    ('｣', '」'),
    ('､', '、'),
    ('･', '・'),
    ('ｦ', 'ヲ'),
    ('ｧ', 'ァ'),
    ('ｨ', 'ィ'),
    ('ｩ', 'ゥ'),
    ('ｪ', 'ェ'),
    ('ｫ', 'ォ'),
    ('ｬ', 'ャ'),
    ('ｭ', 'ュ'),
    ('ｮ', 'ョ'),
    ('ｯ', 'ッ'),
    ('ｰ', 'ー'),
    ('ｱ', 'ア'),
    ('ｲ', 'イ'),
    ('ｳ', 'ウ'),
    ('ｴ', 'エ'),
    ('ｵ', 'オ'),
    ('ｶ', 'カ'),
    ('ｷ', 'キ'),
    ('ｸ', 'ク'),
    ('ｹ', 'ケ'),
    ('ｺ', 'コ'),
    ('ｻ', 'サ'),
    ('ｼ', 'シ'),
    ('ｽ', 'ス'),
    ('ｾ', 'セ'),
    ('ｿ', 'ソ'),
    ('ﾀ', 'タ'),
    ('ﾁ', 'チ'),
    ('ﾂ', 'ツ'),
    ('ﾃ', 'テ'),
    ('ﾄ', 'ト'),
    ('ﾅ', 'ナ'),
    ('ﾆ', 'ニ'),
    ('ﾇ', 'ヌ'),
    ('ﾈ', 'ネ'),
    ('ﾉ', 'ノ'),
    ('ﾊ', 'ハ'),
    ('ﾋ', 'ヒ'),
    ('ﾌ', 'フ'),
    ('ﾍ', 'ヘ'),
    ('ﾎ', 'ホ'),
    ('ﾏ', 'マ'),
    ('ﾐ', 'ミ'),
    ('ﾑ', 'ム'),
    ('ﾒ', 'メ'),
    ('ﾓ', 'モ'),
    ('ﾔ', 'ヤ'),
    ('ﾕ', 'ユ'),
    ('ﾖ', 'ヨ'),
    ('ﾗ', 'ラ'),
    ('ﾘ', 'リ'),
    ('ﾙ', 'ル'),
    ('ﾚ', 'レ'),
    ('ﾛ', 'ロ'),
    ('ﾜ', 'ワ'),
    ('ﾝ', 'ン'),
    ('ﾞ', '゛'),
    ('ﾟ', '゜'),
];

const VOICED_MARK: char = 'ﾞ';
const SEMI_VOICED_MARK: char = 'ﾟ';

fn full_kana(c: char) -> Option<char> {
    HALF_KANA.iter().find(|(h, _)| *h == c).map(|(_, f)| *f)
}

fn half_kana(c: char) -> Option<char> {
    HALF_KANA.iter().find(|(_, f)| *f == c).map(|(h, _)| *h)
}

/// The voiced (゛) form of a full-width katakana, if it has one: カ → ガ, ウ → ヴ.
fn voiced(c: char) -> Option<char> {
    let code = c as u32;
    let plus_one = matches!(
        c,
        'カ' | 'キ'
            | 'ク'
            | 'ケ'
            | 'コ'
            | 'サ'
            | 'シ'
            | 'ス'
            | 'セ'
            | 'ソ'
            | 'タ'
            | 'チ'
            | 'ツ'
            | 'テ'
            | 'ト'
            | 'ハ'
            | 'ヒ'
            | 'フ'
            | 'ヘ'
            | 'ホ'
    );
    match c {
        _ if plus_one => char::from_u32(code + 1),
        'ウ' => Some('ヴ'),
        'ワ' => Some('ヷ'),
        'ヲ' => Some('ヺ'),
        _ => None,
    }
}

/// The semi-voiced (゜) form: ハ → パ.
fn semi_voiced(c: char) -> Option<char> {
    matches!(c, 'ハ' | 'ヒ' | 'フ' | 'ヘ' | 'ホ')
        .then(|| char::from_u32(c as u32 + 2))
        .flatten()
}

/// Full-width: `ABC 123` → `ＡＢＣ　１２３`, `ｶﾞｯｺｳ` → `ガッコウ`.
pub fn zenkaku(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' => out.push('\u{3000}'),
            '!'..='~' => out.push(char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap_or(c)),
            _ => match full_kana(c) {
                Some(full) => {
                    let composed = match chars.peek() {
                        Some(&VOICED_MARK) => voiced(full),
                        Some(&SEMI_VOICED_MARK) => semi_voiced(full),
                        _ => None,
                    };
                    match composed {
                        Some(k) => {
                            chars.next();
                            out.push(k);
                        }
                        None => out.push(full),
                    }
                }
                None => out.push(c),
            },
        }
    }
    out
}

/// Half-width: `ＡＢＣ　１２３` → `ABC 123`, `ガッコウ` → `ｶﾞｯｺｳ`, `パ` → `ﾊﾟ`.
pub fn hankaku(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{3000}' => out.push(' '),
            '\u{FF01}'..='\u{FF5E}' => {
                out.push(char::from_u32(c as u32 - 0xFF01 + 0x21).unwrap_or(c))
            }
            _ => {
                if let Some(h) = half_kana(c) {
                    out.push(h);
                } else if let Some((base, mark)) = decompose(c) {
                    out.push(half_kana(base).unwrap_or(base));
                    out.push(mark);
                } else {
                    out.push(c);
                }
            }
        }
    }
    out
}

/// ガ → (カ, ﾞ), パ → (ハ, ﾟ).
fn decompose(c: char) -> Option<(char, char)> {
    HALF_KANA.iter().find_map(|&(_, base)| {
        if voiced(base) == Some(c) {
            Some((base, VOICED_MARK))
        } else if semi_voiced(base) == Some(c) {
            Some((base, SEMI_VOICED_MARK))
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases = [
            // (half, full)
            ("ABC xyz 019", "ＡＢＣ　ｘｙｚ　０１９"),
            (
                "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
                "！＂＃＄％＆＇（）＊＋，－．／：；＜＝＞？＠［＼］＾＿｀｛｜｝～",
            ),
            ("ｶﾞｯｺｳ", "ガッコウ"),
            ("ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ", "パピプペポ"),
            ("ﾊﾞﾋﾞﾌﾞﾍﾞﾎﾞ", "バビブベボ"),
            ("ｳﾞｧｲｵﾘﾝ", "ヴァイオリン"),
            ("ﾃﾞｰﾀ", "データ"),
            ("ﾂﾞﾂﾞｷ", "ヅヅキ"),
            ("｡｢｣､･", "。「」、・"),
            ("ｦ", "ヲ"),
        ];
        for (half, full) in cases {
            assert_eq!(zenkaku(half), full, "zenkaku({half})");
            assert_eq!(hankaku(full), half, "hankaku({full})");
        }
    }

    #[test]
    fn kanji_hiragana_and_the_rest_are_untouched() {
        for s in ["髙﨑𠮷邊", "ひらがな", "㈱①〒", "埼玉県深谷市仲町11-1"] {
            assert_eq!(
                hankaku(&zenkaku(s)).replace("－", "-"),
                s.replace("－", "-")
            );
        }
        assert_eq!(zenkaku("ひらがな漢字"), "ひらがな漢字");
        assert_eq!(hankaku("ひらがな漢字"), "ひらがな漢字");
        assert_eq!(hankaku("ヵヶ"), "ヵヶ", "no half-width form: left as is");
        assert_eq!(zenkaku("ｶﾞ"), "ガ");
        assert_eq!(
            zenkaku("ｱﾞ"),
            "ア゛",
            "a mark that cannot compose stays a mark"
        );
        assert_eq!(zenkaku("ﾞ"), "゛");
        assert_eq!(zenkaku("１２３"), "１２３", "already full-width");
        assert_eq!(hankaku("abc"), "abc");
    }
}

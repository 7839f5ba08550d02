//! The strings a municipal clerk types, generated: 300 of them cover rare kanji (髙﨑𠮷邊),
//! half-width kana with voiced marks, full-width digits and －, ㈱, 〒, ①, ～. Shared by the
//! X11 tests and the Windows tests, so both platforms are held to the same text.

const SURNAMES: [&str; 16] = [
    "髙橋",
    "﨑山",
    "𠮷田",
    "渡邊",
    "齋藤",
    "佐藤",
    "鈴木",
    "田中",
    "伊藤",
    "山﨑",
    "邉見",
    "髙木",
    "𠮷野",
    "斎藤",
    "小林",
    "長谷川",
];
const GIVEN: [&str; 10] = [
    "花子",
    "太郎",
    "一郎",
    "美咲",
    "翔太",
    "陽菜",
    "健二",
    "さくら",
    "ゆう",
    "瑠璃子",
];
const READINGS: [&str; 8] = [
    "ﾀｶﾊｼ ﾊﾅｺ",
    "ｻｷﾔﾏ ﾀﾛｳ",
    "ﾖｼﾀﾞ ｲﾁﾛｳ",
    "ﾜﾀﾅﾍﾞ ﾐｻｷ",
    "ｻｲﾄｳ ｼｮｳﾀ",
    "ﾊﾟｰｸ ｳﾞｨﾗ",
    "ｶﾞｯｺｳ ﾎｳｼﾞﾝ",
    "ﾍﾞﾝﾁｬｰ ﾋﾟｱﾉ",
];
const TOWNS: [&str; 8] = [
    "埼玉県深谷市仲町",
    "埼玉県深谷市岡部",
    "埼玉県深谷市花園",
    "埼玉県熊谷市宮町",
    "東京都千代田区霞が関",
    "埼玉県さいたま市浦和区高砂",
    "群馬県高崎市高松町",
    "埼玉県深谷市上柴町西",
];
const COMPANIES: [&str; 4] = [
    "㈱深谷商事",
    "㈲花園農園",
    "(株)岡部建設",
    "一般社団法人 深谷観光協会",
];

fn full_width_digits(n: u32) -> String {
    n.to_string()
        .chars()
        .map(|c| char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap())
        .collect()
}

/// `n` strings of the kinds a municipal clerk types, all different.
pub fn municipal_strings(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let k = i as u32;
            let name = format!("{} {}", SURNAMES[i % 16], GIVEN[(i / 16) % 10]);
            match i % 6 {
                0 => name,
                1 => format!("{}（{}）", name, READINGS[(i / 6) % 8]),
                2 => format!(
                    "〒{}－{} {}{}－{}－{}",
                    full_width_digits(360 + k % 10),
                    full_width_digits(1000 + k * 7 % 9000),
                    TOWNS[(i / 6) % 8],
                    full_width_digits(1 + k % 30),
                    full_width_digits(1 + k % 9),
                    full_width_digits(1 + k % 20)
                ),
                3 => format!("{} 代表 {} ①②③ ～{}件", COMPANIES[(i / 6) % 4], name, k),
                4 => format!(
                    "{}{}番地 {}号室 電話048-571-{:04}",
                    TOWNS[(i / 6) % 8],
                    k % 50 + 1,
                    k % 9 + 101,
                    k
                ),
                _ => format!(
                    "R{}.{}.{} 生 {} ﾒﾓ:ﾃﾞｰﾀ確認済",
                    k % 6 + 1,
                    k % 12 + 1,
                    k % 28 + 1,
                    name
                ),
            }
        })
        .collect()
}

/// A Rhai string literal for any text (the source is UTF-8; only `\` and `"` need escaping).
pub fn rhai_literal(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

pub fn rhai_array(texts: &[String]) -> String {
    format!(
        "[{}]",
        texts
            .iter()
            .map(|t| rhai_literal(t))
            .collect::<Vec<_>>()
            .join(",\n")
    )
}

//! `text::` — the Japanese clerical conversions every office needs: 全角/半角 and 和暦.

use crate::japanese::{wareki, width};
use crate::script::context::{RhaiResult, located, script_error};
use crate::sheets::SheetDate;
use rhai::plugin::*;

/// A date from a `Date` value or ISO text ("2024-04-01").
fn date_of(value: &Dynamic) -> RhaiResult<chrono::NaiveDate> {
    if let Some(d) = value.clone().try_cast::<SheetDate>() {
        return Ok(d.date);
    }
    if value.is_string() {
        let text = value.to_string();
        return SheetDate::parse(&text).map(|d| d.date).ok_or_else(|| {
            script_error(format!(
                "{text:?} is not a date; give a Date or text such as \"2024-04-01\""
            ))
        });
    }
    Err(script_error(format!(
        "expected a Date or text such as \"2024-04-01\", not a {}",
        value.type_name()
    )))
}

#[export_module]
pub mod text_api {
    use super::*;

    /// Full-width (全角): ASCII letters, digits, symbols and spaces become their full-width
    /// forms, half-width katakana become katakana (with ﾞ and ﾟ composed: ｶﾞ → ガ). Kanji and
    /// hiragana are left as they are.
    ///
    /// ```rhai
    /// let name = text::zenkaku("ﾔﾏﾀﾞ ﾀﾛｳ");        // "ヤマダ　タロウ"
    /// let addr = text::zenkaku("1-2-3");            // "１－２－３"
    /// ```
    pub fn zenkaku(text: &str) -> String {
        width::zenkaku(text)
    }

    /// Half-width (半角): the reverse of `zenkaku` — full-width ASCII and the ideographic space
    /// become ASCII, katakana become half-width (ガ → ｶﾞ, パ → ﾊﾟ, ー → ｰ). Kanji, hiragana and
    /// katakana without a half-width form (ヵ, ヶ) are left as they are.
    ///
    /// ```rhai
    /// let kana = text::hankaku("ヤマダ　タロウ");   // "ﾔﾏﾀﾞ ﾀﾛｳ"
    /// let tel = text::hankaku("０４８－５７１－１２１１");   // "048-571-1211"
    /// ```
    pub fn hankaku(text: &str) -> String {
        width::hankaku(text)
    }

    /// A date in 和暦, e.g. "令和6年4月1日" (元年 for an era's first year; era boundaries
    /// exact: 1989-01-07 is 昭和64年, 1989-01-08 平成元年, 2019-05-01 令和元年). Takes a `Date`
    /// or ISO text.
    ///
    /// ```rhai
    /// let born = text::to_wareki("1989-01-08");    // "平成元年1月8日"
    /// ```
    #[rhai_fn(name = "to_wareki", return_raw)]
    pub fn to_wareki(ctx: NativeCallContext, date: Dynamic) -> RhaiResult<String> {
        located(&ctx, || {
            wareki::format(date_of(&date)?, wareki::Style::Long).map_err(script_error)
        })
    }

    /// A date in 和暦, in one of these formats: `"long"` 令和6年4月1日, `"short"` R6.4.1,
    /// `"padded"` R06/04/01, `"fiscal_year"` 令和6年度 (the fiscal year, April to March, the
    /// date falls in), `"year"` 令和6年.
    ///
    /// ```rhai
    /// let d = sheet::date("2025-03-31");
    /// let a = text::to_wareki(d, "padded");        // "R07/03/31"
    /// let b = text::to_wareki(d, "fiscal_year");   // "令和6年度"
    /// ```
    #[rhai_fn(name = "to_wareki", return_raw)]
    pub fn to_wareki_as(ctx: NativeCallContext, date: Dynamic, format: &str) -> RhaiResult<String> {
        located(&ctx, || {
            let style = wareki::Style::parse(format).map_err(script_error)?;
            wareki::format(date_of(&date)?, style).map_err(script_error)
        })
    }

    /// Reads a 和暦 date into a `Date`: "令和6年4月1日", "令和元年5月1日", "R6.4.1", "R06/04/01",
    /// "H31-4-30", full-width digits, the era by name or initial (M, T, S, H, R). An impossible
    /// date (令和6年2月30日), an unknown era, or a date outside its era (平成31年5月1日) is an
    /// error that says why.
    ///
    /// ```rhai
    /// let d = text::from_wareki("Ｒ６．４．１");
    /// log::info(d.to_string());                    // 2024-04-01
    /// ```
    #[rhai_fn(return_raw)]
    pub fn from_wareki(ctx: NativeCallContext, text: &str) -> RhaiResult<SheetDate> {
        located(&ctx, || {
            wareki::parse(text)
                .map(|date| SheetDate { date, time: None })
                .map_err(script_error)
        })
    }
}

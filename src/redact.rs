//! The one redactor: once a run has read a secret (`secret::get`), its value is replaced by
//! `***` in everything the process writes down — every event (terminal, `run.log`,
//! `events.jsonl`, hence the launcher), what the recorder writes to the ledger (item keys,
//! failure reasons, the run's message, queue failures), the web trace and the page kept as
//! evidence, and the command's last error line. One process-wide list, because a run is one
//! process and a value must be hidden wherever it travels, not only where a function thought of
//! it. At the bottom of the layers: it knows nothing but text.

use std::borrow::Cow;
use std::sync::RwLock;

/// What a secret's value is shown as.
pub const MASK: &str = "***";

/// A set of values to hide, with the forms they take once escaped (a value with a quote or a
/// backslash appears escaped in `{:?}` messages and in JSON).
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    forms: Vec<String>,
}

impl Redactor {
    /// Hides `value` (and its escaped forms) from now on. An empty value hides nothing.
    pub fn add(&mut self, value: &str) {
        if value.is_empty() {
            return;
        }
        let debug = format!("{value:?}");
        let json = serde_json::to_string(value).unwrap_or_default();
        // As a page's HTML holds it (the failed web step's page kept as evidence).
        let html = value
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;");
        for form in [
            value,
            debug.get(1..debug.len() - 1).unwrap_or(""),
            json.get(1..json.len().saturating_sub(1)).unwrap_or(""),
            &html,
        ] {
            if !form.is_empty() && !self.forms.iter().any(|f| f == form) {
                self.forms.push(form.to_string());
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.forms.is_empty()
    }

    /// `text` with every occurrence of every value replaced by `***`. Occurrences that overlap
    /// or touch (two secrets side by side, one inside another) become one `***`, so no part of
    /// either shows.
    pub fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut spans: Vec<(usize, usize)> = Vec::new();
        for form in &self.forms {
            let mut from = 0;
            while let Some(at) = text[from..].find(form.as_str()) {
                let start = from + at;
                spans.push((start, start + form.len()));
                // Overlapping occurrences too ("aa" twice in "aaa"): go on one character later.
                from = start + text[start..].chars().next().map_or(1, char::len_utf8);
            }
        }
        if spans.is_empty() {
            return Cow::Borrowed(text);
        }
        spans.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut shown = 0;
        let mut current: Option<(usize, usize)> = None;
        for (start, end) in spans {
            match &mut current {
                Some((_, e)) if start <= *e => *e = (*e).max(end),
                _ => {
                    if let Some((s, e)) = current.take() {
                        out.push_str(&text[shown..s]);
                        out.push_str(MASK);
                        shown = e;
                    }
                    current = Some((start, end));
                }
            }
        }
        if let Some((s, e)) = current {
            out.push_str(&text[shown..s]);
            out.push_str(MASK);
            shown = e;
        }
        out.push_str(&text[shown..]);
        Cow::Owned(out)
    }

    /// Every string inside a JSON value, redacted.
    pub fn json(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) => {
                if let Cow::Owned(hidden) = self.text(s) {
                    *s = hidden;
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.json(v)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| self.json(v)),
            _ => {}
        }
    }
}

/// The process's secrets: the values this run has read.
static SECRETS: RwLock<Redactor> = RwLock::new(Redactor { forms: Vec::new() });

/// Hides `value` in everything this process writes from now on.
pub fn add(value: &str) {
    SECRETS
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .add(value);
}

/// Whether any secret has been read (most runs read none, and then nothing is rewritten).
pub fn active() -> bool {
    !SECRETS
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .is_empty()
}

/// `text` with the process's secrets replaced by `***`.
pub fn text(text: &str) -> Cow<'_, str> {
    SECRETS
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .text(text)
}

/// Every string inside a JSON value, with the process's secrets replaced.
pub fn json(value: &mut serde_json::Value) {
    SECRETS
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .json(value);
}

/// `text` with the process's secrets replaced, as an owned string.
pub fn string(text: &str) -> String {
    self::text(text).into_owned()
}

/// A serializable value with every string in it redacted, read back as its own type (`None`
/// when it does not survive the round trip, which a caller treats as "show nothing").
pub fn value<T: serde::Serialize + serde::de::DeserializeOwned>(value: &T) -> Option<T> {
    let mut json = serde_json::to_value(value).ok()?;
    SECRETS
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .json(&mut json);
    serde_json::from_value(json).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(values: &[&str]) -> Redactor {
        let mut r = Redactor::default();
        for v in values {
            r.add(v);
        }
        r
    }

    #[test]
    fn a_value_is_hidden_wherever_it_appears() {
        let r = with(&["pa55-深谷"]);
        assert_eq!(r.text("type \"pa55-深谷\\n\""), "type \"***\\n\"");
        assert_eq!(r.text("pa55-深谷pa55-深谷"), "***");
        assert_eq!(r.text("xpa55-深谷y and pa55-深谷"), "x***y and ***");
        assert!(matches!(r.text("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn escaped_forms_are_hidden_too() {
        let r = with(&["a\"b\\c\nd"]);
        let debug = format!("the field holds {:?}", "a\"b\\c\nd");
        assert_eq!(r.text(&debug), "the field holds \"***\"");
        let json = serde_json::to_string(&serde_json::json!({ "m": "x a\"b\\c\nd y" })).unwrap();
        assert_eq!(r.text(&json), "{\"m\":\"x *** y\"}");
        let r = with(&["<a&b\"c>"]);
        assert_eq!(
            r.text("<input value=\"&lt;a&amp;b&quot;c&gt;\">"),
            "<input value=\"***\">"
        );
    }

    #[test]
    fn overlapping_and_adjacent_secrets_leave_no_part_of_either() {
        let r = with(&["abcdef", "defgh"]);
        assert_eq!(r.text("1abcdefgh2"), "1***2");
        assert_eq!(r.text("abcdefdefgh"), "***");
        // One secret inside another: the longer one is hidden whole.
        let r = with(&["secret", "cre"]);
        assert_eq!(r.text("a secret, a cre"), "a ***, a ***");
        // A value repeated with overlaps.
        let r = with(&["aa"]);
        assert_eq!(r.text("baaab"), "b***b");
    }

    #[test]
    fn json_strings_are_redacted_in_place() {
        let r = with(&["hunter2"]);
        let mut v = serde_json::json!({
            "event": "action", "action": "type \"hunter2\"", "n": 3,
            "list": ["ok", "xhunter2"]
        });
        r.json(&mut v);
        assert_eq!(v["action"], "type \"***\"");
        assert_eq!(v["list"][1], "x***");
        assert_eq!(v["n"], 3);
    }

    #[test]
    fn an_empty_redactor_changes_nothing_and_an_empty_value_is_ignored() {
        let r = with(&[""]);
        assert!(r.is_empty());
        assert_eq!(r.text("anything"), "anything");
    }
}

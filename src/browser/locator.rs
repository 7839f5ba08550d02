//! Locators as scripts write them (`css=`, `xpath=`, `text=登録`, `role=button[name="登録"]`,
//! `label=氏名`, `placeholder=…`), checked before anything is sent to the page, so a typo is
//! an error at its script line instead of a 30-second wait.

use serde_json::{Value, json};

/// How an element is found.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Css,
    Xpath,
    Text,
    Role,
    Label,
    Placeholder,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Locator {
    /// As the script wrote it, for messages.
    pub source: String,
    pub kind: Kind,
    pub value: String,
    /// Quoted text (`text="登録"`): whole text only. Unquoted: whole text when some element has
    /// it, else part.
    pub exact: bool,
    /// For `role=`: the accessible name, and whether it must be whole (`name=`) or part
    /// (`name*=`).
    pub name: Option<(String, bool)>,
}

/// ARIA roles kuroko knows (explicit `role` attributes and the roles HTML elements have).
pub const ROLES: &[&str] = &[
    "alert",
    "button",
    "cell",
    "checkbox",
    "columnheader",
    "combobox",
    "dialog",
    "form",
    "grid",
    "gridcell",
    "group",
    "heading",
    "img",
    "link",
    "list",
    "listbox",
    "listitem",
    "main",
    "menu",
    "menubar",
    "menuitem",
    "menuitemcheckbox",
    "menuitemradio",
    "navigation",
    "option",
    "progressbar",
    "radio",
    "radiogroup",
    "region",
    "row",
    "rowheader",
    "searchbox",
    "slider",
    "spinbutton",
    "status",
    "switch",
    "tab",
    "table",
    "tablist",
    "tabpanel",
    "textbox",
    "tree",
    "treeitem",
];

const KINDS: &str = "css=, xpath=, text=, role=, label=, placeholder=";

/// Removes one pair of surrounding double or single quotes; says whether there were any.
fn unquote(text: &str) -> (String, bool) {
    let t = text.trim();
    for q in ['"', '\''] {
        if t.len() >= 2 && t.starts_with(q) && t.ends_with(q) {
            return (t[1..t.len() - 1].to_string(), true);
        }
    }
    (t.to_string(), false)
}

impl Locator {
    pub fn parse(source: &str) -> Result<Locator, String> {
        let trimmed = source.trim();
        if trimmed.is_empty() {
            return Err("the locator is empty".into());
        }
        let make = |kind, value: String, exact| Locator {
            source: source.to_string(),
            kind,
            value,
            exact,
            name: None,
        };
        let (prefix, rest) = match trimmed.split_once('=') {
            Some((p, r)) if !p.is_empty() && p.chars().all(|c| c.is_ascii_alphabetic()) => {
                (Some(p.to_ascii_lowercase()), r)
            }
            _ => (None, trimmed),
        };
        let need = |rest: &str, what: &str| -> Result<(), String> {
            if unquote(rest).0.trim().is_empty() {
                Err(format!("{source:?}: nothing after {what}="))
            } else {
                Ok(())
            }
        };
        match prefix.as_deref() {
            None if trimmed.starts_with("//") || trimmed.starts_with("(//") => {
                Ok(make(Kind::Xpath, trimmed.to_string(), true))
            }
            None => Ok(make(Kind::Css, trimmed.to_string(), true)),
            Some("css") => {
                need(rest, "css")?;
                Ok(make(Kind::Css, rest.trim().to_string(), true))
            }
            Some("xpath") => {
                need(rest, "xpath")?;
                Ok(make(Kind::Xpath, rest.trim().to_string(), true))
            }
            Some(kind @ ("text" | "label" | "placeholder")) => {
                need(rest, kind)?;
                let (value, exact) = unquote(rest);
                let kind = match kind {
                    "text" => Kind::Text,
                    "label" => Kind::Label,
                    _ => Kind::Placeholder,
                };
                Ok(make(kind, value, exact))
            }
            Some("role") => parse_role(source, rest),
            Some(other) => Err(format!(
                "{source:?}: unknown locator kind {other}= (kuroko knows {KINDS}; a CSS \
                 selector needs no prefix)"
            )),
        }
    }

    /// What the page's locator engine receives.
    pub fn to_json(&self) -> Value {
        let kind = match self.kind {
            Kind::Css => "css",
            Kind::Xpath => "xpath",
            Kind::Text => "text",
            Kind::Role => "role",
            Kind::Label => "label",
            Kind::Placeholder => "placeholder",
        };
        json!({
            "source": self.source,
            "kind": kind,
            "value": self.value,
            "exact": self.exact,
            "name": self.name.as_ref().map(|(n, _)| n.clone()),
            "nameExact": self.name.as_ref().is_some_and(|(_, e)| *e),
        })
    }
}

fn parse_role(source: &str, rest: &str) -> Result<Locator, String> {
    let rest = rest.trim();
    let (role, attrs) = match rest.find('[') {
        Some(i) => (&rest[..i], Some(&rest[i..])),
        None => (rest, None),
    };
    let role = role.trim().to_ascii_lowercase();
    if !ROLES.contains(&role.as_str()) {
        let hint = crate::suggest::closest(&role, ROLES.iter().copied())
            .map(|r| format!(" (did you mean {r}?)"))
            .unwrap_or_default();
        return Err(format!(
            "{source:?}: {role:?} is not a role kuroko knows{hint}; roles: {}",
            ROLES.join(", ")
        ));
    }
    let mut name = None;
    if let Some(attrs) = attrs {
        let inner = attrs
            .strip_prefix('[')
            .and_then(|a| a.strip_suffix(']'))
            .ok_or_else(|| format!("{source:?}: write the name as role={role}[name=\"…\"]"))?;
        let (key, value, exact) = if let Some((k, v)) = inner.split_once("*=") {
            (k, v, false)
        } else if let Some((k, v)) = inner.split_once('=') {
            (k, v, true)
        } else {
            return Err(format!(
                "{source:?}: write the name as role={role}[name=\"…\"]"
            ));
        };
        if key.trim() != "name" {
            return Err(format!(
                "{source:?}: only [name=\"…\"] (whole name) and [name*=\"…\"] (part of it) \
                 can follow a role"
            ));
        }
        let (value, _) = unquote(value);
        if value.trim().is_empty() {
            return Err(format!("{source:?}: the name is empty"));
        }
        name = Some((value, exact));
    }
    Ok(Locator {
        source: source.to_string(),
        kind: Kind::Role,
        value: role,
        exact: true,
        name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_parses() {
        let l = Locator::parse("text=登録").unwrap();
        assert_eq!(
            (l.kind, l.value.as_str(), l.exact),
            (Kind::Text, "登録", false)
        );
        let l = Locator::parse("text=\"登録\"").unwrap();
        assert_eq!(
            (l.kind, l.value.as_str(), l.exact),
            (Kind::Text, "登録", true)
        );
        let l = Locator::parse("role=button[name=\"登録\"]").unwrap();
        assert_eq!(l.kind, Kind::Role);
        assert_eq!(l.name, Some(("登録".into(), true)));
        let l = Locator::parse("role=link[name*='検索']").unwrap();
        assert_eq!(l.name, Some(("検索".into(), false)));
        assert_eq!(Locator::parse("role=Button").unwrap().value, "button");
        assert_eq!(Locator::parse("label=氏名").unwrap().kind, Kind::Label);
        assert_eq!(Locator::parse("placeholder='町名'").unwrap().value, "町名");
        assert_eq!(Locator::parse("#register").unwrap().kind, Kind::Css);
        assert_eq!(Locator::parse("input[name=no]").unwrap().kind, Kind::Css);
        assert_eq!(
            Locator::parse("css=a[href='x=y']").unwrap().value,
            "a[href='x=y']"
        );
        assert_eq!(Locator::parse("//td[1]").unwrap().kind, Kind::Xpath);
        assert_eq!(Locator::parse("xpath=//td").unwrap().kind, Kind::Xpath);
    }

    #[test]
    fn mistakes_are_named() {
        assert!(Locator::parse("").unwrap_err().contains("empty"));
        assert!(
            Locator::parse("txet=登録")
                .unwrap_err()
                .contains("unknown locator kind txet=")
        );
        assert!(
            Locator::parse("role=buton")
                .unwrap_err()
                .contains("did you mean button")
        );
        assert!(
            Locator::parse("role=button[title=\"x\"]")
                .unwrap_err()
                .contains("name")
        );
        assert!(
            Locator::parse("role=button[name=\"\"]")
                .unwrap_err()
                .contains("empty")
        );
        assert!(
            Locator::parse("label=")
                .unwrap_err()
                .contains("nothing after label=")
        );
    }
}

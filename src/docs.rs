//! The scripting reference, generated from the `///` comments on the API functions (the same
//! source Rust's own docs read): `kuroko docs` writes it, and a test fails when the committed
//! copy under docs/ is stale. The same model gives error messages their expected signatures.

use serde::Deserialize;

use crate::api::NAMESPACES;
use crate::engine::{self, Limits};

/// One script function as the reference shows it.
#[derive(Debug, Clone)]
pub struct FnDoc {
    /// `None` for global functions like `sleep`.
    pub namespace: Option<String>,
    pub name: String,
    pub params: Vec<(String, String)>,
    pub return_type: String,
    /// The doc comment, without `///`.
    pub doc: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MetaModule {
    #[serde(default)]
    modules: std::collections::BTreeMap<String, MetaModule>,
    #[serde(default)]
    functions: Vec<MetaFn>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MetaFn {
    name: String,
    #[serde(default)]
    params: Vec<MetaParam>,
    #[serde(default)]
    return_type: Option<String>,
    #[serde(default)]
    doc_comments: Vec<String>,
}

#[derive(Deserialize)]
struct MetaParam {
    name: Option<String>,
    #[serde(rename = "type")]
    typ: Option<String>,
}

/// Script-facing type names instead of Rust's.
fn script_type(rust: &str) -> String {
    let t = rust.trim();
    let t = t
        .strip_prefix("RhaiResult<")
        .or_else(|| t.strip_prefix("Result<"))
        .and_then(|s| s.strip_suffix('>'))
        .map(|s| s.split(',').next().unwrap_or(s).trim())
        .unwrap_or(t);
    match t {
        "i64" | "INT" => "int",
        "f64" | "FLOAT" => "float",
        "&str" | "String" | "ImmutableString" | "&ImmutableString" => "string",
        "bool" => "bool",
        "Array" | "rhai::Array" => "array",
        "Map" | "rhai::Map" => "map",
        "Dynamic" => "any",
        "()" | "" => "()",
        other => other,
    }
    .to_string()
}

fn doc_text(lines: &[String]) -> String {
    lines
        .iter()
        .flat_map(|block| block.lines())
        .map(|l| {
            let l = l.trim_start();
            let l = l.strip_prefix("///").unwrap_or(l);
            l.strip_prefix(' ').unwrap_or(l).to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

fn convert(namespace: Option<&str>, f: MetaFn) -> FnDoc {
    FnDoc {
        namespace: namespace.map(String::from),
        name: f.name,
        params: f
            .params
            .into_iter()
            .map(|p| {
                (
                    p.name.unwrap_or_else(|| "_".into()),
                    script_type(p.typ.as_deref().unwrap_or("")),
                )
            })
            .collect(),
        return_type: script_type(f.return_type.as_deref().unwrap_or("()")),
        doc: doc_text(&f.doc_comments),
    }
}

/// Every kuroko script function, namespaces in reference order, then globals.
pub fn collect() -> Vec<FnDoc> {
    let engine = engine::build(None, Limits::default());
    let json = engine
        .gen_fn_metadata_to_json(false)
        .unwrap_or_else(|_| "{}".into());
    let meta: MetaModule = serde_json::from_str(&json).unwrap_or(MetaModule {
        modules: Default::default(),
        functions: Vec::new(),
    });
    let mut docs = Vec::new();
    let mut meta = meta;
    for (ns, _) in NAMESPACES {
        if let Some(module) = meta.modules.remove(*ns) {
            let mut fns: Vec<FnDoc> = module
                .functions
                .into_iter()
                .map(|f| convert(Some(ns), f))
                .collect();
            // Rhai's metadata order is not stable between runs; the reference must be.
            fns.sort_by_key(|f| (f.name.clone(), f.params.len(), f.signature()));
            docs.extend(fns);
        }
    }
    let mut globals: Vec<FnDoc> = meta
        .functions
        .into_iter()
        .filter(|f| !f.doc_comments.is_empty())
        .map(|f| convert(None, f))
        .collect();
    globals.sort_by_key(|f| (f.name.clone(), f.params.len(), f.signature()));
    docs.extend(globals);
    docs
}

impl FnDoc {
    pub fn qualified_name(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}::{}", self.name),
            None => self.name.clone(),
        }
    }

    pub fn signature(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|(n, t)| format!("{n}: {t}"))
            .collect();
        let ret = if self.return_type == "()" {
            String::new()
        } else {
            format!(" -> {}", self.return_type)
        };
        format!("{}({}){ret}", self.qualified_name(), params.join(", "))
    }

    /// Whether the doc has a Rhai example.
    pub fn has_example(&self) -> bool {
        self.doc.contains("```rhai")
    }
}

/// Signatures for error messages ("mouse::click(x: int, y: int)").
pub fn signatures() -> Vec<String> {
    collect().iter().map(FnDoc::signature).collect()
}

/// The scripting reference as Markdown.
pub fn markdown() -> String {
    let docs = collect();
    let mut out = String::from(
        "# kuroko scripting reference\n\n\
         Generated by `kuroko docs` from the doc comments in `src/api/`; do not edit by hand.\n\
         Scenarios are [Rhai](https://rhai.rs) scripts. Besides the functions below, Rhai's own\n\
         language and standard library (strings, arrays, maps, maths) are available; loading\n\
         modules, `eval` and any file access other than through these functions are not.\n\n",
    );
    out.push_str(
        "Run variables given with `--var name=value` are also in the constant map `VARS`.\n\n",
    );
    out.push_str("## Contents\n\n");
    for (ns, about) in NAMESPACES {
        out.push_str(&format!("- [`{ns}::`](#{ns}) — {about}\n"));
    }
    out.push_str("- [Global functions](#global-functions) — `sleep`, `fail`.\n\n");
    let section = |out: &mut String, title: &str, about: &str, fns: Vec<&FnDoc>| {
        out.push_str(&format!("## {title}\n\n{about}\n\n"));
        for f in fns {
            out.push_str(&format!("### `{}`\n\n{}\n\n", f.signature(), f.doc));
        }
    };
    for (ns, about) in NAMESPACES {
        let fns: Vec<&FnDoc> = docs
            .iter()
            .filter(|f| f.namespace.as_deref() == Some(*ns))
            .collect();
        section(&mut out, ns, about, fns);
    }
    let globals: Vec<&FnDoc> = docs.iter().filter(|f| f.namespace.is_none()).collect();
    section(
        &mut out,
        "Global functions",
        "Called without a namespace.",
        globals,
    );
    out.trim_end().to_string() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_function_is_documented_with_a_rhai_example() {
        let docs = collect();
        assert!(docs.len() >= 25, "only {} functions found", docs.len());
        for f in &docs {
            assert!(f.has_example(), "{} has no ```rhai example", f.signature());
        }
        for name in [
            "keyboard::type_text",
            "mouse::drag",
            "window::wait",
            "task::item_done",
            "sleep",
            "fail",
        ] {
            assert!(
                docs.iter().any(|f| f.qualified_name() == name),
                "{name} missing"
            );
        }
    }

    #[test]
    fn every_example_compiles() {
        let engine = engine::build(None, Limits::default());
        for f in collect() {
            for block in f.doc.split("```rhai").skip(1) {
                let code = block.split("```").next().unwrap_or("");
                if let Err(e) = engine.compile(code) {
                    panic!("example of {} does not compile: {e}\n{code}", f.signature());
                }
            }
        }
    }
}

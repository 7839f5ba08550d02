//! What the engine knows of its own script functions: name, parameters, return type and the
//! `///` comment (the same source Rust's own docs read), taken from Rhai's metadata. `check`'s
//! lint, error messages (expected signatures) and the rendered reference (`crate::docs`) all
//! read this one model.

use serde::Deserialize;

use super::Limits;
use crate::script::NAMESPACES;

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
        "Page" | "&mut Page" => "WebPage",
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
    let engine = super::build(None, Limits::default());
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
    /// A method of a script object (`page.click(…)`): its first parameter is the object.
    pub fn receiver(&self) -> Option<&str> {
        self.params
            .first()
            .filter(|(_, t)| t == "WebPage")
            .map(|(n, _)| n.as_str())
    }

    pub fn qualified_name(&self) -> String {
        match (&self.namespace, self.receiver()) {
            (_, Some(object)) => format!("{object}.{}", self.name),
            (Some(ns), None) => format!("{ns}::{}", self.name),
            (None, None) => self.name.clone(),
        }
    }

    pub fn signature(&self) -> String {
        let skip = usize::from(self.receiver().is_some());
        let params: Vec<String> = self
            .params
            .iter()
            .skip(skip)
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
    #[cfg(test)]
    pub fn has_example(&self) -> bool {
        self.doc.contains("```rhai")
    }
}

/// Signatures for error messages ("mouse::click(x: int, y: int)").
pub fn signatures() -> Vec<String> {
    collect().iter().map(FnDoc::signature).collect()
}

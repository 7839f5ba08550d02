//! The layers go one way: no top-level module of `src/` may reach, through `crate::` paths,
//! back to itself. The module graph is read from the source (every `crate::` path outside
//! comments, grouped `use crate::{a, b::c}` included), so a cycle fails this test the moment
//! it is written.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`src/ledger/sqlite/runs.rs` → `ledger`).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_string())
}

/// The top-level modules named by `crate::` paths in `text` (comments left out).
fn references(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            // Not the tail of another path (`kuroko::crate::` does not occur; `$crate::` would).
            let before = rest[..at].chars().last();
            rest = &rest[at + "crate::".len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
                continue;
            }
            if let Some(group) = rest.strip_prefix('{') {
                // `crate::{a::x, b}`: the first segment of each entry at the top of the group.
                let mut depth = 0;
                let mut entry_start = true;
                let mut name = String::new();
                for c in group.chars() {
                    if entry_start && (c.is_alphanumeric() || c == '_') {
                        name.push(c);
                        continue;
                    }
                    if !name.is_empty() {
                        out.insert(std::mem::take(&mut name));
                        entry_start = false;
                    }
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => entry_start = true,
                        _ => {}
                    }
                }
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        }
    }
    out.retain(|m| m != "self");
    out
}

fn module_graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut graph = Graph::new();
    for file in files {
        let Some(module) = module_of(src, &file) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        let uses = references(&text);
        let node = graph.entry(module.clone()).or_default();
        node.extend(uses.into_iter().filter(|m| *m != module));
    }
    graph
}

/// A cycle in the graph, as the modules along it (first repeated at the end), if any.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    fn visit(
        node: &str,
        graph: &Graph,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        marks.insert(node.to_string(), Mark::OnPath);
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            match marks.get(next.as_str()).copied().unwrap_or(Mark::New) {
                Mark::OnPath => {
                    let from = path.iter().position(|n| n == next).unwrap_or(0);
                    let mut cycle = path[from..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Mark::New => {
                    if let Some(c) = visit(next, graph, marks, path) {
                        return Some(c);
                    }
                }
                Mark::Done => {}
            }
        }
        path.pop();
        marks.insert(node.to_string(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        if marks.get(node).copied().unwrap_or(Mark::New) == Mark::New
            && let Some(c) = visit(node, graph, &mut marks, &mut Vec::new())
        {
            return Some(c);
        }
    }
    None
}

#[test]
fn the_reader_finds_plain_grouped_and_nested_paths_but_not_comments() {
    let text = "use crate::ledger::{self, Store};\n\
                use crate::{events::{Level, RunEvent}, files, desktop::Key};\n\
                let x = crate::report::xlsx::write(); // crate::serve is only mentioned\n\
                //! see `crate::schedule`\n";
    let found: Vec<String> = references(text).into_iter().collect();
    assert_eq!(found, ["desktop", "events", "files", "ledger", "report"]);
}

#[test]
fn a_cycle_is_found_and_a_layered_graph_passes() {
    let graph = |edges: &[(&str, &str)]| {
        let mut g = Graph::new();
        for (a, b) in edges {
            g.entry(a.to_string()).or_default().insert(b.to_string());
            g.entry(b.to_string()).or_default();
        }
        g
    };
    let layered = graph(&[("run", "engine"), ("engine", "script"), ("run", "script")]);
    assert_eq!(find_cycle(&layered), None);
    let cyclic = graph(&[
        ("engine", "script"),
        ("script", "desktop"),
        ("desktop", "engine"),
    ]);
    assert_eq!(
        find_cycle(&cyclic),
        Some(vec![
            "desktop".into(),
            "engine".into(),
            "script".into(),
            "desktop".into()
        ])
    );
}

#[test]
fn the_modules_of_src_form_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = module_graph(&src);
    assert!(graph.len() > 20, "only {} modules read", graph.len());
    for (module, uses) in &graph {
        for used in uses {
            assert!(
                graph.contains_key(used),
                "{module} names crate::{used}, which is not a module of src/"
            );
        }
    }
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "the layers go round in a circle: {}\n(each imports the next through crate:: paths; \
             move the shared part down instead)",
            cycle.join(" → ")
        );
    }
    // The direction the architecture names.
    for (upper, lower) in [
        ("engine", "script"),
        ("script", "desktop"),
        ("run", "engine"),
        ("run", "ledger"),
        ("report", "ledger"),
    ] {
        assert!(
            graph[upper].contains(lower),
            "{upper} no longer uses {lower}; update this test's picture of the layers"
        );
    }
}

//! Checks `kuroko check` makes beyond compiling, because Rhai resolves functions only when a
//! line runs: calls to kuroko functions that do not exist, and key names written as literals
//! that are not keys. Each finding has its line and column, so a typo is found before a run.

use std::path::Path;

use crate::desktop::Key;
use crate::engine::ScriptError;
use crate::engine::reference::FnDoc;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Punct(char),
    PathSep,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
    column: usize,
}

/// A small tokenizer: identifiers, string literals, `::` and punctuation; comments skipped.
fn tokens(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line, mut col) = (0usize, 1usize, 1usize);
    let advance = |i: &mut usize, line: &mut usize, col: &mut usize, chars: &[char]| {
        if chars[*i] == '\n' {
            *line += 1;
            *col = 1;
        } else {
            *col += 1;
        }
        *i += 1;
    };
    while i < chars.len() {
        let c = chars[i];
        let (l, cl) = (line, col);
        if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                advance(&mut i, &mut line, &mut col, &chars);
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    advance(&mut i, &mut line, &mut col, &chars);
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    advance(&mut i, &mut line, &mut col, &chars);
                    if depth == 0 {
                        advance(&mut i, &mut line, &mut col, &chars);
                        break;
                    }
                }
                advance(&mut i, &mut line, &mut col, &chars);
            }
        } else if c == '"' || c == '`' || c == '\'' {
            let quote = c;
            let mut text = String::new();
            advance(&mut i, &mut line, &mut col, &chars);
            while i < chars.len() && chars[i] != quote {
                if chars[i] == '\\' && i + 1 < chars.len() {
                    advance(&mut i, &mut line, &mut col, &chars);
                    text.push(match chars[i] {
                        'n' => '\n',
                        't' => '\t',
                        other => other,
                    });
                } else {
                    text.push(chars[i]);
                }
                advance(&mut i, &mut line, &mut col, &chars);
            }
            if i < chars.len() {
                advance(&mut i, &mut line, &mut col, &chars);
            }
            if quote != '`' {
                out.push(Token {
                    tok: Tok::Str(text),
                    line: l,
                    column: cl,
                });
            }
        } else if c.is_alphabetic() || c == '_' {
            let mut ident = String::new();
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                ident.push(chars[i]);
                advance(&mut i, &mut line, &mut col, &chars);
            }
            out.push(Token {
                tok: Tok::Ident(ident),
                line: l,
                column: cl,
            });
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            advance(&mut i, &mut line, &mut col, &chars);
            advance(&mut i, &mut line, &mut col, &chars);
            out.push(Token {
                tok: Tok::PathSep,
                line: l,
                column: cl,
            });
        } else if c.is_whitespace() {
            advance(&mut i, &mut line, &mut col, &chars);
        } else {
            out.push(Token {
                tok: Tok::Punct(c),
                line: l,
                column: cl,
            });
            advance(&mut i, &mut line, &mut col, &chars);
        }
    }
    out
}

/// Functions that take key names.
const KEY_FUNCTIONS: &[&str] = &["press", "key_down", "key_up", "hotkey"];
/// Functions whose first argument is a template image.
const IMAGE_FUNCTIONS: &[&str] = &[
    "find",
    "find_all",
    "wait_for",
    "wait_gone",
    "exists",
    "click_image",
];

/// `base`: the scenario folder, to check that template images named as literals exist.
pub fn lint(file: &str, source: &str, api: &[FnDoc], base: Option<&Path>) -> Vec<ScriptError> {
    let toks = tokens(source);
    let mut problems = Vec::new();
    let problem = |t: &Token, message: String| ScriptError {
        file: file.to_string(),
        line: t.line,
        column: t.column,
        message,
    };
    for w in 0..toks.len() {
        let (Some(a), Some(sep), Some(b), Some(paren)) = (
            toks.get(w),
            toks.get(w + 1),
            toks.get(w + 2),
            toks.get(w + 3),
        ) else {
            continue;
        };
        let (Tok::Ident(ns), Tok::PathSep, Tok::Ident(name), Tok::Punct('(')) =
            (&a.tok, &sep.tok, &b.tok, &paren.tok)
        else {
            continue;
        };
        let in_ns: Vec<&FnDoc> = api
            .iter()
            .filter(|f| f.namespace.as_deref() == Some(ns))
            .collect();
        if in_ns.is_empty() {
            continue; // not one of kuroko's namespaces (Rhai reports unknown modules itself)
        }
        if !in_ns.iter().any(|f| &f.name == name) {
            let names: Vec<&str> = in_ns.iter().map(|f| f.name.as_str()).collect();
            problems.push(problem(
                b,
                format!(
                    "no function {ns}::{name}{}",
                    crate::suggest::hint(name, names)
                ),
            ));
            continue;
        }
        if let (
            Some(base),
            "screen",
            true,
            Some(Token {
                tok: Tok::Str(path),
                ..
            }),
        ) = (
            base,
            ns.as_str(),
            IMAGE_FUNCTIONS.contains(&name.as_str()),
            toks.get(w + 4),
        ) {
            let full = base.join(path);
            if !full.is_file() {
                problems.push(problem(
                    &toks[w + 4],
                    format!("image {path:?} not found (looked for {})", full.display()),
                ));
            } else if let Err(e) = image::open(&full) {
                problems.push(problem(
                    &toks[w + 4],
                    format!("image {path:?} cannot be read: {e}"),
                ));
            }
        }
        if ns == "keyboard" && KEY_FUNCTIONS.contains(&name.as_str()) {
            // The literal key names inside the call's parentheses (not nested calls).
            let mut depth = 0;
            for t in &toks[w + 3..] {
                match &t.tok {
                    Tok::Punct('(') => depth += 1,
                    Tok::Punct(')') => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    Tok::Str(key) if depth == 1 => {
                        if let Err(e) = Key::parse(key) {
                            problems.push(problem(t, e));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_unknown_functions_and_key_names_with_positions() {
        let api = crate::engine::reference::collect();
        let src = "// keyboard::nothing(\"x\")\nkeyboard::type_txt(\"a\");\n  keyboard::press(\"Entr\");\nkeyboard::hotkey([\"Ctrl\", \"s\"]);\nlet s = \"mouse::nope(\";\n";
        let p = lint("main.rhai", src, &api, None);
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!((p[0].line, p[0].column), (2, 11));
        assert!(p[0].message.contains("did you mean `type_text`"));
        assert_eq!((p[1].line, p[1].column), (3, 19));
        assert!(p[1].message.contains("Enter"));
    }
}

//! What a recording becomes: the steps a person took, written as a scenario folder a clerk can
//! read (`scenario.toml`, a `main.rhai` with one numbered Japanese comment per step, the
//! pictures under `images/`). Pure: the capture decides the steps, this only writes them.

use std::fmt::Write as _;
use std::time::Duration;

use crate::desktop::ui::select::Selector;

/// One thing the person did, as the scenario will do it.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A click on a control that has a unique selector.
    ClickControl {
        selector: Selector,
        /// What the comment calls it (the control's name).
        label: String,
        double: bool,
    },
    /// A click on a picture kuroko cut itself (`images/…`), `offset` from its centre.
    ClickImage {
        image: String,
        label: String,
        offset: (i32, i32),
        double: bool,
    },
    /// The text a field holds after the person typed into it.
    SetText {
        selector: Selector,
        /// The field's name for the comment.
        label: String,
        text: String,
    },
    /// Text typed where no field could be named.
    TypeText { text: String },
    /// A single named key (Enter, Tab, Escape…).
    Press { key: String },
    /// Keys held together (Ctrl+S).
    Hotkey { keys: Vec<String> },
    /// A window that opened after the step before.
    WaitWindow { title: String },
}

/// One step: what was done, and how long the person paused before it (kept as a comment;
/// the scenario never sleeps, every step waits for what it needs).
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub action: Action,
    pub pause: Duration,
}

/// The scenario's metadata, from `kuroko record`'s options.
#[derive(Debug, Clone, Default)]
pub struct Metadata {
    pub id: String,
    pub name: String,
    pub department: String,
    pub task: String,
    /// When it was recorded, for the script's first comment.
    pub recorded_at: String,
}

/// The first data row of `--data`: one recorded item becomes a loop over the sheet.
#[derive(Debug, Clone)]
pub struct Data {
    /// As the script reads it, relative to the scenario folder (`input/申請.xlsx`).
    pub path: String,
    /// The sheet's first data row, in the sheet's order.
    pub first_row: Vec<DataCell>,
    /// The column that names an item (`task::item_done`); the sheet's first column unless
    /// given.
    pub key: String,
}

/// One cell of `--data`'s first row.
#[derive(Debug, Clone)]
pub struct DataCell {
    pub column: String,
    /// As it would be typed (a number as its digits).
    pub value: String,
    /// A text cell (`row["列"]` is a string); others are written as `` `${row["列"]}` ``.
    pub text: bool,
}

/// A Rhai string literal for any text (kuroko's own escaping, so 髙 and "\" survive).
pub fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A comment line's text: one line, no control characters.
fn comment(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

impl Data {
    /// The cell whose first-row value is exactly `text`, if any (the first such column).
    fn cell_for(&self, text: &str) -> Option<&DataCell> {
        if text.trim().is_empty() {
            return None;
        }
        self.first_row.iter().find(|c| c.value == text)
    }
}

/// The text as the script writes it: the literal, or `row["列"]` when `--data` has it.
fn text_expr(text: &str, data: Option<&Data>) -> (String, Option<String>) {
    match data.and_then(|d| d.cell_for(text)) {
        Some(cell) if cell.text => (
            format!("row[{}]", literal(&cell.column)),
            Some(cell.column.clone()),
        ),
        Some(cell) => (
            format!("`${{row[{}]}}`", literal(&cell.column)),
            Some(cell.column.clone()),
        ),
        None => (literal(text), None),
    }
}

fn pause_note(pause: Duration) -> String {
    if pause >= Duration::from_secs(2) {
        format!("（記録時はこの前に {:.1} 秒の間）", pause.as_secs_f64())
    } else {
        String::new()
    }
}

/// `main.rhai` for the steps.
pub fn main_rhai(meta: &Metadata, steps: &[Step], data: Option<&Data>) -> String {
    let mut out = String::new();
    let title = if meta.name.is_empty() {
        &meta.id
    } else {
        &meta.name
    };
    let _ = writeln!(out, "// {}", comment(title));
    let _ = writeln!(
        out,
        "// kuroko record で記録（{}、{} 操作）。各操作は必要なものが現れるまで待ちます（待ち時間を書く必要はありません）。",
        comment(&meta.recorded_at),
        steps.len()
    );
    let indent = if data.is_some() { "    " } else { "" };
    if let Some(d) = data {
        let _ = writeln!(
            out,
            "// {} の各行を入力します。前回までに済んだ行は飛ばします。\n",
            comment(&d.path)
        );
        let _ = writeln!(out, "let rows = sheet::read({});", literal(&d.path));
        let _ = writeln!(out, "task::set_total(rows.len());");
        let _ = writeln!(out, "for row in rows {{");
        let _ = writeln!(
            out,
            "    if task::is_done(row[{}]) {{ continue; }}",
            literal(&d.key)
        );
    } else {
        out.push('\n');
    }
    for (i, step) in steps.iter().enumerate() {
        let n = i + 1;
        let pause = pause_note(step.pause);
        let (what, code) = match &step.action {
            Action::ClickControl {
                selector,
                label,
                double,
            } => {
                let call = format!("ui::click({selector});");
                if *double {
                    (
                        format!("{} をダブルクリック", comment(label)),
                        format!("{call}\n{indent}ui::click({selector});"),
                    )
                } else {
                    (format!("{} をクリック", comment(label)), call)
                }
            }
            Action::ClickImage {
                image,
                label,
                offset,
                double,
            } => {
                let mut opts = String::from("#{ timeout_s: 15");
                if *offset != (0, 0) {
                    let _ = write!(opts, ", offset: #{{ x: {}, y: {} }}", offset.0, offset.1);
                }
                opts.push_str(" }");
                let call = format!("screen::click_image({}, {opts});", literal(image));
                let what = format!("{} をクリック（画像）", comment(label));
                if *double {
                    let m = format!(
                        "let m = screen::find({}, {opts});\n{indent}mouse::double_click_xy(m.cx + {}, m.cy + {});",
                        literal(image),
                        offset.0,
                        offset.1
                    );
                    (format!("{} をダブルクリック（画像）", comment(label)), m)
                } else {
                    (what, call)
                }
            }
            Action::SetText {
                selector,
                label,
                text,
            } => {
                let (expr, column) = text_expr(text, data);
                let what = match column {
                    Some(c) => format!("{} に {} 列の値を入力", comment(label), comment(&c)),
                    None => format!("{} に「{}」を入力", comment(label), comment(text)),
                };
                (what, format!("ui::set_text({selector}, {expr});"))
            }
            Action::TypeText { text } => {
                let (expr, column) = text_expr(text, data);
                let what = match column {
                    Some(c) => format!("{} 列の値を入力", comment(&c)),
                    None => format!("「{}」を入力", comment(text)),
                };
                (what, format!("keyboard::type_text({expr});"))
            }
            Action::Press { key } => (
                format!("{} キー", comment(key)),
                format!("keyboard::press({});", literal(key)),
            ),
            Action::Hotkey { keys } => (
                format!("{} キー", comment(&keys.join("+"))),
                format!(
                    "keyboard::hotkey([{}]);",
                    keys.iter()
                        .map(|k| literal(k))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            Action::WaitWindow { title } => (
                format!("「{}」画面が開くのを待つ", comment(title)),
                format!("window::wait({}, 30);", literal(title)),
            ),
        };
        let _ = writeln!(out, "{indent}// {n}. {what}{pause}");
        let _ = writeln!(out, "{indent}{code}");
    }
    if let Some(d) = data {
        let _ = writeln!(out, "    task::item_done(row[{}]);", literal(&d.key));
        let _ = writeln!(out, "}}");
    }
    out
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// `scenario.toml`: the metadata given; the baseline minutes are left at 0 for the author,
/// and say so.
pub fn scenario_toml(meta: &Metadata, data: Option<&Data>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# kuroko record で記録したシナリオ（{}）。",
        comment(&meta.recorded_at)
    );
    let _ = writeln!(out, "id = {}", toml_string(&meta.id));
    let _ = writeln!(out, "name = {}", toml_string(&meta.name));
    let _ = writeln!(out, "department = {}", toml_string(&meta.department));
    let _ = writeln!(out, "task = {}", toml_string(&meta.task));
    out.push_str(
        "# ↓ 要記入: 手作業で1件に何分かかっていたか（削減時間の計算に使います）。記録では分かりません。\n\
         manual_minutes_per_item = 0.0\n\
         # ↓ 要記入: ロボットの実行後、人が1件の確認に使う分数。\n\
         human_minutes_per_item = 0.0\n\
         mode = \"attended\"\n",
    );
    if data.is_some() {
        out.push_str("inputs = [\"input\"]\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desktop::ui::Role;

    fn sel(role: Role, name: &str) -> Selector {
        Selector {
            window: Some("申請入力".into()),
            role: Some(role),
            name: Some(name.into()),
            ..Selector::default()
        }
    }

    fn steps() -> Vec<Step> {
        let step = |action, pause_s: u64| Step {
            action,
            pause: Duration::from_secs(pause_s),
        };
        vec![
            step(
                Action::ClickControl {
                    selector: sel(Role::Button, "新規"),
                    label: "新規".into(),
                    double: false,
                },
                0,
            ),
            step(
                Action::SetText {
                    selector: sel(Role::Text, "受付番号"),
                    label: "受付番号".into(),
                    text: "R6-00001".into(),
                },
                1,
            ),
            step(
                Action::SetText {
                    selector: sel(Role::Text, "氏名"),
                    label: "氏名".into(),
                    text: "髙橋 \"𠮷\" 男\\".into(),
                },
                3,
            ),
            step(
                Action::ClickImage {
                    image: "images/004_登録.png".into(),
                    label: "登録".into(),
                    offset: (3, -2),
                    double: false,
                },
                0,
            ),
            step(
                Action::WaitWindow {
                    title: "登録完了".into(),
                },
                0,
            ),
            step(
                Action::Hotkey {
                    keys: vec!["Ctrl".into(), "s".into()],
                },
                0,
            ),
        ]
    }

    fn meta() -> Metadata {
        Metadata {
            id: "shinsei".into(),
            name: "申請入力".into(),
            department: "市民課".into(),
            task: "申請の入力".into(),
            recorded_at: "2026-12-06 16:30".into(),
        }
    }

    #[test]
    fn each_step_is_a_numbered_japanese_comment_and_one_call_without_sleep() {
        let script = main_rhai(&meta(), &steps(), None);
        assert!(script.contains("// 1. 新規 をクリック\nui::click(#{window: \"申請入力\", role: \"button\", name: \"新規\"});\n"), "{script}");
        assert!(
            script.contains("// 2. 受付番号 に「R6-00001」を入力\n"),
            "{script}"
        );
        assert!(
            script.contains("// 3. 氏名 に「髙橋 \"𠮷\" 男\\」を入力（記録時はこの前に 3.0 秒の間）\nui::set_text(#{window: \"申請入力\", role: \"text\", name: \"氏名\"}, \"髙橋 \\\"𠮷\\\" 男\\\\\");"),
            "{script}"
        );
        assert!(script.contains("// 4. 登録 をクリック（画像）\nscreen::click_image(\"images/004_登録.png\", #{ timeout_s: 15, offset: #{ x: 3, y: -2 } });"), "{script}");
        assert!(
            script
                .contains("// 5. 「登録完了」画面が開くのを待つ\nwindow::wait(\"登録完了\", 30);"),
            "{script}"
        );
        assert!(
            script.contains("// 6. Ctrl+s キー\nkeyboard::hotkey([\"Ctrl\", \"s\"]);"),
            "{script}"
        );
        assert!(!script.contains("sleep("), "{script}");
        // It compiles, and its manifest is valid.
        let engine = crate::engine::build(None, crate::engine::Limits::default());
        crate::engine::compile(&engine, "main.rhai", &script).unwrap();
        crate::scenario::Manifest::parse(&scenario_toml(&meta(), None)).unwrap();
    }

    #[test]
    fn with_data_typed_values_become_the_rows_columns_in_a_loop() {
        let data = Data {
            path: "input/申請.xlsx".into(),
            first_row: vec![
                DataCell {
                    column: "受付番号".into(),
                    value: "R6-00001".into(),
                    text: true,
                },
                DataCell {
                    column: "氏名".into(),
                    value: "髙橋 \"𠮷\" 男\\".into(),
                    text: true,
                },
                DataCell {
                    column: "番地".into(),
                    value: "11".into(),
                    text: false,
                },
            ],
            key: "受付番号".into(),
        };
        let script = main_rhai(&meta(), &steps(), Some(&data));
        assert!(
            script.contains("let rows = sheet::read(\"input/申請.xlsx\");\n"),
            "{script}"
        );
        assert!(
            script.contains(
                "for row in rows {\n    if task::is_done(row[\"受付番号\"]) { continue; }\n"
            ),
            "{script}"
        );
        assert!(script.contains("    // 2. 受付番号 に 受付番号 列の値を入力\n    ui::set_text(#{window: \"申請入力\", role: \"text\", name: \"受付番号\"}, row[\"受付番号\"]);"), "{script}");
        assert!(script.contains("    ui::set_text(#{window: \"申請入力\", role: \"text\", name: \"氏名\"}, row[\"氏名\"]);"), "{script}");
        assert!(
            script.contains("    task::item_done(row[\"受付番号\"]);\n}\n"),
            "{script}"
        );
        let engine = crate::engine::build(None, crate::engine::Limits::default());
        crate::engine::compile(&engine, "main.rhai", &script).unwrap();
        let manifest = scenario_toml(&meta(), Some(&data));
        assert!(manifest.contains("inputs = [\"input\"]"));
        assert!(manifest.contains("要記入"));
        crate::scenario::Manifest::parse(&manifest).unwrap();
    }
}

//! The rows of a work file (xlsx or CSV, UTF-8 or Shift_JIS) as queue items for `kuroko queue
//! add`: each row keyed by one column, every bad key listed with its row, nothing added unless
//! all are good.

use std::collections::HashMap;
use std::path::Path;

use super::QueueRow;
use crate::sheets::Value;
use crate::sheets::read::{ReadOptions, read};

/// The longest key (the same limit as `task::item_done`).
pub const MAX_KEY_CHARS: usize = 256;
/// How many problems are listed one by one.
const MAX_LISTED: usize = 30;

fn json(value: &Value) -> serde_json::Value {
    match value {
        Value::Empty => serde_json::Value::Null,
        Value::Int(i) => serde_json::Value::from(*i),
        Value::Float(f) => serde_json::Value::from(*f),
        Value::Text(s) => serde_json::Value::from(s.as_str()),
        Value::Bool(b) => serde_json::Value::from(*b),
        Value::Date(d) => serde_json::Value::from(d.to_string()),
    }
}

/// A key cell as text, or why it cannot be one.
fn key_text(value: &Value) -> Result<String, String> {
    let text = match value {
        Value::Empty => return Err("is empty".into()),
        Value::Text(s) => s.trim().to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Date(d) => d.to_string(),
    };
    if text.is_empty() {
        return Err("is blank".into());
    }
    let chars = text.chars().count();
    if chars > MAX_KEY_CHARS {
        return Err(format!(
            "is {chars} characters long (at most {MAX_KEY_CHARS})"
        ));
    }
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        return Err(format!("contains the control character U+{:04X}", c as u32));
    }
    Ok(text)
}

/// Every row of `file` as a queue item keyed by the column `key`; or every problem, each with
/// its row (as the spreadsheet numbers it).
pub fn read_rows(file: &Path, key: &str) -> Result<Vec<QueueRow>, Vec<String>> {
    let label = file.display().to_string();
    let table = read(file, &label, &ReadOptions::default()).map_err(|e| vec![e.0])?;
    let Some(column) = table.headers.iter().position(|h| h == key) else {
        return Err(vec![format!(
            "{label}: no column {key:?}{}; its columns are {}",
            crate::suggest::hint(key, table.headers.iter().map(String::as_str)),
            table
                .headers
                .iter()
                .map(|h| format!("{h:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        )]);
    };
    let mut problems = Vec::new();
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut rows = Vec::with_capacity(table.rows.len());
    for (i, cells) in table.rows.iter().enumerate() {
        let line = table.first_row + i as u32;
        if cells.iter().all(Value::is_empty) {
            continue;
        }
        let cell = cells.get(column).unwrap_or(&Value::Empty);
        let key_value = match key_text(cell) {
            Ok(k) => k,
            Err(why) => {
                problems.push(format!("{label}: row {line}, column {key}: the key {why}"));
                continue;
            }
        };
        if let Some(first) = seen.get(&key_value) {
            problems.push(format!(
                "{label}: row {line}, column {key}: {key_value:?} is also the key of row {first}"
            ));
            continue;
        }
        seen.insert(key_value.clone(), line);
        let data: serde_json::Map<String, serde_json::Value> = table
            .headers
            .iter()
            .zip(cells.iter().chain(std::iter::repeat(&Value::Empty)))
            .map(|(h, v)| (h.clone(), json(v)))
            .collect();
        rows.push(QueueRow {
            key: key_value,
            data: serde_json::Value::Object(data).to_string(),
        });
    }
    if rows.is_empty() && problems.is_empty() {
        problems.push(format!("{label}: no rows under the header"));
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        let more = problems.len().saturating_sub(MAX_LISTED);
        problems.truncate(MAX_LISTED);
        if more > 0 {
            problems.push(format!("... and {more} more"));
        }
        Err(problems)
    }
}

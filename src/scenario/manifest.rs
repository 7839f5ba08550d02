//! `scenario.toml`: what a scenario is called, whom it serves, what an item costs by hand,
//! and which folders it may touch. Every problem is reported with its line, all at once.

use serde::Deserialize;

use crate::suggest;
use crate::timesaved::Baselines;

/// Whether a person's PC is busy while the robot works (attended) or a robot PC runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Attended,
    Unattended,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Attended => "attended",
            Mode::Unattended => "unattended",
        }
    }
}

/// A file the clerk chooses (or uploads) when starting the run from the launcher
/// (`[[ask]]` in scenario.toml). The run gets its path, relative to the scenario folder, as
/// the run variable `var` (`task::get_var`).
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Ask {
    pub var: String,
    /// What the dialog calls it, e.g. "申請一覧".
    pub label: String,
    /// One of `inputs`: the files offered, and where uploads go.
    pub folder: String,
    /// The file types accepted, without the dot: ["xlsx", "csv"].
    pub extensions: Vec<String>,
    /// The largest upload, in megabytes.
    #[serde(default = "default_max_mb")]
    pub max_mb: f64,
}

fn default_max_mb() -> f64 {
    20.0
}

/// The work queue a scenario takes its items from (`[queue]` in scenario.toml):
/// `queue::next()` claims them one at a time, and `kuroko agent` runs the scenario while the
/// queue has work.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct QueueSpec {
    /// e.g. "転入届" (the name `kuroko queue add` was given).
    pub name: String,
}

/// The largest `max_mb` a scenario may allow (the launcher holds an upload in memory).
pub const MAX_UPLOAD_MB: f64 = 200.0;

impl Ask {
    /// Whether a file name has one of the accepted extensions.
    pub fn accepts(&self, name: &str) -> bool {
        std::path::Path::new(name)
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| self.extensions.iter().any(|x| x.eq_ignore_ascii_case(e)))
    }

    pub fn max_bytes(&self) -> u64 {
        (self.max_mb * 1024.0 * 1024.0) as u64
    }
}

/// The parsed and validated `scenario.toml`.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct Manifest {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub department: String,
    #[serde(default)]
    pub task: String,
    #[serde(default)]
    pub description: String,
    pub manual_minutes_per_item: f64,
    #[serde(default)]
    pub human_minutes_per_item: f64,
    #[serde(default)]
    pub human_minutes_per_run: f64,
    #[serde(default)]
    pub mode: Mode,
    /// The run is stopped and recorded as failed after this many minutes.
    #[serde(default)]
    pub timeout_minutes: Option<f64>,
    /// Folders (relative to the scenario folder, or absolute) the script may read.
    #[serde(default)]
    pub inputs: Vec<String>,
    /// Folders the script may write (and read).
    #[serde(default)]
    pub outputs: Vec<String>,
    /// Rhai operation limit for one run (stops runaway loops).
    #[serde(default)]
    pub max_operations: Option<u64>,
    /// The memory the run may hold, in MB (stops strings and tables that grow without end).
    #[serde(default)]
    pub max_memory_mb: Option<u64>,
    /// Files the launcher asks for before a run.
    #[serde(default)]
    pub ask: Vec<Ask>,
    /// The work queue the scenario takes items from.
    #[serde(default)]
    pub queue: Option<QueueSpec>,
}

/// Every key `scenario.toml` understands, for typo hints.
pub const KNOWN_KEYS: &[&str] = &[
    "id",
    "name",
    "department",
    "task",
    "description",
    "manual_minutes_per_item",
    "human_minutes_per_item",
    "human_minutes_per_run",
    "mode",
    "timeout_minutes",
    "inputs",
    "outputs",
    "max_operations",
    "max_memory_mb",
    "ask",
    "queue",
];

/// The longest scenario id (it names run folders and ledger rows).
pub const MAX_ID_CHARS: usize = 64;
/// The longest name, 課 and 業務 (they are report cells and labels).
pub const MAX_LABEL_CHARS: usize = 100;
/// The longest description.
pub const MAX_DESCRIPTION_CHARS: usize = 1000;
/// The largest per-item or per-run baseline: a working day.
pub const MAX_BASELINE_MINUTES: f64 = 24.0 * 60.0;
/// The longest run timeout: a week.
pub const MAX_TIMEOUT_MINUTES: f64 = 7.0 * 24.0 * 60.0;
/// The memory limits a manifest may set, in MB.
pub const MEMORY_MB: std::ops::RangeInclusive<u64> = 64..=16 * 1024;
/// How many unknown keys are listed one by one (the rest are counted).
const MAX_LISTED_UNKNOWN: usize = 20;

/// One problem in a manifest, with its 1-based position.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl Manifest {
    /// The time-saved baselines this manifest puts in force for a run.
    pub fn baselines(&self) -> Baselines {
        Baselines {
            manual_minutes_per_item: self.manual_minutes_per_item,
            human_minutes_per_item: self.human_minutes_per_item,
            human_minutes_per_run: self.human_minutes_per_run,
            attended: self.mode == Mode::Attended,
        }
    }
    /// The manifest of an ad-hoc `.rhai` file: named after the file, no baseline, may write `output/`.
    pub fn ad_hoc(stem: &str) -> Manifest {
        Manifest {
            id: stem.to_string(),
            name: stem.to_string(),
            department: String::new(),
            task: String::new(),
            description: "ad-hoc script".to_string(),
            manual_minutes_per_item: 0.0,
            human_minutes_per_item: 0.0,
            human_minutes_per_run: 0.0,
            mode: Mode::Attended,
            timeout_minutes: None,
            inputs: Vec::new(),
            outputs: vec!["output".to_string()],
            max_operations: None,
            max_memory_mb: None,
            ask: Vec::new(),
            queue: None,
        }
    }

    /// Parses and validates; on failure returns every problem found.
    pub fn parse(text: &str) -> Result<Manifest, Vec<Problem>> {
        let table: toml::Table = match text.parse() {
            Ok(table) => table,
            Err(e) => return Err(vec![problem_from_toml(text, &e)]),
        };
        let mut problems = Vec::new();
        let positions = key_positions(text);
        let unknown: Vec<&String> = table
            .keys()
            .filter(|k| !KNOWN_KEYS.contains(&k.as_str()))
            .collect();
        for key in unknown.iter().take(MAX_LISTED_UNKNOWN) {
            let (line, column) = positions.get(key.as_str()).copied().unwrap_or((1, 1));
            problems.push(Problem {
                line,
                column,
                message: format!(
                    "unknown key `{}`{}",
                    shorten(key),
                    suggest::hint(key, KNOWN_KEYS.iter().copied())
                ),
            });
        }
        if unknown.len() > MAX_LISTED_UNKNOWN {
            problems.push(Problem {
                line: 1,
                column: 1,
                message: format!(
                    "… and {} more unknown keys (known: {})",
                    unknown.len() - MAX_LISTED_UNKNOWN,
                    KNOWN_KEYS.join(", ")
                ),
            });
        }
        let manifest = match toml::from_str::<Manifest>(text) {
            Ok(m) => Some(m),
            Err(e) => {
                problems.push(problem_from_toml(text, &e));
                None
            }
        };
        if let Some(m) = &manifest {
            problems.extend(m.validate(text));
        }
        match manifest {
            Some(m) if problems.is_empty() => Ok(m),
            _ => Err(problems),
        }
    }

    fn validate(&self, text: &str) -> Vec<Problem> {
        let mut problems = Vec::new();
        if let Some(queue) = &self.queue {
            let name = queue.name.trim();
            let (line, column) = table_position(text, "[queue]", 0);
            let problem = if name.is_empty() {
                Some("[queue] name must not be empty".to_string())
            } else if name.chars().count() > MAX_LABEL_CHARS {
                Some(format!(
                    "[queue] name is longer than {MAX_LABEL_CHARS} characters"
                ))
            } else if name.chars().any(char::is_control) {
                Some("[queue] name contains a control character; remove it".to_string())
            } else {
                None
            };
            if let Some(message) = problem {
                problems.push(Problem {
                    line,
                    column,
                    message,
                });
            }
        }
        let positions = key_positions(text);
        let mut bad = |key: &str, message: String| {
            let (line, column) = positions.get(key).copied().unwrap_or((1, 1));
            problems.push(Problem {
                line,
                column,
                message: format!("`{key}`: {message}"),
            });
        };
        if self.id.is_empty()
            || self.id.chars().count() > MAX_ID_CHARS
            || !self
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            bad(
                "id",
                format!(
                    "{:?} must be 1 to {MAX_ID_CHARS} characters of a-z, 0-9, '-' and '_'",
                    shorten(&self.id)
                ),
            );
        }
        if self.name.trim().is_empty() {
            bad("name", "must not be empty".into());
        }
        for (key, value, max) in [
            ("name", &self.name, MAX_LABEL_CHARS),
            ("department", &self.department, MAX_LABEL_CHARS),
            ("task", &self.task, MAX_LABEL_CHARS),
            ("description", &self.description, MAX_DESCRIPTION_CHARS),
        ] {
            let chars = value.chars().count();
            if chars > max {
                bad(key, format!("is {chars} characters long; at most {max}"));
            } else if let Some(c) = value.chars().find(|c| is_hidden_control(*c)) {
                bad(
                    key,
                    format!(
                        "contains the control character U+{:04X}; remove it",
                        c as u32
                    ),
                );
            }
        }
        for (key, value) in [
            ("manual_minutes_per_item", self.manual_minutes_per_item),
            ("human_minutes_per_item", self.human_minutes_per_item),
            ("human_minutes_per_run", self.human_minutes_per_run),
        ] {
            if !(0.0..=MAX_BASELINE_MINUTES).contains(&value) {
                bad(
                    key,
                    format!(
                        "{} must be a number of minutes from 0 to {MAX_BASELINE_MINUTES} (a day)",
                        number(value)
                    ),
                );
            }
        }
        if let Some(t) = self.timeout_minutes
            && !(t > 0.0 && t <= MAX_TIMEOUT_MINUTES)
        {
            bad(
                "timeout_minutes",
                format!(
                    "{} must be more than 0 and at most {MAX_TIMEOUT_MINUTES} (a week)",
                    number(t)
                ),
            );
        }
        if self.max_operations == Some(0) {
            bad("max_operations", "must be more than 0".into());
        }
        if let Some(mb) = self.max_memory_mb
            && !MEMORY_MB.contains(&mb)
        {
            bad(
                "max_memory_mb",
                format!(
                    "{mb} must be from {} to {} (MB)",
                    MEMORY_MB.start(),
                    MEMORY_MB.end()
                ),
            );
        }
        for (key, folders) in [("inputs", &self.inputs), ("outputs", &self.outputs)] {
            for folder in folders {
                if folder.trim().is_empty() {
                    bad(key, "folder names must not be empty".into());
                }
            }
        }
        for (n, ask) in self.ask.iter().enumerate() {
            let (line, column) = table_position(text, "[[ask]]", n);
            let mut bad = |message: String| {
                problems.push(Problem {
                    line,
                    column,
                    message: format!("[[ask]] {:?}: {message}", ask.var),
                })
            };
            if ask.var.is_empty()
                || !ask
                    .var
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                bad("`var` must be a name of a-z, 0-9 and '_'".into());
            }
            if self.ask[..n].iter().any(|a| a.var == ask.var) {
                bad("asked twice".into());
            }
            if !self.inputs.contains(&ask.folder) {
                bad(format!(
                    "`folder` {:?} must be one of `inputs` ({})",
                    ask.folder,
                    self.inputs.join(", ")
                ));
            }
            if ask.extensions.is_empty()
                || ask
                    .extensions
                    .iter()
                    .any(|e| e.is_empty() || !e.chars().all(|c| c.is_ascii_alphanumeric()))
            {
                bad(
                    "`extensions` must list file types without the dot, e.g. [\"xlsx\", \"csv\"]"
                        .into(),
                );
            }
            if !(ask.max_mb > 0.0 && ask.max_mb <= MAX_UPLOAD_MB) {
                bad(format!(
                    "`max_mb` must be more than 0 and at most {MAX_UPLOAD_MB}"
                ));
            }
        }
        problems
    }
}

/// Where the `n`th (0-based) `[[table]]` header stands (1,1 when it is not written).
fn table_position(text: &str, header: &str, n: usize) -> (usize, usize) {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with(header))
        .nth(n)
        .map(|(i, l)| (i + 1, l.len() - l.trim_start().len() + 1))
        .unwrap_or((1, 1))
}

fn problem_from_toml(text: &str, e: &toml::de::Error) -> Problem {
    let (line, column) = e
        .span()
        .map(|span| line_column(text, span.start))
        .unwrap_or((1, 1));
    Problem {
        line,
        column,
        message: e.message().trim().to_string(),
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, column)
}

/// Where each `key = ...` first stands (line, column), in one pass over the text; a key that is
/// not written (e.g. a missing one) is not in the map and is reported at 1:1.
fn key_positions(text: &str) -> std::collections::HashMap<&str, (usize, usize)> {
    let mut found = std::collections::HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let bare = trimmed.trim_start_matches(['"', '\'']);
        let end = bare.find(['"', '\'', '=', ' ', '\t']).unwrap_or(bare.len());
        let (key, rest) = bare.split_at(end);
        if !key.is_empty()
            && rest
                .trim_start_matches(['"', '\''])
                .trim_start()
                .starts_with('=')
        {
            found
                .entry(key)
                .or_insert((i + 1, line.len() - trimmed.len() + 1));
        }
    }
    found
}

/// A number as written, short: `1e300` rather than its 301 digits.
fn number(v: f64) -> String {
    if v.is_finite() && v.abs() < 1e9 {
        v.to_string()
    } else {
        format!("{v:e}")
    }
}

/// A text cut to 60 characters for a message (a mistyped key may be a whole line of junk).
fn shorten(text: &str) -> String {
    if text.chars().count() <= 60 {
        text.to_string()
    } else {
        text.chars().take(60).collect::<String>() + "…"
    }
}

/// Control characters that would corrupt a report cell or hide what a label says: C0/C1
/// controls, bidi overrides and zero-width characters (tabs and newlines are not allowed in
/// labels either).
pub fn is_hidden_control(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
id = "juminhyo"
name = "住民票の写し 交付記録"
department = "市民課"
task = "交付記録の入力"
manual_minutes_per_item = 4.5
mode = "unattended"
outputs = ["output"]
"#;

    #[test]
    fn parses_a_good_manifest() {
        let m = Manifest::parse(GOOD).unwrap();
        assert_eq!(m.department, "市民課");
        assert_eq!(m.mode, Mode::Unattended);
        assert_eq!(m.human_minutes_per_run, 0.0);
    }

    #[test]
    fn timeout_minutes_beyond_a_week_is_refused_with_its_line() {
        for value in ["1e300", "9223372036854775807", "10081", "nan", "-1", "0"] {
            let text = format!("{GOOD}timeout_minutes = {value}\n");
            let problems = Manifest::parse(&text).unwrap_err();
            assert!(
                problems
                    .iter()
                    .any(|p| p.line == 9 && p.message.contains("at most 10080")),
                "{value}: {problems:?}"
            );
        }
        assert!(Manifest::parse(&format!("{GOOD}timeout_minutes = 10080\n")).is_ok());
    }

    #[test]
    fn an_id_is_short_and_lower_case() {
        for id in ["ABC".to_string(), "a".repeat(5000), "住民票".into()] {
            let text = GOOD.replace("\"juminhyo\"", &format!("{id:?}"));
            let problems = Manifest::parse(&text).unwrap_err();
            assert!(
                problems
                    .iter()
                    .any(|p| p.line == 2 && p.message.contains("1 to 64 characters")),
                "{problems:?}"
            );
            assert!(problems.iter().all(|p| p.message.len() < 300));
        }
    }

    #[test]
    fn labels_have_a_length_and_no_hidden_characters() {
        let long = GOOD.replace("市民課", &"課".repeat(101));
        assert!(
            Manifest::parse(&long).unwrap_err()[0]
                .message
                .contains("`department`: is 101 characters long; at most 100")
        );
        let bidi = GOOD.replace("市民課", "市民\u{202E}課");
        assert!(
            Manifest::parse(&bidi).unwrap_err()[0]
                .message
                .contains("U+202E")
        );
        let baseline = GOOD.replace("4.5", "1441");
        assert!(
            Manifest::parse(&baseline).unwrap_err()[0]
                .message
                .contains("from 0 to 1440")
        );
    }

    #[test]
    fn thousands_of_unknown_keys_are_counted_not_listed() {
        // 32,000 keys took 19.7 s when each key's line was searched from the top.
        let mut text = GOOD.to_string();
        for n in 0..32_000 {
            text.push_str(&format!("key_{n} = 1\n"));
        }
        let problems = Manifest::parse(&text).unwrap_err();
        assert_eq!(problems.len(), 21, "{:?}", &problems[..3]);
        assert!(problems[20].message.contains("31980 more unknown keys"));
        assert!(problems[..20].iter().all(|p| p.line >= 9));
    }

    #[test]
    fn names_every_unknown_key_with_its_line() {
        let text = GOOD.replace("department =", "departmnt =") + "colour = 1\n";
        let problems = Manifest::parse(&text).unwrap_err();
        assert!(problems.iter().any(|p| p.line == 4
            && p.message.contains("`departmnt`")
            && p.message.contains("did you mean `department`")));
        assert!(
            problems
                .iter()
                .any(|p| p.line == 9 && p.message.contains("`colour`"))
        );
    }

    #[test]
    fn reports_wrong_types_and_bad_values_with_lines() {
        let text = GOOD.replace("4.5", "\"four\"");
        let problems = Manifest::parse(&text).unwrap_err();
        assert_eq!(problems[0].line, 6, "{problems:?}");

        let text = GOOD.replace("4.5", "-1");
        let problems = Manifest::parse(&text).unwrap_err();
        assert_eq!(problems[0].line, 6);
        assert!(problems[0].message.contains("from 0 to 1440"));

        let text = GOOD.replace("unattended", "sometimes");
        let problems = Manifest::parse(&text).unwrap_err();
        assert_eq!(problems[0].line, 7, "{problems:?}");
    }

    #[test]
    fn files_to_ask_for_are_checked_with_their_lines() {
        let good = GOOD.replace("outputs", "inputs = [\"input\"]\noutputs")
            + "\n[[ask]]\nvar = \"file\"\nlabel = \"申請一覧\"\nfolder = \"input\"\nextensions = [\"xlsx\", \"CSV\"]\n";
        let m = Manifest::parse(&good).unwrap();
        assert_eq!(m.ask[0].max_mb, 20.0);
        assert!(m.ask[0].accepts("申請.xlsx") && m.ask[0].accepts("a.csv"));
        assert!(!m.ask[0].accepts("a.exe") && !m.ask[0].accepts("xlsx"));

        let bad = good.replace("folder = \"input\"", "folder = \"elsewhere\"")
            + "\n[[ask]]\nvar = \"file\"\nlabel = \"x\"\nfolder = \"input\"\nextensions = [\".xlsx\"]\nmax_mb = 0\n";
        let problems = Manifest::parse(&bad).unwrap_err();
        let at = |line: usize, text: &str| {
            assert!(
                problems
                    .iter()
                    .any(|p| p.line == line && p.message.contains(text)),
                "line {line} {text:?}: {problems:?}"
            )
        };
        at(11, "must be one of `inputs` (input)");
        at(17, "asked twice");
        at(17, "without the dot");
        at(17, "`max_mb`");
        let unknown = good.replace("label =", "lable =");
        let problems = Manifest::parse(&unknown).unwrap_err();
        assert!(problems[0].message.contains("lable"), "{problems:?}");
    }

    #[test]
    fn missing_required_key_is_a_problem() {
        let text = GOOD.replace("manual_minutes_per_item = 4.5\n", "");
        let problems = Manifest::parse(&text).unwrap_err();
        assert!(
            problems[0].message.contains("manual_minutes_per_item"),
            "{problems:?}"
        );
    }
}

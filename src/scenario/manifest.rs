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
    /// Files the launcher asks for before a run.
    #[serde(default)]
    pub ask: Vec<Ask>,
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
    "ask",
];

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
            ask: Vec::new(),
        }
    }

    /// Parses and validates; on failure returns every problem found.
    pub fn parse(text: &str) -> Result<Manifest, Vec<Problem>> {
        let table: toml::Table = match text.parse() {
            Ok(table) => table,
            Err(e) => return Err(vec![problem_from_toml(text, &e)]),
        };
        let mut problems = Vec::new();
        for key in table.keys() {
            if !KNOWN_KEYS.contains(&key.as_str()) {
                let (line, column) = key_position(text, key);
                problems.push(Problem {
                    line,
                    column,
                    message: format!(
                        "unknown key `{key}`{}",
                        suggest::hint(key, KNOWN_KEYS.iter().copied())
                    ),
                });
            }
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
        let mut bad = |key: &str, message: String| {
            let (line, column) = key_position(text, key);
            problems.push(Problem {
                line,
                column,
                message: format!("`{key}`: {message}"),
            });
        };
        if self.id.is_empty()
            || !self
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            bad(
                "id",
                format!(
                    "{:?} must be non-empty and use only a-z, 0-9, '-' and '_'",
                    self.id
                ),
            );
        }
        if self.name.trim().is_empty() {
            bad("name", "must not be empty".into());
        }
        for (key, value) in [
            ("manual_minutes_per_item", self.manual_minutes_per_item),
            ("human_minutes_per_item", self.human_minutes_per_item),
            ("human_minutes_per_run", self.human_minutes_per_run),
        ] {
            if !value.is_finite() || value < 0.0 {
                bad(
                    key,
                    format!("{value} must be a number of minutes, 0 or more"),
                );
            }
        }
        if let Some(t) = self.timeout_minutes
            && (!t.is_finite() || t <= 0.0)
        {
            bad("timeout_minutes", format!("{t} must be more than 0"));
        }
        if self.max_operations == Some(0) {
            bad("max_operations", "must be more than 0".into());
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

/// Where `key = ...` stands at the top level (1,1 when it is not written, e.g. a missing key).
fn key_position(text: &str, key: &str) -> (usize, usize) {
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let bare = trimmed.trim_start_matches(['"', '\'']);
        if let Some(rest) = bare.strip_prefix(key) {
            let rest = rest.trim_start_matches(['"', '\'']).trim_start();
            if rest.starts_with('=') {
                return (i + 1, line.len() - trimmed.len() + 1);
            }
        }
    }
    (1, 1)
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
        assert!(problems[0].message.contains("0 or more"));

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

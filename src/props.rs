//! Property tests over what comes from outside: scenario.toml, history imports, 和暦 and
//! 全角/半角 text, the launcher's access rules and the script sandbox. Each runs thousands of
//! generated inputs in the normal suite: none may panic, and each rule must hold for all of
//! them. proptest keeps any failure it finds in `proptest-regressions/` (the corpus, in the
//! repository), and the cases the hardening review found are written out below as well.

#[cfg(test)]
mod cases {
    use std::path::PathBuf;

    use chrono::{Datelike, NaiveDate};
    use proptest::prelude::*;

    use crate::japanese::{wareki, width};
    use crate::ledger::import;
    use crate::sandbox::Sandbox;
    use crate::scenario::{KNOWN_KEYS, Manifest};
    use crate::serve::access::{Access, RequestInfo, Verdict};

    /// A value as a hurried or hostile author might write it in scenario.toml.
    fn toml_value() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("1e300".to_string()),
            Just("9223372036854775807".to_string()),
            Just("-1".to_string()),
            Just("nan".to_string()),
            Just("inf".to_string()),
            Just("0".to_string()),
            Just("\"\"".to_string()),
            Just("[]".to_string()),
            Just("true".to_string()),
            (0.0f64..20000.0).prop_map(|v| v.to_string()),
            "[a-zA-Z0-9_\\- 住民票課\u{202E}]{0,80}".prop_map(|s| format!("{s:?}")),
            "[a-z]{1,5}".prop_map(|s| format!("[{s:?}, \"\"]")),
        ]
    }

    fn manifest_text() -> impl Strategy<Value = String> {
        let key = prop_oneof![
            proptest::sample::select(KNOWN_KEYS.to_vec()).prop_map(str::to_string),
            "[a-z_]{1,20}",
        ];
        proptest::collection::vec((key, toml_value()), 0..14).prop_map(|lines| {
            let mut seen = std::collections::HashSet::new();
            lines
                .into_iter()
                .filter(|(k, _)| seen.insert(k.clone()))
                .map(|(k, v)| format!("{k} = {v}\n"))
                .collect()
        })
    }

    /// The cases the hardening review found, kept as fixed inputs beside the generated ones.
    const FOUND: &[&str] = &[
        "id = \"x\"\nname = \"x\"\nmanual_minutes_per_item = 1\ntimeout_minutes = 1e300\n",
        "id = \"x\"\nname = \"x\"\nmanual_minutes_per_item = 1\ntimeout_minutes = 9223372036854775807\n",
        "id = \"ABC\"\nname = \"x\"\nmanual_minutes_per_item = 1\n",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// scenario.toml: every text parses or gets problems on its own lines; what parses keeps
        /// every documented limit.
        #[test]
        fn a_manifest_parses_within_its_limits_or_names_its_lines(text in manifest_text()) {
            let lines = text.lines().count().max(1);
            match Manifest::parse(&text) {
                Ok(m) => {
                    prop_assert!(!m.id.is_empty() && m.id.len() <= 64);
                    prop_assert!(m.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'));
                    prop_assert!(m.timeout_minutes.is_none_or(|t| t > 0.0 && t <= 7.0 * 24.0 * 60.0));
                    prop_assert!((0.0..=1440.0).contains(&m.manual_minutes_per_item));
                    prop_assert!(m.name.chars().count() <= 100 && !m.name.chars().any(crate::scenario::is_hidden_control));
                }
                Err(problems) => {
                    prop_assert!(!problems.is_empty());
                    for p in problems {
                        prop_assert!(p.line >= 1 && p.line <= lines + 1, "{p:?} in {text}");
                        prop_assert!(p.message.len() < 2000, "{}", p.message.len());
                    }
                }
            }
        }

        /// Any text at all: no panic.
        #[test]
        fn any_text_as_a_manifest_never_panics(text in "\\PC{0,300}") {
            let _ = Manifest::parse(&text);
        }

        /// A history import: any text is rows or problems with their lines, never a panic; rows
        /// that are well formed are all taken.
        #[test]
        fn an_import_is_checked_whole(
            rows in proptest::collection::vec(
                ((2000i32..2030, 1u32..13, 1u32..29), "[市民税務課]{1,6}", "[入力確認]{1,6}", 1u64..50, 0u64..500, 0.0f64..600.0),
                1..30,
            ),
            junk in "\\PC{0,200}",
        ) {
            let mut text = "date,department,task,runs,items,before_minutes,after_minutes,robot_minutes\n".to_string();
            for ((y, m, d), dept, task, runs, items, before) in &rows {
                text.push_str(&format!("{y}-{m:02}-{d:02},{dept},{task},{runs},{items},{before},{},{}\n", before / 2.0, before / 4.0));
            }
            let parsed = import::parse(&text, "h.csv").unwrap();
            prop_assert_eq!(parsed.len(), rows.len());
            match import::parse(&format!("{text}{junk}\n"), "h.csv") {
                Ok(more) => prop_assert!(more.len() >= rows.len()),
                Err(problems) => prop_assert!(problems.iter().all(|p| p.starts_with("h.csv") || p.starts_with("..."))),
            }
        }

        /// 和暦: every date from 明治 on reads back from each written form.
        #[test]
        fn wareki_written_reads_back(days in 0i64..(2200 * 365)) {
            let date = NaiveDate::from_ymd_opt(1868, 10, 23).unwrap() + chrono::Duration::days(days);
            prop_assume!(date.year() <= 9999);
            for style in [wareki::Style::Long, wareki::Style::Short, wareki::Style::Padded] {
                let text = wareki::format(date, style).unwrap();
                prop_assert_eq!(wareki::parse(&text).unwrap(), date, "{}", text);
                prop_assert_eq!(wareki::parse(&width::zenkaku(&text)).unwrap(), date, "full-width {}", text);
            }
        }

        /// 和暦 from any text: a date or a reason, never a panic.
        #[test]
        fn wareki_from_any_text_never_panics(text in "[RHSTMrhstm令和平成昭大正明治元年月日0-9０-９./\\- ]{0,24}|\\PC{0,40}") {
            if let Ok(d) = wareki::parse(&text) {
                prop_assert!(wareki::era_of(d).is_some());
            }
        }

        /// 全角/半角: ASCII survives the round trip, and any text converts without a panic.
        #[test]
        fn zenkaku_and_back_keeps_ascii(ascii in "[ -~]{0,80}", any in "\\PC{0,80}") {
            prop_assert_eq!(width::hankaku(&width::zenkaku(&ascii)), ascii);
            let _ = (width::zenkaku(&any), width::hankaku(&any));
        }

        /// The launcher's door: whatever a request carries, nothing is allowed in without the token.
        #[test]
        fn no_request_without_the_token_is_let_in(
            method in prop_oneof![Just("GET".to_string()), Just("POST".to_string()), Just("post".to_string()), "[A-Z]{1,7}"],
            path in "/[a-z/.%]{0,30}",
            query in proptest::option::of("[a-z=&%0-9]{0,40}"),
            host in proptest::option::of(prop_oneof![Just("127.0.0.1:8080".to_string()), Just("localhost:8080".to_string()), "\\PC{0,30}"]),
            origin in proptest::option::of(prop_oneof![Just("http://127.0.0.1:8080".to_string()), "\\PC{0,30}"]),
            cookie in proptest::option::of("[a-z_=;0-9 ]{0,60}"),
            authorization in proptest::option::of("(Bearer )?[0-9a-f]{0,40}"),
        ) {
            let access = Access { token: "0123456789abcdef0123456789abcdef".into(), port: 8080 };
            let verdict = access.check(&RequestInfo {
                method: &method,
                path: &path,
                query: query.as_deref(),
                host: host.as_deref(),
                origin: origin.as_deref(),
                sec_fetch_site: None,
                cookie: cookie.as_deref(),
                authorization: authorization.as_deref(),
            });
            prop_assert!(!matches!(verdict, Verdict::Allow), "let in: {verdict:?}");
            if let Verdict::SetCookieAndRedirect { .. } = verdict {
                prop_assert!(false, "a cookie without the token in the query");
            }
        }

        /// The sandbox: whatever path a script names, what it may read lies inside the scenario,
        /// input or output folders, and what it may write inside an output folder.
        #[test]
        fn no_path_leaves_the_sandbox(parts in proptest::collection::vec(prop_oneof![
            Just(".."), Just("."), Just("output"), Just("input"), Just("etc"), Just("main.rhai"),
            Just("/"), Just("/etc"), Just("a.csv"), Just("link"),
        ], 1..7)) {
            let (sandbox, roots) = sandbox();
            let path = parts.join("/");
            if let Ok(p) = sandbox.readable(&path) {
                prop_assert!(roots.read.iter().any(|r| p.starts_with(r)), "{path} → {}", p.display());
            }
            if let Ok(p) = sandbox.writable(&path) {
                prop_assert!(p.starts_with(&roots.write), "{path} → {}", p.display());
            }
        }

        /// The Windows path rules read any text without panicking, and never let a share, a
        /// device path or a stream through, whatever the slashes.
        #[test]
        fn windows_path_rules_never_panic_and_refuse_shares(
            text in "\\PC{0,60}",
            parts in proptest::collection::vec(prop_oneof![
                Just("\\\\"), Just("//"), Just("?"), Just("."), Just("C:"), Just("UNC"),
                Just("con"), Just("a.txt:x"), Just("output"), Just("/"), Just("\\"), Just("髙"),
            ], 1..8),
        ) {
            let _ = crate::sandbox::windows_refusal(&text);
            let path = parts.concat();
            let normal = path.replace('/', "\\");
            let verdict = crate::sandbox::windows_refusal(&path);
            if normal.starts_with("\\\\") && !normal.get(2..).is_some_and(|r| {
                r.strip_prefix("?\\").is_some_and(|l| l.len() > 2 && l.as_bytes()[1] == b':' && l.as_bytes()[0].is_ascii_alphabetic() && l.as_bytes()[2] == b'\\')
            }) {
                prop_assert!(verdict.is_some(), "{path:?} accepted");
            }
            if path.contains("a.txt:x") {
                prop_assert!(verdict.is_some(), "{path:?} accepted");
            }
        }
    }

    #[test]
    fn the_cases_the_review_found_are_refused() {
        for text in FOUND {
            assert!(Manifest::parse(text).is_err(), "{text}");
        }
    }

    struct Roots {
        read: Vec<PathBuf>,
        write: PathBuf,
    }

    /// One sandbox for all cases: a scenario folder with input/, output/, a file, and a link that
    /// points out of it.
    fn sandbox() -> (&'static Sandbox, &'static Roots) {
        static MADE: std::sync::OnceLock<(Sandbox, Roots)> = std::sync::OnceLock::new();
        let (s, r) = MADE.get_or_init(|| {
            let dir = std::env::temp_dir().join(format!("kuroko-props-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            let scenario = dir.join("scenario");
            for sub in ["input", "output", "etc"] {
                std::fs::create_dir_all(scenario.join(sub)).unwrap();
            }
            std::fs::create_dir_all(dir.join("etc")).unwrap();
            std::fs::write(scenario.join("main.rhai"), "").unwrap();
            std::fs::write(scenario.join("input/a.csv"), "a\n").unwrap();
            std::fs::write(dir.join("etc/passwd"), "secret").unwrap();
            #[cfg(unix)]
            let _ = std::os::unix::fs::symlink(dir.join("etc"), scenario.join("output/link"));
            let sandbox = Sandbox::new(
                &scenario,
                &[scenario.join("input")],
                &[scenario.join("output")],
            )
            .unwrap();
            let canonical = |p: PathBuf| dunce::canonicalize(p).unwrap();
            let roots = Roots {
                read: vec![canonical(scenario.clone())],
                write: canonical(scenario.join("output")),
            };
            (sandbox, roots)
        });
        (s, r)
    }
}
